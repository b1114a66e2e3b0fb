"""A real Prometheus server (Debian's prometheus package, started by this test on a free port
with its own configuration and storage) scrapes kiln serve's metrics port while the test sends
inference requests, then its HTTP query API must show kiln's series with the right values, and
its target list must show kiln's endpoint up with no scrape error. That checks what a unit test of
the text cannot: that Prometheus itself accepts the exposition (types, histograms, label escaping).

Skips with a message (exit code 77, which ctest shows as skipped) without /usr/bin/prometheus.

usage: serve_prometheus_test.py KILN_BINARY [PROMETHEUS_BINARY]
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from serve_test_util import HOST, KilnServer, check, free_port, http_request, make_repository, wait_until

SKIP_EXIT_CODE = 77
SCRAPE_SECONDS = 1
PROMETHEUS_START_SECONDS = 60
SCRAPE_WAIT_SECONDS = 60
MIN_SCRAPES = 3
FIRST_ROUND, SECOND_ROUND = 5, 3


class Prometheus:
    def __init__(self, binary, directory, target):
        self.port = free_port()
        config = os.path.join(directory, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\n  scrape_timeout: {SCRAPE_SECONDS}s\n"
                    f"scrape_configs:\n  - job_name: kiln\n    static_configs:\n      - targets: ['{target}']\n")
        self.proc = subprocess.Popen([binary, f"--config.file={config}",
                                      f"--storage.tsdb.path={os.path.join(directory, 'tsdb')}",
                                      f"--web.listen-address={HOST}:{self.port}"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._log = []
        self._reader = threading.Thread(target=lambda: self._log.extend(iter(self.proc.stdout.readline, b"")), daemon=True)
        self._reader.start()
        try:
            wait_until(lambda: self.proc.poll() is not None or self.answers("/-/ready"), "prometheus ready",
                       PROMETHEUS_START_SECONDS)
            check(self.proc.poll() is None, "prometheus exited at start:\n" + self.log())
        except AssertionError:
            self.stop()
            raise

    def answers(self, path):
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.port}{path}", timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    def api(self, path, **params):
        url = f"http://{HOST}:{self.port}/api/v1/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as r:
            reply = json.loads(r.read())
        check(reply["status"] == "success", f"prometheus {path}: {reply}")
        return reply["data"]

    def query(self, expression):
        """{frozenset(labels without __name__): float} of an instant query."""
        data = self.api("query", query=expression)
        check(data["resultType"] == "vector", f"{expression}: {data}")
        return {frozenset((k, v) for k, v in r["metric"].items() if k != "__name__"): float(r["value"][1])
                for r in data["result"]}

    def kiln_target(self):
        targets = self.api("targets")["activeTargets"]
        check(len(targets) == 1, f"prometheus targets: {targets}")
        return targets[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=10)

    def log(self):
        return b"".join(self._log).decode(errors="replace")


def infer_affine(port, count):
    rng = np.random.default_rng(count)
    for _ in range(count):
        x = rng.standard_normal((2, 4)).astype(np.float32)
        status, out = http_request(port, "POST", "/v2/models/affine/infer", {
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4], "data": x.flatten().tolist()}]})
        check(status == 200, f"affine infer: {status} {out}")


def value_for(series, **labels):
    wanted = frozenset(labels.items())
    matches = [v for k, v in series.items() if wanted <= k]
    return matches[0] if len(matches) == 1 else None


def wait_for_value(prometheus, expression, labels, expected):
    seen = []

    def arrived():
        seen[:] = [value_for(prometheus.query(expression), **labels)]
        return seen[0] == expected
    try:
        wait_until(arrived, f"{expression}{labels} == {expected}", SCRAPE_WAIT_SECONDS)
    except AssertionError as e:
        raise AssertionError(f"{e}; last value {seen}; prometheus log:\n{prometheus.log()}") from None


def main():
    kiln = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/prometheus"
    if not os.access(binary, os.X_OK):
        print(f"SKIPPED: no Prometheus server at {binary} (Debian package prometheus; scripts/install-deps.sh "
              "installs it)")
        sys.exit(SKIP_EXIT_CODE)
    with tempfile.TemporaryDirectory() as directory:
        root = os.path.join(directory, "models")
        make_repository(root)
        server = KilnServer(kiln, ["--model-repository", root, "--no-engine-cache"],
                            ready=lambda s: s.answers_ok("/v2/health/ready"))
        prometheus = None
        try:
            infer_affine(server.http_port, FIRST_ROUND)
            prometheus = Prometheus(binary, directory, f"{HOST}:{server.metrics_port}")
            affine = {"model": "affine", "version": "3", "job": "kiln"}
            wait_for_value(prometheus, "nv_inference_count", affine, FIRST_ROUND)
            # New requests show up in a later scrape: Prometheus follows the counters live.
            infer_affine(server.http_port, SECOND_ROUND)
            total = FIRST_ROUND + SECOND_ROUND
            wait_for_value(prometheus, "nv_inference_count", affine, total)
            for expression, expected in (("nv_inference_request_success", total), ("nv_inference_exec_count", total),
                                         ("nv_inference_request_failure", 0), ("nv_inference_pending_request_count", 0),
                                         ("kiln_inference_request_duration_seconds_count", total)):
                got = value_for(prometheus.query(expression), **affine)
                check(got == expected, f"prometheus {expression}{affine}: {got}, expected {expected}")
            # Models nobody called are there too, at zero.
            got = value_for(prometheus.query("nv_inference_count"), model="add_int", version="1")
            check(got == 0, f"add_int nv_inference_count: {got}")
            got = value_for(prometheus.query('histogram_quantile(0.5, kiln_inference_request_duration_seconds_bucket)'),
                            model="affine")
            check(got is not None and 0 < got < 10, f"median affine latency from the histogram: {got}")
            wait_until(lambda: value_for(prometheus.query('count_over_time(up{job="kiln"}[5m])'), job="kiln") >= MIN_SCRAPES,
                       f"{MIN_SCRAPES} scrapes", SCRAPE_WAIT_SECONDS)
            target = prometheus.kiln_target()
            check(target["health"] == "up" and target["lastError"] == "", f"kiln target: {target}")
            check(value_for(prometheus.query('up{job="kiln"}'), job="kiln") == 1, "up{job=\"kiln\"} is not 1")
            scrapes = value_for(prometheus.query('count_over_time(up{job="kiln"}[5m])'), job="kiln")
            # GPU metrics exactly where kiln found NVML; the log says which and, if not, why.
            gpu_series = prometheus.query("nv_gpu_memory_total_bytes")
            if "GPU metrics (utilization, memory, power, energy) from NVML" in server.log_so_far():
                check(gpu_series and all(dict(k)["gpu_uuid"].startswith("GPU-") and v > 0 for k, v in gpu_series.items()),
                      f"NVML found but no GPU memory series: {gpu_series}")
                print(f"GPU metrics scraped for {len(gpu_series)} GPU(s)")
            else:
                check("no GPU metrics: " in server.log_so_far(), "the log does not say why there are no GPU metrics")
                check(not gpu_series, f"GPU series without NVML: {gpu_series}")
                print("no NVML here: GPU metrics absent, as the log says")
            print(f"prometheus scraped kiln {scrapes:.0f} times: target up, no scrape error, counters match")
        finally:
            if prometheus:
                prometheus.stop()
            code, log = server.stop()
        check(code == 0, f"kiln serve exit code {code}; log:\n{log}")
    print("serve prometheus: all checks passed")


if __name__ == "__main__":
    main()
