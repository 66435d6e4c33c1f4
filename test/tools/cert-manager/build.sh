#!/usr/bin/env bash
# Builds cert-manager's controller, webhook and cainjector (the mains in this
# folder over the cert-manager module pinned in go.mod/go.sum) and copies that
# module's own CRD YAML (deploy/crds) and Helm chart (deploy/charts, for the
# RBAC, Services and webhook configurations) next to them, into
# .cache/cert-manager/<hash of this script, go.mod, go.sum and the mains>/, so
# they are rebuilt only when one of those changes. Prints that folder on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cmds=(controller webhook cainjector)
hash="$(for f in build.sh go.mod go.sum "${cmds[@]/%//main.go}"; do cat "$here/$f"; done | sha256sum | cut -c1-16)"
out="$root/.cache/cert-manager/$hash"
if [ ! -f "$out/.complete" ]; then
  mkdir -p "$root/.cache/cert-manager"
  # One build at a time (CI, a developer and a test run may race).
  exec 9>"$root/.cache/cert-manager/.lock"
  flock 9
fi
if [ ! -f "$out/.complete" ]; then
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  cd "$here"
  # One go build for the three: their shared packages compile once.
  CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$out.tmp/" "${cmds[@]/#/./}" >&2
  module_dir="$(go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)"
  cp -r "$module_dir/deploy/crds" "$out.tmp/crds"
  rm -f "$out.tmp/crds/README.md"
  cp -r "$module_dir/deploy/charts/cert-manager" "$out.tmp/chart"
  chmod -R u+w "$out.tmp" # the module cache is read-only
  touch "$out.tmp/.complete"
  # Rename at the end: an interrupted build never leaves a folder that later
  # runs would trust.
  rm -rf "$out" && mv "$out.tmp" "$out"
fi
echo "$out"
