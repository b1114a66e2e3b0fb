#!/usr/bin/env python3
"""Runs kiln_cuda_bench and the same ops in PyTorch on the same GPU; prints ms and ratios.

usage: compare_torch.py PATH/TO/kiln_cuda_bench
A ratio below 1 means kiln is faster. Shapes: BERT-large, seq 384, batch 32, FP16, and ResNet-50
convs at batch 64 and 1 (the bench's case names carry them). kiln's conv cases run in NHWC and NCHW;
both compare against PyTorch channels_last (its fast layout).
"""
import subprocess
import sys

import torch
import torch.nn.functional as F

BATCH, SEQ, HIDDEN, HEADS, HEAD_DIM, FFN = 32, 384, 1024, 16, 64, 4096
WARMUPS, ITERATIONS, REPEATS = 5, 50, 5


def time_ms(fn):
    for _ in range(WARMUPS):
        fn()
    samples = []
    for _ in range(REPEATS):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(ITERATIONS):
            fn()
        stop.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(stop) / ITERATIONS)
    return sorted(samples)[len(samples) // 2]


def torch_cases():
    dev, half = "cuda", torch.float16
    tokens = BATCH * SEQ
    scores = torch.randn(BATCH * HEADS * SEQ, SEQ, device=dev, dtype=half)
    x = torch.randn(tokens, HIDDEN, device=dev, dtype=half)
    r = torch.randn(tokens, HIDDEN, device=dev, dtype=half)
    gamma = torch.randn(HIDDEN, device=dev, dtype=half)
    beta = torch.randn(HIDDEN, device=dev, dtype=half)
    w_qkv = torch.randn(3 * HIDDEN, HIDDEN, device=dev, dtype=half)
    b_qkv = torch.randn(3 * HIDDEN, device=dev, dtype=half)
    w1 = torch.randn(FFN, HIDDEN, device=dev, dtype=half)
    b1 = torch.randn(FFN, device=dev, dtype=half)
    h = torch.randn(tokens, FFN, device=dev, dtype=half)
    w2 = torch.randn(HIDDEN, FFN, device=dev, dtype=half)
    b2 = torch.randn(HIDDEN, device=dev, dtype=half)
    q = torch.randn(BATCH * HEADS, SEQ, HEAD_DIM, device=dev, dtype=half)
    k = torch.randn(BATCH * HEADS, SEQ, HEAD_DIM, device=dev, dtype=half)
    # Attention: [B, H, S, D]; the mask broadcasts over heads and queries (a padding mask).
    aq, ak, av = (torch.randn(BATCH, HEADS, SEQ, HEAD_DIM, device=dev, dtype=half) for _ in range(3))
    amask = torch.randn(BATCH, 1, 1, SEQ, device=dev, dtype=half)
    lq, lk, lv = (torch.randn(8, 16, 1024, 128, device=dev, dtype=half) for _ in range(3))
    # The same attention on [B, S, H, D] tensors (a Reshape of the projections), passed to
    # PyTorch as transposed views, which its fused kernels read through strides.
    sq, sk, sv = (torch.randn(BATCH, SEQ, HEADS, HEAD_DIM, device=dev, dtype=half).transpose(1, 2) for _ in range(3))
    # FFN1's activations at BERT-large batch 128, GELU in place (exact erf form).
    ffn = torch.randn(128 * SEQ, FFN, device=dev, dtype=half)
    # Batch 1 (latency): the grid is 16 heads x 3 query blocks.
    oq, ok, ov = (torch.randn(1, HEADS, SEQ, HEAD_DIM, device=dev, dtype=half) for _ in range(3))
    omask = torch.randn(1, 1, 1, SEQ, device=dev, dtype=half)
    sdpa = F.scaled_dot_product_attention
    cases = {
        "sdpa_fp16_b32h16s384d64_mask": lambda: sdpa(aq, ak, av, attn_mask=amask),
        "sdpa_fp16_b32h16s384d64": lambda: sdpa(aq, ak, av),
        "sdpa_fp16_b8h16s1024d128": lambda: sdpa(lq, lk, lv),
        "sdpa_fp16_b32s384h16d64_bshd_mask": lambda: sdpa(sq, sk, sv, attn_mask=amask),
        # kiln's 64-query-row tactic against the same PyTorch call.
        "sdpa_fp16_b32h16s384d64_mask_rows64": lambda: sdpa(aq, ak, av, attn_mask=amask),
        "sdpa_fp16_b1h16s384d64_mask": lambda: sdpa(oq, ok, ov, attn_mask=omask),
        "sdpa_fp16_b1h16s384d64_mask_rows64": lambda: sdpa(oq, ok, ov, attn_mask=omask),
        "sdpa_fp16_b8h16s1024d128_rows64": lambda: sdpa(lq, lk, lv),
        # Out of place (PyTorch has no in-place GELU); the same bytes move as kiln's in-place pass.
        "gelu_erf_fp16_49152x4096": lambda: F.gelu(ffn, approximate="none"),
    }
    # ResNet-50 convs at batch 64 and 1, channels_last FP16 with bias and ReLU (cuDNN through PyTorch).
    torch.backends.cudnn.benchmark = True
    convs = {
        "stem7x7s2": (3, 224, 64, 7, 2, 3),
        "3x3_64c56": (64, 56, 64, 3, 1, 1),
        "1x1_256to64c56": (256, 56, 64, 1, 1, 0),
        "3x3_512c7": (512, 7, 512, 3, 1, 1),
    }
    for batch in (64, 1):
        for name, (cin, size, cout, kernel, stride, pad) in convs.items():
            cx = torch.randn(batch, cin, size, size, device=dev, dtype=half).to(memory_format=torch.channels_last)
            cw = torch.randn(cout, cin, kernel, kernel, device=dev, dtype=half).to(memory_format=torch.channels_last)
            cb = torch.randn(cout, device=dev, dtype=half)
            fn = (lambda x=cx, w=cw, b=cb, s=stride, p=pad: F.relu(F.conv2d(x, w, b, stride=s, padding=p)))
            for layout in ("nhwc", "nchw"):
                cases[f"conv_relu_fp16_{name}_b{batch}_{layout}"] = fn
    return {
        **cases,
        "softmax_fp16_196608x384": lambda: torch.softmax(scores, dim=-1),
        "layernorm_residual_fp16_12288x1024": lambda: F.layer_norm(x + r, (HIDDEN,), gamma, beta),
        "linear_qkv_bias_fp16_12288x1024x3072": lambda: F.linear(x, w_qkv, b_qkv),
        "linear_ffn1_bias_gelu_fp16_12288x1024x4096": lambda: F.gelu(F.linear(x, w1, b1), approximate="tanh"),
        "linear_ffn2_bias_fp16_12288x4096x1024": lambda: F.linear(h, w2, b2),
        "bmm_qk_fp16_512x384x384x64": lambda: torch.bmm(q, k.transpose(1, 2)),
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    kiln_out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    lines = [line for line in kiln_out.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("#"):
            print(line)
    kiln_ms = {name: float(ms) for name, ms in (line.split() for line in lines if not line.startswith("#"))}
    print(f"GPU: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    print(f"{'case':46s} {'kiln ms':>9s} {'torch ms':>9s} {'kiln/torch':>10s}")
    cases = torch_cases()
    for name, fn in cases.items():
        t = time_ms(fn)
        k = kiln_ms.get(name)
        ratio = f"{k / t:10.2f}" if k is not None else "   missing"
        print(f"{name:46s} {k if k is not None else float('nan'):9.4f} {t:9.4f} {ratio}")
    for name in sorted(set(kiln_ms) - set(cases)):
        print(f"{name:46s} {kiln_ms[name]:9.4f}       n/a   no torch case")


if __name__ == "__main__":
    main()
