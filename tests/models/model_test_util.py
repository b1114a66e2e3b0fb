"""Shared steps of the end-to-end model tests: export a PyTorch model to ONNX once (cached in the
build dir, keyed by the hash of the test scripts), run it with `kiln run`, compare with PyTorch.

The `kiln run` contract used here:
    kiln run MODEL --input NAME=FILE.npy [--input ...] --output-dir DIR [--optimize]
writes DIR/<output name>.npy for every model output. Each model runs as imported, after the graph
optimizer (--optimize) and as an engine built on the reference backend (--backend reference, which
runs the optimizer too); every run must match PyTorch within the same tolerance.
"""
import argparse
import collections
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

# Relative error bound: max|kiln - torch| / max|torch|. Both sides compute in FP32; what is left is
# summation order, so 1e-4 of the output's scale is generous and still catches any real bug.
MAX_RELATIVE_ERROR = 1e-4
# Per element: |kiln - torch| <= ELEMENT_RTOL * |torch| + ELEMENT_ATOL_OF_MAX * max|torch|.
ELEMENT_RTOL = 1e-4
ELEMENT_ATOL_OF_MAX = 1e-5

MODEL_FILE = "model.onnx"
EXPECTED_PREFIX = "expected_"
INPUT_PREFIX = "input_"
STAMP_FILE = "complete"


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--kiln", required=True, help="the kiln executable")
    parser.add_argument("--work-dir", required=True, help="cache and scratch directory (in the build dir)")
    return parser.parse_args()


def cache_key(*script_paths):
    import torch
    digest = hashlib.sha256()
    for path in script_paths + (os.path.abspath(__file__),):
        with open(path, "rb") as script:
            digest.update(script.read())
    digest.update(torch.__version__.encode())
    digest.update(np.__version__.encode())
    return digest.hexdigest()[:16]


def prepare_case(work_dir, key, export):
    """Returns the directory holding model.onnx, input_<name>.npy and expected_<name>.npy.

    `export(directory)` writes them; it only runs when no complete cache entry for `key` exists.
    """
    cache_root = os.path.join(work_dir, "export")
    case_dir = os.path.join(cache_root, key)
    if os.path.exists(os.path.join(case_dir, STAMP_FILE)):
        print(f"using the cached export in {case_dir}")
        return case_dir
    # Entries under other keys belong to other versions of the scripts.
    shutil.rmtree(cache_root, ignore_errors=True)
    staging = case_dir + ".partial"
    os.makedirs(staging)
    started = time.monotonic()
    export(staging)
    with open(os.path.join(staging, STAMP_FILE), "w") as stamp:
        stamp.write(key + "\n")
    os.rename(staging, case_dir)
    print(f"exported in {time.monotonic() - started:.1f} s to {case_dir}")
    return case_dir


def save_case(directory, onnx_export, inputs, expected):
    """onnx_export(path) writes the model; inputs and expected map names to numpy arrays."""
    onnx_export(os.path.join(directory, MODEL_FILE))
    for name, array in inputs.items():
        np.save(os.path.join(directory, INPUT_PREFIX + name + ".npy"), array)
    for name, array in expected.items():
        np.save(os.path.join(directory, EXPECTED_PREFIX + name + ".npy"), array)


def names_with_prefix(directory, prefix):
    return sorted(f[len(prefix):-len(".npy")] for f in os.listdir(directory)
                  if f.startswith(prefix) and f.endswith(".npy"))


# (label, extra `kiln run` arguments): the imported graph, then the optimized one.
# The engine variant builds for the test's input shapes, so static-shape folding and the fused
# ops also run through the builder.
VARIANTS = (("as imported", []), ("optimized", ["--optimize"]),
            ("engine, reference backend", ["--backend", "reference"]))


def run_kiln(kiln, case_dir, output_dir, extra_args=()):
    shutil.rmtree(output_dir, ignore_errors=True)
    os.makedirs(output_dir)
    command = [kiln, "run", os.path.join(case_dir, MODEL_FILE), *extra_args]
    for name in names_with_prefix(case_dir, INPUT_PREFIX):
        command += ["--input", f"{name}={os.path.join(case_dir, INPUT_PREFIX + name + '.npy')}"]
    command += ["--output-dir", output_dir]
    print("running:", " ".join(command), flush=True)
    started = time.monotonic()
    completed = subprocess.run(command)
    print(f"kiln run took {time.monotonic() - started:.1f} s (exit status {completed.returncode})")
    return completed.returncode == 0


def compare(name, actual, expected):
    """Prints the comparison; returns whether `actual` is close enough to `expected`."""
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        print(f"FAIL {name}: got {actual.dtype}{list(actual.shape)}, expected {expected.dtype}{list(expected.shape)}")
        return False
    if not np.all(np.isfinite(actual)):
        print(f"FAIL {name}: {np.count_nonzero(~np.isfinite(actual))} non-finite values")
        return False
    scale = float(np.max(np.abs(expected)))
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    relative_error = float(np.max(difference)) / scale if scale > 0 else float(np.max(difference))
    bound = ELEMENT_RTOL * np.abs(expected) + ELEMENT_ATOL_OF_MAX * scale
    outside = int(np.count_nonzero(difference > bound))
    print(f"{name}: shape {list(actual.shape)}, max|torch| {scale:.4g}, "
          f"max relative error {relative_error:.3g} (limit {MAX_RELATIVE_ERROR:g}), "
          f"{outside} elements outside allclose(rtol={ELEMENT_RTOL:g}, atol={ELEMENT_ATOL_OF_MAX:g}*max)")
    ok = relative_error < MAX_RELATIVE_ERROR and outside == 0
    if not ok:
        worst = np.unravel_index(int(np.argmax(difference - bound)), difference.shape)
        print(f"FAIL {name}: worst element {list(worst)}: kiln {actual[worst]!r}, torch {expected[worst]!r}")
    return ok


# Conv nets also run as an engine built with the channels-last rewrite (what CUDA engines get),
# on the reference backend, so the rewritten graph is checked against PyTorch on any machine.
CHANNELS_LAST_VARIANT = ("engine, reference backend, channels-last", ["--backend", "reference", "--channels-last"])


def run_and_compare(kiln, case_dir, work_dir, variants=VARIANTS):
    ok = True
    for label, extra_args in variants:
        print(f"--- {label}", flush=True)
        output_dir = os.path.join(work_dir, "kiln-output")
        if not run_kiln(kiln, case_dir, output_dir, extra_args):
            print(f"FAIL ({label}): kiln run failed")
            ok = False
            continue
        for name in names_with_prefix(case_dir, EXPECTED_PREFIX):
            produced = os.path.join(output_dir, name + ".npy")
            if not os.path.exists(produced):
                print(f"FAIL {name} ({label}): kiln did not write {produced}")
                ok = False
                continue
            expected = np.load(os.path.join(case_dir, EXPECTED_PREFIX + name + ".npy"))
            ok = compare(f"{name} ({label})", np.load(produced), expected) and ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def optimized_op_counts(kiln, case_dir, extra_args=()):
    """Op counts of the model after the graph optimizer (kiln inspect --passes --json); prints the
    node counts before and after and the passes that fired."""
    command = [kiln, "inspect", os.path.join(case_dir, MODEL_FILE), "--passes", "--json", *extra_args]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        print(f"FAIL: {' '.join(command)}: {completed.stderr}")
        return None
    report = json.loads(completed.stdout)
    passes = report["passes"]
    fired = [p["name"] for p in passes if p["fired"]]
    print(f"optimizer: {passes[0]['nodes_before']} nodes -> {passes[-1]['nodes_after']} nodes; fired: {', '.join(fired)}")
    counts = collections.Counter(node["op"] for node in report["nodes"])
    print("ops after the optimizer:", dict(sorted(counts.items())))
    # "Op/N": nodes of Op with N inputs (a FusedMatMul with 4 took a residual).
    counts.update(f"{node['op']}/{len(node['inputs'])}" for node in report["nodes"])
    return counts


def check_fusions(kiln, case_dir, expectations, extra_args=()):
    """expectations maps an op to the count the optimized graph must have (0: none left)."""
    counts = optimized_op_counts(kiln, case_dir, extra_args)
    if counts is None:
        return False
    ok = True
    for op, expected in expectations.items():
        if counts.get(op, 0) != expected:
            print(f"FAIL: the optimized graph has {counts.get(op, 0)} {op}, expected {expected}")
            ok = False
    return ok


def main(script_path, description, export, fusions=None, extra_cache_inputs=(), channels_last=None, more_fusions=()):
    """The whole test: export (cached), run kiln, compare; then, when `fusions` (op -> count) is
    given, check what the optimizer made of the model. extra_cache_inputs: other scripts the export
    depends on. channels_last (op -> count, for conv nets): also run the channels-last engine and
    check the op counts after the optimizer with the channels-last rewrite. more_fusions: pairs of
    (extra `kiln inspect` arguments, op -> count) checked the same way. Returns the process exit
    status."""
    args = parse_args(description)
    os.makedirs(args.work_dir, exist_ok=True)
    case_dir = prepare_case(args.work_dir, cache_key(script_path, *extra_cache_inputs), export)
    variants = VARIANTS + ((CHANNELS_LAST_VARIANT,) if channels_last is not None else ())
    status = run_and_compare(args.kiln, case_dir, args.work_dir, variants)
    if fusions is not None and not check_fusions(args.kiln, case_dir, fusions):
        status = 1
    if channels_last is not None and not check_fusions(args.kiln, case_dir, channels_last, ["--channels-last"]):
        status = 1
    for extra_args, expectations in more_fusions:
        if not check_fusions(args.kiln, case_dir, expectations, list(extra_args)):
            status = 1
    return status


if __name__ == "__main__":
    sys.exit("import this module from a model test")
