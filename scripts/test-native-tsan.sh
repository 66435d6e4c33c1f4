#!/usr/bin/env bash
# Runs the native cases of the data plane contract suite against the native
# plane built with ThreadSanitizer (build/native-tsan/; the optimised build
# stays as it is). Node is not instrumented: the TSan runtime is preloaded,
# and told to ignore the calls Node makes to the functions it intercepts
# (ignore_noninstrumented_modules), which otherwise produce hundreds of
# reports inside V8 and libuv and slow the suite past its timeouts. TSan logs
# and goes on; this script fails on every report with a frame in the addon
# (its module or the turnrelay:: namespace), printing each one, and counts
# the others. A deliberate race planted in worker.cc (a plain counter bumped
# by Worker::post on the JS thread and Worker::applyCommands on a worker
# thread) was reported and failed the run.
#   bash scripts/test-native-tsan.sh [jest args, e.g. -t 'native, 2 threads']
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sanitizer-addon.sh
sanitizer_addon --tsan libtsan
runtime="$(g++ -print-file-name=libtsan.so)"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
# Node under TSan: the runtime preloaded, its options, and no address
# randomisation (TSan maps its shadow memory at fixed addresses, which the
# randomised layout of a recent kernel can collide with).
under_tsan=(setarch "$(uname -m)" -R env LD_PRELOAD="$runtime"
  TSAN_OPTIONS="log_path=$logs/tsan halt_on_error=0 exitcode=0 report_signal_unsafe=0 ignore_noninstrumented_modules=1 ${TURNRELAY_TSAN_OPTIONS:-}")
# The runtime is really loaded into the Node that runs the tests.
"${under_tsan[@]}" node -e \
  "if (!require('fs').readFileSync('/proc/self/maps', 'utf8').includes('libtsan')) process.exit(1)" ||
  { echo "libtsan did not load into node" >&2; exit 1; }
# The native cases of the suite, or what the arguments select instead. The one
# case that bounds the process's resident memory is left to the normal and the
# ASan runs: TSan's shadow memory adds several times what the addon touches.
select=(-t '^(?!.*hold a bounded amount of memory).*native')
[ $# -eq 0 ] || select=("$@")
status=0
"${under_tsan[@]}" NODE_OPTIONS=--experimental-vm-modules \
  jest --selectProjects unit --testTimeout 60000 test/unit/relay/data-plane-contract.test.ts \
  "${select[@]}" || status=$?
# Reports are delimited by lines of '='; keep those that name the addon.
shopt -s nullglob
files=("$logs"/tsan.*)
summary="$(awk -v RS='==================\n' '
  /WARNING: ThreadSanitizer/ {
    if ($0 ~ /turnrelay_dataplane\.node|turnrelay::/) { ours++; printf "==================\n%s", $0 > "/dev/stderr" }
    else other++
  }
  END { printf "%d %d\n", ours, other }' /dev/null "${files[@]}")"
read -r ours other <<<"$summary"
echo "ThreadSanitizer: $ours report(s) with a frame in the addon, $other inside Node only (ignored)"
[ "$status" -eq 0 ] || { echo "the contract suite failed under ThreadSanitizer" >&2; exit "$status"; }
[ "$ours" -eq 0 ] || exit 1
