#!/usr/bin/env python3
"""Exports the engine benchmark models to ONNX and records PyTorch FP32 reference outputs.

usage: export_models.py OUT_DIR
Writes OUT_DIR/resnet50.onnx (torchvision, random seeded weights, dynamic batch) and
OUT_DIR/bert_large.onnx (BERT-large, seq 384, dynamic batch; transformers' BertModel with
random seeded weights, eager attention so the export is plain ONNX ops), plus for each a
seeded input at batch 1 (.npy per input) and PyTorch's FP32 output for it (*_ref.npy), which
e2e.sh compares kiln's FP16 engine against (cosine similarity).
"""
import os
import sys

import numpy as np
import torch

SEQ = 384


def check_export(path, feeds, ref):
    """The export itself must be faithful before kiln is compared with PyTorch: onnxruntime on
    the ONNX file against PyTorch's output (prints and fails loudly when they disagree)."""
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime missing: export of", path, "not cross-checked")
        return
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    diff = float(np.abs(got - ref).max())
    print(f"{os.path.basename(path)}: onnxruntime vs PyTorch max abs diff {diff:.3g}")
    if diff > 1e-3 * max(1.0, float(np.abs(ref).max())):
        sys.exit(f"export of {path} does not match PyTorch (max abs diff {diff})")


def export_resnet(out):
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    path = os.path.join(out, "resnet50.onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=17, dynamo=False)
    with torch.no_grad():
        ref = model(x).numpy()
    check_export(path, {"input": x.numpy()}, ref)
    np.save(os.path.join(out, "resnet50_input.npy"), x.numpy())
    np.save(os.path.join(out, "resnet50_ref.npy"), ref)


def export_bert(out):
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    cfg = BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                     attn_implementation="eager")
    model = BertModel(cfg, add_pooling_layer=False).eval()
    gen = torch.Generator().manual_seed(2)
    ids = torch.randint(0, cfg.vocab_size, (1, SEQ), generator=gen)
    mask = torch.ones(1, SEQ, dtype=torch.long)
    mask[:, SEQ - 37:] = 0  # some padding, so the mask matters
    path = os.path.join(out, "bert_large.onnx")

    class Encoder(torch.nn.Module):
        # Keyword arguments only: newer transformers reject BertModel's inputs passed by position
        # under tracing.
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    # The wrapper must be in eval mode too: the exporter restores the wrapper's training flag
    # afterwards, recursively, which turns BERT's dropout on for the reference below.
    encoder = Encoder(model).eval()
    torch.onnx.export(encoder, (ids, mask), path, input_names=["input_ids", "attention_mask"],
                      output_names=["hidden"], dynamic_axes={"input_ids": {0: "N"}, "attention_mask": {0: "N"},
                                                             "hidden": {0: "N"}},
                      opset_version=17, dynamo=False)
    assert not model.training, "the reference must come from the model in eval mode (dropout off)"
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=mask).last_hidden_state.numpy()
    check_export(path, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}, ref)
    np.save(os.path.join(out, "bert_large_input_ids.npy"), ids.numpy())
    np.save(os.path.join(out, "bert_large_attention_mask.npy"), mask.numpy())
    np.save(os.path.join(out, "bert_large_ref.npy"), ref)


if __name__ == "__main__":
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    which = sys.argv[2:] or ["resnet", "bert"]
    if "resnet" in which:
        export_resnet(out_dir)
    if "bert" in which:
        export_bert(out_dir)
    print("exported to", out_dir, sorted(os.listdir(out_dir)))
