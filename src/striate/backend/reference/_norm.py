"""Reference normalisation and smooth activations in plain NumPy (the test oracle).  Computes
in float64 and returns the input's floating dtype; same signatures as
``striate.kernels._norm``."""

from __future__ import annotations

import math

import numpy as np


def _dtype(x):
    return x.dtype if x.dtype.kind == "f" else np.float32


def _f64(v):
    return None if v is None else np.asarray(v, dtype=np.float64)


def _view(x):
    """``x`` as float64 ``(N, C, S)`` and the per-channel broadcast shape."""
    x = np.asarray(x)
    return x.astype(np.float64).reshape(x.shape[0], x.shape[1], -1)


def _act(y, activation):
    """``max(y, 0)`` for ``activation="relu"`` (NaN stays NaN), else ``y``."""
    return np.where(y < 0, 0.0, y) if activation == "relu" else y


def batch_norm_train_forward(x, weight=None, bias=None, eps=1e-5, return_var=False,
                             activation="none"):
    """Batch statistics over every axis but 1 (biased variance), then the affine (and the
    activation)."""
    x = np.asarray(x)
    x3 = _view(x)
    mean = x3.mean(axis=(0, 2))
    var = ((x3 - mean[:, None]) ** 2).mean(axis=(0, 2))
    invstd = 1.0 / np.sqrt(var + eps)
    y = (x3 - mean[:, None]) * invstd[:, None]
    if weight is not None:
        y = y * _f64(weight)[:, None]
    if bias is not None:
        y = y + _f64(bias)[:, None]
    y = _act(y, activation)
    dt = _dtype(x)
    out = (y.reshape(x.shape).astype(dt), mean.astype(dt), invstd.astype(dt))
    return out + (var.astype(dt),) if return_var else out


def batch_norm_eval_forward(x, mean, var, weight=None, bias=None, eps=1e-5,
                            activation="none"):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` per channel (then the activation)."""
    x = np.asarray(x)
    x3 = _view(x)
    y = (x3 - _f64(mean)[:, None]) / np.sqrt(_f64(var)[:, None] + eps)
    if weight is not None:
        y = y * _f64(weight)[:, None]
    if bias is not None:
        y = y + _f64(bias)[:, None]
    return _act(y, activation).reshape(x.shape).astype(_dtype(x))


def batch_norm_backward(grad_out, x, weight, mean, invstd, grads=(True, True, True),
                        bias=None, activation="none"):
    """``dweight = sum(g xhat)``, ``dbias = sum(g)``,
    ``dx = invstd w (g - mean(g) - xhat mean(g xhat))`` per channel, with ``g`` the gradient
    through the ReLU (``activation="relu"``: zero where ``xhat w + bias <= 0``)."""
    x = np.asarray(x)
    x3, g3 = _view(x), _view(grad_out)
    m, s = _f64(mean)[:, None], _f64(invstd)[:, None]
    w = np.ones(x3.shape[1]) if weight is None else _f64(weight)
    xhat = (x3 - m) * s
    if activation == "relu":
        b = np.zeros(x3.shape[1]) if bias is None else _f64(bias)
        g3 = np.where(xhat * w[:, None] + b[:, None] > 0, g3, 0.0)
    db = g3.sum(axis=(0, 2))
    dw = (g3 * xhat).sum(axis=(0, 2))
    cnt = x3.shape[0] * x3.shape[2]
    dx = s * w[:, None] * (g3 - (db / cnt)[:, None] - xhat * (dw / cnt)[:, None])
    dt = _dtype(x)
    return (dx.reshape(x.shape).astype(dt) if grads[0] else None,
            dw.astype(dt) if grads[1] else None, db.astype(dt) if grads[2] else None)


def layer_norm_forward(x, weight=None, bias=None, eps=1e-5):
    """Per row of a 2-D array: ``(x - mean) / sqrt(var + eps) * weight + bias``."""
    x = np.asarray(x)
    x2 = x.astype(np.float64)
    mean = x2.mean(axis=1)
    var = ((x2 - mean[:, None]) ** 2).mean(axis=1)
    invstd = 1.0 / np.sqrt(var + eps)
    y = (x2 - mean[:, None]) * invstd[:, None]
    if weight is not None:
        y = y * _f64(weight)
    if bias is not None:
        y = y + _f64(bias)
    dt = _dtype(x)
    return y.astype(dt), mean.astype(dt), invstd.astype(dt)


def layer_norm_backward(grad_out, x, weight, mean, invstd, grads=(True, True, True)):
    """``dx = invstd (g - mean(g) - xhat mean(g xhat))`` with ``g = grad_out * weight`` per
    row; ``dweight``, ``dbias`` summed over rows."""
    x = np.asarray(x)
    x2, gy = x.astype(np.float64), _f64(grad_out)
    s = _f64(invstd)[:, None]
    xhat = (x2 - _f64(mean)[:, None]) * s
    g = gy if weight is None else gy * _f64(weight)
    dx = s * (g - g.mean(axis=1, keepdims=True) - xhat * (g * xhat).mean(axis=1, keepdims=True))
    dt = _dtype(x)
    return (dx.astype(dt) if grads[0] else None,
            (gy * xhat).sum(axis=0).astype(dt) if grads[1] else None,
            gy.sum(axis=0).astype(dt) if grads[2] else None)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_K = math.sqrt(2.0 / math.pi)
_C = 0.044715


def _phi_cdf(x64):
    """Standard normal CDF through erfc (relative accuracy in the lower tail)."""
    return 0.5 * _erfc(-x64 / math.sqrt(2.0))


def _sigmoid64(v):
    """``1 / (1 + exp(-v))`` without cancellation or overflow in either tail."""
    e = np.exp(-np.abs(v))
    return np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def gelu(x, approximate="none", out=None):
    """``x * Phi(x)`` or the tanh form ``0.5 x (1 + tanh(u))``, ``u = k (x + 0.044715 x^3)``,
    evaluated as ``x * sigmoid(2u)`` (the same function, without cancellation)."""
    x = np.asarray(x)
    v = x.astype(np.float64)
    if approximate == "tanh":
        y = v * _sigmoid64(2.0 * _K * (v + _C * v ** 3))
    elif approximate == "none":
        y = v * _phi_cdf(v)
    else:
        raise ValueError(f"gelu: unknown approximate {approximate!r}")
    if out is not None:
        out[...] = y
        return out
    return y.astype(_dtype(x))


def gelu_backward(x, grad_out, approximate="none"):
    """``grad_out * gelu'(x)``: ``Phi + x phi`` or the tanh form's derivative."""
    x = np.asarray(x)
    v, g = x.astype(np.float64), _f64(grad_out)
    if approximate == "tanh":
        # 0.5 (1 + tanh u) = s, 0.5 (1 - tanh^2 u) = 2 s (1 - s), s = sigmoid(2u)
        u = _K * (v + _C * v ** 3)
        s, sm = _sigmoid64(2.0 * u), _sigmoid64(-2.0 * u)
        d = s + 2.0 * v * s * sm * _K * (1.0 + 3.0 * _C * v * v)
    else:
        d = _phi_cdf(v) + v * np.exp(-0.5 * v * v) / math.sqrt(2.0 * math.pi)
    return (g * d).astype(_dtype(x))


def silu(x, out=None):
    """``x * sigmoid(x)``."""
    x = np.asarray(x)
    v = x.astype(np.float64)
    y = v * _sigmoid64(v)
    if out is not None:
        out[...] = y
        return out
    return y.astype(_dtype(x))


def silu_backward(x, grad_out):
    """``grad_out * s (1 + x (1 - s))``."""
    x = np.asarray(x)
    v = x.astype(np.float64)
    s = _sigmoid64(v)
    return (_f64(grad_out) * s * (1.0 + v * _sigmoid64(-v))).astype(_dtype(x))


def sigmoid(x, out=None):
    """``1 / (1 + exp(-x))``."""
    x = np.asarray(x)
    y = _sigmoid64(x.astype(np.float64))
    if out is not None:
        out[...] = y
        return out
    return y.astype(_dtype(x))
