#!/usr/bin/env bash
# Runs ON the GPU machine: kiln serve with a ResNet-50 FP16 engine (KIND_GPU instances, dynamic
# batching) against in-process `kiln bench` on the same plan, over gRPC and HTTP binary
# (bench/server/bench_server.py), plus a per-step profile of BERT-large FP16 at batch 128.
#
# usage: bench/gpu/serve_bench.sh BUNDLE_DIR RESULTS_DIR
#   KILN_SERVE_BATCH (64) the plan's batch; KILN_SERVE_REQUEST_BATCH (16) samples per request;
#   KILN_SERVE_CONCURRENCY ("8 16") client counts; KILN_SERVE_DURATION (5) seconds per row;
#   KILN_SERVE_PLAN_BATCHES (the plan's batch) the plan's profiles, e.g. 16,32,48,64: batches the
#   dynamic batcher forms below a profile's size are padded up to it, so this shows what padding costs;
#   KILN_SERVE_IO (fp32) fp16: a --low-precision-io plan, FP16 requests and responses;
#   KILN_SERVE_INSTANCES (2) execution contexts, in the server (instance_group count) and in the
#   in-process anchor (kiln bench --threads) alike;
#   KILN_SERVE_TRANSPORTS (gRPC,HTTP,gRPC+shm,HTTP+shm) the client paths; +shm puts inputs in system
#   shared memory (KServe's extension, as perf_analyzer --shared-memory system);
#   KILN_SERVE_ARGS more kiln serve flags (e.g. "--pinned-memory-pool-byte-size 1GB");
#   KILN_SERVE_BERT_PROFILE=1 also profiles BERT-large FP16 at batch 128.
set -uo pipefail
bundle="$(cd "$1" && pwd)"
results="$2"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "${results}"
work="$(mktemp -d /tmp/kiln-serve.XXXXXX)"
python="${PYTHON:-python3}"
kiln="${bundle}/kiln"
source "${repo_root}/scripts/gpu/nvidia-libs.sh"
export PYTHONUNBUFFERED=1
batch="${KILN_SERVE_BATCH:-64}"
request_batch="${KILN_SERVE_REQUEST_BATCH:-16}"
instances="${KILN_SERVE_INSTANCES:-2}"

"${python}" "${repo_root}/bench/gpu/export_models.py" "${work}" resnet ${KILN_SERVE_BERT_PROFILE:+bert} > "${results}/export.log" 2>&1 ||
  { echo "EXPORT FAILED"; tail -20 "${results}/export.log"; exit 1; }
start=$SECONDS
# KILN_SERVE_IO=fp16: the plan takes and gives float16 (kiln build --low-precision-io), half the
# request bytes; clients send FP16.
io_flags=() dtype=FP32
[[ "${KILN_SERVE_IO:-fp32}" == fp16 ]] && io_flags=(--low-precision-io) dtype=FP16
"${kiln}" build "${work}/resnet50.onnx" -o "${work}/r50.plan" --fp16 "${io_flags[@]}" --batch "${KILN_SERVE_PLAN_BATCHES:-${batch}}" > "${results}/build_r50.log" 2>&1 ||
  { echo "BUILD FAILED"; tail -5 "${results}/build_r50.log"; exit 1; }
echo "built ResNet-50 FP16 batch ${KILN_SERVE_PLAN_BATCHES:-${batch}} in $((SECONDS - start)) s"
"${python}" "${repo_root}/bench/server/bench_server.py" --kiln "${kiln}" --model "${work}/r50.plan" --input input \
  --dims 3,224,224 --request-batch "${request_batch}" --max-batch-size "${batch}" --preferred "${batch}" \
  --queue-delay-us 4000 --kind KIND_GPU --instances "${instances}" --client-processes 8 --transports "${KILN_SERVE_TRANSPORTS:-gRPC,HTTP,gRPC+shm,HTTP+shm}" --concurrency ${KILN_SERVE_CONCURRENCY:-8 16} \
  --anchor-batch "${batch}" --anchor-threads "${instances}" --duration "${KILN_SERVE_DURATION:-5}" --server-args "${KILN_SERVE_ARGS:-}" --dtype "${dtype}" --json "${results}/serve.json" 2>&1 | tee "${results}/serve.txt"

if [[ -n "${KILN_SERVE_BERT_PROFILE:-}" ]]; then
  "${kiln}" build "${work}/bert_large.onnx" -o "${work}/bert_b128.plan" --fp16 --batch 128 > "${results}/build_bert.log" 2>&1 &&
    "${kiln}" bench "${work}/bert_b128.plan" --iterations 3 --duration 0 --warmup 0 --dump-profile > "${results}/profile_bert_b128.txt" 2>&1
fi
rm -rf "${work}"
