"""Reference elementwise / row-wise ops in plain NumPy (the test oracle).  Computes in float64
and returns the input's floating dtype."""

from __future__ import annotations

import numpy as np

from striate.random import dropout_keep, philox4x32_10  # noqa: F401  (the stream, re-exported)


def _dtype(x):
    return x.dtype if x.dtype.kind == "f" else np.float32


def bias_act(x, bias=None, activation="none", out=None):
    """``activation(x + bias[c])`` with the bias on axis 1."""
    x = np.asarray(x)
    v = x.astype(np.float64)
    if bias is not None:
        v = v + np.asarray(bias, dtype=np.float64).reshape((1, -1) + (1,) * (x.ndim - 2))
    if activation == "relu":
        v = np.where(v < 0, 0.0, v)  # NaN stays NaN
    elif activation != "none":
        raise ValueError(f"unknown activation {activation!r}")
    if out is not None:
        out[...] = v
        return out
    return v.astype(_dtype(x))


def relu_backward(grad_out, out):
    """``grad_out`` where ``out`` is not <= 0 (PyTorch's threshold_backward)."""
    gy = np.asarray(grad_out)
    return np.where(np.asarray(out) <= 0, 0.0, gy.astype(np.float64)).astype(_dtype(gy))


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, lr, beta1, beta2,
              eps, step, weight_decay=0.0, decoupled=False, maximize=False):
    """Adam / AdamW (``decoupled``) / AMSGrad (``max_exp_avg_sq``) step in place, computed in
    float64 from the textbook formulas (torch.optim.Adam's)."""
    w = param.astype(np.float64)
    g = -grad.astype(np.float64) if maximize else grad.astype(np.float64)
    if decoupled:
        w = w * (1.0 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * param.astype(np.float64)
    m = beta1 * exp_avg.astype(np.float64) + (1.0 - beta1) * g
    v = beta2 * exp_avg_sq.astype(np.float64) + (1.0 - beta2) * g * g
    exp_avg[...] = m
    exp_avg_sq[...] = v
    if max_exp_avg_sq is not None:
        v = np.maximum(max_exp_avg_sq.astype(np.float64), v)
        max_exp_avg_sq[...] = v
    denom = np.sqrt(v) / np.sqrt(1.0 - beta2 ** step) + eps
    param[...] = w - lr / (1.0 - beta1 ** step) * m / denom


def dropout(x, p, seed, out=None):
    """``x * keep / (1 - p)`` (``x * 0`` where dropped) and the keep mask as uint8."""
    x = np.asarray(x)
    keep = dropout_keep(x.shape, p, seed)
    scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
    y = x.astype(np.float64) * np.where(keep, scale, 0.0)
    if out is not None:
        out[...] = y
        return out, keep.astype(np.uint8)
    return y.astype(_dtype(x)), keep.astype(np.uint8)


def dropout_backward(grad_out, keep, p):
    """``grad_out * (keep ? 1 / (1 - p) : 0)``."""
    gy = np.asarray(grad_out)
    scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
    return (gy.astype(np.float64) * np.where(np.asarray(keep) != 0, scale, 0.0)).astype(
        _dtype(gy))


def _lse(x64):
    m = x64.max(axis=1, keepdims=True)
    return m + np.log(np.exp(x64 - m).sum(axis=1, keepdims=True))


def softmax(x):
    x = np.asarray(x)
    x64 = x.astype(np.float64)
    return np.exp(x64 - _lse(x64)).astype(_dtype(x))


def log_softmax(x):
    x = np.asarray(x)
    x64 = x.astype(np.float64)
    return (x64 - _lse(x64)).astype(_dtype(x))


def softmax_backward(y, grad_out):
    """``y * (g - sum(g * y))`` per row."""
    y64 = np.asarray(y, dtype=np.float64)
    g = np.asarray(grad_out, dtype=np.float64)
    return (y64 * (g - (g * y64).sum(axis=1, keepdims=True))).astype(_dtype(np.asarray(y)))


def log_softmax_backward(y, grad_out):
    """``g - exp(y) * sum(g)`` per row."""
    y64 = np.asarray(y, dtype=np.float64)
    g = np.asarray(grad_out, dtype=np.float64)
    return (g - np.exp(y64) * g.sum(axis=1, keepdims=True)).astype(_dtype(np.asarray(y)))


def softmax_cross_entropy(logits, target):
    """``(logsumexp(row) - row[target], softmax(row))``."""
    x = np.asarray(logits)
    x64 = x.astype(np.float64)
    t = np.asarray(target).astype(np.int64)
    lse = _lse(x64)[:, 0]
    loss = lse - x64[np.arange(x.shape[0]), t]
    prob = np.exp(x64 - lse[:, None])
    return loss.astype(_dtype(x)), prob.astype(_dtype(x))


def softmax_cross_entropy_backward(prob, target, grad_loss):
    """``(prob - onehot(target)) * grad_loss[:, None]``."""
    p = np.asarray(prob)
    g = p.astype(np.float64).copy()
    g[np.arange(p.shape[0]), np.asarray(target).astype(np.int64)] -= 1.0
    return (g * np.asarray(grad_loss, dtype=np.float64)[:, None]).astype(_dtype(p))
