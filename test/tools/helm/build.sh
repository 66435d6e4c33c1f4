#!/usr/bin/env bash
# Builds helm from the version pinned in go.mod/go.sum and caches the binary in
# .cache/helm/<hash of go.mod+go.sum>/helm, so it is rebuilt only when the pin
# changes. Prints the binary's path on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../go-cache.sh"
out="$(go_cache_dir helm "$here/go.mod" "$here/go.sum")"
go_cache_build "$here" "$out" helm helm.sh/helm/v4/cmd/helm
echo "$out/helm"
