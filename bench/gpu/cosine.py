#!/usr/bin/env python3
"""usage: cosine.py A.npy B.npy -> prints cosine similarity and max relative error; exit 1 below MIN (default 0.999)."""
import sys

import numpy as np

a = np.load(sys.argv[1]).astype(np.float64).ravel()
b = np.load(sys.argv[2]).astype(np.float64).ravel()
minimum = float(sys.argv[3]) if len(sys.argv) > 3 else 0.999
if a.shape != b.shape or not np.all(np.isfinite(a)):
    print(f"cosine: shapes {a.shape} vs {b.shape}, finite={np.all(np.isfinite(a))}")
    sys.exit(1)
cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
rel = float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))
print(f"cosine {cos:.6f}  max relative error {rel:.3e}  (minimum cosine {minimum})")
sys.exit(0 if cos >= minimum else 1)
