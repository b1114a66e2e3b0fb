#!/usr/bin/python3
"""End-to-end: a small BERT encoder written with torch.nn (word + position + token-type
embeddings, LayerNorm, self-attention with an additive mask from attention_mask, erf-GELU FFN),
seeded weights, exported to ONNX opset 17 with dynamic batch and sequence axes; `kiln run` must
reproduce PyTorch's FP32 hidden states."""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_test_util  # noqa: E402

OPSET = 17
WEIGHT_SEED = 0
INPUT_SEED = 1
VOCAB = 1000
HIDDEN = 256
HEADS = 4
LAYERS = 4
FFN = 4 * HIDDEN
MAX_POSITIONS = 128
TOKEN_TYPES = 2
LAYER_NORM_EPS = 1e-12
MASKED_SCORE = -10000.0  # added to attention scores of padding positions (as BERT does)
BATCH = 2
SEQUENCE = 64
# The second sequence is padded after this many tokens, so the mask changes the result.
SECOND_SEQUENCE_LENGTH = 40
OUTPUT_NAME = "last_hidden_state"
# After the optimizer: one attention op per layer, Q/K/V merged into one product, and every
# product (QKV, attention output, both FFN layers) a FusedMatMul with its bias (and the GELU).
FUSIONS = {"ScaledDotProductAttention": LAYERS, "Softmax": 0, "Erf": 0, "Gelu": 0, "MatMul": 0,
           "FusedMatMul": 4 * LAYERS, "Split": LAYERS, "LayerNormalization": 2 * LAYERS + 1}
FIXED_SHAPES = ["--shapes", f"input_ids:{BATCH}x{SEQUENCE},attention_mask:{BATCH}x{SEQUENCE}"]
MORE_FUSIONS = (
    # With static shapes the residual Adds before each LayerNorm join the attention-output and
    # FFN2 products (FusedMatMul's 4th input Z); only the embedding sums stay Adds.
    (FIXED_SHAPES, {"FusedMatMul/4": 2 * LAYERS, "Add": 2}),
    # The CUDA pipeline (engines always have static shapes): attention reads Q, K, V as slots of
    # the packed projection, so neither the Split nor a head Transpose is left.
    (["--cuda", *FIXED_SHAPES], {"ScaledDotProductAttention": LAYERS, "Split": 0, "Transpose": 0, "FusedMatMul/4": 2 * LAYERS}),
)


def build_model():
    import torch
    from torch import nn

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(HIDDEN, HIDDEN)
            self.key = nn.Linear(HIDDEN, HIDDEN)
            self.value = nn.Linear(HIDDEN, HIDDEN)
            self.output = nn.Linear(HIDDEN, HIDDEN)
            self.head_size = HIDDEN // HEADS

        def split_heads(self, x):
            batch, sequence, _ = x.shape
            return x.view(batch, sequence, HEADS, self.head_size).transpose(1, 2)

        def forward(self, hidden, additive_mask):
            q = self.split_heads(self.query(hidden))
            k = self.split_heads(self.key(hidden))
            v = self.split_heads(self.value(hidden))
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

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(VOCAB, HIDDEN)
            self.position = nn.Embedding(MAX_POSITIONS, HIDDEN)
            self.token_type = nn.Embedding(TOKEN_TYPES, HIDDEN)
            self.embedding_norm = nn.LayerNorm(HIDDEN, eps=LAYER_NORM_EPS)
            self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

        def forward(self, input_ids, attention_mask):
            positions = torch.arange(input_ids.shape[1], dtype=torch.int64).unsqueeze(0)
            token_types = torch.zeros_like(input_ids)
            hidden = self.embedding_norm(self.word(input_ids) + self.position(positions) +
                                         self.token_type(token_types))
            additive_mask = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * MASKED_SCORE
            for layer in self.layers:
                hidden = layer(hidden, additive_mask)
            return hidden

    torch.manual_seed(WEIGHT_SEED)
    return Encoder().eval()


def export(directory, opset=OPSET):
    """opset < 17 has no LayerNormalization: the exporter writes it out as ReduceMean, Sub, Pow,
    ReduceMean, Add, Sqrt, Div, Mul and Add."""
    import torch

    model = build_model()
    rng = np.random.default_rng(INPUT_SEED)
    input_ids = rng.integers(0, VOCAB, size=(BATCH, SEQUENCE), dtype=np.int64)
    attention_mask = np.ones((BATCH, SEQUENCE), dtype=np.int64)
    attention_mask[1, SECOND_SEQUENCE_LENGTH:] = 0
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    with torch.no_grad():
        expected = model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask)).numpy()

    def onnx_export(path):
        dynamic = {0: "batch", 1: "sequence"}
        torch.onnx.export(model, (torch.from_numpy(input_ids), torch.from_numpy(attention_mask)), path,
                          opset_version=opset, input_names=list(inputs), output_names=[OUTPUT_NAME],
                          dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, OUTPUT_NAME: dynamic},
                          do_constant_folding=True)

    model_test_util.save_case(directory, onnx_export, inputs, {OUTPUT_NAME: expected})


if __name__ == "__main__":
    sys.exit(model_test_util.main(os.path.abspath(__file__), __doc__, export, FUSIONS, more_fusions=MORE_FUSIONS))
