# Sourced by the build.sh scripts next to it: a Go build cached under
# .cache/<name>/<hash of its inputs>/, so it runs again only when an input
# (its go.mod/go.sum pin, a main.go) changes.

# go_cache_dir NAME FILE...: prints the cache folder for NAME keyed by FILEs.
go_cache_dir() {
  local name=$1 root
  shift
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  echo "$root/.cache/$name/$(cat "$@" | sha256sum | cut -c1-16)"
}

# go_cache_build MODULE_DIR OUT NAME PACKAGE [GO BUILD FLAG...]: builds PACKAGE
# of the module in MODULE_DIR into OUT/NAME, static, unless it is there. A temp
# name then a rename: an interrupted build never leaves a half-written binary
# that later runs would trust.
go_cache_build() {
  local dir=$1 out=$2 name=$3 package=$4
  shift 4
  [ -x "$out/$name" ] && return 0
  mkdir -p "$out"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -buildvcs=false "$@" -o "$out/$name.tmp" "$package") >&2
  mv "$out/$name.tmp" "$out/$name"
}
