# Sourced by the sanitizer test scripts: `sanitizer_addon FLAG RUNTIME` builds
# the native plane with scripts/build-native.sh FLAG (--sanitize or --tsan),
# checks that the result links RUNTIME (libasan, libtsan), and exports
# TURNRELAY_NATIVE_ADDON so the tests load that build. Node 24 and jest come
# from the devDependencies.
sanitizer_addon() {
  local flag=$1 runtime=$2 dir
  export PATH="$PWD/node_modules/.bin:$PATH"
  bash scripts/build-native.sh "$flag"
  dir=native-${flag#--}
  export TURNRELAY_NATIVE_ADDON="$PWD/build/$dir/turnrelay_dataplane.node"
  # Read ldd's whole output first: `ldd | grep -q` under pipefail fails at random
  # when grep exits on the first match and ldd dies of SIGPIPE.
  local deps
  deps="$(ldd "$TURNRELAY_NATIVE_ADDON")"
  [[ $deps == *"$runtime"* ]] || { echo "$TURNRELAY_NATIVE_ADDON is not instrumented" >&2; exit 1; }
}
