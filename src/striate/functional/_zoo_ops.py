"""Differentiable ops the model zoo needs beyond the core set.

Each op is an autograd :class:`~striate.autograd.Function` (forward over arrays, backward
returning one gradient per input) behind a validating function:

* :func:`dense_concat` -- DenseNet's concatenation into a preallocated channel buffer (O(L)
  copying per block instead of O(L^2); the backward slices the gradient, no copies).
* :func:`pad_shortcut` -- the parameter-free "option A" ResNet shortcut.
* :func:`stochastic_depth` -- per-sample (``"row"``) or per-batch residual dropping.
* :func:`channel_pool` -- mean and max over channels (CBAM's spatial attention input).
* :func:`global_max_pool2d` -- max over H x W (CBAM's channel attention).
* :func:`prepend_class_token` -- the ViT class token in front of a token sequence.

All are checked by finite differences in tests/models/test_zoo_ops.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd import Function, get_array_module
from striate.functional._linear import _keep_mask
from striate.random import Generator

__all__ = [
    "channel_pool", "dense_concat", "global_max_pool2d", "pad_shortcut", "prepend_class_token",
    "stochastic_depth",
]


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(t.shape)


# --------------------------------------------------------------------------- dense_concat
class _DenseConcat(Function):
    __slots__ = ("c",)

    def forward(self, prev: np.ndarray, new: np.ndarray, buffer: np.ndarray) -> np.ndarray:
        c = prev.shape[1]
        k = new.shape[1]
        ai = prev.__array_interface__
        bi = buffer.__array_interface__
        in_place = ai["data"][0] == bi["data"][0] and prev.strides == buffer.strides
        if not in_place:  # first step of a block: the block input goes in once
            buffer[:, :c] = prev
        buffer[:, c:c + k] = new
        self.c = c
        return buffer[:, :c + k]

    def backward(self, grad: np.ndarray) -> tuple:
        c = self.c
        return (grad[:, :c] if self.needs_input_grad[0] else None,
                grad[:, c:] if self.needs_input_grad[1] else None)


def dense_concat(prev: Any, new: Any, buffer: np.ndarray) -> Any:
    """Concatenate ``new`` after ``prev`` along channels inside a preallocated ``buffer``.

    ``prev`` is either the result of an earlier ``dense_concat`` on the same buffer (then it
    already sits in ``buffer[:, :c]`` and only ``new`` is copied) or any tensor (the first step
    of a block: it is copied into ``buffer[:, :c]`` too).  The result is a view of
    ``buffer[:, :c + k]``; a DenseNet block therefore copies each feature map once.

    Args:
        prev: (N, c, H, W) tensor.
        new: (N, k, H, W) tensor.
        buffer: (N, C_total, H, W) array with C_total >= c + k, of the inputs' dtype.

    Returns:
        (N, c + k, H, W) tensor viewing the buffer.  Backward: ``grad[:, :c]`` to ``prev``,
        ``grad[:, c:]`` to ``new`` (views).

    Raises:
        ValueError: mismatched batch/spatial sizes, dtypes, or a buffer too small.
    """
    ps, ns, bs = _shape(prev), _shape(new), tuple(buffer.shape)
    if len(ps) != 4 or len(ns) != 4 or len(bs) != 4:
        raise ValueError(f"dense_concat: expected 4-d prev, new and buffer, got shapes {ps}, "
                         f"{ns}, {bs}")
    if ps[0] != ns[0] or ps[2:] != ns[2:] or bs[0] != ps[0] or bs[2:] != ps[2:]:
        raise ValueError(f"dense_concat: prev {ps}, new {ns} and buffer {bs} must agree in "
                         "batch and spatial size")
    if ps[1] + ns[1] > bs[1]:
        raise ValueError(f"dense_concat: buffer has {bs[1]} channels, needs at least "
                         f"{ps[1]} + {ns[1]} = {ps[1] + ns[1]}")
    if prev.data.dtype != buffer.dtype or new.data.dtype != buffer.dtype:
        raise ValueError(f"dense_concat: dtypes differ: prev {prev.data.dtype}, new "
                         f"{new.data.dtype}, buffer {buffer.dtype}")
    return _DenseConcat.apply(prev, new, buffer=buffer)


# --------------------------------------------------------------------------- pad_shortcut
class _PadShortcut(Function):
    __slots__ = ("c", "in_shape", "lo", "stride")

    def forward(self, x: np.ndarray, planes: int, stride: int) -> np.ndarray:
        n, c = x.shape[:2]
        sub = x[:, :, ::stride, ::stride]
        lo = (planes - c) // 2
        out = get_array_module(x).zeros((n, planes) + sub.shape[2:], dtype=x.dtype)
        out[:, lo:lo + c] = sub
        self.lo, self.c, self.stride, self.in_shape = lo, c, stride, x.shape
        return out

    def backward(self, grad: np.ndarray) -> tuple:
        gx = get_array_module(grad).zeros(self.in_shape, dtype=grad.dtype)
        s = self.stride
        gx[:, :, ::s, ::s] = grad[:, self.lo:self.lo + self.c]
        return (gx,)


def pad_shortcut(x: Any, planes: int, stride: int) -> Any:
    """ResNet option-A shortcut: ``x[:, :, ::stride, ::stride]`` zero-padded to ``planes``
    channels (``(planes - C) // 2`` zero channels before, the rest after).

    Shape:
        (N, C, H, W) -> (N, planes, ceil(H / stride), ceil(W / stride))

    Raises:
        ValueError: ``planes < C``, a non-positive stride or a non-4-d input.
    """
    s = _shape(x)
    if len(s) != 4:
        raise ValueError(f"pad_shortcut: expected (N, C, H, W) input, got shape {s}")
    if planes < s[1]:
        raise ValueError(f"pad_shortcut: planes ({planes}) must be >= input channels ({s[1]})")
    if stride < 1:
        raise ValueError(f"pad_shortcut: stride must be >= 1, got {stride}")
    return _PadShortcut.apply(x, planes=int(planes), stride=int(stride))


# --------------------------------------------------------------------------- stochastic depth
class _ScaleByMask(Function):
    __slots__ = ("mask",)

    def forward(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.mask = mask
        return x * mask

    def backward(self, grad: np.ndarray) -> tuple:
        return (grad * self.mask,)


def stochastic_depth(input: Any, p: float, mode: str, training: bool = True,
                     generator: Generator | None = None) -> Any:
    """Drop whole residual branches (Huang et al. 2016), as ``torchvision.ops.stochastic_depth``.

    In training, each sample (``mode="row"``) or the whole batch (``mode="batch"``) is zeroed
    with probability ``p`` and the survivors are scaled by ``1 / (1 - p)``; in eval, or with
    ``p == 0``, the input is returned unchanged.

    Args:
        input: (N, ...) tensor, usually a residual branch.
        p: drop probability in [0, 1].
        mode: ``"row"`` or ``"batch"``.
        training: apply only when True.
        generator: a :class:`striate.Generator` for the draw (default: the global one).

    Raises:
        ValueError: ``p`` outside [0, 1] or an unknown mode.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"stochastic_depth: drop probability has to be between 0 and 1, "
                         f"but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"stochastic_depth: mode has to be either 'batch' or 'row', "
                         f"but got {mode!r}")
    if not training or p == 0.0:
        return input
    shape = (input.shape[0],) + (1,) * (len(input.shape) - 1) if mode == "row" \
        else (1,) * len(input.shape)
    mask = _keep_mask(shape, p, np.dtype(input.data.dtype), generator,
                      get_array_module(input.data))
    return _ScaleByMask.apply(input, mask=mask)


# --------------------------------------------------------------------------- CBAM pools
class _ChannelPool(Function):
    __slots__ = ("idx", "in_shape")

    def forward(self, x: np.ndarray) -> np.ndarray:
        idx = np.argmax(x, axis=1)[:, None]
        mx = np.take_along_axis(x, idx, axis=1)
        self.idx, self.in_shape = idx, x.shape
        return np.concatenate([x.mean(axis=1, keepdims=True), mx], axis=1)

    def backward(self, grad: np.ndarray) -> tuple:
        c = self.in_shape[1]
        gx = np.empty(self.in_shape, dtype=grad.dtype)
        gx[...] = grad[:, :1] / c
        cur = np.take_along_axis(gx, self.idx, axis=1)
        np.put_along_axis(gx, self.idx, cur + grad[:, 1:2], axis=1)
        return (gx,)


def channel_pool(x: Any) -> Any:
    """Mean and max over channels, stacked: (N, C, H, W) -> (N, 2, H, W) = [mean_c, max_c].

    The max's gradient goes to the first maximal channel (as ``torch.max(dim=1)``)."""
    s = _shape(x)
    if len(s) != 4:
        raise ValueError(f"channel_pool: expected (N, C, H, W) input, got shape {s}")
    return _ChannelPool.apply(x)


class _GlobalMaxPool(Function):
    __slots__ = ("idx", "in_shape")

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        flat = x.reshape(n, c, h * w)
        idx = np.argmax(flat, axis=2)[..., None]
        self.idx, self.in_shape = idx, x.shape
        return np.take_along_axis(flat, idx, axis=2).reshape(n, c, 1, 1)

    def backward(self, grad: np.ndarray) -> tuple:
        n, c, h, w = self.in_shape
        gx = np.zeros((n, c, h * w), dtype=grad.dtype)
        np.put_along_axis(gx, self.idx, grad.reshape(n, c, 1), axis=2)
        return (gx.reshape(self.in_shape),)


def global_max_pool2d(x: Any) -> Any:
    """Max over H x W: (N, C, H, W) -> (N, C, 1, 1); gradient to the first maximum."""
    s = _shape(x)
    if len(s) != 4:
        raise ValueError(f"global_max_pool2d: expected (N, C, H, W) input, got shape {s}")
    return _GlobalMaxPool.apply(x)


# --------------------------------------------------------------------------- class token
class _PrependToken(Function):
    __slots__ = ()

    def forward(self, x: np.ndarray, token: np.ndarray) -> np.ndarray:
        n, length, e = x.shape
        out = np.empty((n, length + 1, e), dtype=x.dtype)
        out[:, :1] = token
        out[:, 1:] = x
        return out

    def backward(self, grad: np.ndarray) -> tuple:
        gx = grad[:, 1:] if self.needs_input_grad[0] else None
        gt = grad[:, :1].sum(axis=0, keepdims=True) if self.needs_input_grad[1] else None
        return gx, gt


def prepend_class_token(x: Any, token: Any) -> Any:
    """``cat([token.expand(N, 1, E), x], dim=1)``: (N, L, E), (1, 1, E) -> (N, L + 1, E)."""
    xs, ts = _shape(x), _shape(token)
    if len(xs) != 3 or ts != (1, 1, xs[2]):
        raise ValueError(f"prepend_class_token: expected x (N, L, E) and token (1, 1, E), got "
                         f"shapes {xs} and {ts}")
    return _PrependToken.apply(x, token)


# --------------------------------------------------------------------------- attention
