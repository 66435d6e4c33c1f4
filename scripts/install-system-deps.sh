#!/usr/bin/env bash
# Debian packages the tests and benchmarks use: coturn (turnutils_uclient,
# turnutils_peer, turnserver as the performance baseline), Chromium for WebRTC
# interop, iproute2 for network namespaces.
set -euo pipefail
need=()
command -v turnutils_uclient >/dev/null || need+=(coturn)
command -v chromium >/dev/null || need+=(chromium)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# The coturn package enables a system turnserver service on install; the tests
# and benchmarks start their own instances on free ports.
if command -v systemctl >/dev/null 2>&1; then systemctl stop coturn >/dev/null 2>&1 || true; fi
pkill -x turnserver >/dev/null 2>&1 || true
