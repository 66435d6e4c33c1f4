#!/usr/bin/env bash
# Runs the data plane contract suite (and the exit-while-busy test, whose
# children inherit the preload) against the native plane built with
# AddressSanitizer and UndefinedBehaviorSanitizer (build/native-sanitize/, so
# the optimised build in build/native/ stays as it is). Node itself is not
# instrumented, so the sanitizer runtimes are preloaded; leak checking is off
# because Node keeps allocations alive until exit by design. Any sanitizer
# report aborts the process and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"  # Node 24 and jest from the devDependencies
bash scripts/build-native.sh --sanitize
export TURNRELAY_NATIVE_ADDON="$PWD/build/native-sanitize/turnrelay_dataplane.node"
# Read ldd's whole output first: `ldd | grep -q` under pipefail fails at random
# when grep exits on the first match and ldd dies of SIGPIPE.
deps="$(ldd "$TURNRELAY_NATIVE_ADDON")"
[[ $deps == *libasan* ]] || { echo "$TURNRELAY_NATIVE_ADDON is not instrumented" >&2; exit 1; }
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
preload="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"
LD_PRELOAD="$preload" NODE_OPTIONS=--experimental-vm-modules jest --verbose \
  test/unit/relay/data-plane-contract.test.ts test/unit/relay/data-plane-selection.test.ts \
  test/unit/relay/native-exit.test.ts --selectProjects unit "$@"
