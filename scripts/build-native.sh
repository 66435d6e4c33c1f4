#!/usr/bin/env bash
# Builds the optional native UDP data plane (relay.dataPlane: native) with g++
# against the Node-API headers from the node-api-headers package (node-gyp
# would download Node's headers, which these machines cannot).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/native
mkdir -p "$out"
headers=$(npx node -p "require('node-api-headers').include_dir")
g++ -std=c++17 -O2 -Wall -Wextra -shared -fPIC -pthread \
  -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=turnrelay_dataplane \
  -I"$headers" \
  -o "$out/turnrelay_dataplane.node.tmp" relay/dataplane/native/dataplane.cc
mv "$out/turnrelay_dataplane.node.tmp" "$out/turnrelay_dataplane.node"
echo "built $out/turnrelay_dataplane.node"
