"""Multi-head attention with PyTorch's parameter layout (``in_proj_weight``, ``in_proj_bias``,
``out_proj``), so weights of ``torch.nn.MultiheadAttention`` load 1:1."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import striate.functional as F
from striate.nn import init
from striate.nn.linear import Linear
from striate.nn.module import Module
from striate.nn.parameter import Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    r"""``MultiHead(Q, K, V) = concat(head_1..head_h) W_O``, ``head_i = softmax(Q W_Qi
    (K W_Ki)^T / sqrt(d)) V W_Vi``, as ``torch.nn.MultiheadAttention``.

    The query/key/value projections are one packed ``in_proj_weight`` (3E, E) and
    ``in_proj_bias`` (3E); the output projection is the Linear ``out_proj``.  Softmax and the
    two batched matmuls run in one node (:func:`scaled_dot_product_attention`) unless the
    attention weights are asked for.

    Args:
        embed_dim: E.
        num_heads: h; E must be divisible by h.
        dropout: dropout on the attention probabilities (training only).
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        batch_first: inputs/outputs are (N, L, E) instead of (L, N, E).

    Shape:
        query (N, L, E), key/value (N, S, E) (batch_first) -> output (N, L, E) and, with
        ``need_weights``, the attention weights (N, L, S) (averaged over heads) or
        (N, h, L, S).

    Raises:
        ValueError: E not divisible by h, or inputs of the wrong shape.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be positive, "
                             f"got {embed_dim} and {num_heads}")
        if embed_dim % num_heads != 0:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                             f"by num_heads ({num_heads})")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = float(dropout)
        self.batch_first = batch_first
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), np.float32))
        init.xavier_uniform_(self.in_proj_weight)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, np.float32))
        else:
            self.in_proj_bias = None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)
        if bias:
            self.out_proj.bias.data[...] = 0

    def _split_heads(self, x: Any, n: int, length: int) -> Any:
        # (N, L, E) -> (N, h, L, d)
        return x.reshape(n, length, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True) -> tuple[Any, Any]:
        if len(query.shape) != 3 or len(key.shape) != 3 or len(value.shape) != 3:
            raise ValueError(f"MultiheadAttention: expected 3-d query, key, value, got shapes "
                             f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        if not self.batch_first:
            query, key, value = (t.permute(1, 0, 2) for t in (query, key, value))
        n, length, e = query.shape
        s = key.shape[1]
        if e != self.embed_dim or key.shape[2] != e or value.shape[2] != e \
                or key.shape[0] != n or value.shape[0] != n or value.shape[1] != s:
            raise ValueError(f"MultiheadAttention: expected query (N, L, {self.embed_dim}) and "
                             f"key/value (N, S, {self.embed_dim}), got "
                             f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        w, b = self.in_proj_weight, self.in_proj_bias
        E = self.embed_dim
        if query is key and key is value:
            qkv = F.linear(query.reshape(n * length, E), w, b)
            qkv = qkv.reshape(n, length, 3, self.num_heads, self.head_dim)
            qkv = qkv.permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
        else:
            bq = bk = bv = None
            if b is not None:
                bq, bk, bv = b[:E], b[E:2 * E], b[2 * E:]
            q = self._split_heads(F.linear(query.reshape(n * length, E), w[:E], bq), n, length)
            k = self._split_heads(F.linear(key.reshape(n * s, E), w[E:2 * E], bk), n, s)
            v = self._split_heads(F.linear(value.reshape(n * s, E), w[2 * E:], bv), n, s)
        mask = self._merge_masks(attn_mask, key_padding_mask, n, length, s)
        weights = None
        if need_weights:
            scores = (q @ k.permute(0, 1, 3, 2)) * (1.0 / math.sqrt(self.head_dim))
            if mask is not None:
                scores = scores + mask
            p = F.softmax(scores, dim=-1)
            weights = p
            if self.dropout > 0 and self.training:
                p = F.dropout(p, p=self.dropout, training=True)
            out = p @ v
        else:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        out = out.permute(0, 2, 1, 3).reshape(n * length, E)
        out = self.out_proj(out).reshape(n, length, E)
        if not self.batch_first:
            out = out.permute(1, 0, 2)
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)
        return out, weights

    def _merge_masks(self, attn_mask: Any, key_padding_mask: Any, n: int, length: int,
                     s: int) -> np.ndarray | None:
        """One additive (N or 1, h or 1, L, S) float mask from torch-style masks."""
        mask = None
        if attn_mask is not None:
            m = np.asarray(getattr(attn_mask, "data", attn_mask))
            m = np.where(m, -np.inf, 0.0) if m.dtype == np.bool_ else m.astype(np.float64)
            if m.shape == (length, s):
                m = m[None, None]
            elif m.shape == (n * self.num_heads, length, s):
                m = m.reshape(n, self.num_heads, length, s)
            else:
                raise ValueError(f"MultiheadAttention: attn_mask should have shape ({length}, "
                                 f"{s}) or ({n * self.num_heads}, {length}, {s}), got {m.shape}")
            mask = m
        if key_padding_mask is not None:
            kp = np.asarray(getattr(key_padding_mask, "data", key_padding_mask))
            if kp.shape != (n, s):
                raise ValueError(f"MultiheadAttention: key_padding_mask should have shape "
                                 f"({n}, {s}), got {kp.shape}")
            kp = np.where(kp, -np.inf, 0.0) if kp.dtype == np.bool_ else kp.astype(np.float64)
            kp = kp[:, None, None, :]
            mask = kp if mask is None else mask + kp
        return None if mask is None else mask.astype(np.float32)
