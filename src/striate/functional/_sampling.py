"""Resampling and lookup ops: ``interpolate`` (nearest / bilinear, as separable linear maps),
``one_hot``, ``embedding``, ``cosine_similarity``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from striate.autograd import Function, get_array_module
from striate.tensor import Tensor, _make

__all__ = ["cosine_similarity", "embedding", "interpolate", "one_hot", "upsample"]


class _Separable2d(Function):
    """``y = A_h @ x @ A_w^T`` over the last two axes (any linear per-axis resampling)."""

    __slots__ = ("ah", "aw")

    def forward(self, x, ah=None, aw=None):
        self.ah, self.aw = ah, aw
        return ah @ x @ aw.T

    def backward(self, g):
        return (self.ah.T @ g @ self.aw,)


def _axis_matrix(n_in: int, n_out: int, mode: str, align_corners: bool | None,
                 scale: float | None) -> np.ndarray:
    """``(n_out, n_in)`` matrix of PyTorch's nearest / linear sampling along one axis."""
    dst = np.arange(n_out, dtype=np.float64)
    ratio = (1.0 / scale) if scale is not None else n_in / n_out
    m = np.zeros((n_out, n_in))
    if mode == "nearest":
        src = np.minimum(np.floor(dst * ratio).astype(np.int64), n_in - 1)
        m[np.arange(n_out), src] = 1.0
        return m
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    rows = np.arange(n_out)
    np.add.at(m, (rows, i0), 1.0 - lam)
    np.add.at(m, (rows, i1), lam)
    return m


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None) -> Tensor:
    """Resize the spatial axes of ``(N, C, H, W)`` input (``(N, C, L)`` too), like
    ``torch.nn.functional.interpolate`` for modes ``'nearest'``, ``'bilinear'`` and
    ``'linear'``.

    Args:
        size: output spatial size (int or tuple), or
        scale_factor: multiplier(s) of the input size (floor of the product).
        mode: ``'nearest'``, ``'bilinear'`` (4-D) or ``'linear'`` (3-D).
        align_corners: for the linear modes, map corner pixels' centres onto each other.

    Raises:
        ValueError: both or neither of size/scale_factor, an unknown mode, a rank that does
            not suit the mode, align_corners with nearest.
    """
    fn = "interpolate"
    x = input.data
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected input with 3 (N, C, L) or 4 (N, C, H, W) dimensions, "
                         f"got shape {x.shape}")
    if mode not in ("nearest", "bilinear", "linear"):
        raise ValueError(f"{fn}: expected mode 'nearest', 'linear' or 'bilinear', got {mode!r}")
    if mode == "bilinear" and x.ndim != 4 or mode == "linear" and x.ndim != 3:
        raise ValueError(f"{fn}: mode {mode!r} expects input with "
                         f"{4 if mode == 'bilinear' else 3} dimensions, got shape {x.shape}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{fn}: align_corners can only be set with the linear modes, got "
                         f"mode='nearest'")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{fn}: expected exactly one of size and scale_factor, got "
                         f"size={size!r}, scale_factor={scale_factor!r}")
    spatial = x.shape[2:]
    nd = len(spatial)
    if size is not None:
        out = (int(size),) * nd if isinstance(size, (int, np.integer)) else tuple(
            int(s) for s in size)
        scales: tuple = (None,) * nd
    else:
        sf = (float(scale_factor),) * nd if isinstance(scale_factor, (int, float)) else tuple(
            float(s) for s in scale_factor)
        out = tuple(int(math.floor(n * s)) for n, s in zip(spatial, sf))
        scales = (None,) * nd if recompute_scale_factor else sf
    if len(out) != nd or min(out) < 1:
        raise ValueError(f"{fn}: expected an output size of {nd} positive ints, got {out}")
    xp = get_array_module(x)
    dt = x.dtype
    mats = [xp.asarray(_axis_matrix(n, o, mode, bool(align_corners), s).astype(dt))
            for n, o, s in zip(spatial, out, scales)]
    if nd == 1:
        return _Separable2d.apply(input.unsqueeze(2), ah=xp.ones((1, 1), dtype=dt),
                                  aw=mats[0]).squeeze(2)
    return _Separable2d.apply(input, ah=mats[0], aw=mats[1])


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """Alias of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """``(*,)`` class indices -> ``(*, num_classes)`` int64 one-hot (``num_classes=-1``: max
    index + 1).

    Raises:
        ValueError: negative indices or indices >= num_classes.
    """
    t = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype "
                        f"{t.dtype}")
    n = int(t.max()) + 1 if num_classes < 0 else int(num_classes)
    if t.size and (int(t.min()) < 0 or int(t.max()) >= n):
        raise ValueError(f"one_hot: expected class indices in [0, {n}), got values in "
                         f"[{int(t.min())}, {int(t.max())}]")
    xp = get_array_module(t)
    return _make(xp.eye(n, dtype=np.int64)[t], None)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of ``weight`` ``(num_embeddings, dim)`` at integer ``input`` ``(*,)`` -> ``(*, dim)``;
    rows at ``padding_idx`` get no gradient.

    Raises:
        ValueError: indices out of range.
    """
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    n = weight.data.shape[0]
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        raise ValueError(f"embedding: expected indices in [0, {n}) for weight of shape "
                         f"{weight.data.shape}, got values in [{int(idx.min())}, "
                         f"{int(idx.max())}]")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return _Embedding.apply(weight, idx=idx, padding_idx=padding_idx)


class _Embedding(Function):
    __slots__ = ("idx", "n", "pad")

    def forward(self, w, idx=None, padding_idx=None):
        self.idx, self.n, self.pad = idx, w.shape[0], padding_idx
        return w[idx]

    def backward(self, g):
        xp = get_array_module(g)
        gw = xp.zeros((self.n,) + g.shape[self.idx.ndim:], dtype=g.dtype)
        xp.add.at(gw, self.idx, g)
        if self.pad is not None:
            gw[self.pad] = 0  # the padding row is never updated (PyTorch)
        return (gw,)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / max(||x1|| ||x2||, eps)`` along ``dim`` (broadcasting)."""
    dot = (x1 * x2).sum(dim)
    n = ((x1 * x1).sum(dim) * (x2 * x2).sum(dim)).clamp(min=eps * eps).sqrt()
    return dot / n
