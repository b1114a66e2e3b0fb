#!/usr/bin/env bash
# A first look at kiln: inspect, run and benchmark the bundled example model, build it into a
# plan, serve the plan over KServe v2 (HTTP and gRPC), answer a request and load-test the server.
# Usage: scripts/demo.sh            (uses $KILN, or build/apps/kiln)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kiln="${KILN:-${repo_root}/build/apps/kiln}"
model="${repo_root}/examples/tiny_cnn.onnx"

if [[ ! -x "${kiln}" ]]; then
  echo "demo: kiln binary not found at ${kiln}; build it first or set KILN=/path/to/kiln" >&2
  exit 1
fi
if [[ ! -f "${model}" ]]; then
  echo "demo: ${model} is missing; regenerate it with /usr/bin/python3 examples/make_example_model.py" >&2
  exit 1
fi

output_dir="$(mktemp -d "${TMPDIR:-/tmp}/kiln-demo.XXXXXX")"

echo "==> kiln inspect examples/tiny_cnn.onnx --shapes image:1x3x32x32"
"${kiln}" inspect "${model}" --shapes image:1x3x32x32
echo
echo "==> kiln run examples/tiny_cnn.onnx --output-dir ${output_dir}"
"${kiln}" run "${model}" --output-dir "${output_dir}"
echo
echo "==> kiln bench examples/tiny_cnn.onnx --batch 4 --duration 1"
"${kiln}" bench "${model}" --batch 4 --duration 1
echo
echo "==> kiln build examples/tiny_cnn.onnx --batch 1,4 -o ${output_dir}/tiny_cnn.plan"
"${kiln}" build "${model}" --batch 1,4 -o "${output_dir}/tiny_cnn.plan"
echo
echo "==> kiln inspect ${output_dir}/tiny_cnn.plan"
"${kiln}" inspect "${output_dir}/tiny_cnn.plan"
echo
echo "==> kiln bench ${output_dir}/tiny_cnn.plan --batch 4 --duration 1"
"${kiln}" bench "${output_dir}/tiny_cnn.plan" --batch 4 --duration 1
echo
# Serve the plan from a Triton-layout repository, answer one KServe v2 request, load-test it.
repository="${output_dir}/models"
mkdir -p "${repository}/tiny_cnn/1"
cp "${output_dir}/tiny_cnn.plan" "${repository}/tiny_cnn/1/model.plan"
read -r http_port grpc_port < <(/usr/bin/python3 -c "
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets: s.bind(('127.0.0.1', 0))
print(*(s.getsockname()[1] for s in sockets))")
echo "==> kiln serve --model-repository ${repository} --http-port ${http_port} --grpc-port ${grpc_port}"
"${kiln}" serve --model-repository "${repository}" --http-port "${http_port}" --grpc-port "${grpc_port}" --metrics-port 0 \
  > "${output_dir}/serve.log" 2>&1 &
server=$!
trap 'kill "${server}" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:${http_port}/v2/health/ready" >/dev/null && break
  sleep 0.1
done
/usr/bin/python3 -c "
import json, random
random.seed(0)
print(json.dumps({'inputs': [{'name': 'image', 'datatype': 'FP32', 'shape': [1, 3, 32, 32],
                              'data': [random.uniform(-1, 1) for _ in range(3 * 32 * 32)]}]}))" > "${output_dir}/request.json"
echo "==> curl -d @request.json http://127.0.0.1:${http_port}/v2/models/tiny_cnn/infer"
curl -sf -H 'Content-Type: application/json' -d @"${output_dir}/request.json" \
  "http://127.0.0.1:${http_port}/v2/models/tiny_cnn/infer"
echo
echo
echo "==> kiln perf -m tiny_cnn -u 127.0.0.1:${http_port} -c 1,4 --duration 1"
"${kiln}" perf -m tiny_cnn -u "127.0.0.1:${http_port}" -c 1,4 --duration 1 --warmup 0.5
echo
echo "==> kiln perf -m tiny_cnn -u 127.0.0.1:${grpc_port} -i grpc -c 4 --duration 1"
"${kiln}" perf -m tiny_cnn -u "127.0.0.1:${grpc_port}" -i grpc -c 4 --duration 1 --warmup 0.5
kill -TERM "${server}"
wait "${server}" || true
trap - EXIT
echo
echo "Outputs of 'kiln run' and the plan are in ${output_dir}:"
ls -l "${output_dir}"
