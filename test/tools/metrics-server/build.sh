#!/usr/bin/env bash
# Builds metrics-server from the version pinned in go.mod/go.sum and caches it
# in .cache/metrics-server/<hash of go.mod+go.sum>/, so it is rebuilt only when
# the pin changes. Prints the binary's path on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../go-cache.sh"
out="$(go_cache_dir metrics-server "$here/go.mod" "$here/go.sum")"
go_cache_build "$here" "$out" metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server
echo "$out/metrics-server"
