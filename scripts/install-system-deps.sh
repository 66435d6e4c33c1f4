#!/usr/bin/env bash
# Debian packages the tests and benchmarks use: coturn (turnutils_uclient,
# turnutils_peer, turnserver as the performance baseline), Chromium for WebRTC
# interop, tcpdump for the capture test, openssl for test certificates,
# iproute2 for network namespaces; for the pod tests' node: runc, the CNI
# plugins, iptables and conntrack (kube-proxy), mmdebstrap and buildah (the
# test images, built without a registry or daemon); g++ with its sanitizer
# runtimes for the native data plane, its ASan/UBSan and TSan test builds and the
# bench load generator; taskset (util-linux) pins the benchmark processes;
# clang-format checks the C++ layout (npm run lint); certutil (libnss3-tools)
# makes the NSS database through which Chromium trusts a test CA.
set -euo pipefail
need=()
command -v turnutils_uclient >/dev/null || need+=(coturn)
command -v chromium >/dev/null || need+=(chromium)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v openssl >/dev/null || need+=(openssl)
command -v ip >/dev/null || need+=(iproute2)
[ -x /usr/sbin/runc ] || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || need+=(iptables)
command -v conntrack >/dev/null || [ -x /usr/sbin/conntrack ] || need+=(conntrack)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v buildah >/dev/null || need+=(buildah)
command -v nsenter >/dev/null && command -v taskset >/dev/null || need+=(util-linux)
command -v g++ >/dev/null || need+=(g++)
command -v clang-format >/dev/null || need+=(clang-format)
command -v certutil >/dev/null || need+=(libnss3-tools)
for runtime in libasan libubsan libtsan; do
  [ -e "$(g++ -print-file-name=$runtime.so 2>/dev/null)" ] || need+=(g++)
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# The coturn package may enable a system turnserver service on install; the
# tests and benchmarks start their own instances on free ports, so stop only
# that service (never other people's turnserver processes).
if command -v systemctl >/dev/null 2>&1; then systemctl stop coturn >/dev/null 2>&1 || true; fi
if [ -x /etc/init.d/coturn ]; then /etc/init.d/coturn stop >/dev/null 2>&1 || true; fi
