"""``scaled_dot_product_attention`` (PyTorch 2 signature), composed of differentiable ops."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from striate.functional._activation import softmax
from striate.functional._linear import dropout
from striate.tensor import Tensor, _make

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 generator: Any = None) -> Tensor:
    """``softmax(Q K^T * scale + mask) V`` over the last two axes.

    Args:
        query: ``(..., L, E)``; key: ``(..., S, E)``; value: ``(..., S, Ev)``.
        attn_mask: boolean ``(L, S)``-broadcastable (True = attend) or an additive float mask.
        dropout_p: dropout on the attention weights (from the global generator unless
            ``generator`` is given).
        is_causal: mask out keys after each query (``attn_mask`` must then be None).
        scale: defaults to ``1 / sqrt(E)``.

    Shape:
        ``(..., L, Ev)``.

    Raises:
        ValueError: embedding sizes that differ, both ``attn_mask`` and ``is_causal``.
    """
    fn = "scaled_dot_product_attention"
    q, k, v = query.data, key.data, value.data
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{fn}: expected query and key with the same embedding size, got "
                         f"query shape {q.shape} and key shape {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{fn}: expected key and value with the same sequence length, got "
                         f"key shape {k.shape} and value shape {v.shape}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{fn}: expected attn_mask=None when is_causal=True")
    s = (1.0 / math.sqrt(q.shape[-1])) if scale is None else float(scale)
    scores = (query @ key.transpose(-2, -1)) * s
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    if attn_mask is not None:
        m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if m.dtype == np.bool_:
            neg = np.where(m, 0.0, -np.inf).astype(q.dtype)
            scores = scores + _make(neg, None)
        else:
            scores = scores + (attn_mask if isinstance(attn_mask, Tensor)
                               else _make(m.astype(q.dtype), None))
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True, generator=generator)
    return weights @ value
