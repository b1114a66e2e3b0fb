#!/usr/bin/python3
"""Times the benchmark models in PyTorch (eager, CPU, inference mode) at a given thread count.
usage: torch_bench.py resnet50|bert_base BATCH THREADS WARMUP ITERATIONS MODEL_DIR
Prints one JSON line with per-iteration latency statistics in milliseconds."""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_models  # noqa: E402


def main():
    name, batch, threads, warmup, iterations, model_dir = sys.argv[1:7]
    batch, threads, warmup, iterations = int(batch), int(threads), int(warmup), int(iterations)
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    model = export_models.resnet50() if name == "resnet50" else export_models.bert_base()
    load = lambda suffix: torch.from_numpy(np.load(os.path.join(model_dir, f"{name}_b{batch}_{suffix}.npy")))
    inputs = (load("input"),) if name == "resnet50" else (load("input_ids"), load("attention_mask"))
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(*inputs)
        for _ in range(iterations):
            start = time.perf_counter()
            model(*inputs)
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    print(json.dumps({"model": name, "threads": threads, "iterations": len(times), "mean_ms": sum(times) / len(times),
                      "median_ms": times[len(times) // 2], "min_ms": times[0], "version": torch.__version__}))


if __name__ == "__main__":
    main()
