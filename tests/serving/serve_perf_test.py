"""kiln perf (the load generator) against kiln serve over real sockets: HTTP and gRPC at two
concurrency levels, every measured request answered, the server's statistics counting at least
as many successes as kiln perf measured, the JSON export, the p95 target line; and clear errors
(exit code 2) for an unknown model, a bad URL and a server that refuses requests; and
--shared-memory system on both protocols (each client's region registered, named by every
request, unregistered and unlinked at the end), refused clearly by a server without
--allow-client-shm; and TLS (--tls-ca) on both protocols against a TLS server, with clear
errors for a plain client, an untrusted certificate and a missing CA file.

usage: serve_perf_test.py KILN_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from serve_test_util import HOST, KilnServer, check, https_ready_with, make_certificate, make_repository

DURATION_S = "0.5"


def success_count(server, model):
    with urllib.request.urlopen(f"http://{HOST}:{server.http_port}/v2/models/{model}/stats", timeout=10) as r:
        stats = json.loads(r.read())
    return stats["model_stats"][0]["inference_stats"]["success"]["count"]


def perf(kiln, *args):
    return subprocess.run([kiln, "perf", *args], capture_output=True, text=True, timeout=120)


def check_protocol(kiln, server, protocol, port, directory, *extra):
    out = os.path.join(directory, f"perf_{protocol}.json")
    chart = os.path.join(directory, f"perf_{protocol}.svg")
    before = success_count(server, "affine")
    r = perf(kiln, "-m", "affine", "-u", f"{HOST}:{port}", "-i", protocol, "-c", "1,3", "--duration", DURATION_S,
             "--warmup", "0.2", "--latency-target-ms", "1000", "--export-json", out, "--export-svg", chart, *extra)
    check(r.returncode == 0, f"kiln perf over {protocol}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    check("Best within p95 <= 1000.000 ms: concurrency" in r.stdout, f"no best-level line:\n{r.stdout}")
    with open(out) as f:
        result = json.load(f)
    levels = result["levels"]
    check([l["concurrency"] for l in levels] == [1, 3] and result["protocol"] == protocol, f"levels: {result}")
    for level in levels:
        check(level["requests"] > 0 and level["errors"] == 0, f"{protocol} level {level}")
        latency = level["latency_ms"]
        check(0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"], f"percentiles out of order: {latency}")
    with open(chart) as f:
        svg = f.read()
    check(svg.startswith("<svg") and svg.count("<circle") == len(levels) and "c=3" in svg and "p95 target" in svg,
          f"the chart lacks its points or target line:\n{svg[:400]}")
    measured = sum(l["requests"] for l in levels)
    served = success_count(server, "affine") - before
    check(served >= measured, f"{protocol}: kiln perf measured {measured} answers but the server counted {served} successes")


def check_tls(kiln, root, directory):
    cert, key = make_certificate(directory)
    other = os.path.join(directory, "other")
    os.makedirs(other)
    other_cert, _ = make_certificate(other)  # a CA that did not sign the server's certificate
    server = KilnServer(kiln, ["--model-repository", root, "--tls-cert", cert, "--tls-key", key], ready=https_ready_with(cert))
    try:
        for protocol, port in (("http", server.http_port), ("grpc", server.grpc_port)):
            out = os.path.join(directory, f"perf_tls_{protocol}.json")
            r = perf(kiln, "-m", "affine", "-u", f"{HOST}:{port}", "-i", protocol, "-c", "2", "--duration", DURATION_S,
                     "--warmup", "0.1", "--tls-ca", cert, "--export-json", out)
            check(r.returncode == 0 and "(TLS)" in r.stderr, f"kiln perf over {protocol} TLS: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
            with open(out) as f:
                level = json.load(f)["levels"][0]
            check(level["requests"] > 0 and level["errors"] == 0, f"{protocol} over TLS: {level}")
        r = perf(kiln, "-m", "affine", "-u", f"{HOST}:{server.http_port}", "--duration", DURATION_S)
        check(r.returncode == 2 and "--tls" in r.stderr, f"a plain client against TLS: {r.returncode} {r.stderr}")
        r = perf(kiln, "-m", "affine", "-u", f"{HOST}:{server.http_port}", "--tls-ca", other_cert, "--duration", DURATION_S)
        check(r.returncode == 2 and "not trusted" in r.stderr, f"an untrusted certificate: {r.returncode} {r.stderr}")
        r = perf(kiln, "-m", "affine", "-u", f"{HOST}:{server.http_port}", "--tls-ca", os.path.join(directory, "none.pem"))
        check(r.returncode == 2 and "none.pem" in r.stderr, f"a missing CA file: {r.returncode} {r.stderr}")
        check(server.alive(), "kiln serve (TLS) died")
    finally:
        code, log = server.stop()
    check(code == 0, f"kiln serve (TLS) exit code {code}; log:\n{log}")


def main():
    kiln = sys.argv[1]
    with tempfile.TemporaryDirectory() as directory:
        root = os.path.join(directory, "models")
        make_repository(root)
        server = KilnServer(kiln, ["--model-repository", root])
        try:
            check_protocol(kiln, server, "http", server.http_port, directory)
            check_protocol(kiln, server, "grpc", server.grpc_port, directory)
            r = perf(kiln, "-m", "no_such_model", "-u", f"{HOST}:{server.http_port}")
            check(r.returncode == 2 and "no_such_model" in r.stderr, f"unknown model: {r.returncode} {r.stderr}")
            r = perf(kiln, "-m", "affine", "-u", f"{HOST}:notaport")
            check(r.returncode == 2 and "not a port" in r.stderr, f"bad url: {r.returncode} {r.stderr}")
            # affine's shape is fixed: a --batch would only inflate inferences/s.
            r = perf(kiln, "-m", "affine", "-u", f"{HOST}:{server.http_port}", "-b", "4")
            check(r.returncode == 2 and "no input with a variable dim 0" in r.stderr, f"batch on a fixed model: {r.returncode} {r.stderr}")
            # scale's queue holds two: four clients sending batches of 8 are turned away, and
            # kiln perf says so instead of reporting a throughput.
            r = perf(kiln, "-m", "scale", "-u", f"{HOST}:{server.http_port}", "-b", "8", "-c", "4", "--duration", DURATION_S,
                     "--warmup", "0")
            check(r.returncode == 2 and "maximum queue size 2" in r.stderr, f"refused requests: {r.returncode} {r.stderr}")
            r = perf(kiln, "-m", "affine", "-u", f"{HOST}:{server.http_port}", "--shared-memory", "system", "--duration", DURATION_S)
            check(r.returncode == 2 and "--allow-client-shm" in r.stderr, f"shm without the server's flag: {r.returncode} {r.stderr}")
            check(server.alive(), "kiln serve died")
        finally:
            code, log = server.stop()
        check(code == 0, f"kiln serve exit code {code}; log:\n{log}")
        check(not leftover_regions(), f"kiln perf left shared memory objects: {leftover_regions()}")

        server = KilnServer(kiln, ["--model-repository", root, "--allow-client-shm"])
        try:
            for protocol, port in (("http", server.http_port), ("grpc", server.grpc_port)):
                check_protocol(kiln, server, protocol, port, directory, "--shared-memory", "system")
                with urllib.request.urlopen(f"http://{HOST}:{server.http_port}/v2/systemsharedmemory/status", timeout=10) as answer:
                    regions = json.loads(answer.read())
                check(regions == [], f"{protocol}: regions left registered after kiln perf: {regions}")
                check(not leftover_regions(), f"{protocol}: shared memory objects left: {leftover_regions()}")
        finally:
            code, log = server.stop()
        check(code == 0, f"kiln serve (shm) exit code {code}; log:\n{log}")
        check_tls(kiln, root, directory)
    print("kiln perf: all checks passed")


def leftover_regions():
    return [name for name in os.listdir("/dev/shm") if name.startswith("kiln-perf-")] if os.path.isdir("/dev/shm") else []


if __name__ == "__main__":
    main()
