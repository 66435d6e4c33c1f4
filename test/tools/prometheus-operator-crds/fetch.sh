#!/usr/bin/env bash
# Fetches the Prometheus Operator's own CRD YAML (PodMonitor, ServiceMonitor,
# PrometheusRule) from its Go module at the pinned version, verified by the Go
# checksum database, into .cache/prometheus-operator-crds/<version>/. The k8s
# tests install them into the real API server. Prints that directory.
set -euo pipefail
version=v0.85.0
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/.cache/prometheus-operator-crds/$version"
crds=(monitoring.coreos.com_podmonitors.yaml monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml)
if [ ! -f "$out/${crds[-1]}" ]; then
  dir="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus-operator/prometheus-operator@$version" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$out.tmp"
  for f in "${crds[@]}"; do cp "$dir/example/prometheus-operator-crd/$f" "$out.tmp/$f"; done
  rm -rf "$out" && mv "$out.tmp" "$out"
fi
echo "$out"
