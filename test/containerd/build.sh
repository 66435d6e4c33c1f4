#!/usr/bin/env bash
# Builds containerd, containerd-shim-runc-v2 and ctr (the test node's container
# runtime) from the version pinned in go.mod/go.sum into
# .cache/containerd/<hash of go.mod+go.sum>/, so they are rebuilt only when the
# pin changes. Prints that folder on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hash="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
cache="$root/.cache/containerd"
out="$cache/$hash"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$out/.complete" ]; then
  echo "containerd/build.sh: building containerd into $out (cold: several minutes)" >&2
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  # Static, like the upstream release binaries: the shim runs in the node's
  # mount namespace and must not depend on the host's libc.
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' \
    -tags 'no_btrfs no_devmapper no_zfs' -o "$out.tmp/" \
    github.com/containerd/containerd/v2/cmd/containerd \
    github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
    github.com/containerd/containerd/v2/cmd/ctr) >&2
  touch "$out.tmp/.complete"
  rm -rf "$out"
  mv "$out.tmp" "$out"
  find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$hash" -exec rm -rf {} +
fi
echo "$out"
