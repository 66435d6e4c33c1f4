#!/usr/bin/env bash
# Builds the container images the test node runs, without a registry or a
# daemon, into .cache/images/:
#   base/<hash>/   the two base images relay/Dockerfile starts FROM, made from
#                  Debian packages and the Node binary from npm (base-images.sh)
#   pause/<hash>/  registry.k8s.io/pause, compiled from the C source shipped in
#                  the k8s.io/kubernetes module the control plane pins
#   app/<id>.tar   both targets of relay/Dockerfile, built unchanged with
#                  buildah (its layer cache hashes the build context, so an
#                  unchanged tree reuses every layer and the archive)
# Prints the folder holding the docker-archive tarballs to import
# (images.list names them), nothing else on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/.cache/images"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

log() { echo "images/build.sh: $*" >&2; }
fail() { log "$*"; exit 1; }
for c in mmdebstrap buildah gcc; do
  command -v "$c" >/dev/null || fail "$c is missing (run scripts/install-system-deps.sh)"
done

# buildah keeps its own storage under the cache, apart from any host podman.
store=(--root "$cache/storage" --runroot "$cache/run" --storage-driver overlay)
bh() { buildah "${store[@]}" "$@"; }

node_version="$(node -p "require('$root/package-lock.json').packages['node_modules/node'].version")"
# The npm that made package-lock.json (not whichever npm runs this script, so
# the cache key is the same from .ci/run and from Jest).
npm_version=11.19.1
node_major="${node_version%%.*}"
runtime_packages="libc6 libgcc-s1 libstdc++6 libssl3 ca-certificates tzdata netbase base-files media-types"
sources=/etc/apt/sources.list.d/debian.sources
[[ -f "$sources" ]] || sources=/etc/apt/sources.list

downloads="$cache/downloads"
fetch_npm() { # <package@version> -> path of the packed tarball
  local spec="$1" name
  name="$(echo "$spec" | sed 's/@/-/').tgz"
  if [[ ! -f "$downloads/$name" ]]; then
    mkdir -p "$downloads"
    (cd "$downloads" && npm pack --silent "$spec" >/dev/null) || fail "npm pack $spec failed"
  fi
  echo "$downloads/$name"
}

# --- base images ------------------------------------------------------------
# shellcheck source=base-images.sh
source "$here/base-images.sh"

# --- pause image ---------------------------------------------------------------
pause_src="$(cd "$root/test/controlplane" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
[[ -f "$pause_src" ]] || (cd "$root/test/controlplane" && go mod download k8s.io/kubernetes)
[[ -f "$pause_src" ]] || fail "no pause.c in the k8s.io/kubernetes module ($pause_src)"
pause_version="$(sed -n 's/^TAG ?= *//p' "$(dirname "$pause_src")/../../pause/Makefile" 2>/dev/null || true)"
[[ -n "$pause_version" ]] || pause_version=3.10
pause_name="registry.k8s.io/pause:$pause_version"
pause_tar="$out/pause-$(sha256sum "$pause_src" | cut -c1-16)-$pause_version.tar"
if [[ ! -f "$pause_tar" ]]; then
  log "compiling $pause_name"
  pw="$(mktemp -d)"
  gcc -Os -static -Wall -Werror -DVERSION="v$pause_version-turnrelay" -o "$pw/pause" "$pause_src" || fail "compiling pause.c failed"
  strip "$pw/pause"
  c="$(bh from scratch)"
  bh copy --quiet "$c" "$pw/pause" /pause >/dev/null
  bh config --entrypoint '["/pause"]' --user 65535:65535 "$c"
  bh commit --quiet --rm "$c" "$pause_name" >/dev/null
  rm -f "$out"/pause-*.tar
  bh push --quiet "$pause_name" "docker-archive:$pause_tar.tmp:$pause_name" >/dev/null
  mv "$pause_tar.tmp" "$pause_tar"
  rm -rf "$pw"
fi

# --- relay/Dockerfile targets ------------------------------------------------
version="$(node -p "require('$root/package.json').version")"
revision="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
list=("$(basename "$pause_tar") $pause_name")
for target in relay operator; do
  repo=ghcr.io/turnrelay/turnrelay; [[ $target == operator ]] && repo+=-operator
  name="$repo:$version"
  log "building target $target of relay/Dockerfile as $name"
  # chroot isolation: RUN steps (npm ci, apt-get) use the host's network and
  # need no CNI configuration of their own.
  bh bud --quiet --isolation chroot --pull-never --layers \
    --build-arg VERSION="$version" \
    -f "$root/relay/Dockerfile" --target "$target" -t "$name" "$root" >/dev/null ||
    fail "buildah bud --target $target failed (see above)"
  # The whole list first, then its first line: `| head -1` under pipefail can
  # fail when buildah is still writing as head exits.
  ids="$(bh images --noheading --no-trunc --format '{{.ID}}' "$name")"
  id="${ids%%$'\n'*}"
  id="${id#sha256:}"
  tarball="$target-${id:0:16}.tar"
  if [[ ! -f "$out/$tarball" ]]; then
    # The image this one replaces is no layer of anything: drop it (the
    # build's intermediate images stay, they are its layer cache).
    for old in "$out/$target"-*.tar; do
      [[ -f "$old" ]] || continue
      old_id="${old##*/$target-}"; old_id="${old_id%.tar}"
      bh rmi "$old_id" >/dev/null 2>&1 || true
      rm -f "$old"
    done
    bh push --quiet "$name" "docker-archive:$out/$tarball.tmp:$name" >/dev/null
    mv "$out/$tarball.tmp" "$out/$tarball"
  fi
  list+=("$tarball $name")
done
printf '%s\n' "${list[@]}" > "$out/images.list"
echo "$out"
