"""``flatten`` and ``pad`` (PyTorch's pad order: last dimension first)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from striate.autograd import Function, get_array_module
from striate.tensor import Pad as _ConstPad
from striate.tensor import Tensor

__all__ = ["flatten", "pad", "unflatten"]

_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
          "circular": "wrap"}


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim .. end_dim`` into one (``torch.flatten``)."""
    return input.flatten(start_dim, end_dim)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    return input.unflatten(dim, sizes)


class _IndexPad(Function):
    """reflect / replicate / circular padding as a gather along each padded axis; the
    gradient scatter-adds back (np.add.at), so border elements used twice get both."""

    __slots__ = ("idx", "shape")

    def forward(self, x, idx=None):
        xp = get_array_module(x)
        self.idx, self.shape = idx, x.shape
        out = x
        for axis, ix in idx:
            out = xp.take(out, ix, axis=axis)
        return out

    def backward(self, g):
        xp = get_array_module(g)
        shapes = [self.shape]
        # shapes after each take, to scatter back in reverse order
        cur = list(self.shape)
        for axis, ix in self.idx:
            cur[axis] = len(ix)
            shapes.append(tuple(cur))
        for k in range(len(self.idx) - 1, -1, -1):
            axis, ix = self.idx[k]
            prev = xp.zeros(shapes[k], dtype=g.dtype)
            sel = (slice(None),) * axis + (ix,)
            xp.add.at(prev, sel, g)
            g = prev
        return (g,)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions, PyTorch order: ``(left, right)`` for the
    last dimension, then ``(top, bottom)`` for the one before, and so on.

    Args:
        input: any shape.
        pad: even-length sequence of ints; negative values crop (constant mode).
        mode: ``'constant'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        value: fill value for constant mode (default 0).

    Raises:
        ValueError: odd-length ``pad``, more pairs than dimensions, an unknown ``mode``, a
            reflect pad not smaller than the dimension.

    Example:
        >>> import striate, striate.functional as F
        >>> F.pad(striate.ones(1, 2, 2), (1, 1, 0, 2)).shape
        (1, 4, 4)
    """
    pad = tuple(int(v) for v in pad)
    x = input.data
    if len(pad) % 2:
        raise ValueError(f"pad: expected pad with an even number of entries, got {pad}")
    npairs = len(pad) // 2
    if npairs > x.ndim:
        raise ValueError(f"pad: pad {pad} has {npairs} pairs but input has only {x.ndim} "
                         f"dimensions (shape {x.shape})")
    if mode not in _MODES:
        raise ValueError(f"pad: expected mode in {tuple(_MODES)}, got {mode!r}")
    widths = [(0, 0)] * x.ndim
    for i in range(npairs):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return _ConstPad.apply(input, widths=widths, value=0.0 if value is None else value)
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"pad: negative padding is only supported in constant mode, got "
                         f"{pad}")
    idx = []
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            n = x.shape[axis]
            if mode == "reflect" and (lo >= n or hi >= n):
                raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than "
                                 f"dimension {axis} of size {n} (input shape {x.shape})")
            if mode == "circular" and (lo > n or hi > n):
                raise ValueError(f"pad: circular padding ({lo}, {hi}) must be at most the "
                                 f"size {n} of dimension {axis}")
            ix = np.pad(np.arange(n), (lo, hi), mode=_MODES[mode])
            idx.append((axis, get_array_module(x).asarray(ix)))
    if not idx:
        return input
    return _IndexPad.apply(input, idx=tuple(idx))
