#!/usr/bin/python3
"""End-to-end: the BERT encoder of bert_test.py exported at opset 14, where LayerNorm has no ONNX
op and is written out as nine elementwise and reduction nodes; kiln's layer-norm fusion must
turn each back into one LayerNormalization, and every run must match PyTorch."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_test  # noqa: E402
import model_test_util  # noqa: E402

OPSET = 14
# What opset 17 gives, plus nothing left of the decomposed layer norms.
FUSIONS = dict(bert_test.FUSIONS, ReduceMean=0, Pow=0, Sqrt=0)


def export(directory):
    bert_test.export(directory, opset=OPSET)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.exit(model_test_util.main(os.path.abspath(__file__), __doc__, export, FUSIONS,
                                  extra_cache_inputs=(os.path.join(here, "bert_test.py"),)))
