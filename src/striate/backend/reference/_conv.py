"""Reference 2-D convolution (NCHW) in plain NumPy: sliding windows + einsum in float64.

Same signatures as ``striate.kernels``; results are float64 when an input is float64 (so the
finite-difference tests can use them), float32 otherwise.  Padding is an int, ``(ph, pw)`` or
``(top, bottom, left, right)``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    t = tuple(int(e) for e in v)
    return t[0], t[1]


def _pad4(v) -> tuple[int, int, int, int]:
    if isinstance(v, (int, np.integer)):
        return (int(v),) * 4
    t = tuple(int(e) for e in v)
    if len(t) == 2:
        return t[0], t[0], t[1], t[1]
    return t[0], t[1], t[2], t[3]


def _dtype(*arrays) -> type:
    return np.float64 if any(np.asarray(a).dtype == np.float64 for a in arrays) else np.float32


def _windows(x, kh, kw, stride, pads, dilation, P=None, Q=None):
    """(N, C, P, Q, kh, kw) view of the zero-padded x (float64)."""
    (sh, sw), (dh, dw) = stride, dilation
    pt, pb, pl, pr = pads
    n, c, h, w = x.shape
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if P is None:
        P = (h + pt + pb - eh) // sh + 1
        Q = (w + pl + pr - ew) // sw + 1
    hp = max(h + pt + pb, (P - 1) * sh + eh)
    wp = max(w + pl + pr, (Q - 1) * sw + ew)
    xp = np.zeros((n, c, hp, wp))
    xp[:, :, pt:pt + h, pl:pl + w] = x
    v = sliding_window_view(xp, (eh, ew), axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    return v[:, :, :P, :Q]


def _fwd(x, weight, stride, pads, dilation, groups, P=None, Q=None):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    k, cg, kh, kw = w.shape
    v = _windows(x, kh, kw, stride, pads, dilation, P, Q)
    n, _, p, q = v.shape[:4]
    v = v.reshape(n, groups, cg, p, q, kh, kw)
    wg = w.reshape(groups, k // groups, cg, kh, kw)
    return np.einsum("ngcpqrs,gkcrs->ngkpq", v, wg).reshape(n, k, p, q)


def _bwd_data(dy, weight, input_shape, stride, pads, dilation, groups):
    dy = np.asarray(dy, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    (sh, sw), (dh, dw) = stride, dilation
    pt, pb, pl, pr = pads
    n, c, h, wd = input_shape
    k, cg, kh, kw = w.shape
    _, _, P, Q = dy.shape
    dcol = np.einsum("ngkpq,gkcrs->ngcrspq", dy.reshape(n, groups, k // groups, P, Q),
                     w.reshape(groups, k // groups, cg, kh, kw)).reshape(n, c, kh, kw, P, Q)
    hp = max(h + pt + pb, (P - 1) * sh + (kh - 1) * dh + 1)
    wp = max(wd + pl + pr, (Q - 1) * sw + (kw - 1) * dw + 1)
    dxp = np.zeros((n, c, hp, wp))
    for r in range(kh):
        for s in range(kw):
            dxp[:, :, r * dh:r * dh + (P - 1) * sh + 1:sh,
                s * dw:s * dw + (Q - 1) * sw + 1:sw] += dcol[:, :, r, s]
    return dxp[:, :, pt:pt + h, pl:pl + wd]


def _bwd_weight(dy, x, weight_shape, stride, pads, dilation, groups):
    dy = np.asarray(dy, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    k, cg, kh, kw = weight_shape
    n, _, P, Q = dy.shape
    v = _windows(x, kh, kw, stride, pads, dilation, P, Q)
    v = v.reshape(n, groups, cg, P, Q, kh, kw)
    dw = np.einsum("ngkpq,ngcpqrs->gkcrs", dy.reshape(n, groups, k // groups, P, Q), v)
    return dw.reshape(k, cg, kh, kw)


def conv2d_output_shape(input_shape, weight_shape, stride, padding, dilation, groups=None):
    """(N, Cout, Hout, Wout) with Hout = (H + top + bottom - dil*(kh-1) - 1) // stride + 1."""
    n, _, h, w = input_shape
    k, _, kh, kw = weight_shape
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    pt, pb, pl, pr = _pad4(padding)
    return (n, k, (h + pt + pb - dh * (kh - 1) - 1) // sh + 1,
            (w + pl + pr - dw * (kw - 1) - 1) // sw + 1)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, k, p, q] = sum_{c, r, s} x_pad[n, g*Cg + c, p*sh + r*dh, q*sw + s*dw] * w[k, c, r, s]
    (+ bias[k]), g = k // (Cout / groups)."""
    y = _fwd(x, weight, _pair(stride), _pad4(padding), _pair(dilation), groups)
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return y.astype(_dtype(x, weight))


def conv2d_backward_data(grad_out, weight, input_shape, stride=1, padding=0, dilation=1,
                         groups=1):
    """Gradient of ``sum(conv2d(x, weight) * grad_out)`` with respect to x."""
    dx = _bwd_data(grad_out, weight, tuple(input_shape), _pair(stride), _pad4(padding),
                   _pair(dilation), groups)
    return dx.astype(_dtype(grad_out, weight))


def conv2d_backward_weight(grad_out, x, weight_shape, stride=1, padding=0, dilation=1,
                           groups=1):
    """Gradient of ``sum(conv2d(x, weight) * grad_out)`` with respect to weight."""
    dw = _bwd_weight(grad_out, x, tuple(weight_shape), _pair(stride), _pad4(padding),
                     _pair(dilation), groups)
    return dw.astype(_dtype(grad_out, x))


def conv2d_backward_bias(grad_out):
    """Sum of grad_out over batch and space: (Cout,)."""
    return np.asarray(grad_out, dtype=np.float64).sum(axis=(0, 2, 3)).astype(_dtype(grad_out))


def _transposed_out(x_shape, weight_shape, stride, pads, output_padding, dilation, groups):
    n, _, h, w = x_shape
    _, cog, kh, kw = weight_shape
    (sh, sw), (dh, dw), (oh, ow) = stride, dilation, output_padding
    pt, pb, pl, pr = pads
    return (n, cog * groups, (h - 1) * sh - pt - pb + dh * (kh - 1) + oh + 1,
            (w - 1) * sw - pl - pr + dw * (kw - 1) + ow + 1)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1,
                     groups=1):
    """Transposed convolution; weight (Cin, Cout/groups, kh, kw); the adjoint of conv2d."""
    stride, pads, dil = _pair(stride), _pad4(padding), _pair(dilation)
    out_shape = _transposed_out(np.shape(x), np.shape(weight), stride, pads,
                                _pair(output_padding), dil, groups)
    y = _bwd_data(x, weight, out_shape, stride, pads, dil, groups)
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return y.astype(_dtype(x, weight))


def conv_transpose2d_backward_weight(grad_out, x, weight_shape, stride=1, padding=0,
                                     output_padding=0, dilation=1, groups=1):
    """Gradient of ``sum(conv_transpose2d(x, weight) * grad_out)`` with respect to weight."""
    dw = _bwd_weight(x, grad_out, tuple(weight_shape), _pair(stride), _pad4(padding),
                     _pair(dilation), groups)
    return dw.astype(_dtype(grad_out, x))
