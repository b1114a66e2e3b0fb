"""Writes an ONNX model with ResNet-50's input (float32 [N,3,224,224]) and almost no compute
(GlobalAveragePool + Flatten), so that bench_server.py shows what the server costs for large
requests on a machine without a GPU.

usage: /usr/bin/python3 bench/server/make_large_input_model.py OUT.onnx
"""
import sys

import onnx
from onnx import TensorProto, helper


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    image = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])
    means = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3])
    graph = helper.make_graph([helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
                               helper.make_node("Flatten", ["pooled"], ["output"])], "large_input", [image], [means])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[1])


if __name__ == "__main__":
    main()
