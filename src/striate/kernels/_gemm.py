"""SGEMM on the compiled core."""

from __future__ import annotations

import numpy as np

from striate._kernels import _C
from striate.kernels._validate import as_f32, check_out, flag, overlaps, real


def gemm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None, trans_a: bool = False,
         trans_b: bool = False, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    """``out = alpha * op(a) @ op(b) + beta * out`` in float32 on the packed SGEMM kernel.

    Args:
        a: 2-D array, ``(M, K)`` (or ``(K, M)`` when ``trans_a``).
        b: 2-D array, ``(K, N)`` (or ``(N, K)`` when ``trans_b``).
        out: optional C-contiguous float32 ``(M, N)`` array written in place; its contents
            are read only when ``beta != 0``.  It may share memory with ``a`` or ``b``
            (the product then goes through a temporary).
        trans_a, trans_b: use the transpose of ``a`` / ``b`` (bools).
        alpha, beta: real scalars within float32's range.  As in BLAS, ``alpha == 0``
            does not read ``a`` and ``b``, and ``beta == 0`` does not read ``out`` (NaN or
            infinity there does not propagate).

    Returns:
        ``out`` (a new array when not given).

    Raises:
        TypeError: non-array or non-floating input, ``out`` not float32, non-bool
            ``trans_a`` / ``trans_b``, non-real ``alpha`` / ``beta``.
        ValueError: wrong ndim, inner dimensions that differ, ``out`` of the wrong shape,
            ``alpha`` / ``beta`` not finite in float32.

    Example:
        >>> import numpy as np, striate
        >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
        >>> striate.kernels.gemm(a, a, trans_b=True)
        array([[ 5., 14.],
               [14., 50.]], dtype=float32)
    """
    fn = "gemm"
    trans_a, trans_b = flag("trans_a", trans_a, fn), flag("trans_b", trans_b, fn)
    alpha, beta = _scalar("alpha", alpha), _scalar("beta", beta)
    a = as_f32("a", a, fn, ndim=2)
    b = as_f32("b", b, fn, ndim=2)
    m, ka = (a.shape[1], a.shape[0]) if trans_a else a.shape
    kb, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
    if ka != kb:
        raise ValueError(
            f"gemm: inner dimensions differ: op(a) has shape ({m}, {ka}) "
            f"(a {a.shape}, trans_a={trans_a}), op(b) has shape ({kb}, {n}) "
            f"(b {b.shape}, trans_b={trans_b})")
    if out is None:
        return matmul_trusted(a, b, trans_a, trans_b, alpha)
    check_out("out", out, (m, n), fn)
    if overlaps(out, a, b, exact_ok=False):  # the kernel reads a and b while writing out
        tmp = out.copy() if beta != 0.0 else np.empty_like(out)
        _C.sgemm(trans_a, trans_b, alpha, a, b, beta, tmp)
        out[...] = tmp
        return out
    _C.sgemm(trans_a, trans_b, alpha, a, b, beta, out)
    return out


_F32_MAX = float(np.finfo(np.float32).max)


def _scalar(name: str, v) -> float:
    """alpha / beta: a real number that float32 holds (the kernel multiplies in float32)."""
    f = real(name, v, "gemm")
    if not abs(f) <= _F32_MAX:
        raise ValueError(f"gemm: expected {name} finite in float32 (|{name}| <= {_F32_MAX:.4g}), "
                         f"got {f}")
    return f


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
