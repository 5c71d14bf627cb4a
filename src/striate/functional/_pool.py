"""Pooling: ``max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d``, ``adaptive_max_pool2d``
on striate's pooling kernels (float32) or their NumPy twins (other dtypes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd import Function, get_array_module
from striate.functional._util import ops, pair
from striate.tensor import Tensor, _make

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "max_pool2d",
    "max_pool2d_with_indices",
]


class MaxPool2d(Function):
    __slots__ = ("idx", "shape")

    def forward(self, x, kernel_size=None, stride=None, padding=0, dilation=1,
                ceil_mode=False, keep=None):
        y, idx = ops(x).max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)
        self.idx, self.shape = idx, x.shape
        if keep is not None:
            keep.append(idx)
        return y

    def backward(self, g):
        return (ops(g).max_pool2d_backward(g, self.idx, self.shape),)


class AvgPool2d(Function):
    __slots__ = ("args", "shape")

    def forward(self, x, kernel_size=None, stride=None, padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None):
        self.shape = x.shape
        self.args = (kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)
        return ops(x).avg_pool2d(x, *self.args)

    def backward(self, g):
        return (ops(g).avg_pool2d_backward(g, self.shape, *self.args),)


class GlobalAvgPool2d(Function):
    __slots__ = ("shape",)

    def forward(self, x):
        self.shape = x.shape
        return ops(x).global_avg_pool2d(x)

    def backward(self, g):
        return (ops(g).global_avg_pool2d_backward(g, self.shape),)


class AdaptiveAvgPool2d(Function):
    """General adaptive average pooling as two small matrix products per plane:
    ``y = P_h @ x @ P_w^T`` with averaging matrices (windows may overlap or differ in size)."""

    __slots__ = ("ph", "pw")

    def forward(self, x, ph=None, pw=None):
        self.ph, self.pw = ph, pw
        return ph @ x @ pw.T

    def backward(self, g):
        return (self.ph.T @ g @ self.pw,)


def _adaptive_matrix(n: int, m: int, dtype: Any, xp: Any) -> Any:
    """``(m, n)`` averaging matrix: row i averages ``[floor(i n / m), ceil((i + 1) n / m))``."""
    i = np.arange(m)
    start = (i * n) // m
    end = -((-(i + 1) * n) // m)
    j = np.arange(n)
    mask = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    mat = mask / (end - start)[:, None]
    return xp.asarray(mat.astype(dtype))


def _check_input(input: Tensor, fn: str) -> tuple:
    x = input.data
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected input with 4 dimensions (N, C, H, W) or 3 (C, H, W), "
                         f"got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: expected input with a floating dtype, got {x.dtype}")
    unbatched = x.ndim == 3
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    eff = d * (k - 1) + 1
    num = n + 2 * p - eff
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def _pool_args(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
               ceil_mode: bool, fn: str) -> tuple:
    k = pair(kernel_size, "kernel_size", fn, 1)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        pair(stride, "stride", fn, 1)
    p = pair(padding, "padding", fn, 0)
    d = pair(dilation, "dilation", fn, 1)
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    if p[0] > eff[0] // 2 or p[1] > eff[1] // 2:
        raise ValueError(f"{fn}: expected padding at most half the (dilated) kernel size, got "
                         f"padding={p}, kernel_size={k}, dilation={d}")
    h, w = input.data.shape[-2:]
    ho = _out_size(h, k[0], s[0], p[0], d[0], ceil_mode)
    wo = _out_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(f"{fn}: output size ({ho}, {wo}) is too small for input shape "
                         f"{input.data.shape} (kernel_size={k}, stride={s}, padding={p}, "
                         f"dilation={d})")
    return k, s, p, d


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """2-D max pooling over ``(N, C, H, W)`` (or ``(C, H, W)``).

    Args:
        kernel_size: int or pair.
        stride: int or pair (default ``kernel_size``).
        padding: implicit ``-inf`` padding, at most half the kernel.
        dilation: spacing of the window's elements.
        ceil_mode: round the output size up.
        return_indices: also return the flat index (``h * W + w``, int64) of each maximum
            within its plane, as PyTorch does (for ``max_unpool2d``).

    Shape:
        ``H_out = floor_or_ceil((H + 2p - d (k - 1) - 1) / s) + 1``.

    Raises:
        ValueError: wrong rank, padding above half the kernel, an empty output.
    """
    fn = "max_pool2d"
    x, unbatched = _check_input(input, fn)
    k, s, p, d = _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, fn)
    keep: list = []
    y = MaxPool2d.apply(x, kernel_size=k, stride=s, padding=p, dilation=d,
                        ceil_mode=bool(ceil_mode), keep=keep)
    if unbatched:
        y = y.squeeze(0)
    if return_indices:
        idx = keep[0].astype(np.int64)
        return y, _make(idx[0] if unbatched else idx, None)
    return y


def max_pool2d_with_indices(*args: Any, **kwargs: Any) -> tuple:
    kwargs["return_indices"] = True
    return max_pool2d(*args, **kwargs)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """2-D average pooling over ``(N, C, H, W)`` (or ``(C, H, W)``).

    Args:
        kernel_size, stride (default ``kernel_size``), padding (zero, at most half the
            kernel), ceil_mode: as in :func:`max_pool2d`.
        count_include_pad: count padded zeros in the divisor.
        divisor_override: fixed divisor when given (non-zero).

    Raises:
        ValueError: wrong rank, padding above half the kernel, zero divisor_override.
    """
    fn = "avg_pool2d"
    x, unbatched = _check_input(input, fn)
    k, s, p, _ = _pool_args(x, kernel_size, stride, padding, 1, ceil_mode, fn)
    if divisor_override is not None and int(divisor_override) == 0:
        raise ValueError(f"{fn}: expected divisor_override != 0, got {divisor_override}")
    y = AvgPool2d.apply(x, kernel_size=k, stride=s, padding=p, ceil_mode=bool(ceil_mode),
                        count_include_pad=bool(count_include_pad),
                        divisor_override=divisor_override)
    return y.squeeze(0) if unbatched else y


def _adaptive_size(output_size: Any, h: int, w: int, fn: str) -> tuple:
    if isinstance(output_size, (int, np.integer)):
        oh = ow = int(output_size)
    else:
        t = tuple(output_size)
        if len(t) != 2:
            raise ValueError(f"{fn}: expected output_size to be an int or a pair, got "
                             f"{output_size!r}")
        oh = h if t[0] is None else int(t[0])
        ow = w if t[1] is None else int(t[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"{fn}: expected output_size >= 1, got {output_size!r}")
    return oh, ow


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed ``output_size`` (int or pair; ``None`` keeps that size).

    Output 1 runs the global-average-pool kernel; sizes dividing the input run the
    average-pool kernel with ``kernel = stride = H // out``; other sizes use PyTorch's
    windows ``[floor(i H / out), ceil((i + 1) H / out))``.

    Raises:
        ValueError: wrong rank or an output size < 1.
    """
    fn = "adaptive_avg_pool2d"
    x, unbatched = _check_input(input, fn)
    h, w = x.data.shape[2:]
    oh, ow = _adaptive_size(output_size, h, w, fn)
    if (oh, ow) == (1, 1):
        y = GlobalAvgPool2d.apply(x)
    elif (oh, ow) == (h, w):
        y = x
    elif h % oh == 0 and w % ow == 0:
        k = (h // oh, w // ow)
        y = AvgPool2d.apply(x, kernel_size=k, stride=k, padding=(0, 0), ceil_mode=False,
                            count_include_pad=True, divisor_override=None)
    else:
        xp = get_array_module(x.data)
        dt = x.data.dtype
        y = AdaptiveAvgPool2d.apply(x, ph=_adaptive_matrix(h, oh, dt, xp),
                                    pw=_adaptive_matrix(w, ow, dt, xp))
    return y.squeeze(0) if unbatched else y


class AdaptiveMaxPool2d(Function):
    __slots__ = ("flat", "rows", "shape")

    def forward(self, x, oh=1, ow=1, keep=None):
        xp = get_array_module(x)
        n, c, h, w = x.shape
        # gather every window (padded to the largest window with -inf) and reduce
        hs = [((i * h) // oh, -((-(i + 1) * h) // oh)) for i in range(oh)]
        ws = [((j * w) // ow, -((-(j + 1) * w) // ow)) for j in range(ow)]
        kh = max(e - s for s, e in hs)
        kw = max(e - s for s, e in ws)
        ri = np.array([[min(s + t, e - 1) for t in range(kh)] for s, e in hs])  # (oh, kh)
        ci = np.array([[min(s + t, e - 1) for t in range(kw)] for s, e in ws])  # (ow, kw)
        flat = (ri[:, None, :, None] * w + ci[None, :, None, :]).reshape(oh, ow, kh * kw)
        flat = xp.asarray(flat)
        planes = x.reshape(n, c, h * w)
        win = planes[:, :, flat]  # (n, c, oh, ow, kh*kw)
        arg = win.argmax(axis=-1)
        self.flat = xp.take_along_axis(xp.broadcast_to(flat, win.shape), arg[..., None],
                                       axis=-1)[..., 0]
        self.shape = x.shape
        if keep is not None:
            keep.append(self.flat)
        return xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]

    def backward(self, g):
        xp = get_array_module(g)
        n, c, h, w = self.shape
        gx = xp.zeros((n * c, h * w), dtype=g.dtype)
        rows = xp.arange(n * c)[:, None]
        xp.add.at(gx, (rows, self.flat.reshape(n * c, -1)), g.reshape(n * c, -1))
        return (gx.reshape(self.shape),)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Any:
    """Max pooling to a fixed ``output_size`` with PyTorch's adaptive windows."""
    fn = "adaptive_max_pool2d"
    x, unbatched = _check_input(input, fn)
    h, w = x.data.shape[2:]
    oh, ow = _adaptive_size(output_size, h, w, fn)
    if h % oh == 0 and w % ow == 0:
        k = (h // oh, w // ow)
        res = max_pool2d(x, k, k, return_indices=return_indices)
    else:
        keep: list = []
        y = AdaptiveMaxPool2d.apply(x, oh=oh, ow=ow, keep=keep)
        res = (y, _make(keep[0].astype(np.int64), None)) if return_indices else y
    if unbatched:
        if return_indices:
            return res[0].squeeze(0), res[1][0]
        return res.squeeze(0)
    return res
