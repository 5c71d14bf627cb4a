"""SGEMM on the compiled core."""

from __future__ import annotations

import numpy as np

from striate._kernels import _C
from striate.kernels._validate import as_f32, check_out


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None, trans_a: bool = False,
         trans_b: bool = False, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    """``out = alpha * op(a) @ op(b) + beta * out`` in float32 on the packed SGEMM kernel.

    Args:
        a: 2-D array, ``(M, K)`` (or ``(K, M)`` when ``trans_a``).
        b: 2-D array, ``(K, N)`` (or ``(N, K)`` when ``trans_b``).
        out: optional C-contiguous float32 ``(M, N)`` array written in place; its contents
            are read only when ``beta != 0``.
        trans_a, trans_b: use the transpose of ``a`` / ``b``.
        alpha, beta: scalars.

    Returns:
        ``out`` (a new array when not given).

    Raises:
        TypeError: non-array or non-floating input, or ``out`` not float32.
        ValueError: wrong ndim, inner dimensions that differ, ``out`` of the wrong shape.

    Example:
        >>> import numpy as np, striate
        >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
        >>> striate.kernels.gemm(a, a, trans_b=True)
        array([[ 5., 14.],
               [14., 50.]], dtype=float32)
    """
    a = as_f32("a", a, "gemm", ndim=2)
    b = as_f32("b", b, "gemm", ndim=2)
    m, ka = (a.shape[1], a.shape[0]) if trans_a else a.shape
    kb, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
    if ka != kb:
        raise ValueError(
            f"gemm: inner dimensions differ: op(a) has shape ({m}, {ka}) "
            f"(a {a.shape}, trans_a={trans_a}), op(b) has shape ({kb}, {n}) "
            f"(b {b.shape}, trans_b={trans_b})")
    if out is None:
        return matmul_trusted(a, b, bool(trans_a), bool(trans_b), float(alpha))
    check_out("out", out, (m, n), "gemm")
    _C.sgemm(bool(trans_a), bool(trans_b), float(alpha), a, b, float(beta), out)
    return out


def matmul_trusted(a: np.ndarray, b: np.ndarray, trans_a: bool = False, trans_b: bool = False,
                   alpha: float = 1.0) -> np.ndarray:
    """``alpha * op(a) @ op(b)`` into a new array, WITHOUT argument checks.

    For callers that have validated already (the autograd's matmul and linear): ``a`` and
    ``b`` must be C-contiguous 2-D float32 arrays with matching inner dimensions.
    """
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    out = np.empty((m, n), dtype=np.float32)
    _C.sgemm(trans_a, trans_b, alpha, a, b, 0.0, out)
    return out
