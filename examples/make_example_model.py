#!/usr/bin/python3
"""Writes examples/tiny_cnn.onnx: a small image classifier used by scripts/demo.sh and the docs.

Conv -> BatchNormalization -> Relu -> MaxPool -> Conv -> Relu -> GlobalAveragePool -> Flatten
-> Gemm -> Softmax, input "image" float32[N,3,32,32] (N symbolic), output "probabilities"
float32[N,10]. Weights are random but seeded, so the file is identical on every run.

Usage: /usr/bin/python3 examples/make_example_model.py [OUTPUT_PATH]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 0
OPSET = 17
IN_CHANNELS = 3
IMAGE_SIZE = 32
CONV1_CHANNELS = 8
CONV2_CHANNELS = 16
NUM_CLASSES = 10
KERNEL = 3


def he_normal(rng, shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def build_model():
    rng = np.random.default_rng(SEED)
    weights = {
        "conv1.weight": he_normal(rng, (CONV1_CHANNELS, IN_CHANNELS, KERNEL, KERNEL), IN_CHANNELS * KERNEL * KERNEL),
        "conv1.bias": np.zeros(CONV1_CHANNELS, np.float32),
        "bn1.scale": rng.uniform(0.5, 1.5, CONV1_CHANNELS).astype(np.float32),
        "bn1.bias": rng.uniform(-0.1, 0.1, CONV1_CHANNELS).astype(np.float32),
        "bn1.mean": rng.uniform(-0.1, 0.1, CONV1_CHANNELS).astype(np.float32),
        "bn1.var": rng.uniform(0.5, 1.5, CONV1_CHANNELS).astype(np.float32),
        "conv2.weight": he_normal(rng, (CONV2_CHANNELS, CONV1_CHANNELS, KERNEL, KERNEL),
                                  CONV1_CHANNELS * KERNEL * KERNEL),
        "conv2.bias": rng.uniform(-0.1, 0.1, CONV2_CHANNELS).astype(np.float32),
        "fc.weight": he_normal(rng, (NUM_CLASSES, CONV2_CHANNELS), CONV2_CHANNELS),
        "fc.bias": np.zeros(NUM_CLASSES, np.float32),
    }
    pad = [KERNEL // 2] * 4
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["conv1"], name="conv1",
                         kernel_shape=[KERNEL, KERNEL], pads=pad),
        helper.make_node("BatchNormalization", ["conv1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["bn1"],
                         name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"], name="conv2",
                         kernel_shape=[KERNEL, KERNEL], pads=pad),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["relu2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["features"], name="flatten", axis=1),
        helper.make_node("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", IN_CHANNELS, IMAGE_SIZE, IMAGE_SIZE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", NUM_CLASSES])],
        initializer=[numpy_helper.from_array(v, name=k) for k, v in weights.items()])
    model = helper.make_model(graph, producer_name="kiln-examples",
                              opset_imports=[helper.make_operatorsetid("", OPSET)])
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "tiny_cnn.onnx")
    onnx.save(build_model(), out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
