#!/usr/bin/env bash
# Runs ON the GPU machine: the bundled CUDA tests (and, with --bench, the kernel timings against
# PyTorch). cuDNN and cuBLASLt come from PyTorch's nvidia Python packages there.
#
# usage: scripts/gpu/run-tests.sh [--bench] [--memcheck] [BUNDLE_DIR] [RESULTS_DIR]
#   --bench      also time the kernels against PyTorch (bench/gpu/compare_torch.py)
#   --memcheck   also run the kernel tests under compute-sanitizer's memcheck
#   BUNDLE_DIR   made by scripts/gpu/package.sh (default: out/gpu-bundle)
#   RESULTS_DIR  where the gtest XML and the bench table are written (default: BUNDLE_DIR)
set -euo pipefail

run_bench=0
run_memcheck=0
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --bench) run_bench=1 ;;
    --memcheck) run_memcheck=1 ;;
    *) echo "run-tests.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bundle_dir="$(cd "${1:-${repo_root}/out/gpu-bundle}" && pwd)"
results_dir="${2:-${bundle_dir}}"
mkdir -p "${results_dir}"
python="${PYTHON:-python3}"

source "${repo_root}/scripts/gpu/nvidia-libs.sh"

echo "== GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
missing="$(ldd "${bundle_dir}/kiln_test_cuda" | grep 'not found' || true)"
if [[ -n "${missing}" ]]; then
  echo "run-tests.sh: libraries not found:" >&2
  echo "${missing}" >&2
fi
echo "== kiln_test_cuda"
test_status=0
# The full log (every case's error) goes to a file; the console gets failures and the summary.
"${bundle_dir}/kiln_test_cuda" --gtest_output="xml:${results_dir}/kiln_test_cuda.xml" > "${results_dir}/tests.txt" 2>&1 || test_status=$?
grep -E "^\[  FAILED|^\[  PASSED|^\[  SKIPPED \] [0-9]|Failure|error:" "${results_dir}/tests.txt" | head -60 || true

if [[ -x "${bundle_dir}/kiln_test_engine" ]]; then
  echo "== kiln_test_engine (builder, plan files and runtime; CudaEngine.* on the GPU)"
  "${bundle_dir}/kiln_test_engine" --gtest_output="xml:${results_dir}/kiln_test_engine.xml" > "${results_dir}/engine_tests.txt" 2>&1 || test_status=$?
  grep -E "^\[  FAILED|^\[  PASSED|^\[  SKIPPED \] [0-9]|Failure|NOTE" "${results_dir}/engine_tests.txt" | head -40 || true
fi

echo "== kiln serve: CUDA shared memory (GPU buffers registered by IPC handle, KIND_GPU model)"
shm_status=0
"${python}" "${repo_root}/tests/serving/serve_cuda_shared_memory_test.py" "${bundle_dir}/kiln" "${repo_root}" \
  > "${results_dir}/cuda_shm_test.txt" 2>&1 || shm_status=$?
tail -3 "${results_dir}/cuda_shm_test.txt"
[[ "${shm_status}" -eq 0 ]] || test_status="${shm_status}"

if [[ "${run_bench}" -eq 1 ]]; then
  echo "== kernels vs PyTorch (BERT-large shapes, FP16)"
  # The timings are worth having even when a test failed: the bench reports its own errors.
  # The bundle's copy when it carries one (it matches the bundled binary), else the checkout's.
  compare="${bundle_dir}/compare_torch.py"
  [[ -f "${compare}" ]] || compare="${repo_root}/bench/gpu/compare_torch.py"
  "${python}" "${compare}" "${bundle_dir}/kiln_cuda_bench" | tee "${results_dir}/bench.txt" || true
fi

if [[ "${run_memcheck}" -eq 1 ]]; then
  echo "== compute-sanitizer memcheck (own kernels; cuBLASLt and cuDNN excluded for time)"
  compute-sanitizer --tool memcheck --error-exitcode 1 "${bundle_dir}/kiln_test_cuda" \
    --gtest_filter='CudaElementwise.*:CudaSoftmax.*:CudaLayerNorm.*:CudaAttention.*:CudaBackendElementwise.*:CudaBackendTensor.*:CudaBackendNN.Softmax*:CudaBackendNN.LayerNorm*:CudaBackendNN.Pools*' \
    > "${results_dir}/memcheck.txt" 2>&1 || test_status=$?
  grep -E "ERROR SUMMARY|FAILED|PASSED" "${results_dir}/memcheck.txt" || true
fi

exit "${test_status}"
