#!/usr/bin/env bash
# clang-format over every C/C++ source in the tree (.clang-format at the root).
#   --check  fail, naming each file and line, where the layout differs (npm run lint)
#   --fix    rewrite the files in place (npm run format)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:---check}
command -v clang-format >/dev/null || { echo 'clang-format is missing: bash scripts/install-system-deps.sh' >&2; exit 1; }
mapfile -d '' files < <(find . \( -path ./node_modules -o -path ./build -o -path ./dist -o -path ./.cache -o -path ./.git -o -path ./test/controlplane/bin \) -prune \
  -o -type f \( -name '*.cc' -o -name '*.cpp' -o -name '*.c' -o -name '*.h' -o -name '*.hpp' \) -print0 | sort -z)
[ ${#files[@]} -gt 0 ] || exit 0
case "$mode" in
  --check) clang-format --dry-run -Werror "${files[@]}" ;;
  --fix) clang-format -i "${files[@]}" ;;
  *) echo "usage: $0 [--check|--fix]" >&2; exit 2 ;;
esac
