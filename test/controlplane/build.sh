#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, etcd and kubectl, and the
# node's kubelet, kube-scheduler and kube-proxy, from the Go
# module next to this script into .cache/controlplane/<hash>/, where <hash>
# covers go.mod and go.sum: a new pin means a new folder, an unchanged one
# means nothing to do. Prints that folder (and nothing else) on stdout;
# progress and errors go to stderr.
#
# Usage: test/controlplane/build.sh [--force]
# Env:   TURNRELAY_CONTROLPLANE_CACHE   cache root (default <repo>/.cache/controlplane)
#        TURNRELAY_CONTROLPLANE_MODULE  Go module to build (default: this folder;
#                                       the harness's tests point it at a broken one)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="${TURNRELAY_CONTROLPLANE_MODULE:-$repo/test/controlplane}"
[[ -f "$here/go.mod" ]] || { echo "controlplane/build.sh: no go.mod in $here" >&2; exit 1; }
cache_root="${TURNRELAY_CONTROLPLANE_CACHE:-$repo/.cache/controlplane}"
binaries=(etcd kube-apiserver kube-controller-manager kubectl kube-scheduler kubelet kube-proxy)

fail() { echo "controlplane/build.sh: $*" >&2; exit 1; }

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) fail "unknown argument '$1' (usage: build.sh [--force])" ;;
esac

command -v go >/dev/null 2>&1 ||
  fail "the Go toolchain is not installed (need go >= $(sed -n 's/^go //p' "$here/go.mod") on PATH)"
[[ -f "$here/go.sum" ]] || fail "missing $here/go.sum (run 'go mod tidy' in $here)"

hash="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
out="$cache_root/$hash"

complete() {
  [[ -f "$out/.complete" ]] || return 1
  local b
  for b in "${binaries[@]}"; do [[ -x "$out/$b" ]] || return 1; done
}

mkdir -p "$cache_root"
# One build at a time (CI, a developer and Jest's global setup may race).
exec 9>"$cache_root/.lock"
flock 9

if [[ $force -eq 0 ]] && complete; then
  echo "$out"
  exit 0
fi

cd "$here"
# Stamp the real release into the binaries so /version and kubectl's skew
# check see v1.X.Y instead of a v0.0.0 development version.
k8s_version="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)" ||
  fail "cannot resolve k8s.io/kubernetes from go.mod (module download failed?)"
minor="${k8s_version#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean"
done

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

echo "controlplane/build.sh: building Kubernetes $k8s_version control plane into $out (cold: many minutes)" >&2
start=$(date +%s)
go mod download >&2 || fail "go mod download failed (is the Go module proxy reachable?)"
# One invocation for the Kubernetes commands so they share compilation.
go build -trimpath -buildvcs=false -ldflags="$ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubectl \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy >&2 ||
  fail "go build of kube-apiserver/kube-controller-manager/kubectl/kube-scheduler/kubelet/kube-proxy failed (see the compiler output above)"
# etcd's main package path ends in /v3, so name the output explicitly.
go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 >&2 ||
  fail "go build of etcd (go.etcd.io/etcd/server/v3) failed (see the compiler output above)"

touch "$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
# Older pins are dead weight, but keep the previous one too: checkouts on
# both sides of a pin change share this cache and must not delete each
# other's binaries (or rebuild them) on every run.
ls -1dt "$cache_root"/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
echo "controlplane/build.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$out"
