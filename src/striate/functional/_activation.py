"""Activations, softmax and log-softmax as autograd Functions."""

from __future__ import annotations

import math

import numpy as np

from striate.autograd import Function, get_array_module
from striate.functional._util import as_tensor, kfn
from striate.tensor import Tensor

__all__ = [
    "elu",
    "erf",
    "gelu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "leaky_relu",
    "log_softmax",
    "logsigmoid",
    "mish",
    "relu",
    "relu6",
    "relu_",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]

_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ------------------------------------------------------------------------------------ erf
def _erf64(x: np.ndarray) -> np.ndarray:
    """erf to about 1e-15 in float64: Taylor series for |x| < 2, continued fraction for
    erfc beyond (vectorised; no per-element Python)."""
    xp = get_array_module(x)
    out = xp.empty_like(x)
    ax = xp.abs(x)
    small = ax < 2.0
    xs = x[small]
    x2 = xs * xs
    term = xs.copy()
    acc = xs.copy()
    for n in range(1, 40):
        term = term * (-x2) / n
        acc = acc + term / (2 * n + 1)
    out[small] = acc * _TWO_OVER_SQRT_PI
    big = ~small
    if big.any():
        xb = ax[big]
        t = xb.copy()
        for k in range(90, 0, -1):
            t = xb + (k / 2.0) / t
        erfc = xp.exp(-xb * xb) / math.sqrt(math.pi) / t
        out[big] = xp.sign(x[big]) * (1.0 - erfc)
    return out


def _erf32(x: np.ndarray) -> np.ndarray:
    """erf in float32 by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), computed in
    place in three buffers (large activations make temporaries the main cost)."""
    xp = get_array_module(x)
    ax = xp.abs(x)
    t = ax * x.dtype.type(0.3275911)
    t += 1.0
    xp.reciprocal(t, out=t)
    y = t * x.dtype.type(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        y += x.dtype.type(c)
        y *= t
    xp.square(ax, out=ax)
    xp.negative(ax, out=ax)
    xp.exp(ax, out=ax)
    y *= ax
    xp.subtract(1.0, y, out=y)
    xp.copysign(y, x, out=y)
    return y


def _erf(x: np.ndarray) -> np.ndarray:
    return _erf64(x) if x.dtype == np.float64 else _erf32(x)


class Erf(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return _erf(x)

    def backward(self, g):
        xp = get_array_module(g)
        x = self.x
        return (g * (_TWO_OVER_SQRT_PI * xp.exp(-x * x)),)


def erf(input: Tensor) -> Tensor:
    """The error function, elementwise."""
    return Erf.apply(as_tensor(input, "input", "erf"))


# ------------------------------------------------------------------------------------ ReLU family
# Below this many elements NumPy's ufuncs beat the kernels' call overhead.
_KERNEL_MIN_SIZE = 4096


class ReLU(Function):
    __slots__ = ("out",)

    def forward(self, x):
        if x.size >= _KERNEL_MIN_SIZE and x.ndim >= 2:
            f = kfn(x, "bias_act")
            if f is not None:
                out = f(x, None, "relu")
                self.out = out
                return out
        out = get_array_module(x).maximum(x, 0)
        self.out = out
        return out

    def backward(self, g):
        out = self.out
        if g.size >= _KERNEL_MIN_SIZE and g.shape == out.shape and g.dtype == out.dtype:
            f = kfn(g, "relu_backward")
            if f is not None:
                return (f(g, out),)
        return (g * (out > 0),)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)`` elementwise.

    Args:
        input: any shape.
        inplace: accepted for PyTorch compatibility; the result is a new tensor unless no
            graph is recorded, in which case ``input.data`` is overwritten.
    """
    if inplace and not (input.requires_grad and _grad_on()):
        xp = get_array_module(input.data)
        xp.maximum(input.data, 0, out=input.data)
        return input
    return ReLU.apply(input)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def _grad_on() -> bool:
    from striate.autograd import _grad_enabled

    return _grad_enabled[0]


class HardTanh(Function):
    __slots__ = ("mask",)

    def forward(self, x, lo=-1.0, hi=1.0):
        self.mask = (x > lo) & (x < hi)
        return get_array_module(x).clip(x, lo, hi)

    def backward(self, g):
        return (g * self.mask,)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clip to ``[min_val, max_val]``; gradient 1 strictly inside, 0 outside (PyTorch)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: expected min_val <= max_val, got min_val={min_val}, "
                         f"max_val={max_val}")
    return HardTanh.apply(input, lo=min_val, hi=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return HardTanh.apply(input, lo=0.0, hi=6.0)


class LeakyReLU(Function):
    __slots__ = ("pos", "slope")

    def forward(self, x, slope=0.01):
        pos = x > 0
        self.pos, self.slope = pos, slope
        return get_array_module(x).where(pos, x, x * slope)

    def backward(self, g):
        return (get_array_module(g).where(self.pos, g, g * self.slope),)


def leaky_relu(input: Tensor, negative_slope: float = 0.01,
               inplace: bool = False) -> Tensor:
    """``x if x > 0 else negative_slope * x``."""
    return LeakyReLU.apply(input, slope=float(negative_slope))


class ELU(Function):
    __slots__ = ("alpha", "out", "pos")

    def forward(self, x, alpha=1.0):
        xp = get_array_module(x)
        pos = x > 0
        out = xp.where(pos, x, alpha * xp.expm1(xp.minimum(x, 0)))
        self.pos, self.out, self.alpha = pos, out, alpha
        return out

    def backward(self, g):
        xp = get_array_module(g)
        return (xp.where(self.pos, g, g * (self.out + self.alpha)),)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    return ELU.apply(input, alpha=float(alpha))


class GELU(Function):
    __slots__ = ("approx", "cdf", "x")

    def forward(self, x, approximate="none"):
        xp = get_array_module(x)
        self.x, self.approx, self.cdf = x, approximate, None
        f = kfn(x, "gelu")
        if f is not None:
            return f(x, approximate)  # compiled kernel; the backward needs only x
        if approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = x * x
            t *= 0.044715 * k
            t += k
            t *= x
            xp.tanh(t, out=t)  # tanh(k (x + 0.044715 x^3))
            self.cdf = t
            y = t + 1.0
            y *= x
            y *= 0.5
            return y
        cdf = _erf(x * (1.0 / _SQRT_2))
        cdf += 1.0
        cdf *= 0.5
        self.cdf = cdf
        return x * cdf

    def backward(self, g):
        xp = get_array_module(g)
        x = self.x
        if g.dtype == x.dtype and g.shape == x.shape:
            f = kfn(x, "gelu_backward")
            if f is not None:
                return (f(x, g, self.approx),)
        if self.cdf is None:  # the kernel ran the forward: the formulas below need cdf
            self.forward(x.astype(np.float64), self.approx)
            self.cdf, self.x = self.cdf.astype(x.dtype), x
        if self.approx == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = self.cdf  # tanh(...)
            d = x * x
            d *= 3 * 0.044715 * k
            d += k  # k (1 + 3 c x^2)
            d *= x
            d *= 0.5
            d *= 1.0 - t * t
            d += 0.5
            d += 0.5 * t
            d *= g
            return (d,)
        pdf = x * x
        pdf *= -0.5
        xp.exp(pdf, out=pdf)
        pdf *= _INV_SQRT_2PI
        pdf *= x
        pdf += self.cdf
        pdf *= g
        return (pdf,)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh form.

    Raises:
        ValueError: ``approximate`` not ``'none'`` or ``'tanh'``.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: expected approximate to be 'none' or 'tanh', got "
                         f"{approximate!r}")
    return GELU.apply(input, approximate=approximate)


def _sigmoid(x):
    # 0.5 * (1 + tanh(x / 2)): stable for any x, no overflow warnings
    xp = get_array_module(x)
    return 0.5 * (1.0 + xp.tanh(0.5 * x))


class Sigmoid(Function):
    __slots__ = ("out",)

    def forward(self, x):
        out = _sigmoid(x)
        self.out = out
        return out

    def backward(self, g):
        s = self.out
        return (g * s * (1.0 - s),)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return Sigmoid.apply(input)


class Tanh(Function):
    __slots__ = ("out",)

    def forward(self, x):
        out = get_array_module(x).tanh(x)
        self.out = out
        return out

    def backward(self, g):
        t = self.out
        return (g * (1.0 - t * t),)


def tanh(input: Tensor) -> Tensor:
    return Tanh.apply(input)


class SiLU(Function):
    __slots__ = ("s", "x")

    def forward(self, x):
        s = _sigmoid(x)
        self.x, self.s = x, s
        return x * s

    def backward(self, g):
        s = self.s
        return (g * (s * (1.0 + self.x * (1.0 - s))),)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    return SiLU.apply(input)


class Hardswish(Function):
    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return x * get_array_module(x).clip(x + 3.0, 0.0, 6.0) * (1.0 / 6.0)

    def backward(self, g):
        xp = get_array_module(g)
        x = self.x
        d = xp.where(x < -3.0, 0.0, xp.where(x <= 3.0, x * (1.0 / 3.0) + 0.5, 1.0))
        return (g * d.astype(g.dtype, copy=False),)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return Hardswish.apply(input)


class Hardsigmoid(Function):
    __slots__ = ("mask",)

    def forward(self, x):
        self.mask = (x > -3.0) & (x < 3.0)
        return get_array_module(x).clip(x + 3.0, 0.0, 6.0) * (1.0 / 6.0)

    def backward(self, g):
        return (g * self.mask * (1.0 / 6.0),)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return Hardsigmoid.apply(input)


class Softplus(Function):
    __slots__ = ("beta", "threshold", "x")

    def forward(self, x, beta=1.0, threshold=20.0):
        xp = get_array_module(x)
        self.x, self.beta, self.threshold = x, beta, threshold
        bx = x * beta
        sp = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(bx > threshold, x, sp)

    def backward(self, g):
        bx = self.x * self.beta
        return (g * (_sigmoid(bx) * (bx <= self.threshold) + (bx > self.threshold)),)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta`` (linear above ``threshold``)."""
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, stable for any ``x``."""
    return -Softplus.apply(-input, beta=1.0, threshold=20.0)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return input * tanh(softplus(input))


# ------------------------------------------------------------------------------------ softmax
def _rows_view(x, dim):
    """``x`` with ``dim`` moved last and flattened to 2-D, plus the undo information."""
    xp = get_array_module(x)
    nd = x.ndim
    if dim == nd - 1 or nd <= 1:
        shape = x.shape
        return x.reshape(-1, shape[-1] if nd else 1), None, shape
    moved = xp.moveaxis(x, dim, -1)
    return moved.reshape(-1, moved.shape[-1]), dim, moved.shape


def _rows_undo(y2, dim, shape):
    xp = get_array_module(y2)
    y = y2.reshape(shape)
    return y if dim is None else xp.moveaxis(y, -1, dim)


def _softmax_np(x2, log):
    xp = get_array_module(x2)
    m = x2.max(axis=1, keepdims=True)
    z = x2 - m
    e = xp.exp(z)
    s = e.sum(axis=1, keepdims=True)
    if log:
        return z - xp.log(s)
    e /= s
    return e


class Softmax(Function):
    __slots__ = ("dim", "log", "shape", "y2")

    def forward(self, x, dim=-1, log=False):
        x2, d, shape = _rows_view(x, dim)
        f = kfn(x2, "log_softmax" if log else "softmax")
        if f is not None:
            y2 = f(x2)
        else:
            y2 = _softmax_np(x2, log)
        self.y2, self.dim, self.shape, self.log = y2, d, shape, log
        return _rows_undo(y2, d, shape)

    def backward(self, g):
        g2, _, _ = _rows_view(g, self.dim if self.dim is not None else g.ndim - 1)
        y2 = self.y2
        f = kfn(g2, "log_softmax_backward" if self.log else "softmax_backward")
        if f is not None:
            gx = f(y2, g2)
        elif self.log:
            xp = get_array_module(g2)
            gx = g2 - xp.exp(y2) * g2.sum(axis=1, keepdims=True)
        else:
            gx = y2 * (g2 - (g2 * y2).sum(axis=1, keepdims=True))
        return (_rows_undo(gx, self.dim, self.shape),)


def _dim(dim, nd, fn):
    if dim is None:
        # PyTorch's legacy implicit choice
        return 0 if nd in (0, 1, 3) else 1
    if not -max(nd, 1) <= dim < max(nd, 1):
        raise IndexError(f"{fn}: dim {dim} out of range for input with {nd} dimensions")
    return dim % max(nd, 1)


def _softmax(input: Tensor, dim: int | None, dtype, log: bool, fn: str) -> Tensor:
    x = as_tensor(input, "input", fn)
    if dtype is not None:
        x = x.to(dtype)
    return Softmax.apply(x, dim=_dim(dim, x.data.ndim, fn), log=log)


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (the maximum is subtracted first).

    Raises:
        IndexError: ``dim`` out of range.
    """
    return _softmax(input, dim, dtype, False, "softmax")


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``.

    Raises:
        IndexError: ``dim`` out of range.
    """
    return _softmax(input, dim, dtype, True, "log_softmax")
