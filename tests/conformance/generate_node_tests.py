#!/usr/bin/python3
"""Writes the official ONNX node tests (model.onnx + test_data_set_*/{input,output}_*.pb) of the
installed python3-onnx into OUTPUT_DIR, once: a stamp file records the onnx version and this
script's hash, so later runs return at once.

Debian's onnx 1.12 still uses numpy aliases that numpy 1.24 removed, so they are put back before
the test cases are imported.
"""
import argparse
import hashlib
import os
import shutil
import sys

STAMP_NAME = ".generated"


def restore_numpy_aliases():
    import numpy as np
    np.float = float
    np.int = int
    np.bool = bool
    np.object = object


def stamp_text():
    import onnx
    with open(os.path.abspath(__file__), "rb") as script:
        digest = hashlib.sha256(script.read()).hexdigest()
    return f"onnx {onnx.__version__}\nscript {digest}\n"


def read_stamp(output_dir):
    try:
        with open(os.path.join(output_dir, STAMP_NAME)) as stamp:
            return stamp.read()
    except OSError:
        return None


def generate(output_dir):
    restore_numpy_aliases()
    from onnx.backend.test import cmd_tools

    # Generate next to the target and rename, so an interrupted run never leaves a stamped,
    # half-written tree behind.
    staging = output_dir.rstrip("/") + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    saved_argv = sys.argv
    sys.argv = ["generate_node_tests", "generate-data", "-o", staging]
    try:
        cmd_tools.main()
    finally:
        sys.argv = saved_argv
    with open(os.path.join(staging, STAMP_NAME), "w") as stamp:
        stamp.write(stamp_text())
    shutil.rmtree(output_dir, ignore_errors=True)
    os.rename(staging, output_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", help="for example <build>/onnx-node-tests")
    args = parser.parse_args()
    if read_stamp(args.output_dir) == stamp_text():
        print(f"ONNX node tests are up to date in {args.output_dir}")
        return 0
    generate(args.output_dir)
    count = len(os.listdir(os.path.join(args.output_dir, "node")))
    print(f"generated {count} ONNX node tests in {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
