#!/usr/bin/env bash
# Fuzzes kiln serve's request decoders (fuzz/serve_request_fuzzer.cpp) with libFuzzer, then the
# HTTP loops' body tracker (fuzz/http_body_tracker_fuzzer.cpp) for a tenth of the time.
#   scripts/fuzz-serve.sh [SECONDS]     (default 600)
# Builds into build-fuzz/ (CPU only), seeds build-fuzz/serve-corpus with valid requests of each
# kind, and exits non-zero when the fuzzer finds a crash (the reproducer goes to
# build-fuzz/serve-artifacts/).
set -euo pipefail

seconds="${1:-600}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${root}/build-fuzz"

CXX="${CXX:-clang++}" cmake -S "${root}" -B "${build}" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKILN_BUILD_FUZZERS=ON -DKILN_BUILD_TESTS=OFF -DKILN_ENABLE_CUDA=OFF \
  -DKILN_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link"
ninja -C "${build}" serve_request_fuzzer http_body_tracker_fuzzer

corpus="${build}/serve-corpus"
mkdir -p "${corpus}" "${build}/serve-artifacts"
# One valid input per decoder; the first byte chooses it (fuzz/serve_request_fuzzer.cpp).
python3 - "${corpus}" <<'PY'
import json, struct, sys
out = sys.argv[1]
header = json.dumps({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "parameters": {"binary_data_size": 32}},
                                {"name": "s", "shape": [1], "datatype": "BYTES", "data": ["a"]}],
                     "outputs": [{"name": "y", "parameters": {"binary_data": True}}]}).encode()
http = bytes([0]) + struct.pack(">H", len(header)) + header + struct.pack("<8f", *range(8))
tfs = bytes([2]) + json.dumps({"instances": [[1, 2, 3, 4], [5, 6, 7, 8]]}).encode()
shm = bytes([3]) + json.dumps({"key": "/k", "offset": 0, "byte_size": 64}).encode()
# ModelInferRequest: model_name (1) "m", inputs (5) {name "x", datatype "FP32", shape [1, 4]},
# raw_input_contents (7) 16 bytes.
def field(number, payload):
    return bytes([(number << 3) | 2, len(payload)]) + payload
tensor = field(1, b"x") + field(2, b"FP32") + bytes([(3 << 3) | 2, 2, 1, 4])
grpc = bytes([1]) + field(1, b"m") + field(5, tensor) + field(7, struct.pack("<4f", 1, 2, 3, 4))
for name, data in (("http", http), ("grpc", grpc), ("tfs", tfs), ("shm", shm)):
    open(f"{out}/{name}", "wb").write(data)
PY

ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
"${build}/fuzz/serve_request_fuzzer" "${corpus}" \
  -max_total_time="${seconds}" -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="${build}/serve-artifacts/" -print_final_stats=1

tracker_corpus="${build}/tracker-corpus"
mkdir -p "${tracker_corpus}"
printf '\x07POST /v2/models/m/infer HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n' > "${tracker_corpus}/pipelined"
ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
"${build}/fuzz/http_body_tracker_fuzzer" "${tracker_corpus}" \
  -max_total_time="$(( seconds / 10 > 10 ? seconds / 10 : 10 ))" -max_len=200000 \
  -artifact_prefix="${build}/serve-artifacts/" -print_final_stats=1
