#!/usr/bin/python3
"""End-to-end: torchvision ResNet-50 (seeded random weights, eval mode) exported to ONNX opset 17
with a dynamic batch axis; `kiln run` must reproduce PyTorch's FP32 logits."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_test_util  # noqa: E402

OPSET = 17
WEIGHT_SEED = 0
INPUT_SEED = 1
BATCH = 2  # more than one image, so a batch-mixing bug shows
IMAGE_SHAPE = (3, 224, 224)
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
CONVOLUTIONS = 53
# After the optimizer every conv carries its bias, residual and ReLU: nothing else is left of
# the conv chains, and the classifier Gemm is a FusedMatMul.
FUSIONS = {"FusedConv": CONVOLUTIONS, "Conv": 0, "Relu": 0, "Add": 0, "BatchNormalization": 0,
           "Gemm": 0, "FusedMatMul": 1}
# With the channels-last rewrite (CUDA engines): every conv and pool runs NHWC, and the only
# layout moves left are one Transpose after the input and one before the classifier's Flatten.
CHANNELS_LAST = {"FusedConv": CONVOLUTIONS, "Transpose": 2}


def export(directory, keep_batch_norm=False):
    """keep_batch_norm: export BatchNormalization nodes instead of letting the exporter fold them
    into the convs (so kiln's batch-norm folding has to)."""
    import torch
    import torchvision

    torch.manual_seed(WEIGHT_SEED)
    model = torchvision.models.resnet50().eval()
    # Random batch-norm statistics, so the normalisation is not an identity.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    x = np.random.default_rng(INPUT_SEED).standard_normal((BATCH,) + IMAGE_SHAPE).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()

    def onnx_export(path):
        mode = torch.onnx.TrainingMode.PRESERVE if keep_batch_norm else torch.onnx.TrainingMode.EVAL
        torch.onnx.export(model, torch.from_numpy(x), path, opset_version=OPSET,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "N"}, OUTPUT_NAME: {0: "N"}},
                          training=mode, do_constant_folding=not keep_batch_norm)

    model_test_util.save_case(directory, onnx_export, {INPUT_NAME: x}, {OUTPUT_NAME: expected})


if __name__ == "__main__":
    sys.exit(model_test_util.main(os.path.abspath(__file__), __doc__, export, FUSIONS,
                                  channels_last=CHANNELS_LAST))
