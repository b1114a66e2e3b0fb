#!/usr/bin/env bash
# The CPU benchmark, one script, one run: ResNet-50 (batch 1 and 16) and BERT-base (seq 128,
# batch 1 and 8) on kiln's CPU backend, onnxruntime (CPU EP, from npm's onnxruntime-node) and
# PyTorch eager, at the same thread count, interleaved round by round so that load from other
# processes hits all three alike. Writes results.csv, results.json and ratios.svg to the output
# folder and prints the table (throughput ratios against the anchors of the same run).
#
#   bench/cpu/run.sh [--threads N] [--rounds R] [--iterations N] [--warmup N] [--out DIR] [--build DIR]
#                    [--cases "resnet50:1 bert_base:8 ..."] [--skip-pytorch]
# --cases and --skip-pytorch are for quick checks while working; the table in
# docs/PERFORMANCE.md comes from a run of all four cases with all three engines.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
threads="$(nproc)"
rounds=3
iterations=10
warmup=3
out="${root}/build/bench-cpu"
build="${root}/build"
python=/usr/bin/python3  # Debian's: it has numpy, torch and torchvision
cases="resnet50:1 resnet50:16 bert_base:1 bert_base:8"
skip_pytorch=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --cases) cases="$2"; shift 2 ;;
    --skip-pytorch) skip_pytorch=1; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "${out}"
models="${out}/models"
warmup_s=2  # kiln bench warms up for a duration, the others for a count

# onnxruntime: the npm package ships libonnxruntime; --ignore-scripts skips its download hooks.
readonly ort_version=1.30.0
if [[ ! -d "${here}/.deps/node_modules/onnxruntime-node" ]]; then
  # Node.js and npm are not in install-deps: the build machines ship their own Node.js, and
  # Debian's npm package conflicts with it.
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "run.sh: needs node and npm on PATH (apt-get install nodejs npm where none is installed)" >&2
    exit 1
  fi
  if ! npm ping >/dev/null 2>&1; then
    echo "run.sh: the npm registry is not reachable; cannot install onnxruntime-node" >&2
    exit 1
  fi
  mkdir -p "${here}/.deps"
  (cd "${here}/.deps" && npm install --ignore-scripts --no-audit --no-fund "onnxruntime-node@${ort_version}")
fi

# kiln: `kiln build --backend cpu` makes the engine once per case (passes, tactic timing, memory
# plan); `kiln run` checks it against PyTorch and `kiln bench` times the runtime on it. The CPU
# backend's thread count is KILN_CPU_THREADS.
ninja -C "${build}" kiln >/dev/null
kiln="${build}/apps/kiln"
export KILN_CPU_THREADS="${threads}"

if [[ ! -f "${models}/bert_base_b8.onnx" || ! -f "${models}/resnet50_b16_expected.npy" ]]; then
  "${python}" "${here}/export_models.py" "${models}" 1 8 16
fi

csv="${out}/results.csv"
echo "model,batch,round,engine,median_ms,mean_ms,max_rel_error" > "${csv}"
field() { "${python}" -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ''))" "$1" "$2"; }
record() {  # model batch round engine json
  echo "$1,$2,$3,$4,$(field "$5" median_ms),$(field "$5" mean_ms),$(field "$5" max_rel_error)" >> "${csv}"
}

run_case() {  # model batch
  local model="$1" batch="$2" onnx="${models}/$1.onnx" prefix="${models}/$1_b$2"
  [[ "${model}" == bert_base ]] && onnx="${prefix}.onnx"  # static shapes, one file per batch
  local kiln_inputs=() ort_inputs=() shapes
  if [[ "${model}" == resnet50 ]]; then
    kiln_inputs=(--input "input=${prefix}_input.npy")
    ort_inputs=("input=${prefix}_input.npy")
    shapes="input:${batch}x3x224x224"
  else
    kiln_inputs=(--input "input_ids=${prefix}_input_ids.npy" --input "attention_mask=${prefix}_attention_mask.npy")
    ort_inputs=("input_ids=${prefix}_input_ids.npy" "attention_mask=${prefix}_attention_mask.npy")
    shapes="input_ids:${batch}x128,attention_mask:${batch}x128"
  fi
  local plan="${out}/${model}_b${batch}.plan"
  "${kiln}" build "${onnx}" -o "${plan}" --backend cpu --shapes "${shapes}" >/dev/null
  # Accuracy: kiln's engine on the seeded inputs against PyTorch's outputs.
  local outputs="${out}/outputs/${model}_b${batch}"
  mkdir -p "${outputs}"
  "${kiln}" run "${plan}" "${kiln_inputs[@]}" --output-dir "${outputs}" >/dev/null
  local error
  error="$("${python}" -c "import glob,sys,numpy as np
got = np.load(glob.glob(sys.argv[1] + '/*.npy')[0]).astype(np.float64); ref = np.load(sys.argv[2]).astype(np.float64)
scale = np.maximum(np.abs(ref), np.sqrt(np.mean(ref * ref)))
print(float(np.max(np.abs(got - ref) / scale)) if got.shape == ref.shape else float('inf'))" "${outputs}" "${prefix}_expected.npy")"
  for round in $(seq 1 "${rounds}"); do
    local j
    # Timing: kiln bench's random inputs (integers in 0..7, valid ids and mask values).
    "${kiln}" bench "${plan}" --iterations "${iterations}" --duration 0 \
      --warmup "${warmup_s}" --export-json "${out}/kiln.json" >/dev/null
    j="$("${python}" -c "import json,sys; r = json.load(open(sys.argv[1])); \
print(json.dumps({'median_ms': r['latency_ms']['p50'], 'mean_ms': r['latency_ms']['mean'], \
'max_rel_error': float(sys.argv[2])}))" "${out}/kiln.json" "${error}")"
    record "${model}" "${batch}" "${round}" kiln "${j}"
    echo "  ${model} b${batch} round ${round} kiln: ${j}" >&2
    j="$(node "${here}/ort_bench.js" "${onnx}" "${threads}" "${warmup}" "${iterations}" "${ort_inputs[@]}")"
    record "${model}" "${batch}" "${round}" onnxruntime "${j}"
    if [[ "${skip_pytorch}" == 0 ]]; then
      j="$("${python}" "${here}/torch_bench.py" "${model}" "${batch}" "${threads}" "${warmup}" "${iterations}" "${models}")"
      record "${model}" "${batch}" "${round}" pytorch "${j}"
    fi
  done
}

echo "run.sh: ${threads} threads, ${rounds} rounds x ${iterations} iterations (after ${warmup} warm-up) per engine" >&2
for c in ${cases}; do
  run_case "${c%%:*}" "${c##*:}"
done

"${python}" "${here}/summarize.py" "${csv}" "${out}" "${threads}"
