#!/usr/bin/env bash
# Builds prometheus and promtool from the version pinned in go.mod/go.sum and
# caches them in .cache/prometheus/<hash of go.mod+go.sum>/, so they are rebuilt
# only when the pin changes. The remove_all_sd tag leaves out every service
# discovery plugin (the tests scrape static targets), which keeps the build
# small. Prints the directory holding both binaries on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../go-cache.sh"
out="$(go_cache_dir prometheus "$here/go.mod" "$here/go.sum")"
for cmd in prometheus promtool; do
  go_cache_build "$here" "$out" "$cmd" "github.com/prometheus/prometheus/cmd/$cmd" -tags remove_all_sd
done
echo "$out"
