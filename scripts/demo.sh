#!/usr/bin/env bash
# A first look at kiln: inspect, run and benchmark the bundled example model.
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
echo "Outputs of 'kiln run' and the plan are in ${output_dir}:"
ls -l "${output_dir}"
