#!/usr/bin/env bash
# Builds metrics-server from the version pinned in go.mod/go.sum and caches it
# in .cache/metrics-server/<hash of go.mod+go.sum>/, so it is rebuilt only when
# the pin changes. Prints the binary's path on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
hash="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
out="$root/.cache/metrics-server/$hash"
if [ ! -x "$out/metrics-server" ]; then
  mkdir -p "$out"
  # Temp name then rename: an interrupted build never leaves a half-written
  # binary that later runs would trust.
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -o "$out/metrics-server.tmp" sigs.k8s.io/metrics-server/cmd/metrics-server) >&2
  mv "$out/metrics-server.tmp" "$out/metrics-server"
fi
echo "$out/metrics-server"
