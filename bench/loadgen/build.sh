#!/usr/bin/env bash
# Builds the batched TURN load generator for `npm run bench` into build/bench/.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench
g++ -std=c++17 -O2 -Wall -Wextra -Werror -pthread -o build/bench/loadgen bench/loadgen/loadgen.cc
