#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over src/ and apps/ in parallel, using the compile
# commands of the test build. Exits non-zero when clang-tidy reports anything.
#   KILN_LINT_BUILD_DIR  build dir with compile_commands.json (default: <repo>/build-test; it is
#                        configured, not built, when missing)
#   KILN_LINT_JOBS       parallel clang-tidy processes (default: all cores)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KILN_LINT_BUILD_DIR:-${repo}/build-test}"
jobs="${KILN_LINT_JOBS:-$(nproc)}"
clang_tidy="${CLANG_TIDY:-clang-tidy-14}"

if [[ ! -f "${build}/compile_commands.json" ]]; then
  cmake -S "${repo}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKILN_SANITIZE=address,undefined >/dev/null
fi

mapfile -t sources < <(cd "${repo}" && find src apps -name '*.cpp' | sort)
if [[ ${#sources[@]} -eq 0 ]]; then
  echo "lint: no sources"
  exit 0
fi

report="$(mktemp)"
trap 'rm -f "${report}"' EXIT

# One clang-tidy per file; each prints its findings with file:line:col, so the merged output stays
# readable. --quiet drops the "N warnings generated" chatter of suppressed diagnostics.
set +e
(cd "${repo}" && printf '%s\n' "${sources[@]}" |
  xargs -P "${jobs}" -n 1 "${clang_tidy}" -p "${build}" --quiet) >"${report}" 2>/dev/null
set -e

findings="$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: (warning|error):' "${report}" || true)"
cat "${report}"
if [[ "${findings}" -ne 0 ]]; then
  echo "lint: ${findings} finding(s) in ${#sources[@]} files" >&2
  exit 1
fi
echo "lint: ${#sources[@]} files clean"
