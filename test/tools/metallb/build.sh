#!/usr/bin/env bash
# Builds MetalLB's controller and speaker from the version pinned in
# go.mod/go.sum and copies MetalLB's own CRDs (config/crd/bases) and Helm chart
# (charts/metallb: its RBAC and workloads) from the same module next to them,
# cached in .cache/metallb/<hash of go.mod+go.sum>/, so nothing is rebuilt
# until the pin changes. Prints that directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../go-cache.sh"
out="$(go_cache_dir metallb "$here/go.mod" "$here/go.sum")"
for cmd in controller speaker; do go_cache_build "$here" "$out" "$cmd" "go.universe.tf/metallb/$cmd"; done
if [ ! -d "$out/crds" ] || [ ! -d "$out/chart" ]; then
  dir="$(cd "$here" && go list -m -f '{{.Dir}}' go.universe.tf/metallb)"
  rm -rf "$out/crds.tmp" "$out/chart.tmp" && mkdir "$out/crds.tmp"
  cp "$dir"/config/crd/bases/metallb.io_*.yaml "$out/crds.tmp/"
  cp -r "$dir/charts/metallb" "$out/chart.tmp"
  # The module cache is read-only; the copies must stay removable.
  chmod -R u+w "$out/crds.tmp" "$out/chart.tmp"
  rm -rf "$out/crds" "$out/chart" && mv "$out/crds.tmp" "$out/crds" && mv "$out/chart.tmp" "$out/chart"
fi
echo "$out"
