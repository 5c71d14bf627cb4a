"""``scaled_dot_product_attention`` (PyTorch 2 signature and semantics) as one autograd node:
the softmax is computed inside (striate's row kernels for float32 NumPy arrays), and only
the attention probabilities are saved."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from striate.autograd import Function
from striate.functional._linear import _keep_mask
from striate.functional._util import kfn
from striate.random import Generator

__all__ = ["scaled_dot_product_attention"]


def _bmm(a: np.ndarray, b: np.ndarray, ta: bool = False, tb: bool = False) -> np.ndarray:
    """``op(a) @ op(b)`` over the last two axes.  NumPy's batched matmul: for attention's
    small per-head products (e.g. 512 of 50 x 50 x 16) it beats striate's batched GEMM, whose
    packing and edge tiles cost more than such products (0.41 against 0.87 ms, Zen 4)."""
    return np.matmul(np.swapaxes(a, -1, -2) if ta else a, np.swapaxes(b, -1, -2) if tb else b)


def _softmax_rows(s: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (the compiled row kernel for float32 NumPy arrays)."""
    k = kfn(s, "softmax")
    if k is not None:
        return k(s.reshape(-1, s.shape[-1])).reshape(s.shape)
    s = s - s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return s


def _softmax_rows_backward(p: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``p * (g - sum(g * p))`` over the last axis: the gradient through the softmax."""
    k = kfn(p, "softmax_backward")
    if k is not None and kfn(g, "softmax_backward") is not None:
        return k(p.reshape(-1, p.shape[-1]), g.reshape(-1, g.shape[-1])).reshape(p.shape)
    return p * (g - (g * p).sum(axis=-1, keepdims=True))


class _SDPA(Function):
    __slots__ = ("drop", "k", "p", "q", "scale", "v")

    def forward(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None,
                scale: float, drop: np.ndarray | None) -> np.ndarray:
        s = _bmm(q, k, tb=True)
        s *= scale
        if mask is not None:
            s += mask
        p = _softmax_rows(s)
        self.q, self.k, self.v, self.p, self.drop, self.scale = q, k, v, p, drop, scale
        return _bmm(p if drop is None else p * drop, v)

    def backward(self, grad: np.ndarray) -> tuple:
        q, k, v, p, drop, scale = self.q, self.k, self.v, self.p, self.drop, self.scale
        pd = p if drop is None else p * drop
        gv = _bmm(pd, grad, ta=True) if self.needs_input_grad[2] else None
        gp = _bmm(grad, v, tb=True)
        if drop is not None:
            gp *= drop
        gs = _softmax_rows_backward(p, gp)
        gs *= scale
        gq = _bmm(gs, k) if self.needs_input_grad[0] else None
        gk = _bmm(gs, q, ta=True) if self.needs_input_grad[1] else None
        return gq, gk, gv


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(getattr(t, "shape", np.shape(t)))


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None,
                                 generator: Generator | None = None) -> Any:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims.

    As ``torch.nn.functional.scaled_dot_product_attention``: dropout is applied whenever
    ``dropout_p > 0`` (pass 0 in eval mode).

    Args:
        query: ``(..., L, E)``; key: ``(..., S, E)``; value: ``(..., S, Ev)``.
        attn_mask: boolean mask broadcastable to ``(..., L, S)`` where True means "may
            attend" (PyTorch's convention), or an additive float mask (``-inf`` blocks).
        dropout_p: dropout probability on the attention weights, in [0, 1).
        is_causal: each query attends only to keys at or before its position (``attn_mask``
            must then be None).
        scale: defaults to ``1 / sqrt(E)``.
        generator: a :class:`striate.Generator` for the dropout draw (default: global).

    Shape:
        ``(..., L, Ev)``.

    Raises:
        ValueError: shapes that do not fit, a mask that does not broadcast, ``dropout_p``
            outside [0, 1), both ``attn_mask`` and ``is_causal``.

    Example:
        >>> import striate, striate.functional as F
        >>> q = striate.ones(1, 2, 4)
        >>> F.scaled_dot_product_attention(q, q, q).shape
        (1, 2, 4)
    """
    fn = "scaled_dot_product_attention"
    qs, ks, vs = _shape(query), _shape(key), _shape(value)
    if len(qs) < 2 or len(ks) != len(qs) or len(vs) != len(qs):
        raise ValueError(f"{fn}: query, key, value must have the same number (>= 2) of dims, "
                         f"got shapes {qs}, {ks}, {vs}")
    if qs[-1] != ks[-1] or ks[-2] != vs[-2] or qs[:-2] != ks[:-2] or ks[:-2] != vs[:-2]:
        raise ValueError(f"{fn}: expected query (..., L, E), key (..., S, E), value "
                         f"(..., S, Ev), got {qs}, {ks}, {vs}")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{fn}: dropout_p must be in [0, 1), got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{fn}: expected attn_mask=None when is_causal=True")
    dtype = query.data.dtype
    L, S = qs[-2], ks[-2]
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    mask = None
    if attn_mask is not None:
        m = np.asarray(getattr(attn_mask, "data", attn_mask))
        if m.dtype == np.bool_:
            mask = np.where(m, 0.0, -np.inf).astype(dtype)
        else:
            mask = m.astype(dtype, copy=False)
        try:
            np.broadcast_shapes(mask.shape, qs[:-1] + (S,))
        except ValueError:
            raise ValueError(f"{fn}: attn_mask shape {mask.shape} does not broadcast to "
                             f"{qs[:-1] + (S,)}") from None
    drop = None
    if dropout_p > 0.0:
        drop = _keep_mask(qs[:-1] + (S,), dropout_p, np.dtype(dtype), generator, np)
    sc = 1.0 / math.sqrt(qs[-1]) if scale is None else float(scale)
    return _SDPA.apply(query, key, value, mask=mask, scale=sc, drop=drop)
