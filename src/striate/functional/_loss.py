"""Losses: cross_entropy, nll_loss, mse_loss, l1_loss, smooth_l1_loss, binary cross-entropy
(with and without logits), kl_div."""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd import Function, get_array_module
from striate.functional._util import as_tensor, kfn, reduction_check
from striate.tensor import Tensor, _unbroadcast

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]


def _rows_grad_scale(g, reduction, denom, dtype, none_shape):
    """The upstream gradient of a reduced loss, per sample: ``g`` reshaped to ``none_shape``
    for ``'none'``, ``g`` for ``'sum'``, ``g / denom`` (in ``dtype``) for ``'mean'``."""
    if reduction == "none":
        return g.reshape(none_shape)
    if reduction == "sum":
        return g
    return g / dtype.type(denom)


def _reduce(loss, reduction, denom=None):
    if reduction == "none":
        return loss
    s = loss.sum()
    if reduction == "sum":
        return s
    d = loss.size if denom is None else denom
    if not d:  # nothing to average (e.g. every target ignored): NaN, as PyTorch
        return s * s.dtype.type(np.nan)
    return s / s.dtype.type(d)


def _grad_scale(g, reduction, shape, denom, dtype):
    """The per-element gradient factor of a reduced loss (broadcastable to ``shape``)."""
    if reduction == "none":
        return g
    if reduction == "sum":
        return g
    n = int(np.prod(shape)) if denom is None else denom
    return g / dtype.type(n) if n else g * dtype.type(np.nan)


def _to_rows(x):
    """``(N, C, d1, ...)`` -> ``(N * d1 * ..., C)`` rows (a view when C is last already)."""
    xp = get_array_module(x)
    if x.ndim <= 2:
        return x.reshape(-1, x.shape[-1])
    moved = xp.moveaxis(x, 1, -1)
    return moved.reshape(-1, x.shape[1])


def _from_rows(r, shape):
    xp = get_array_module(r)
    if len(shape) <= 2:
        return r.reshape(shape)
    moved_shape = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.moveaxis(r.reshape(moved_shape), -1, 1)


def _log_softmax_rows(x2):
    xp = get_array_module(x2)
    m = x2.max(axis=1, keepdims=True)
    z = x2 - m
    lse = xp.log(xp.exp(z).sum(axis=1, keepdims=True))
    return z - lse


class CrossEntropyIndex(Function):
    """Softmax cross-entropy with class-index targets (weights, smoothing, ignore_index)."""

    __slots__ = ("denom", "fast", "outshape", "p", "q", "reduction", "shape", "t")

    def forward(self, x, t=None, weight=None, ignore_index=-100, smoothing=0.0,
                reduction="mean", ignored=True):
        xp = get_array_module(x)
        shape = x.shape
        x2 = _to_rows(x)
        t1 = t.reshape(-1)
        n, c = x2.shape
        self.shape, self.reduction = shape, reduction
        self.outshape = t.shape
        if weight is None and smoothing == 0.0 and not ignored:
            f = kfn(x2, "softmax_cross_entropy")
            if f is not None:
                loss, prob = f(x2, t1)
            else:
                logp = _log_softmax_rows(x2)
                loss = -logp[xp.arange(n), t1]
                prob = xp.exp(logp)
            self.fast, self.p, self.t, self.q = True, prob, t1, None
            self.denom = n
            return _reduce(loss.reshape(t.shape), reduction, n)
        logp = _log_softmax_rows(x2)
        valid = t1 != ignore_index
        tt = xp.where(valid, t1, 0)
        rows = xp.arange(n)
        q = xp.zeros((n, c), dtype=x.dtype)
        if weight is not None:
            wt = weight[tt] * valid
            q[rows, tt] = (1.0 - smoothing) * wt
            if smoothing:
                q += (smoothing / c) * (weight[None, :] * valid[:, None])
            denom = wt.sum()
        else:
            q[rows, tt] = (1.0 - smoothing) * valid
            if smoothing:
                q += (smoothing / c) * valid[:, None].astype(x.dtype)
            denom = valid.sum()
        loss = -(q * logp).sum(axis=1)
        self.fast, self.p, self.q, self.t = False, xp.exp(logp), q, None
        self.denom = denom
        return _reduce(loss.reshape(t.shape), reduction, denom)

    def backward(self, g):
        xp = get_array_module(g)
        p = self.p
        n = p.shape[0]
        gs = _rows_grad_scale(g, self.reduction, self.denom, p.dtype, (-1, 1))
        if self.fast:
            # (prob - onehot) * g: a copy and a scatter; NumPy beats the fused kernel here
            gx = p.copy()
            gx[xp.arange(n), self.t] -= 1.0
            gx *= gs
        else:
            q = self.q
            gx = (p * q.sum(axis=1, keepdims=True) - q) * gs
        return (_from_rows(gx, self.shape),)


class CrossEntropyProb(Function):
    """Softmax cross-entropy with class-probability targets (mixup / cutmix)."""

    __slots__ = ("denom", "logp", "p", "q", "reduction", "shape")

    def forward(self, x, t, weight=None, smoothing=0.0, reduction="mean"):
        xp = get_array_module(x)
        shape = x.shape
        x2 = _to_rows(x)
        q = _to_rows(t)
        c = x2.shape[1]
        if smoothing:
            q = q * (1.0 - smoothing) + smoothing / c
        if weight is not None:
            q = q * weight[None, :]
        logp = _log_softmax_rows(x2)
        loss = -(q * logp).sum(axis=1)
        self.p, self.q, self.shape, self.reduction = xp.exp(logp), q, shape, reduction
        self.logp = logp if self.needs_input_grad[1] else None
        self.denom = x2.shape[0]
        outshape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
        return _reduce(loss.reshape(outshape), reduction, self.denom)

    def backward(self, g):
        n = self.needs_input_grad
        p, q = self.p, self.q
        gs = _rows_grad_scale(g, self.reduction, self.denom, p.dtype, (-1, 1))
        gx = gt = None
        if n[0]:
            gx = _from_rows((p * q.sum(axis=1, keepdims=True) - q) * gs, self.shape)
        if n[1]:
            # d loss / d target (before smoothing/weights): -logp * (1 - eps) * w
            gt = _from_rows(-self.logp * gs, self.shape)
        return gx, gt


def _check_weight(weight, c, fn):
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise ValueError(f"{fn}: expected weight with shape ({c},) (one per class), got "
                         f"{w.shape}")
    return w


def _class_targets(x, t, ignore_index, fn):
    """Check class-index targets; returns ``(C, any_ignored)``."""
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    expected = (x.shape[0],) + x.shape[2:] if x.ndim > 1 else ()
    if t.shape != expected:
        raise ValueError(f"{fn}: expected target with shape {expected} (class indices for "
                         f"input of shape {x.shape}), got {t.shape}")
    if not t.size:
        return c, False
    lo, hi = int(t.min()), int(t.max())
    if lo >= 0 and hi < c:
        return c, bool(lo <= ignore_index <= hi and (t == ignore_index).any())
    bad = ((t < 0) | (t >= c)) & (t != ignore_index)
    if bad.any():
        v = int(t[bad].reshape(-1)[0])
        raise ValueError(f"{fn}: expected target values in [0, {c}) for {c} classes "
                         f"(or ignore_index={ignore_index}), got {v}")
    return c, True


def cross_entropy(input: Tensor, target: Any, weight: Any = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy between logits and targets (``torch.nn.functional.cross_entropy``).

    Args:
        input: logits ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices (integer, shape ``(N,)`` / ``(N, d1, ...)`` / ``()``), or class
            probabilities (floating, the shape of ``input``) e.g. from mixup or cutmix.
        weight: optional per-class weight ``(C,)``.
        ignore_index: class-index targets equal to it contribute nothing (and are left out of
            the mean's denominator).
        reduction: ``'mean'`` (over samples; with class weights over the sum of the targets'
            weights), ``'sum'`` or ``'none'``.
        label_smoothing: in ``[0, 1]``: the target becomes ``(1 - s) * target + s / C``.

    Raises:
        ValueError: shapes that disagree, class indices out of range, a bad reduction or
            label_smoothing.
        TypeError: non-floating logits, or a target that is neither integer nor floating.

    Example:
        >>> import striate, striate.functional as F
        >>> logits = striate.zeros(2, 4, requires_grad=True)
        >>> round(F.cross_entropy(logits, striate.tensor([0, 3])).item(), 4)
        1.3863
    """
    fn = "cross_entropy"
    x = input.data
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: expected input (logits) with a floating dtype, got {x.dtype}")
    reduction_check(reduction, fn)
    s = float(label_smoothing)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"{fn}: expected label_smoothing in [0, 1], got {label_smoothing}")
    if x.ndim == 0:
        raise ValueError(f"{fn}: expected input with at least 1 dimension, got a scalar")
    unbatched = x.ndim == 1
    if unbatched:
        input = input.reshape(1, -1)
        x = input.data
    tt = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    t = tt.data
    c = x.shape[1]
    w = _check_weight(weight, c, fn)
    if w is not None and w.dtype != x.dtype:
        w = w.astype(x.dtype)
    if t.dtype.kind in "iu":
        if unbatched:
            t = t.reshape(1)
        _, ignored = _class_targets(x, t, ignore_index, fn)
        out = CrossEntropyIndex.apply(input, t=t, weight=w, ignore_index=ignore_index,
                                      smoothing=s, reduction=reduction, ignored=ignored)
    elif t.dtype.kind == "f":
        if unbatched:
            tt = tt.reshape(1, -1)
        if tt.data.shape != x.shape:
            raise ValueError(f"{fn}: expected probability target with the shape of input "
                             f"{tuple(input.shape if not unbatched else (c,))}, got "
                             f"{tuple(tt.data.shape)}")
        if tt.data.dtype != x.dtype:
            tt = tt.to(x.dtype)
        out = CrossEntropyProb.apply(input, tt, weight=w, smoothing=s, reduction=reduction)
    else:
        raise TypeError(f"{fn}: expected target with an integer dtype (class indices) or a "
                        f"floating dtype (class probabilities), got {t.dtype}")
    if unbatched and reduction == "none":
        out = out.reshape(())
    return out


class NLLLoss(Function):
    __slots__ = ("denom", "reduction", "rows", "shape", "t", "wt")

    def forward(self, x, t=None, weight=None, ignore_index=-100, reduction="mean"):
        xp = get_array_module(x)
        x2 = _to_rows(x)
        t1 = t.reshape(-1)
        n = x2.shape[0]
        valid = t1 != ignore_index
        tt = xp.where(valid, t1, 0)
        wt = (weight[tt] if weight is not None else xp.ones(n, dtype=x.dtype)) * valid
        wt = wt.astype(x.dtype, copy=False)
        rows = xp.arange(n)
        loss = -x2[rows, tt] * wt
        self.rows, self.t, self.wt, self.shape = rows, tt, wt, x.shape
        self.reduction = reduction
        self.denom = wt.sum()
        return _reduce(loss.reshape(t.shape), reduction, self.denom)

    def backward(self, g):
        xp = get_array_module(g)
        n = self.rows.shape[0]
        c = self.shape[1] if len(self.shape) > 1 else self.shape[0]
        gs = _rows_grad_scale(g, self.reduction, self.denom, self.wt.dtype, (-1,))
        gx = xp.zeros((n, c), dtype=self.wt.dtype)
        gx[self.rows, self.t] = -self.wt * gs
        return (_from_rows(gx, self.shape),)


def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` ``(N, C, *)`` at class indices
    ``target`` ``(N, *)``; ``'mean'`` divides by the sum of the targets' weights.

    Raises:
        ValueError: shapes that disagree, class indices out of range, bad reduction.
        TypeError: non-integer target.
    """
    fn = "nll_loss"
    reduction_check(reduction, fn)
    x = input.data
    unbatched = x.ndim == 1
    if unbatched:
        input = input.reshape(1, -1)
        x = input.data
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{fn}: expected target with an integer dtype (class indices), got "
                        f"{t.dtype}")
    if unbatched:
        t = t.reshape(1)
    c, _ = _class_targets(x, t, ignore_index, fn)
    w = _check_weight(weight, c, fn)
    out = NLLLoss.apply(input, t=t, weight=w, ignore_index=ignore_index, reduction=reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


class _Pointwise(Function):
    """A loss ``f(x - t)`` elementwise with broadcasting; ``kind`` picks f."""

    __slots__ = ("beta", "d", "kind", "reduction", "sa", "sb", "shape")

    def forward(self, x, t, kind="mse", reduction="mean", beta=1.0):
        xp = get_array_module(x)
        d = x - t
        self.sa, self.sb, self.shape = x.shape, t.shape, d.shape
        self.reduction, self.kind, self.beta = reduction, kind, beta
        self.d = d
        if kind == "mse":
            loss = d * d
        elif kind == "l1":
            loss = xp.abs(d)
        elif kind == "smooth_l1":
            ad = xp.abs(d)
            loss = xp.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta) if beta > 0 else ad
        else:  # huber
            ad = xp.abs(d)
            loss = xp.where(ad < beta, 0.5 * d * d, beta * (ad - 0.5 * beta))
        return _reduce(loss, reduction)

    def backward(self, g):
        xp = get_array_module(g)
        d, kind, beta = self.d, self.kind, self.beta
        if kind == "mse":
            gd = 2.0 * d
        elif kind == "l1":
            gd = xp.sign(d)
        elif kind == "smooth_l1":
            gd = xp.where(xp.abs(d) < beta, d / beta, xp.sign(d)) if beta > 0 else xp.sign(d)
        else:
            gd = xp.clip(d, -beta, beta)
        gd = gd * _grad_scale(g, self.reduction, self.shape, None, d.dtype)
        n = self.needs_input_grad
        return (_unbroadcast(gd, self.sa) if n[0] else None,
                _unbroadcast(-gd, self.sb) if n[1] else None)


def _pointwise(input, target, kind, reduction, fn, beta=1.0):
    reduction_check(reduction, fn)
    target = as_tensor(target, "target", fn)
    if target.data.dtype != input.data.dtype and input.data.dtype.kind == "f":
        target = target.to(input.dtype)
    try:
        np.broadcast_shapes(input.data.shape, target.data.shape)
    except ValueError:
        raise ValueError(f"{fn}: expected target broadcastable to input shape "
                         f"{tuple(input.shape)}, got target shape {tuple(target.shape)}") from None
    return _Pointwise.apply(input, target, kind=kind, reduction=reduction, beta=beta)


def mse_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)^2`` (broadcasting), reduced."""
    return _pointwise(input, target, "mse", reduction, "mse_loss")


def l1_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|``, reduced (gradient 0 where equal)."""
    return _pointwise(input, target, "l1", reduction, "l1_loss")


def smooth_l1_loss(input: Tensor, target: Any, size_average: Any = None,
                   reduce: Any = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below ``beta`` (``0.5 d^2 / beta``), linear above (``|d| - beta / 2``)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: expected beta >= 0, got {beta}")
    return _pointwise(input, target, "smooth_l1", reduction, "smooth_l1_loss", float(beta))


def huber_loss(input: Tensor, target: Any, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` below ``delta``, ``delta (|d| - delta / 2)`` above."""
    if delta <= 0:
        raise ValueError(f"huber_loss: expected delta > 0, got {delta}")
    return _pointwise(input, target, "huber", reduction, "huber_loss", float(delta))


class BCEWithLogits(Function):
    __slots__ = ("pw", "reduction", "shape", "st", "sx", "t", "w", "x")

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        xp = get_array_module(x)
        # softplus(-x) = max(-x, 0) + log1p(exp(-|x|))
        sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is not None:
            lw = (pos_weight - 1.0) * t + 1.0
            loss = (1.0 - t) * x + lw * sp
        else:
            loss = (1.0 - t) * x + sp
        if weight is not None:
            loss = loss * weight
        self.x, self.t, self.w, self.pw = x, t, weight, pos_weight
        self.sx, self.st, self.shape = x.shape, t.shape, loss.shape
        self.reduction = reduction
        return _reduce(loss, reduction)

    def backward(self, g):
        xp = get_array_module(g)
        x, t, w, pw = self.x, self.t, self.w, self.pw
        gs = _grad_scale(g, self.reduction, self.shape, None, x.dtype)
        if w is not None:
            gs = gs * w
        n = self.needs_input_grad
        gx = gt = None
        sig_neg = 0.5 * (1.0 - xp.tanh(0.5 * x))  # sigmoid(-x)
        if n[0]:
            if pw is not None:
                lw = (pw - 1.0) * t + 1.0
                d = (1.0 - t) - lw * sig_neg
            else:
                d = (1.0 - t) - sig_neg
            gx = _unbroadcast(d * gs, self.sx)
        if n[1]:
            sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
            d = -x + ((pw - 1.0) * sp if pw is not None else 0.0)
            gt = _unbroadcast(d * gs, self.st)
        return gx, gt


def binary_cross_entropy_with_logits(input: Tensor, target: Any,
                                     weight: Any = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one numerically stable step.

    ``loss = -w [pos_weight * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))]``.

    Args:
        input: logits, any shape.
        target: same shape as input, values in [0, 1].
        weight: optional rescaling broadcast to input.
        pos_weight: optional weight of positive examples, broadcast along the last axis
            (one per class).

    Raises:
        ValueError: target shape differs from input, bad reduction.
    """
    fn = "binary_cross_entropy_with_logits"
    reduction_check(reduction, fn)
    target = as_tensor(target, "target", fn)
    if target.data.shape != input.data.shape:
        raise ValueError(f"{fn}: expected target with the shape of input "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    dt = input.data.dtype
    w = None if weight is None else (weight.data if isinstance(weight, Tensor)
                                     else np.asarray(weight)).astype(dt, copy=False)
    pw = None if pos_weight is None else (pos_weight.data if isinstance(pos_weight, Tensor)
                                          else np.asarray(pos_weight)).astype(dt, copy=False)
    return BCEWithLogits.apply(input, target, weight=w, pos_weight=pw, reduction=reduction)


class BCE(Function):
    __slots__ = ("p", "reduction", "shape", "t", "w")

    def forward(self, p, t, weight=None, reduction="mean"):
        xp = get_array_module(p)
        with np.errstate(divide="ignore"):
            lp = xp.maximum(xp.log(p), -100.0)
            l1p = xp.maximum(xp.log1p(-p), -100.0)
        loss = -(t * lp + (1.0 - t) * l1p)
        if weight is not None:
            loss = loss * weight
        self.p, self.t, self.w, self.reduction, self.shape = p, t, weight, reduction, p.shape
        return _reduce(loss, reduction)

    def backward(self, g):
        xp = get_array_module(g)
        p, t = self.p, self.t
        gs = _grad_scale(g, self.reduction, self.shape, None, p.dtype)
        if self.w is not None:
            gs = gs * self.w
        eps = 1e-12
        gx = (p - t) / xp.maximum(p * (1.0 - p), eps) * gs
        gt = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gt = -(xp.maximum(xp.log(p), -100.0) - xp.maximum(xp.log1p(-p), -100.0)) * gs
        return gx, gt


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] (logs clamped at -100 as in
    PyTorch).

    Raises:
        ValueError: target shape differs, input values outside [0, 1], bad reduction.
    """
    fn = "binary_cross_entropy"
    reduction_check(reduction, fn)
    target = as_tensor(target, "target", fn)
    if target.data.shape != input.data.shape:
        raise ValueError(f"{fn}: expected target with the shape of input "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    x = input.data
    if x.size and (float(x.min()) < 0.0 or float(x.max()) > 1.0):
        raise ValueError(f"{fn}: expected input values in [0, 1], got values in "
                         f"[{float(x.min())}, {float(x.max())}]")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    w = None if weight is None else (weight.data if isinstance(weight, Tensor)
                                     else np.asarray(weight)).astype(x.dtype, copy=False)
    return BCE.apply(input, target, weight=w, reduction=reduction)


def kl_div(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence with log-probabilities ``input``: ``target * (log target - input)``;
    ``reduction='batchmean'`` divides the sum by the batch size."""
    fn = "kl_div"
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{fn}: expected reduction in ('none', 'mean', 'sum', 'batchmean'), "
                         f"got {reduction!r}")
    target = as_tensor(target, "target", fn)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        t = target.data
        logt = Tensor(np.where(t > 0, np.log(np.where(t > 0, t, 1)), 0).astype(t.dtype))
        loss = target * (logt - input)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "batchmean":
        return loss.sum() / input.shape[0]
    return loss.mean()
