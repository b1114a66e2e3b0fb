#!/usr/bin/env bash
# Bundles kiln's GPU binaries for the device machine: the CUDA test binary, the CUDA kernel
# bench and (when built) the kiln CLI, plus every non-system shared library they load, into one
# folder whose binaries and libraries find each other through RUNPATH=$ORIGIN.
#
# usage: scripts/gpu/package.sh [BUILD_DIR] [BUNDLE_DIR]
#   BUILD_DIR   CMake build folder (default: build-gpu); configured and built when the targets
#               are missing or stale (Ninja only rebuilds what changed)
#   BUNDLE_DIR  output folder (default: out/gpu-bundle; /out/ is git-ignored)
#
# Left out on purpose: the C runtime and compiler runtime (the device has newer ones), the
# driver (libcuda), and cuDNN/cuBLAS/cuBLASLt, which the device provides through PyTorch's
# nvidia Python packages (scripts/gpu/run-tests.sh puts them on LD_LIBRARY_PATH).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${1:-${repo_root}/build-gpu}"
bundle_dir="${2:-${repo_root}/out/gpu-bundle}"
readonly targets=(kiln_test_cuda kiln_cuda_bench kiln kiln_test_engine)
readonly excluded_libs='^(linux-vdso|libc\.so|libm\.so|libstdc\+\+|libgcc_s|ld-linux|libpthread|libdl\.so|librt\.so|libcuda\.so|libcudnn|libcublas)'

command -v patchelf >/dev/null || { echo "package.sh: patchelf is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }

if [[ ! -f "${build_dir}/build.ninja" ]]; then
  cmake -S "${repo_root}" -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_ENABLE_CUDA=ON
fi
ninja -C "${build_dir}" "${targets[@]}"

binaries=("${build_dir}/tests/kiln_test_cuda" "${build_dir}/bench/gpu/kiln_cuda_bench" "${build_dir}/tests/kiln_test_engine")
if [[ -x "${build_dir}/apps/kiln" ]]; then
  binaries+=("${build_dir}/apps/kiln")
fi

rm -rf "${bundle_dir}"
mkdir -p "${bundle_dir}"
for binary in "${binaries[@]}"; do
  cp "${binary}" "${bundle_dir}/"
  # ldd lines look like "libfoo.so.1 => /path/libfoo.so.1 (0x...)"; keep the resolved paths.
  while read -r name path; do
    if [[ "${name}" =~ ${excluded_libs} ]]; then continue; fi
    if [[ -f "${path}" && ! -f "${bundle_dir}/${name}" ]]; then
      cp -L "${path}" "${bundle_dir}/${name}"
    fi
  done < <(ldd "${binary}" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
done

for file in "${bundle_dir}"/*; do
  chmod u+w "${file}"
  # Debug info is most of a RelWithDebInfo binary and the bundle travels to the device.
  strip --strip-debug "${file}"
  patchelf --set-rpath '$ORIGIN' "${file}"
done

# The PyTorch anchor the GPU benchmarks compare against, when this checkout sits beside it.
anchors="${repo_root}/../shared/bench/anchors_gpu.py"
if [[ -f "${anchors}" ]]; then cp "${anchors}" "${bundle_dir}/"; fi

# The bundle (about 90 MB) is over the device call's 64 MiB carry limit; the xz archive beside it
# (about 18 MB) is what travels: carry it and `tar xJf out/gpu-bundle.tar.xz -C out` there.
tar cJf "${bundle_dir}.tar.xz" -C "$(dirname "${bundle_dir}")" "$(basename "${bundle_dir}")"

echo "package.sh: ${bundle_dir} (and ${bundle_dir}.tar.xz to carry)"
ls -l "${bundle_dir}" "${bundle_dir}.tar.xz"
