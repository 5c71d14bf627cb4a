"""Reference SGEMM."""

from __future__ import annotations

import numpy as np


def gemm(a, b, out=None, trans_a=False, trans_b=False, alpha=1.0, beta=0.0):
    """``alpha * op(a) @ op(b) + beta * out`` computed in float64, returned as float32.

    BLAS conventions: ``alpha == 0`` does not read ``a`` and ``b`` and ``beta == 0`` does not
    read ``out``, so NaN or infinity in them does not propagate."""
    a64 = np.asarray(a, dtype=np.float64)
    b64 = np.asarray(b, dtype=np.float64)
    if trans_a:
        a64 = a64.T
    if trans_b:
        b64 = b64.T
    r = alpha * (a64 @ b64) if alpha != 0.0 else np.zeros((a64.shape[0], b64.shape[1]))
    if out is not None:
        if beta != 0.0:
            r = r + beta * out.astype(np.float64)
        out[...] = r
        return out
    return r.astype(np.float32)
