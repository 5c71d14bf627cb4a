"""Normalisation: ``batch_norm``, ``layer_norm``, ``group_norm``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd import Function, get_array_module
from striate.functional._util import kfn
from striate.kernels._validate import relu_activation
from striate.tensor import Tensor

__all__ = ["batch_norm", "group_norm", "layer_norm", "normalize"]


def _arr(t: Any) -> Any:
    return None if t is None else (t.data if isinstance(t, Tensor) else t)


def _f32(*arrays: Any) -> bool:
    """True when every given array (``None`` skipped) is a float32 NumPy array: the compiled
    kernels then run (float64, e.g. under gradcheck, and CuPy keep the array formulas)."""
    return all(a is None or kfn(a, "gelu") is not None for a in arrays)


def _grads(needs: tuple) -> tuple:
    return (needs[0], len(needs) > 1 and needs[1], len(needs) > 2 and needs[2])


def _relu_mask(y: Any, activation: str) -> Any:
    """With ``activation="relu"``: ``y`` set to ``max(y, 0)`` in place (NaN stays NaN) and the
    mask ``y > 0`` of the gradient returned; else None."""
    if activation != "relu":
        return None
    mask = y > 0
    y[y < 0] = 0
    return mask


class BatchNormTrain(Function):
    """Batch statistics over every axis but 1; gradient through the statistics; optionally
    the ReLU after it (``act="relu"``) in the same passes.

    Works on the ``(N, C, M)`` view of the input; per-channel sums are einsum contractions
    (no temporaries) and the input gradient is built in one buffer."""

    __slots__ = ("act", "b", "invstd", "mask", "mean", "w", "x", "xhat")

    def forward(self, x, w=None, b=None, eps=1e-5, stats=None, act="none"):
        self.act, self.mask = act, None
        if _f32(x, w, b):
            # compiled kernel: statistics in double, the output (and ReLU) in one pass; the
            # backward recomputes xhat (and the ReLU's mask) from x, mean and invstd
            k = kfn(x, "batch_norm_train_forward")
            y, mean, invstd, var = k(x, w, b, eps, return_var=True, activation=act)
            stats.append((mean, var))
            self.x, self.mean, self.invstd, self.xhat = x, mean, invstd, None
            self.w, self.b = w, b
            return y
        xp = get_array_module(x)
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, -1)
        m = x3.shape[0] * x3.shape[2]
        inv_m = 1.0 / m
        mean = xp.einsum("ncm->c", x3) * inv_m
        xhat = x3 - mean[:, None]
        var = xp.einsum("ncm,ncm->c", xhat, xhat) * inv_m
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat *= invstd[:, None]
        stats.append((mean, var))
        self.xhat, self.invstd, self.w = xhat, invstd, w
        if w is None and b is None:
            y = xhat.copy() if self.needs_input_grad[0] or act != "none" else xhat
        else:
            y = xhat * w[:, None] if w is not None else xhat.copy()
            if b is not None:
                y += b[:, None]
        self.mask = _relu_mask(y, act)
        return y.reshape(x.shape)

    def backward(self, g):
        n = self.needs_input_grad
        if self.xhat is None:
            k = kfn(self.x, "batch_norm_backward")
            return k(g, self.x, self.w, self.mean, self.invstd, grads=_grads(n), bias=self.b,
                     activation=self.act)
        xp = get_array_module(g)
        xhat = self.xhat
        g3 = g.reshape(xhat.shape)
        if self.mask is not None:
            g3 = g3 * self.mask
        gsum = xp.einsum("ncm->c", g3)
        gxx = xp.einsum("ncm,ncm->c", g3, xhat)
        gw = gxx if len(n) > 1 and n[1] else None
        gb = gsum if len(n) > 2 and n[2] else None
        gx = None
        if n[0]:
            inv_m = 1.0 / (xhat.shape[0] * xhat.shape[2])
            scale = self.invstd if self.w is None else self.invstd * self.w
            # dx = w * invstd * (g - mean(g) - xhat * mean(g * xhat)), in one buffer
            gx = xhat * (-(gxx * inv_m))[:, None]
            gx += g3
            gx -= (gsum * inv_m)[:, None]
            gx *= scale[:, None]
            gx = gx.reshape(g.shape)
        return gx, gw, gb


class BatchNormEval(Function):
    """``y = x * scale + shift`` with per-channel constants from the running statistics
    (then the ReLU with ``act="relu"``)."""

    __slots__ = ("axes", "mask", "scale", "xhat")

    def forward(self, x, w=None, b=None, mean=None, var=None, eps=1e-5, act="none"):
        n = self.needs_input_grad
        self.scale = self.xhat = self.mask = None
        kernel = x.ndim >= 2 and _f32(x, w, b, mean, var)
        if kernel and not any(n):  # inference: the fused kernel only
            return kfn(x, "batch_norm_eval_forward")(x, mean, var, w, b, eps, activation=act)
        xp = get_array_module(x)
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        invstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = invstd if w is None else invstd * w
        self.axes = (0,) + tuple(range(2, x.ndim))
        self.scale = scale.reshape(bshape)
        self.xhat = ((x - mean.reshape(bshape)) * invstd.reshape(bshape)
                     if len(n) > 1 and n[1] else None)
        if kernel:
            y = kfn(x, "batch_norm_eval_forward")(x, mean, var, w, b, eps, activation=act)
            self.mask = y > 0 if act == "relu" else None
            return y
        shift = -mean * scale
        if b is not None:
            shift = shift + b
        y = x * self.scale + shift.astype(x.dtype, copy=False).reshape(bshape)
        self.mask = _relu_mask(y, act)
        return y

    def backward(self, g):
        n = self.needs_input_grad
        if self.mask is not None:
            g = g * self.mask
        gx = g * self.scale if n[0] else None
        gw = (g * self.xhat).sum(axis=self.axes) if len(n) > 1 and n[1] else None
        gb = g.sum(axis=self.axes) if len(n) > 2 and n[2] else None
        return gx, gw, gb


def batch_norm(input: Tensor, running_mean: Any, running_var: Any,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5, *,
               activation: str = "none") -> Tensor:
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
        activation: ``"none"`` or ``"relu"``: ``relu(batch_norm(...))`` computed in the
            normalisation's own passes, forward and backward (a striate extension; the
            pre-activation values are never stored).

    Raises:
        ValueError: input with fewer than 2 dims, parameters not ``(C,)``, one value per
            channel in training, missing running statistics in eval mode, an unknown
            activation.
    """
    x = input.data
    fn = "batch_norm"
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected input with at least 2 dimensions (N, C, *), got "
                         f"shape {x.shape}")
    relu_activation(activation, fn)
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
        y = BatchNormTrain.apply(*inputs, eps=eps, stats=stats, act=activation)
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
    return BatchNormEval.apply(*inputs, mean=rm, var=rv, eps=eps, act=activation)


class LayerNorm(Function):
    """Normalise over the trailing ``nd`` axes, working on the ``(rows, M)`` view; row sums
    are einsum contractions and the input gradient is built in one buffer."""

    __slots__ = ("invstd", "mean", "nshape", "w", "x2", "xhat")

    def forward(self, x, w=None, b=None, nd=1, eps=1e-5):
        m = math.prod(x.shape[x.ndim - nd:])
        self.nshape = x.shape[x.ndim - nd:]
        if m > 0 and _f32(x, w, b):
            # compiled kernel: one task per row; the backward recomputes xhat
            k = kfn(x, "layer_norm_forward")
            x2 = x.reshape(-1, m)
            self.w = None if w is None else w.reshape(-1)
            y, self.mean, self.invstd = k(x2, self.w, None if b is None else b.reshape(-1),
                                          eps)
            self.x2, self.xhat = x2, None
            return y.reshape(x.shape)
        xp = get_array_module(x)
        x2 = x.reshape(-1, m)
        inv_m = 1.0 / m
        mean = xp.einsum("rm->r", x2) * inv_m
        xhat = x2 - mean[:, None]
        var = xp.einsum("rm,rm->r", xhat, xhat) * inv_m
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat *= invstd[:, None]
        self.xhat, self.invstd = xhat, invstd
        self.nshape = x.shape[x.ndim - nd:]
        self.w = None if w is None else w.reshape(-1)
        if w is None and b is None:
            y = xhat.copy() if self.needs_input_grad[0] else xhat
        else:
            y = xhat * self.w if w is not None else xhat.copy()
            if b is not None:
                y += b.reshape(-1)
        return y.reshape(x.shape)

    def backward(self, g):
        n = self.needs_input_grad
        if self.xhat is None:
            k = kfn(self.x2, "layer_norm_backward")
            gx, gw, gb = k(g.reshape(self.x2.shape), self.x2, self.w, self.mean, self.invstd,
                           grads=_grads(n))
            return (None if gx is None else gx.reshape(g.shape),
                    None if gw is None else gw.reshape(self.nshape),
                    None if gb is None else gb.reshape(self.nshape))
        xp = get_array_module(g)
        xhat = self.xhat
        g2 = g.reshape(xhat.shape)
        gx = gw = gb = None
        if len(n) > 2 and n[2]:
            gb = g2.sum(axis=0).reshape(self.nshape)
        if len(n) > 1 and n[1]:
            gw = xp.einsum("rm,rm->m", g2, xhat).reshape(self.nshape)
        if n[0]:
            gxh = g2 if self.w is None else g2 * self.w
            inv_m = 1.0 / xhat.shape[1]
            c1 = xp.einsum("rm->r", gxh) * inv_m
            c2 = xp.einsum("rm,rm->r", gxh, xhat) * inv_m
            gx = xhat * (-c2)[:, None]
            gx += gxh
            gx -= c1[:, None]
            gx *= self.invstd[:, None]
            gx = gx.reshape(g.shape)
        return gx, gw, gb


def layer_norm(input: Tensor, normalized_shape: Sequence[int] | int,
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


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
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


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12
              ) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    norm = input.norm(p, dim, keepdim=True)
    return input / norm.clamp(min=eps)
