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
source scripts/sanitizer-addon.sh
sanitizer_addon --sanitize libasan
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
preload="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"
LD_PRELOAD="$preload" NODE_OPTIONS=--experimental-vm-modules jest --verbose \
  test/unit/relay/data-plane-contract.test.ts test/unit/relay/data-plane-selection.test.ts \
  test/unit/relay/native-exit.test.ts --selectProjects unit "$@"
