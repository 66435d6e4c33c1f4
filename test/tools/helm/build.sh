#!/usr/bin/env bash
# Builds helm from the version pinned in go.mod/go.sum and caches the binary in
# .cache/helm/<hash of go.mod+go.sum>/helm, so it is rebuilt only when the pin
# changes. Prints the binary's path on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
hash="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
out="$root/.cache/helm/$hash"
if [ ! -x "$out/helm" ]; then
  mkdir -p "$out"
  # Build into a temp name and rename, so an interrupted build never leaves a
  # half-written binary that later runs would trust.
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$out/helm.tmp" helm.sh/helm/v4/cmd/helm) >&2
  mv "$out/helm.tmp" "$out/helm"
fi
echo "$out/helm"
