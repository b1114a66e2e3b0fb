#!/usr/bin/python3
"""Exports the two benchmark models to ONNX (opset 17, dynamic batch) with seeded random weights,
and for each batch size writes seeded inputs and PyTorch's outputs as .npy:
  resnet50.onnx  (torchvision ResNet-50)          input  [B, 3, 224, 224]
  bert_base_bB.onnx (BERT-base encoder in torch.nn, static shapes, one file per batch size)
                                                  inputs input_ids, attention_mask [B, 128]

usage: export_models.py OUT_DIR BATCH [BATCH ...]
"""
import math
import os
import sys

import numpy as np
import torch
from torch import nn

OPSET = 17
SEED = 0
SEQUENCE = 128
VOCAB, HIDDEN, HEADS, LAYERS, FFN, MAX_POSITIONS, TOKEN_TYPES = 30522, 768, 12, 12, 3072, 512, 2
LAYER_NORM_EPS = 1e-12
MASKED_SCORE = -10000.0


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value, self.output = (nn.Linear(HIDDEN, HIDDEN) for _ in range(4))
        self.head_size = HIDDEN // HEADS

    def split_heads(self, x):
        batch, sequence, _ = x.shape
        return x.view(batch, sequence, HEADS, self.head_size).transpose(1, 2)

    def forward(self, hidden, additive_mask):
        q, k, v = (self.split_heads(f(hidden)) for f in (self.query, self.key, self.value))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size) + additive_mask
        context = torch.softmax(scores, dim=-1) @ v
        batch, _, sequence, _ = context.shape
        return self.output(context.transpose(1, 2).reshape(batch, sequence, HIDDEN))


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = SelfAttention()
        self.attention_norm = nn.LayerNorm(HIDDEN, eps=LAYER_NORM_EPS)
        self.ffn = nn.Sequential(nn.Linear(HIDDEN, FFN), nn.GELU(), nn.Linear(FFN, HIDDEN))
        self.ffn_norm = nn.LayerNorm(HIDDEN, eps=LAYER_NORM_EPS)

    def forward(self, hidden, additive_mask):
        hidden = self.attention_norm(hidden + self.attention(hidden, additive_mask))
        return self.ffn_norm(hidden + self.ffn(hidden))


class BertBase(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(TOKEN_TYPES, HIDDEN)
        self.embedding_norm = nn.LayerNorm(HIDDEN, eps=LAYER_NORM_EPS)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1], dtype=torch.int64).unsqueeze(0)
        hidden = self.embedding_norm(self.word(input_ids) + self.position(positions) +
                                     self.token_type(torch.zeros_like(input_ids)))
        additive_mask = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * MASKED_SCORE
        for layer in self.layers:
            hidden = layer(hidden, additive_mask)
        return hidden


def resnet50():
    import torchvision
    torch.manual_seed(SEED)
    model = torchvision.models.resnet50(weights=None).eval()
    # Random BatchNorm statistics: the fresh ones (0 and 1) would make BN an identity.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model


def bert_base():
    torch.manual_seed(SEED)
    return BertBase().eval()


def export(model, example, path, input_names, output_name, dynamic):
    torch.onnx.export(model, example, path, opset_version=OPSET, input_names=input_names, output_names=[output_name],
                      dynamic_axes={**{n: dynamic[n] for n in input_names}, output_name: {0: "batch"}},
                      do_constant_folding=True)


def main():
    out, batches = sys.argv[1], [int(b) for b in sys.argv[2:]]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    rng = np.random.default_rng(1)
    resnet = resnet50()
    bert = bert_base()
    with torch.no_grad():
        example = torch.from_numpy(rng.standard_normal((1, 3, 224, 224), dtype=np.float32))
        export(resnet, (example,), os.path.join(out, "resnet50.onnx"), ["input"], "output", {"input": {0: "batch"}})
        for b in batches:
            image = rng.standard_normal((b, 3, 224, 224), dtype=np.float32)
            np.save(os.path.join(out, f"resnet50_b{b}_input.npy"), image)
            np.save(os.path.join(out, f"resnet50_b{b}_expected.npy"), resnet(torch.from_numpy(image)).numpy())
            ids = rng.integers(0, VOCAB, size=(b, SEQUENCE), dtype=np.int64)
            mask = np.ones((b, SEQUENCE), dtype=np.int64)
            if b > 1:
                mask[1, SEQUENCE // 2:] = 0  # one padded sequence so the mask matters
            # One static-shape BERT file per batch size: the shape arithmetic of its reshapes then
            # folds to constants at export time (kiln's builder needs concrete reshape targets).
            torch.onnx.export(bert, (torch.from_numpy(ids), torch.from_numpy(mask)),
                              os.path.join(out, f"bert_base_b{b}.onnx"), opset_version=OPSET,
                              input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                              do_constant_folding=True)
            np.save(os.path.join(out, f"bert_base_b{b}_input_ids.npy"), ids)
            np.save(os.path.join(out, f"bert_base_b{b}_attention_mask.npy"), mask)
            np.save(os.path.join(out, f"bert_base_b{b}_expected.npy"),
                    bert(torch.from_numpy(ids), torch.from_numpy(mask)).numpy())
    print(f"export_models: wrote {out}")


if __name__ == "__main__":
    main()
