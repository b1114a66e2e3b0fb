"""kiln serve's HTTP front end on several I/O threads: many keep-alive connections at once, each
answered on the loop that read it, with the right values, none lost; a drain on SIGTERM that
completes every accepted request; a bad --http-threads refused.

usage: serve_http_threads_test.py KILN
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_test_util import HOST, KilnServer, check, http_request, make_repository, reference_affine  # noqa: E402

THREADS = 4
CLIENTS = 16
REQUESTS_PER_CLIENT = 25


wrong = []


def client_loop(port, seed, failures, answered):
    """One keep-alive connection sending REQUESTS_PER_CLIENT JSON requests with fresh data."""
    rng = np.random.default_rng(seed)
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        for i in range(REQUESTS_PER_CLIENT):
            x = rng.standard_normal((2, 4)).astype(np.float32)
            body = json.dumps({"id": f"{seed}-{i}",
                               "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": x.ravel().tolist()}]})
            connection.request("POST", "/v2/models/affine/infer", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            reply = json.loads(response.read())
            if response.status != 200:
                failures.append(f"client {seed} request {i}: HTTP {response.status} {reply}")
                return
            y = np.array(reply["outputs"][0]["data"], np.float32).reshape(2, 4)
            if reply.get("id") != f"{seed}-{i}" or not np.allclose(y, reference_affine(x), atol=1e-5):
                # Another request's answer, or a wrong one: never acceptable, not even while draining.
                wrong.append(f"client {seed} request {i}: id {reply.get('id')}, {y} vs {reference_affine(x)}")
                return
            answered.append(1)
    except (OSError, http.client.HTTPException) as e:
        failures.append(f"client {seed}: {e!r}")
    finally:
        connection.close()


def run_clients(port):
    failures, answered = [], []
    clients = [threading.Thread(target=client_loop, args=(port, seed, failures, answered)) for seed in range(CLIENTS)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    return failures, len(answered)


def main():
    kiln = sys.argv[1]
    with tempfile.TemporaryDirectory() as root:
        make_repository(root)
        server = KilnServer(kiln, ["--model-repository", root, "--http-threads", str(THREADS)])
        try:
            check(f"({THREADS} I/O threads)" in server.log_so_far(), "the log names the I/O thread count:\n" + server.log_so_far())
            failures, answered = run_clients(server.http_port)
            check(not failures and not wrong, f"{len(failures) + len(wrong)} clients failed: {(failures + wrong)[:3]}")
            check(answered == CLIENTS * REQUESTS_PER_CLIENT, f"answered {answered} of {CLIENTS * REQUESTS_PER_CLIENT}")
            status, stats = http_request(server.http_port, "GET", "/v2/models/affine/stats")
            check(status == 200, f"stats: {status} {stats}")
            successes = stats["model_stats"][0]["inference_stats"]["success"]["count"]
            check(successes == answered, f"the server counted {successes} successes for {answered} answers")

            # SIGTERM while clients are sending: whatever was accepted is answered, then exit 0.
            failures, answered = [], []
            clients = [threading.Thread(target=client_loop, args=(server.http_port, 100 + seed, failures, answered))
                       for seed in range(CLIENTS)]
            for c in clients:
                c.start()
            code, log = server.stop()
            for c in clients:
                c.join()
            check(code == 0, f"exit code {code} after draining; log:\n{log}")
            # Requests after the drain began are refused (503, closed or refused connections); every
            # answer that did come is the right one for its request.
            check(not wrong, f"wrong answers while draining: {wrong[:3]}")
            check(answered or failures, "the second round of clients neither got answers nor errors")
        finally:
            if server.proc.poll() is None:
                server.stop()

    bad = subprocess.run([kiln, "serve", "--model-repository", ".", "--http-threads", "-1"], capture_output=True, text=True)
    check(bad.returncode != 0 and "--http-threads" in bad.stderr + bad.stdout, f"--http-threads -1: {bad.returncode} {bad.stderr}")
    print(f"ok: {CLIENTS} clients x {REQUESTS_PER_CLIENT} requests on {THREADS} I/O threads; drained on SIGTERM")


if __name__ == "__main__":
    main()
