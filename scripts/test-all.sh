#!/usr/bin/env bash
# `npm test` after the typecheck: the four Jest projects and the sanitizer runs
# (AddressSanitizer + UndefinedBehaviorSanitizer, then ThreadSanitizer).
# The k8s and pods projects spend most of their time waiting (on the API
# server, kubelet, probes, drains and rotation timers), so each runs in a Jest
# process of its own beside the unit project; their output lines start with
# "[k8s] " and "[pods] ". The interop project, whose zero-loss checks with real
# TURN clients need the CPU they get when run alone, runs first, beside the
# k8s project only; the pods project (its autoscaling test loads the CPU on
# purpose) starts after it. The pods project gets two workers and a real-node
# cluster per worker (test/pods/global-setup.ts); the others keep Jest's
# default worker count. Every part runs to the end; the exit status fails if
# any part failed, and the last lines say which.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" # Node 24 and jest from the devDependencies
export NODE_OPTIONS=--experimental-vm-modules
pods_workers="${TURNRELAY_PODS_WORKERS:-2}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
jest_pids=()
prefix_pids=()
# background_jest NAME JEST-ARG...: runs Jest in the background, its lines prefixed "[NAME] ".
background_jest() {
  local name=$1
  shift
  mkfifo "$scratch/$name"
  sed -u "s/^/[$name] /" <"$scratch/$name" &
  prefix_pids+=($!)
  jest "$@" >"$scratch/$name" 2>&1 &
  jest_pids+=($!)
}
background_jest k8s --selectProjects k8s
# A stopped `npm test` stops the background runs too (their global teardowns stop the clusters).
trap 'kill -INT "${jest_pids[@]}" 2>/dev/null; wait "${jest_pids[@]}"; exit 130' INT TERM

jest --selectProjects interop
interop=$?
background_jest pods --selectProjects pods --maxWorkers="$pods_workers"
jest --selectProjects unit
unit=$?
bash scripts/test-native-sanitize.sh
sanitize=$?
bash scripts/test-native-tsan.sh
tsan=$?
wait "${jest_pids[0]}"
k8s=$?
wait "${jest_pids[1]}"
pods=$?
wait "${prefix_pids[@]}"
trap - INT TERM

status=0
for part in "unit project:$unit" "interop project:$interop" "k8s project:$k8s" "pods project:$pods" "sanitizer run:$sanitize" "ThreadSanitizer run:$tsan"; do
  code="${part##*:}"
  if [ "$code" -ne 0 ]; then
    echo "npm test: the ${part%:*} failed (exit $code)" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "npm test: all Jest projects and the sanitizer runs passed"
exit "$status"
