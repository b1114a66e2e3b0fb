#!/usr/bin/env bash
# Runs ON the GPU machine: kiln engines for ResNet-50 and BERT-large (FP16) against PyTorch in
# the same session -- accuracy (cosine vs PyTorch FP32), batch-1 latency, large-batch throughput,
# then ../shared/bench/anchors_gpu.py's torch.compile rows -- and prints one table.
#
# usage: bench/gpu/e2e.sh BUNDLE_DIR RESULTS_DIR [resnet] [bert]
#   BUNDLE_DIR   made by scripts/gpu/package.sh (holds kiln and anchors_gpu.py)
#   RESULTS_DIR  plans' build logs, bench JSON, anchors, and e2e.txt (the table)
# KILN_E2E_BUILD_TIMEOUT (seconds, default none) caps each build; KILN_E2E_SKIP_ANCHORS=1 skips
# the torch.compile rows; KILN_E2E_APPROX_GELU=1 also builds BERT with --approximate-gelu (tanh
# GELU in the GEMM epilogue) and measures its accuracy and speed beside the exact engines.
set -uo pipefail

bundle="$(cd "$1" && pwd)"
results="$2"
shift 2
models=("$@")
[[ ${#models[@]} -eq 0 ]] && models=(resnet bert)
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "${results}"
work="$(mktemp -d /tmp/kiln-e2e.XXXXXX)"
python="${PYTHON:-python3}"
kiln="${bundle}/kiln"

source "${repo_root}/scripts/gpu/nvidia-libs.sh"
export PYTHONUNBUFFERED=1
table="${results}/e2e.txt"
: > "${table}"

log() { echo "$*" | tee -a "${table}"; }

# build MODEL PLAN BATCH SHAPES...: FP16 plan with the shared timing cache; logs to RESULTS.
build() {
  local model="$1" plan="$2" batch="$3"
  shift 3
  local start=$SECONDS
  if ! timeout "${KILN_E2E_BUILD_TIMEOUT:-0}" "${kiln}" build "${model}" -o "${plan}" --fp16 --batch "${batch}" --timing-cache "${work}/timing.cache" "$@" \
      > "${results}/build_$(basename "${plan}").log" 2>&1; then
    log "BUILD FAILED: $(basename "${plan}") (tail of log follows)"
    tail -5 "${results}/build_$(basename "${plan}").log" | tee -a "${table}"
    return 1
  fi
  log "built $(basename "${plan}") in $((SECONDS - start)) s: $(grep -E '^Steps:' "${results}/build_$(basename "${plan}").log")"
}

# bench PLAN NAME THREADS: kiln bench JSON + the compute/e2e numbers in the table.
bench() {
  local plan="$1" name="$2" threads="$3"
  "${kiln}" bench "${plan}" --duration 5 --warmup 1 --threads "${threads}" --export-json "${results}/${name}.json" \
    > "${results}/${name}.txt" 2>&1 || { log "BENCH FAILED: ${name}"; tail -3 "${results}/${name}.txt" | tee -a "${table}"; return 1; }
  # Where the time goes, per step (events between steps, no graph replay).
  [[ "${name}" == *_2threads ]] ||
    "${kiln}" bench "${plan}" --iterations 3 --duration 0 --warmup 0 --dump-profile > "${results}/profile_${name}.txt" 2>&1 || true
  "${python}" - "${results}/${name}.json" "${name}" <<'PY' | tee -a "${table}"
import json, sys
r = json.load(open(sys.argv[1]))
b, c = r["batch"], r["mean_device_ms"]["compute"]
print(f"kiln {sys.argv[2]:24s} bs={b:4d} threads={r['threads']}  e2e {r['throughput_per_s']:10.1f}/s  "
      f"p50 {r['latency_ms']['p50']:8.3f} ms  compute {c:8.3f} ms -> {b / (c / 1000):10.1f}/s  "
      f"(H2D {r['mean_device_ms']['h2d']:.3f} ms, D2H {r['mean_device_ms']['d2h']:.3f} ms)")
PY
}

# accuracy PLAN NAME REF INPUTS...: kiln run on the recorded input, cosine vs PyTorch FP32.
accuracy() {
  local plan="$1" name="$2" ref="$3"
  shift 3
  local args=()
  for spec in "$@"; do args+=(--input "${spec}"); done
  rm -rf "${work}/out_${name}"
  "${kiln}" run "${plan}" "${args[@]}" --output-dir "${work}/out_${name}" > "${results}/run_${name}.txt" 2>&1 ||
    { log "RUN FAILED: ${name}"; tail -3 "${results}/run_${name}.txt" | tee -a "${table}"; return 1; }
  local out
  out="$(ls "${work}/out_${name}"/*.npy | head -1)"
  log "accuracy ${name}: $("${python}" "${repo_root}/bench/gpu/cosine.py" "${out}" "${ref}" 0.999)"
}

log "== $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
"${python}" "${repo_root}/bench/gpu/export_models.py" "${work}" "${models[@]}" > "${results}/export.log" 2>&1 ||
  { log "EXPORT FAILED"; tail -20 "${results}/export.log"; }
# The exports' own check (onnxruntime on the file vs PyTorch): a kiln mismatch means kiln.
grep -E "onnxruntime" "${results}/export.log" | while read -r line; do log "export check: ${line}"; done

for model in "${models[@]}"; do
  case "${model}" in
    resnet)
      onnx="${work}/resnet50.onnx"
      build "${onnx}" "${work}/r50_b1.plan" 1 &&
        accuracy "${work}/r50_b1.plan" resnet50_fp16 "${work}/resnet50_ref.npy" "input=${work}/resnet50_input.npy" &&
        bench "${work}/r50_b1.plan" resnet50_fp16_b1 1
      # One thread: the compute time of one context alone (with two, each context's events also
      # time the other's kernels); two threads: e2e throughput with copies overlapping compute.
      build "${onnx}" "${work}/r50_b256.plan" 256 && bench "${work}/r50_b256.plan" resnet50_fp16_b256 1 &&
        bench "${work}/r50_b256.plan" resnet50_fp16_b256_2threads 2
      ;;
    bert)
      onnx="${work}/bert_large.onnx"
      build "${onnx}" "${work}/bert_b1.plan" 1 &&
        accuracy "${work}/bert_b1.plan" bert_large_fp16 "${work}/bert_large_ref.npy" \
          "input_ids=${work}/bert_large_input_ids.npy" "attention_mask=${work}/bert_large_attention_mask.npy" &&
        bench "${work}/bert_b1.plan" bert_large_fp16_b1 1
      build "${onnx}" "${work}/bert_b128.plan" 128 && bench "${work}/bert_b128.plan" bert_large_fp16_b128 1 &&
        bench "${work}/bert_b128.plan" bert_large_fp16_b128_2threads 2
      if [[ -n "${KILN_E2E_APPROX_GELU:-}" ]]; then
        build "${onnx}" "${work}/bert_b1_tanh.plan" 1 --approximate-gelu &&
          accuracy "${work}/bert_b1_tanh.plan" bert_large_fp16_tanh_gelu "${work}/bert_large_ref.npy" \
            "input_ids=${work}/bert_large_input_ids.npy" "attention_mask=${work}/bert_large_attention_mask.npy" &&
          bench "${work}/bert_b1_tanh.plan" bert_large_fp16_b1_tanh_gelu 1
        build "${onnx}" "${work}/bert_b128_tanh.plan" 128 --approximate-gelu &&
          bench "${work}/bert_b128_tanh.plan" bert_large_fp16_b128_tanh_gelu 1
      fi
      ;;
  esac
done

if [[ -f "${bundle}/anchors_gpu.py" && -z "${KILN_E2E_SKIP_ANCHORS:-}" ]]; then
  for model in "${models[@]}"; do
    case "${model}" in
      resnet) batches=1,256 ;;
      bert) batches=1,128 ;;
    esac
    log "== anchors_gpu.py ${model} (torch.compile reduce-overhead, fp16)"
    SKIP_EAGER=1 BENCH_OUT="${results}" timeout 400 "${python}" "${bundle}/anchors_gpu.py" "${model}" reduce-overhead "${batches}" \
      2>&1 | grep -E "compile|^[0-9]" | tee -a "${table}"
  done
fi
echo "== table: ${table}"
