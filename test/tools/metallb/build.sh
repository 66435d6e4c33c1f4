#!/usr/bin/env bash
# Builds MetalLB's controller and speaker from the version pinned in
# go.mod/go.sum and copies MetalLB's own CRDs (config/crd/bases) and Helm chart
# (charts/metallb: its RBAC and workloads) from the same module next to them,
# cached in .cache/metallb/<hash of go.mod+go.sum>/, so nothing is rebuilt
# until the pin changes. Prints that directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
hash="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
out="$root/.cache/metallb/$hash"
if [ ! -x "$out/controller" ] || [ ! -x "$out/speaker" ] || [ ! -d "$out/crds" ] || [ ! -d "$out/chart" ]; then
  mkdir -p "$out"
  # Temp names then rename: an interrupted build never leaves a half-written
  # binary or CRD folder that later runs would trust.
  for cmd in controller speaker; do
    (cd "$here" && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -o "$out/$cmd.tmp" "go.universe.tf/metallb/$cmd") >&2
    mv "$out/$cmd.tmp" "$out/$cmd"
  done
  dir="$(cd "$here" && go list -m -f '{{.Dir}}' go.universe.tf/metallb)"
  rm -rf "$out/crds.tmp" "$out/chart.tmp" && mkdir "$out/crds.tmp"
  cp "$dir"/config/crd/bases/metallb.io_*.yaml "$out/crds.tmp/"
  cp -r "$dir/charts/metallb" "$out/chart.tmp"
  # The module cache is read-only; the copies must stay removable.
  chmod -R u+w "$out/crds.tmp" "$out/chart.tmp"
  rm -rf "$out/crds" "$out/chart" && mv "$out/crds.tmp" "$out/crds" && mv "$out/chart.tmp" "$out/chart"
fi
echo "$out"
