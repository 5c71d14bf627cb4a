"""Reference 2-D pooling in plain NumPy (the test oracle): loops over window taps, PyTorch's
rules written out as in its documentation.  Computes in float64 and returns the input's
floating dtype (float64 stays float64, for finite differences)."""

from __future__ import annotations

import math

import numpy as np


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _hyper(kernel_size, stride, padding, dilation):
    k = _pair(kernel_size)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _pair(stride)
    p, d = _pair(padding), _pair(dilation)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"padding should be at most half of kernel_size, got padding={p}")
    return k, s, p, d


def _size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = (n + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(span) if ceil_mode else math.floor(span)) + 1
    if ceil_mode and (out - 1) * s >= n + p:  # last window must start inside input/left pad
        out -= 1
    return out


def pool2d_output_shape(input_shape, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    """``(Ho, Wo)`` from the formula of ``torch.nn.MaxPool2d``'s documentation."""
    k, s, p, d = _hyper(kernel_size, stride, padding, dilation)
    h, w = input_shape[-2:]
    ho, wo = _size(h, k[0], s[0], p[0], d[0], ceil_mode), _size(w, k[1], s[1], p[1], d[1],
                                                                 ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(f"output size is too small: ({ho}, {wo})")
    return ho, wo


def _dtype(x):
    return x.dtype if x.dtype.kind == "f" else np.float32


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max over each window, ignoring padding; ties keep the first tap, NaN wins."""
    x = np.asarray(x)
    k, s, p, d = _hyper(kernel_size, stride, padding, dilation)
    n, c, h, w = x.shape
    ho, wo = pool2d_output_shape(x.shape, k, s, p, d, ceil_mode)
    y = np.full((n, c, ho, wo), -np.inf)
    idx = np.full((n, c, ho, wo), -1, dtype=np.int64)
    x64 = x.astype(np.float64)
    for i in range(k[0]):
        ih = np.arange(ho) * s[0] - p[0] + i * d[0]
        vh = (ih >= 0) & (ih < h)
        ih = np.clip(ih, 0, h - 1)
        for j in range(k[1]):
            iw = np.arange(wo) * s[1] - p[1] + j * d[1]
            vw = (iw >= 0) & (iw < w)
            iw = np.clip(iw, 0, w - 1)
            v = x64[:, :, ih[:, None], iw[None, :]]
            valid = vh[:, None] & vw[None, :]
            take = valid & ((idx < 0) | (v > y) | np.isnan(v))
            y = np.where(take, v, y)
            idx = np.where(take, ih[:, None] * w + iw[None, :], idx)
    return y.astype(_dtype(x)), idx.astype(np.int32)


def max_pool2d_backward(grad_out, indices, input_shape):
    """Scatter-add of ``grad_out`` at ``indices`` in each input plane."""
    gy = np.asarray(grad_out)
    n, c, h, w = input_shape
    gx = np.zeros((n * c, h * w))
    planes = np.repeat(np.arange(n * c), gy.shape[2] * gy.shape[3])
    flat = np.asarray(indices).reshape(-1).astype(np.int64)
    ok = (flat >= 0) & (flat < h * w)
    np.add.at(gx, (planes[ok], flat[ok]), gy.reshape(-1).astype(np.float64)[ok])
    return gx.reshape(n, c, h, w).astype(_dtype(gy))


def _avg_windows(h, w, ho, wo, k, s, p, count_include_pad, divisor_override):
    """Per output: clipped bounds (h0, h1, w0, w1) and the divisor, as PyTorch's CPU kernel."""
    h0 = np.arange(ho) * s[0] - p[0]
    w0 = np.arange(wo) * s[1] - p[1]
    h1 = np.minimum(h0 + k[0], h + p[0])
    w1 = np.minimum(w0 + k[1], w + p[1])
    pool = (h1 - h0)[:, None] * (w1 - w0)[None, :]
    h0, w0 = np.maximum(h0, 0), np.maximum(w0, 0)
    h1, w1 = np.minimum(h1, h), np.minimum(w1, w)
    inside = np.maximum(h1 - h0, 0)[:, None] * np.maximum(w1 - w0, 0)[None, :]
    if divisor_override is not None:
        div = np.full((ho, wo), float(divisor_override))
    elif count_include_pad:
        div = pool.astype(np.float64)
    else:
        div = inside.astype(np.float64)
    return h0, h1, w0, w1, div, inside > 0


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Window sums over the input (padding adds zeros) divided as PyTorch does."""
    x = np.asarray(x)
    k, s, p, _ = _hyper(kernel_size, stride, padding, 1)
    n, c, h, w = x.shape
    ho, wo = pool2d_output_shape(x.shape, k, s, p, 1, ceil_mode)
    h0, h1, w0, w1, div, nonempty = _avg_windows(h, w, ho, wo, k, s, p, count_include_pad,
                                                 divisor_override)
    total = np.zeros((n, c, ho, wo))
    x64 = x.astype(np.float64)
    for i in range(k[0]):
        ih = np.arange(ho) * s[0] - p[0] + i
        vh = (ih >= h0) & (ih < h1)
        for j in range(k[1]):
            iw = np.arange(wo) * s[1] - p[1] + j
            vw = (iw >= w0) & (iw < w1)
            v = x64[:, :, np.clip(ih, 0, h - 1)[:, None], np.clip(iw, 0, w - 1)[None, :]]
            total += np.where(vh[:, None] & vw[None, :], v, 0.0)
    y = np.where(nonempty, total / div, 0.0)
    return y.astype(_dtype(x))


def avg_pool2d_backward(grad_out, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Each ``grad_out / divisor`` added to every input element of its window."""
    gy = np.asarray(grad_out)
    k, s, p, _ = _hyper(kernel_size, stride, padding, 1)
    n, c, h, w = input_shape
    ho, wo = pool2d_output_shape(input_shape, k, s, p, 1, ceil_mode)
    h0, h1, w0, w1, div, nonempty = _avg_windows(h, w, ho, wo, k, s, p, count_include_pad,
                                                 divisor_override)
    share = np.where(nonempty, gy.astype(np.float64) / div, 0.0)
    gx = np.zeros((n, c, h, w))
    for oh in range(ho):
        for ow in range(wo):
            gx[:, :, h0[oh]:h1[oh], w0[ow]:w1[ow]] += share[:, :, oh, ow][:, :, None, None]
    return gx.astype(_dtype(gy))


def global_avg_pool2d(x):
    """Mean over each H x W plane, keeping (N, C, 1, 1)."""
    x = np.asarray(x)
    return x.astype(np.float64).mean(axis=(2, 3), keepdims=True).astype(_dtype(x))


def global_avg_pool2d_backward(grad_out, input_shape):
    """``grad_out / (H*W)`` broadcast over each plane."""
    gy = np.asarray(grad_out)
    n, c, h, w = input_shape
    g = gy.astype(np.float64).reshape(n, c, 1, 1) / (h * w)
    return np.broadcast_to(g, (n, c, h, w)).astype(_dtype(gy))
