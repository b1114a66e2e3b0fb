#!/usr/bin/python3
"""End-to-end: the ResNet-50 of resnet50_test.py exported with its 53 BatchNormalization nodes
kept (the exporter's own conv+BN folding off); kiln's batch-norm folding must fold them, the
optimized graph must end with one FusedConv per conv, and every run must match PyTorch."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_test_util  # noqa: E402
import resnet50_test  # noqa: E402


def export(directory):
    resnet50_test.export(directory, keep_batch_norm=True)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.exit(model_test_util.main(os.path.abspath(__file__), __doc__, export, resnet50_test.FUSIONS,
                                  extra_cache_inputs=(os.path.join(here, "resnet50_test.py"),)))
