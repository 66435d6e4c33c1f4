#!/usr/bin/env bash
# Builds the kstatus helper (main.go, the kstatus library pinned in
# go.mod/go.sum) and caches the binary in .cache/kstatus/<hash>/kstatus, so it
# is rebuilt only when the helper or its pin changes. Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../go-cache.sh"
out="$(go_cache_dir kstatus "$here/go.mod" "$here/go.sum" "$here/main.go")"
go_cache_build "$here" "$out" kstatus .
echo "$out/kstatus"
