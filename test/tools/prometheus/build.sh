#!/usr/bin/env bash
# Builds prometheus and promtool from the version pinned in go.mod/go.sum and
# caches them in .cache/prometheus/<hash of go.mod+go.sum>/, so they are rebuilt
# only when the pin changes. The remove_all_sd tag leaves out every service
# discovery plugin (the tests scrape static targets), which keeps the build
# small. Prints the directory holding both binaries on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
hash="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
out="$root/.cache/prometheus/$hash"
if [ ! -x "$out/prometheus" ] || [ ! -x "$out/promtool" ]; then
  mkdir -p "$out"
  # Temp names then rename: an interrupted build never leaves a half-written
  # binary that later runs would trust.
  for cmd in prometheus promtool; do
    (cd "$here" && CGO_ENABLED=0 go build -tags remove_all_sd -trimpath -buildvcs=false \
      -o "$out/$cmd.tmp" "github.com/prometheus/prometheus/cmd/$cmd") >&2
    mv "$out/$cmd.tmp" "$out/$cmd"
  done
fi
echo "$out"
