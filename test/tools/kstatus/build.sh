#!/usr/bin/env bash
# Builds the kstatus helper (main.go, the kstatus library pinned in
# go.mod/go.sum) and caches the binary in .cache/kstatus/<hash>/kstatus, so it
# is rebuilt only when the helper or its pin changes. Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
hash="$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-16)"
out="$root/.cache/kstatus/$hash"
if [ ! -x "$out/kstatus" ]; then
  mkdir -p "$out"
  # Build into a temp name and rename, so an interrupted build never leaves a
  # half-written binary that later runs would trust.
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$out/kstatus.tmp" .) >&2
  mv "$out/kstatus.tmp" "$out/kstatus"
fi
echo "$out/kstatus"
