#!/usr/bin/python3
"""End-to-end: an MLP with both of PyTorch's GELUs (erf, and approximate='tanh'), exported at
opset 17 where each is written out as elementwise nodes; GELU fusion must recover both and
matmul fusion must absorb them into the Gemms before them, and every run must match PyTorch."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_test_util  # noqa: E402

OPSET = 17
WEIGHT_SEED = 0
INPUT_SEED = 1
BATCH = 4
WIDTHS = (16, 32, 24, 8)
INPUT_NAME = "x"
OUTPUT_NAME = "y"
LINEAR_LAYERS = len(WIDTHS) - 1
FUSIONS = {"FusedMatMul": LINEAR_LAYERS, "Gemm": 0, "Gelu": 0, "Erf": 0, "Tanh": 0, "Mul": 0}


def export(directory):
    import torch
    from torch import nn

    torch.manual_seed(WEIGHT_SEED)
    model = nn.Sequential(nn.Linear(WIDTHS[0], WIDTHS[1]), nn.GELU(), nn.Linear(WIDTHS[1], WIDTHS[2]),
                          nn.GELU(approximate="tanh"), nn.Linear(WIDTHS[2], WIDTHS[3])).eval()
    # Inputs wide enough that both GELUs see their curved part and their tails.
    x = (3 * np.random.default_rng(INPUT_SEED).standard_normal((BATCH, WIDTHS[0]))).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()

    def onnx_export(path):
        torch.onnx.export(model, torch.from_numpy(x), path, opset_version=OPSET, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], dynamic_axes={INPUT_NAME: {0: "N"}, OUTPUT_NAME: {0: "N"}})

    model_test_util.save_case(directory, onnx_export, {INPUT_NAME: x}, {OUTPUT_NAME: expected})


if __name__ == "__main__":
    sys.exit(model_test_util.main(os.path.abspath(__file__), __doc__, export, FUSIONS))
