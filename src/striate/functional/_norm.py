"""Normalisation: ``batch_norm``, ``layer_norm``, ``group_norm``."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from striate.autograd import Function, get_array_module
from striate.tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "normalize"]


def _arr(t: Any) -> Any:
    return None if t is None else (t.data if isinstance(t, Tensor) else t)


class BatchNormTrain(Function):
    """Batch statistics over every axis but 1; gradient through the statistics."""

    __slots__ = ("xhat", "invstd", "w", "axes")

    def forward(self, x, w=None, b=None, eps=1e-5, stats=None):
        xp = get_array_module(x)
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        mean = x.mean(axis=axes, keepdims=True)
        d = x - mean
        var = (d * d).mean(axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat = d
        xhat *= invstd
        stats.append((mean.reshape(-1), var.reshape(-1)))
        self.xhat, self.invstd, self.axes = xhat, invstd, axes
        self.w = None if w is None else w.reshape(bshape)
        y = xhat if w is None else xhat * self.w
        if b is not None:
            y = y + b.reshape(bshape)
        elif w is None:
            y = xhat.copy() if self.needs_input_grad[0] else xhat
        return y

    def backward(self, g):
        n = self.needs_input_grad
        axes, xhat = self.axes, self.xhat
        gw = gb = gx = None
        if len(n) > 2 and n[2]:
            gb = g.sum(axis=axes)
        gxhat_xhat = (g * xhat).sum(axis=axes, keepdims=True)
        if len(n) > 1 and n[1]:
            gw = gxhat_xhat.reshape(-1)
        if n[0]:
            m = xhat.size // xhat.shape[1]
            gsum = g.sum(axis=axes, keepdims=True)
            w = self.w
            scale = self.invstd if w is None else self.invstd * w
            # dx = w * invstd * (g - mean(g) - xhat * mean(g * xhat))
            gx = (g - gsum * (1.0 / m) - xhat * (gxhat_xhat * (1.0 / m))) * scale
        return gx, gw, gb


class BatchNormEval(Function):
    """``y = x * scale + shift`` with per-channel constants from the running statistics."""

    __slots__ = ("scale", "xhat", "axes")

    def forward(self, x, w=None, b=None, mean=None, var=None, eps=1e-5):
        xp = get_array_module(x)
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        invstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = invstd if w is None else invstd * w
        shift = -mean * scale
        if b is not None:
            shift = shift + b
        self.axes = (0,) + tuple(range(2, x.ndim))
        n = self.needs_input_grad
        self.scale = scale.reshape(bshape)
        self.xhat = ((x - mean.reshape(bshape)) * invstd.reshape(bshape)
                     if len(n) > 1 and n[1] else None)
        return x * self.scale + shift.astype(x.dtype, copy=False).reshape(bshape)

    def backward(self, g):
        n = self.needs_input_grad
        gx = g * self.scale if n[0] else None
        gw = (g * self.xhat).sum(axis=self.axes) if len(n) > 1 and n[1] else None
        gb = g.sum(axis=self.axes) if len(n) > 2 and n[2] else None
        return gx, gw, gb


def batch_norm(input: Tensor, running_mean: Any, running_var: Any,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over axis 1 of ``(N, C, *)`` input.

    In training mode the batch mean and biased variance normalise the input, and the running
    statistics (tensors or arrays, updated in place when given) become
    ``(1 - momentum) * running + momentum * batch`` with the *unbiased* batch variance, as in
    PyTorch.  In eval mode the running statistics are used.

    Args:
        input: ``(N, C)`` or ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` or ``None`` (required when not training).
        weight, bias: optional ``(C,)`` affine parameters.
        training: use batch statistics and update the running ones.
        momentum: running-average factor.
        eps: added to the variance.

    Raises:
        ValueError: input with fewer than 2 dims, parameters not ``(C,)``, one value per
            channel in training, missing running statistics in eval mode.
    """
    x = input.data
    fn = "batch_norm"
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected input with at least 2 dimensions (N, C, *), got "
                         f"shape {x.shape}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(_arr(t).shape) != (c,):
            raise ValueError(f"{fn}: expected {name} with shape ({c},) for input of shape "
                             f"{x.shape}, got {tuple(_arr(t).shape)}")
    if training:
        m = x.size // max(c, 1)
        if m <= 1:
            raise ValueError(f"{fn}: expected more than 1 value per channel when training, "
                             f"got input shape {x.shape}")
        stats: list = []
        inputs = [input] + ([weight, bias] if bias is not None else
                            [weight] if weight is not None else [])
        if weight is None and bias is not None:
            inputs = [input, None, bias]
        y = BatchNormTrain.apply(*inputs, eps=eps, stats=stats)
        mean, var = stats[0]
        mom = float(momentum)
        if running_mean is not None:
            rm = _arr(running_mean)
            rm *= (1.0 - mom)
            rm += (mom * mean).astype(rm.dtype, copy=False)
        if running_var is not None:
            rv = _arr(running_var)
            rv *= (1.0 - mom)
            rv += (mom * m / (m - 1) * var).astype(rv.dtype, copy=False)
        return y
    if running_mean is None or running_var is None:
        raise ValueError(f"{fn}: expected running_mean and running_var in evaluation mode "
                         f"(training=False), got None")
    rm, rv = _arr(running_mean), _arr(running_var)
    inputs = [input, weight, bias]
    while inputs and inputs[-1] is None:
        inputs.pop()
    return BatchNormEval.apply(*inputs, mean=rm, var=rv, eps=eps)


class LayerNorm(Function):
    __slots__ = ("xhat", "invstd", "w", "axes", "nlead")

    def forward(self, x, w=None, b=None, nd=1, eps=1e-5):
        xp = get_array_module(x)
        axes = tuple(range(x.ndim - nd, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        d = x - mean
        var = (d * d).mean(axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat = d
        xhat *= invstd
        self.xhat, self.invstd, self.axes, self.w = xhat, invstd, axes, w
        self.nlead = x.ndim - nd
        y = xhat if w is None else xhat * w
        if b is not None:
            y = y + b
        elif w is None:
            y = xhat.copy() if self.needs_input_grad[0] else xhat
        return y

    def backward(self, g):
        n = self.needs_input_grad
        xhat, axes = self.xhat, self.axes
        lead = tuple(range(self.nlead))
        gx = gw = gb = None
        if len(n) > 2 and n[2]:
            gb = g.sum(axis=lead) if lead else g
        if len(n) > 1 and n[1]:
            gw = (g * xhat).sum(axis=lead) if lead else g * xhat
        if n[0]:
            gxh = g if self.w is None else g * self.w
            m = math.prod(xhat.shape[a] for a in axes)
            gx = (gxh - gxh.mean(axis=axes, keepdims=True)
                  - xhat * (gxh * xhat).sum(axis=axes, keepdims=True) * (1.0 / m)) * self.invstd
        return gx, gw, gb


def layer_norm(input: Tensor, normalized_shape: Sequence[int] | int,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions (biased variance), then
    apply the elementwise affine ``weight``/``bias`` of that shape.

    Raises:
        ValueError: trailing dimensions that do not match ``normalized_shape``, or weight/bias
            of another shape.
    """
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    ns = tuple(int(v) for v in normalized_shape)
    x = input.data
    if x.shape[x.ndim - len(ns):] != ns or len(ns) > x.ndim:
        raise ValueError(f"layer_norm: expected input whose trailing dimensions are "
                         f"normalized_shape {ns}, got input shape {x.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.data.shape) != ns:
            raise ValueError(f"layer_norm: expected {name} with shape {ns}, got "
                             f"{tuple(t.data.shape)}")
    inputs = [input, weight, bias]
    while inputs and inputs[-1] is None:
        inputs.pop()
    return LayerNorm.apply(*inputs, nd=len(ns), eps=eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise ``(N, C, *)`` over groups of ``C // num_groups`` channels and the spatial
    axes, then a per-channel affine.

    Raises:
        ValueError: ``C`` not divisible by ``num_groups``.
    """
    x = input.data
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected input with at least 2 dimensions, got shape "
                         f"{x.shape}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: expected num_channels ({c}) divisible by num_groups, "
                         f"got num_groups={num_groups}")
    rest = x.shape[2:]
    g = input.reshape(n, num_groups, -1)
    y = LayerNorm.apply(g, nd=1, eps=eps).reshape(x.shape)
    bshape = (1, c) + (1,) * len(rest)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12  # noqa: A002
              ) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    norm = input.norm(p, dim, keepdim=True)
    return input / norm.clamp(min=eps)
