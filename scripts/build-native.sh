#!/usr/bin/env bash
# Builds the native UDP data plane (the relay's default when present) with g++
# against the Node-API headers from the node-api-headers package (node-gyp
# would download Node's headers, which these machines cannot).
#
#   scripts/build-native.sh             optimised build: build/native/turnrelay_dataplane.node
#   scripts/build-native.sh --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer build in
#                                       build/native-sanitize/ (load it with LD_PRELOAD of libasan,
#                                       see scripts/test-native-sanitize.sh); the normal build is untouched
#   scripts/build-native.sh --tsan      ThreadSanitizer build in build/native-tsan/ (see
#                                       scripts/test-native-tsan.sh)
#   scripts/build-native.sh --optional  like the default, but only warns when g++ is missing or the
#                                       compile fails (the relay then falls back to the JavaScript
#                                       plane); `npm start` and the package's install step use it
# Skips the compile when the output is newer than every source file.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
src=relay/dataplane/native/src
out=build/native
flags=(-O2)
if [ "$mode" = --sanitize ]; then
  out=build/native-sanitize
  flags=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined)
elif [ "$mode" = --tsan ]; then
  out=build/native-tsan
  flags=(-O1 -g -fno-omit-frame-pointer -fsanitize=thread)
fi
if ! command -v g++ >/dev/null; then
  if [ "$mode" = --optional ]; then
    echo "g++ not found: the native data plane is not built and the relay will use the JavaScript plane (install g++, then npm run build:native)" >&2
    exit 0
  fi
  echo "g++ not found: install it (Debian: apt-get install g++) to build the native data plane" >&2
  exit 1
fi
target="$out/turnrelay_dataplane.node"
if [ -f "$target" ] && [ -z "$(find "$src" "$0" -newer "$target" -print -quit)" ]; then
  exit 0
fi
mkdir -p "$out"
if ! headers=$(node -p "require('node-api-headers').include_dir"); then
  if [ "$mode" = --optional ]; then
    echo "node-api-headers not found: the native data plane is not built and the relay will use the JavaScript plane" >&2
    exit 0
  fi
  exit 1
fi
if ! g++ -std=c++17 "${flags[@]}" -Wall -Wextra -Werror -shared -fPIC -pthread \
  -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=turnrelay_dataplane \
  -I"$headers" \
  -o "$target.tmp" "$src"/*.cc; then
  rm -f "$target.tmp"
  if [ "$mode" = --optional ]; then
    echo "the native data plane did not compile: the relay will use the JavaScript plane" >&2
    exit 0
  fi
  exit 1
fi
mv "$target.tmp" "$target"
echo "built $target"
