"""``striate.Tensor``: an array (NumPy, or CuPy through the same code) with autograd.

A tensor holds ``.data`` (the array itself, settable), ``.grad`` (a tensor or ``None``,
accumulated by every ``backward``), ``.requires_grad`` and ``.grad_fn`` (the
:class:`~striate.autograd.Function` that produced it; ``None`` for leaves).  Operations use
NumPy broadcasting; gradients are summed back to each input's shape.  Python scalars never
change a tensor's dtype (``float32 * 0.5`` stays float32).

Gradient conventions that differ between libraries, stated once:

* ``max()``/``min()`` over all elements and ``amax``/``amin`` split the gradient evenly
  among tied extrema (PyTorch does the same).
* ``max(dim)``/``min(dim)`` return ``(values, indices)`` and send the gradient to the
  returned index only: the first extremum along ``dim`` (PyTorch's CPU choice too).
* ``abs`` has gradient 0 at 0; ``clamp`` passes the gradient where ``min <= x <= max``.

In-place methods (``add_``, ``mul_``, ``zero_``, ``x[i] = v`` ...) change ``.data`` in place
when no graph is being recorded for the tensor (``no_grad``, or nothing requires grad).
On a tensor that is part of a graph they compute out of place and rebind ``self`` to the
result (the graph stays correct; other views of the old array are not updated).  On a leaf
that requires grad they raise ``RuntimeError`` outside ``no_grad``, as PyTorch does.
Arrays saved by earlier operations are never mutated by these rebinding updates; a true
in-place write (in ``no_grad``) to an array an earlier op saved for its backward is not
detected, so do not do that between a forward and its backward.
"""

from __future__ import annotations

import builtins
import math
import sys
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from striate import autograd as _ag
from striate.autograd import Function, _grad_enabled, get_array_module
from striate.random import Generator, get_generator

__all__ = [
    "Tensor",
    "arange",
    "as_tensor",
    "bool_",
    "cat",
    "chunk",
    "concat",
    "double",
    "empty",
    "empty_like",
    "eye",
    "float",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "get_default_dtype",
    "half",
    "int8",
    "int32",
    "int64",
    "is_tensor",
    "linspace",
    "long",
    "matmul",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "set_default_dtype",
    "split",
    "stack",
    "tensor",
    "uint8",
    "where",
    "zeros",
    "zeros_like",
]

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
float = float32
double = float64
long = int64
half = float16

_default_dtype = [np.dtype(np.float32)]
_ndarray = np.ndarray
_generic = np.generic
_builtin_float = builtins.float


def get_default_dtype() -> np.dtype:
    """The dtype of tensors created from Python floats and by the float factories."""
    return _default_dtype[0]


def set_default_dtype(dtype: Any) -> None:
    """Set the default floating dtype (float32 or float64)."""
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d}")
    _default_dtype[0] = d


def _dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else np.dtype(dtype)


def _size(size: tuple) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


# --------------------------------------------------------------------------------------------
# helpers used by Functions

def _unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``."""
    if g.shape == shape:
        return g
    nd = g.ndim - len(shape)
    if nd > 0:
        g = g.sum(axis=tuple(range(nd)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def _norm_axis(axis: Any, ndim: int) -> tuple | None:
    """``dim`` as a sorted tuple of non-negative axes (``None`` -> all axes)."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {a})")
        out.append(a % max(ndim, 1))
    return tuple(sorted(set(out)))


def _grad_to_input(g: Any, shape: tuple, axis: tuple | None, keepdim: bool) -> Any:
    """Broadcast the gradient of a reduction back to the input shape (a read-only view)."""
    xp = get_array_module(g)
    if not keepdim:
        if axis is None:
            g = g.reshape((1,) * len(shape))
        else:
            g = xp.expand_dims(g, axis) if len(shape) else g
    return xp.broadcast_to(g, shape)


def _sgemm(a: Any, b: Any, ta: bool = False, tb: bool = False) -> Any:
    """``op(a) @ op(b)`` for 2-D float32 NumPy arrays on striate's GEMM, avoiding copies of
    transposed views by flipping the transpose flags instead."""
    if not a.flags.c_contiguous:
        a, ta = (a.T, not ta) if a.T.flags.c_contiguous else (np.ascontiguousarray(a), ta)
    if not b.flags.c_contiguous:
        b, tb = (b.T, not tb) if b.T.flags.c_contiguous else (np.ascontiguousarray(b), tb)
    return _gemm(a, b, ta, tb)


def _gemm(*args):  # bound lazily: the compiled core is imported on first use
    global _gemm
    from striate.kernels._gemm import matmul_trusted

    _gemm = matmul_trusted
    return matmul_trusted(*args)


# --------------------------------------------------------------------------------------------
# Functions: arithmetic

class Add(Function):
    __slots__ = ("sa", "sb")

    def forward(self, a, b):
        self.sa = a.shape
        self.sb = b.shape
        return a + b

    def backward(self, g):
        n = self.needs_input_grad
        return (_unbroadcast(g, self.sa) if n[0] else None,
                _unbroadcast(g, self.sb) if n[1] else None)


class Sub(Function):
    __slots__ = ("sa", "sb")

    def forward(self, a, b):
        self.sa = a.shape
        self.sb = b.shape
        return a - b

    def backward(self, g):
        n = self.needs_input_grad
        return (_unbroadcast(g, self.sa) if n[0] else None,
                _unbroadcast(-g, self.sb) if n[1] else None)


class Mul(Function):
    __slots__ = ("a", "b")

    def forward(self, a, b):
        n = self.needs_input_grad
        self.a = a if n[1] else a.shape
        self.b = b if n[0] else b.shape
        return a * b

    def backward(self, g):
        n = self.needs_input_grad
        a, b = self.a, self.b
        return (_unbroadcast(g * b, a.shape if n[1] else a) if n[0] else None,
                _unbroadcast(g * a, b.shape if n[0] else b) if n[1] else None)


class Div(Function):
    __slots__ = ("a", "b", "sa")

    def forward(self, a, b):
        self.a = a if self.needs_input_grad[1] else None
        self.b = b
        self.sa = a.shape
        return a / b

    def backward(self, g):
        n = self.needs_input_grad
        b = self.b
        ga = gb = None
        gdb = g / b
        if n[0]:
            ga = _unbroadcast(gdb, self.sa)
        if n[1]:
            gb = _unbroadcast(-gdb * self.a / b, b.shape)
        return ga, gb


class Pow(Function):
    __slots__ = ("a", "b", "out")

    def forward(self, a, b):
        out = a ** b
        self.a = a
        self.b = b
        self.out = out if self.needs_input_grad[1] else None
        return out

    def backward(self, g):
        n = self.needs_input_grad
        xp = get_array_module(g)
        a, b = self.a, self.b
        ga = gb = None
        if n[0]:
            ga = _unbroadcast(g * b * a ** (b - 1), a.shape)
        if n[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                la = xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), 0).astype(g.dtype)
            gb = _unbroadcast(g * self.out * la, b.shape)
        return ga, gb


class AddS(Function):
    __slots__ = ()

    def forward(self, a, s):
        return a + s

    def backward(self, g):
        return (g,)


class MulS(Function):
    __slots__ = ("s",)

    def forward(self, a, s):
        self.s = s
        return a * s

    def backward(self, g):
        return (g * self.s,)


class DivS(Function):
    __slots__ = ("s",)

    def forward(self, a, s):
        self.s = s
        return a / s

    def backward(self, g):
        return (g / self.s,)


class RSubS(Function):
    __slots__ = ()

    def forward(self, a, s):
        return s - a

    def backward(self, g):
        return (-g,)


class RDivS(Function):
    __slots__ = ("a", "out")

    def forward(self, a, s):
        out = s / a
        self.a = a
        self.out = out
        return out

    def backward(self, g):
        return (-g * self.out / self.a,)


class PowS(Function):
    __slots__ = ("a", "p")

    def forward(self, a, p):
        self.a = a
        self.p = p
        if p == 2:
            return a * a
        return a ** p

    def backward(self, g):
        p = self.p
        if p == 2:
            return (g * (2 * self.a),)
        if p == 0:
            return (g * 0,)
        return (g * (p * self.a ** (p - 1)),)


class RPowS(Function):
    __slots__ = ("ls", "out")

    def forward(self, a, s):
        out = s ** a
        self.out = out
        self.ls = math.log(s) if s > 0 else _builtin_float("nan")
        return out

    def backward(self, g):
        return (g * self.out * self.ls,)


class Neg(Function):
    __slots__ = ()

    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class MatMul(Function):
    __slots__ = ("a", "b")

    def forward(self, a, b):
        self.a = a
        self.b = b
        if (a.ndim == 2 and b.ndim == 2 and a.dtype == float32 and b.dtype == float32
                and type(a) is _ndarray and type(b) is _ndarray):
            return _sgemm(a, b)
        return a @ b

    def backward(self, g):
        n = self.needs_input_grad
        a, b = self.a, self.b
        if (g.ndim == 2 and a.ndim == 2 and b.ndim == 2 and g.dtype == float32
                and a.dtype == float32 and b.dtype == float32 and type(g) is _ndarray):
            return (_sgemm(g, b, tb=True) if n[0] else None,
                    _sgemm(a, g, ta=True) if n[1] else None)
        xp = get_array_module(g)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        ga = gb = None
        if n[0]:
            ga = g2 @ xp.swapaxes(b2, -1, -2)
            ga = _unbroadcast(ga, a2.shape)
            ga = ga.reshape(a.shape)
        if n[1]:
            gb = xp.swapaxes(a2, -1, -2) @ g2
            gb = _unbroadcast(gb, b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb


# --------------------------------------------------------------------------------------------
# Functions: elementwise math

class Exp(Function):
    __slots__ = ("out",)

    def forward(self, a):
        self.out = out = get_array_module(a).exp(a)
        return out

    def backward(self, g):
        return (g * self.out,)


class Log(Function):
    __slots__ = ("a",)

    def forward(self, a):
        self.a = a
        return get_array_module(a).log(a)

    def backward(self, g):
        return (g / self.a,)


class Log1p(Function):
    __slots__ = ("a",)

    def forward(self, a):
        self.a = a
        return get_array_module(a).log1p(a)

    def backward(self, g):
        return (g / (1.0 + self.a),)


class Expm1(Function):
    __slots__ = ("out",)

    def forward(self, a):
        self.out = out = get_array_module(a).expm1(a)
        return out

    def backward(self, g):
        return (g * (self.out + 1.0),)


class Sin(Function):
    __slots__ = ("a",)

    def forward(self, a):
        self.a = a
        return get_array_module(a).sin(a)

    def backward(self, g):
        return (g * get_array_module(g).cos(self.a),)


class Cos(Function):
    __slots__ = ("a",)

    def forward(self, a):
        self.a = a
        return get_array_module(a).cos(a)

    def backward(self, g):
        return (-g * get_array_module(g).sin(self.a),)


class LogSumExp(Function):
    __slots__ = ("p", "axis", "keepdim")

    def forward(self, a, axis=None, keepdim=False):
        xp = get_array_module(a)
        m = a.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        e = xp.exp(a - m)
        s = e.sum(axis=axis, keepdims=True)
        out = xp.log(s) + m
        e /= s
        self.p, self.axis, self.keepdim = e, axis, keepdim
        if not keepdim:
            out = out.reshape(()) if axis is None else out.squeeze(axis)
        return out

    def backward(self, g):
        p = self.p
        return (_grad_to_input(g, p.shape, self.axis, self.keepdim) * p,)


class Sqrt(Function):
    __slots__ = ("out",)

    def forward(self, a):
        self.out = out = get_array_module(a).sqrt(a)
        return out

    def backward(self, g):
        return (g / (2 * self.out),)


class Abs(Function):
    __slots__ = ("a",)

    def forward(self, a):
        self.a = a
        return get_array_module(a).abs(a)

    def backward(self, g):
        return (g * get_array_module(g).sign(self.a),)


class Clamp(Function):
    __slots__ = ("mask",)

    def forward(self, a, lo=None, hi=None):
        xp = get_array_module(a)
        out = xp.clip(a, lo, hi)
        if lo is not None and hi is not None:
            self.mask = (a >= lo) & (a <= hi)
        elif lo is not None:
            self.mask = a >= lo
        else:
            self.mask = a <= hi
        return out

    def backward(self, g):
        return (g * self.mask,)


class Sign(Function):
    __slots__ = ()

    def forward(self, a):
        return get_array_module(a).sign(a)

    def backward(self, g):
        return (g * 0,)


class Maximum(Function):
    __slots__ = ("m", "sa", "sb")

    def forward(self, a, b):
        self.m = a >= b
        self.sa, self.sb = a.shape, b.shape
        return get_array_module(a).maximum(a, b)

    def backward(self, g):
        n = self.needs_input_grad
        return (_unbroadcast(g * self.m, self.sa) if n[0] else None,
                _unbroadcast(g * ~self.m, self.sb) if n[1] else None)


class Minimum(Function):
    __slots__ = ("m", "sa", "sb")

    def forward(self, a, b):
        self.m = a <= b
        self.sa, self.sb = a.shape, b.shape
        return get_array_module(a).minimum(a, b)

    def backward(self, g):
        n = self.needs_input_grad
        return (_unbroadcast(g * self.m, self.sa) if n[0] else None,
                _unbroadcast(g * ~self.m, self.sb) if n[1] else None)


# --------------------------------------------------------------------------------------------
# Functions: reductions

class Sum(Function):
    __slots__ = ("axis", "keepdim", "shape")

    def forward(self, a, axis=None, keepdim=False):
        self.shape, self.axis, self.keepdim = a.shape, axis, keepdim
        return a.sum(axis=axis, keepdims=keepdim)

    def backward(self, g):
        return (_grad_to_input(g, self.shape, self.axis, self.keepdim),)


class Mean(Function):
    __slots__ = ("axis", "keepdim", "shape")

    def forward(self, a, axis=None, keepdim=False):
        self.shape, self.axis, self.keepdim = a.shape, axis, keepdim
        return a.mean(axis=axis, keepdims=keepdim)

    def backward(self, g):
        shape = self.shape
        if self.axis is None:
            n = math.prod(shape)
        else:
            n = math.prod(shape[i] for i in self.axis)
        return (_grad_to_input(g * (1.0 / max(n, 1)), shape, self.axis, self.keepdim),)


class AMaxMin(Function):
    """max/min over ``axis`` with the gradient split evenly among ties."""

    __slots__ = ("axis", "keepdim", "mask")

    def forward(self, a, axis=None, keepdim=False, is_max=True):
        out = a.max(axis=axis, keepdims=True) if is_max else a.min(axis=axis, keepdims=True)
        if self.needs_input_grad[0]:
            mask = (a == out)
            self.mask = mask / mask.sum(axis=axis, keepdims=True).astype(a.dtype)
        self.axis, self.keepdim = axis, keepdim
        if not keepdim:
            out = out.reshape(()) if axis is None else out.squeeze(axis)
        return out

    def backward(self, g):
        m = self.mask
        return (_grad_to_input(g, m.shape, self.axis, self.keepdim) * m,)


class TakeAlongDim(Function):
    """``take_along_axis(x, idx, dim)`` with unique indices per slice (max/min with dim)."""

    __slots__ = ("dim", "idx", "keepdim", "shape")

    def forward(self, a, idx=None, dim=0, keepdim=False):
        xp = get_array_module(a)
        self.idx, self.shape, self.dim, self.keepdim = idx, a.shape, dim, keepdim
        out = xp.take_along_axis(a, idx, axis=dim)
        return out if keepdim else out.squeeze(dim)

    def backward(self, g):
        xp = get_array_module(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        if not self.keepdim:
            g = xp.expand_dims(g, self.dim)
        xp.put_along_axis(gx, self.idx, g, axis=self.dim)
        return (gx,)


class CumSum(Function):
    __slots__ = ("dim",)

    def forward(self, a, dim=0):
        self.dim = dim
        return get_array_module(a).cumsum(a, axis=dim)

    def backward(self, g):
        xp = get_array_module(g)
        d = self.dim
        return (xp.flip(xp.cumsum(xp.flip(g, d), axis=d), d),)


class Gather(Function):
    """``torch.gather``: ``out[i][j][k] = x[i][index[i][j][k]][k]`` (dim=1); duplicates in
    ``index`` accumulate in the gradient."""

    __slots__ = ("dim", "idx", "shape")

    def forward(self, a, idx=None, dim=0):
        xp = get_array_module(a)
        self.idx, self.shape, self.dim = idx, a.shape, dim
        if idx.shape[:dim] + idx.shape[dim + 1:] == a.shape[:dim] + a.shape[dim + 1:]:
            return xp.take_along_axis(a, idx, axis=dim)
        full = list(xp.ix_(*[xp.arange(s) for s in idx.shape]))
        full[dim] = idx
        return a[tuple(full)]

    def backward(self, g):
        xp = get_array_module(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        full = list(xp.ix_(*[xp.arange(s) for s in self.idx.shape]))
        full[self.dim] = self.idx
        xp.add.at(gx, tuple(full), g)
        return (gx,)


class Var(Function):
    __slots__ = ("axis", "d", "keepdim", "scale")

    def forward(self, a, axis=None, correction=1, keepdim=False):
        mean = a.mean(axis=axis, keepdims=True)
        d = a - mean
        n = a.size if axis is None else math.prod(a.shape[i] for i in axis)
        denom = max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (d * d).sum(axis=axis, keepdims=keepdim) / a.dtype.type(denom)
        self.d = d
        self.scale = 2.0 / denom if denom > 0 else _builtin_float("nan")
        self.axis, self.keepdim = axis, keepdim
        return out

    def backward(self, g):
        d = self.d
        return (_grad_to_input(g, d.shape, self.axis, self.keepdim) * (d * self.scale),)


class Prod(Function):
    __slots__ = ("a", "axis", "keepdim", "out")

    def forward(self, a, axis=None, keepdim=False):
        self.a = a
        out = a.prod(axis=axis, keepdims=True)
        self.out, self.axis, self.keepdim = out, axis, keepdim
        if not keepdim:
            out = out.reshape(()) if axis is None else out.squeeze(axis)
        return out

    def backward(self, g):
        a = self.a
        xp = get_array_module(g)
        gexp = _grad_to_input(g, a.shape, self.axis, self.keepdim)
        if bool((a != 0).all()):
            return (gexp * self.out / a,)
        # zeros present: product of the others, computed directly along the reduced axes
        axes = tuple(range(a.ndim)) if self.axis is None else self.axis
        flat = xp.moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim)))
        lead = flat.shape[:a.ndim - len(axes)]
        flat = flat.reshape(lead + (-1,))
        ones = xp.ones(lead + (1,), dtype=a.dtype)
        left = xp.concatenate([ones, xp.cumprod(flat[..., :-1], axis=-1)], axis=-1)
        right = xp.flip(xp.concatenate([ones, xp.cumprod(xp.flip(flat[..., 1:], -1), -1)],
                                       -1), -1)
        others = (left * right).reshape(tuple(flat.shape[:-1]) +
                                        tuple(a.shape[i] for i in axes))
        others = xp.moveaxis(others, tuple(range(a.ndim - len(axes), a.ndim)), axes)
        return (gexp * others,)


# --------------------------------------------------------------------------------------------
# Functions: shapes and indexing

class Reshape(Function):
    __slots__ = ("shape",)

    def forward(self, a, shape=None):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return (g.reshape(self.shape),)


class Permute(Function):
    __slots__ = ("inv",)

    def forward(self, a, dims=None):
        self.inv = tuple(np.argsort(dims))
        return a.transpose(dims)

    def backward(self, g):
        return (g.transpose(self.inv),)


class Expand(Function):
    __slots__ = ("shape",)

    def forward(self, a, shape=None):
        self.shape = a.shape
        return get_array_module(a).broadcast_to(a, shape)

    def backward(self, g):
        return (_unbroadcast(g, self.shape),)


class Copy(Function):
    """clone / contiguous / dtype casts: a copy whose gradient goes back unchanged (cast back
    to the input dtype)."""

    __slots__ = ("dtype",)

    def forward(self, a, dtype=None, contiguous=False):
        self.dtype = a.dtype
        xp = get_array_module(a)
        if dtype is not None:
            return a.astype(dtype)
        return xp.ascontiguousarray(a) if contiguous else a.copy()

    def backward(self, g):
        return (g if g.dtype == self.dtype else g.astype(self.dtype),)


class GetItem(Function):
    __slots__ = ("advanced", "index", "shape")

    def forward(self, a, index=None, advanced=False):
        self.index, self.shape, self.advanced = index, a.shape, advanced
        return a[index]

    def backward(self, g):
        xp = get_array_module(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        if self.advanced:
            xp.add.at(gx, self.index, g)
        else:
            gx[self.index] = g
        return (gx,)


class SetItem(Function):
    """``out = a.copy(); out[index] = v`` (the graph form of ``a[index] = v``)."""

    __slots__ = ("index", "sv")

    def forward(self, a, v, index=None):
        out = a.copy()
        out[index] = v
        self.index, self.sv = index, v.shape
        return out

    def backward(self, g):
        n = self.needs_input_grad
        ga = gv = None
        if n[0]:
            ga = g.copy()
            ga[self.index] = 0
        if n[1]:
            gv = _unbroadcast(g[self.index], self.sv)
        return ga, gv


class Cat(Function):
    __slots__ = ("bounds", "dim")

    def forward(self, *arrays, dim=0):
        self.dim = dim
        self.bounds = np.cumsum([a.shape[dim] for a in arrays])
        return get_array_module(arrays[0]).concatenate(arrays, axis=dim)

    def backward(self, g):
        out = []
        start = 0
        sl = [slice(None)] * g.ndim
        for need, stop in zip(self.needs_input_grad, self.bounds):
            if need:
                sl[self.dim] = slice(start, int(stop))
                out.append(g[tuple(sl)])
            else:
                out.append(None)
            start = int(stop)
        return tuple(out)


class Stack(Function):
    __slots__ = ("dim",)

    def forward(self, *arrays, dim=0):
        self.dim = dim
        return get_array_module(arrays[0]).stack(arrays, axis=dim)

    def backward(self, g):
        xp = get_array_module(g)
        return tuple(xp.take(g, i, axis=self.dim) if need else None
                     for i, need in enumerate(self.needs_input_grad))


class Where(Function):
    __slots__ = ("cond", "sa", "sb")

    def forward(self, a, b, cond=None):
        self.cond, self.sa, self.sb = cond, a.shape, b.shape
        return get_array_module(a).where(cond, a, b)

    def backward(self, g):
        n = self.needs_input_grad
        zero = g.dtype.type(0)
        xp = get_array_module(g)
        return (_unbroadcast(xp.where(self.cond, g, zero), self.sa) if n[0] else None,
                _unbroadcast(xp.where(self.cond, zero, g), self.sb) if n[1] else None)


class Pad(Function):
    """Constant padding; ``widths`` is NumPy's per-axis ``(before, after)``, negative values
    crop."""

    __slots__ = ("crop",)

    def forward(self, a, widths=None, value=0.0):
        xp = get_array_module(a)
        pos = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        out = xp.pad(a, pos, mode="constant", constant_values=value) if any(
            lo or hi for lo, hi in pos) else a
        crop = tuple(slice(max(-lo, 0), out.shape[i] - max(-hi, 0))
                     for i, (lo, hi) in enumerate(widths))
        out = out[crop]
        # gradient: take the interior (positive pads) and zero-pad back what was cropped
        self.crop = [(lo, hi) for lo, hi in widths]
        return out

    def backward(self, g):
        xp = get_array_module(g)
        sl = tuple(slice(max(lo, 0), g.shape[i] - max(hi, 0))
                   for i, (lo, hi) in enumerate(self.crop))
        g = g[sl]
        neg = [(max(-lo, 0), max(-hi, 0)) for lo, hi in self.crop]
        if any(lo or hi for lo, hi in neg):
            g = xp.pad(g, neg)
        return (g,)


class Repeat(Function):
    __slots__ = ("reps", "shape")

    def forward(self, a, reps=None):
        self.reps, self.shape = reps, a.shape
        return get_array_module(a).tile(a, reps)

    def backward(self, g):
        # out shape: (r0*s0, r1*s1, ...) after left-padding shape with ones
        nd = len(self.reps)
        shape = (1,) * (nd - len(self.shape)) + tuple(self.shape)
        split = []
        for r, s in zip(self.reps, shape):
            split += [r, s]
        g = g.reshape(split).sum(axis=tuple(range(0, 2 * nd, 2)))
        return (g.reshape(self.shape),)


def _index_key(key: Any) -> tuple[Any, bool]:
    """Normalise an index: tensors -> arrays, lists -> arrays, bool masks -> nonzero().

    Returns the key and whether it uses advanced (array) indexing."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    advanced = False
    for k in key:
        if isinstance(k, Tensor):
            k = k.data
        elif isinstance(k, list):
            k = np.asarray(k)
        if hasattr(k, "dtype") and hasattr(k, "ndim") and not isinstance(k, _generic):
            advanced = True
            if k.dtype == np.bool_:
                out.extend(k.nonzero())
                continue
            if k.dtype.kind not in "iu":
                raise IndexError(f"tensors used as indices must be long, int or bool, got "
                                 f"dtype {k.dtype}")
        out.append(k)
    return tuple(out), advanced


# --------------------------------------------------------------------------------------------
# the Tensor

_new = object.__new__


def _make(data: Any, fn: Function | None) -> Tensor:
    t = _new(Tensor)
    if isinstance(data, _generic):
        data = np.asarray(data)
    t.data = data
    t.grad = None
    t._requires_grad = fn is not None
    t.grad_fn = fn
    t._hooks = None
    return t


def _wrap_grad(g: Any) -> Tensor:
    return _make(g, None)


def _steal_limit() -> int:
    # references held when the engine hands a gradient it alone owns to _accumulate_grad:
    # the caller's local and the callee's argument (measured, interpreter-dependent)
    def callee(g):
        return sys.getrefcount(g)

    def caller():
        d = {1: np.zeros(1)}
        _, lg = d.popitem()
        return callee(lg)

    return caller()


_STEAL_REFS = _steal_limit()


def _scalar(v: Any) -> Any:
    """A Python number for ``v`` if it is a scalar (weakly typed: does not upcast)."""
    c = v.__class__
    if c is int or c is _builtin_float:
        return v
    if isinstance(v, (bool, int, _builtin_float)):
        return _builtin_float(v) if isinstance(v, _builtin_float) else int(v)
    if isinstance(v, _generic) and v.dtype.kind in "biuf":
        return v.item()
    return None


def _as_operand(v: Any, like: Any) -> Tensor:
    """A constant tensor for a non-tensor operand; integer/0-d arrays take ``like``'s float
    dtype so they never promote it."""
    if isinstance(v, Tensor):
        return v
    xp = get_array_module(like)
    a = xp.asarray(v)
    if like.dtype.kind == "f" and a.dtype != like.dtype and (a.dtype.kind in "biu"
                                                              or a.ndim == 0):
        a = a.astype(like.dtype)
    return _make(a, None)


class Tensor:
    """A multi-dimensional array with automatic differentiation.

    Args:
        data: an array or nested sequence; NumPy arrays are used without a copy and keep
            their dtype, Python floats become the default dtype (float32).
        requires_grad: record operations on this tensor for ``backward`` (floating dtypes
            only).
        dtype: optional dtype to convert to.

    Example:
        >>> import striate
        >>> x = striate.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    __slots__ = ("__weakref__", "_hooks", "_requires_grad", "data", "grad", "grad_fn")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operators
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if type(data) is not _ndarray and not hasattr(data, "__cuda_array_interface__"):
            a = np.asarray(data)
            if dtype is None and a.dtype == np.float64 and not isinstance(data, _generic):
                a = a.astype(_default_dtype[0])
            data = a
        if dtype is not None and data.dtype != np.dtype(dtype):
            data = data.astype(dtype)
        self.data = data
        self.grad = None
        self.grad_fn = None
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # ---------------------------------------------------------------- autograd attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if value and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, "
                               f"got dtype {self.data.dtype}")
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place; returns ``self``."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self.grad_fn is None

    def backward(self, gradient: Any = None, retain_graph: bool | None = None) -> None:
        """Accumulate ``d self / d leaf`` into every leaf's ``.grad``.

        Args:
            gradient: the gradient w.r.t. ``self``; may be omitted for a one-element tensor
                (taken as 1).
            retain_graph: keep the graph so ``backward`` can run through it again (default
                False: the graph's saved arrays are freed and a second backward raises).

        Raises:
            RuntimeError: non-scalar without ``gradient``, ``self`` does not require grad, or
                the graph was freed by an earlier backward.
        """
        g = _ag._grad_array(self, gradient)
        _ag._run_backward([self], [g], bool(retain_graph))

    def register_hook(self, hook: Callable[[Tensor], Any]) -> _HookHandle:
        """Call ``hook(grad)`` whenever the gradient w.r.t. this tensor is computed.

        The hook may return a tensor to replace the gradient (it is then what flows on and,
        for leaves, what is accumulated into ``.grad``).  Returns a handle with
        ``remove()``.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self.grad_fn is not None:
            self.grad_fn.register_hook(hook)
            return _HookHandle(self.grad_fn._hooks, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after ``backward``."""
        if self.grad_fn is None:
            return
        import weakref

        ref = weakref.ref(self)

        def hook(g: Tensor) -> None:
            t = ref()
            if t is not None:
                if t.grad is None:
                    t.grad = _make(g.data.copy(), None)
                else:
                    t.grad.data = t.grad.data + g.data

        self.grad_fn.register_hook(hook)

    def _accumulate_grad(self, g: Any) -> None:
        if self._hooks is not None:
            for hook in self._hooks:
                r = hook(_make(g, None))
                if r is not None:
                    g = r.data if isinstance(r, Tensor) else r
        d = self.data
        if g.dtype != d.dtype:
            g = g.astype(d.dtype)
        if g.shape != d.shape:
            g = get_array_module(g).broadcast_to(g, d.shape)
        grad = self.grad
        if grad is None:
            # own the array: copy unless the engine holds the only reference to it
            if (isinstance(g, _generic) or g.base is not None or not g.flags.writeable
                    or sys.getrefcount(g) > _STEAL_REFS):
                g = g.copy()
            self.grad = _make(g, None)
        else:
            grad.data += g

    def __reduce_ex__(self, protocol: int) -> Any:
        # pickling / deepcopy keep data, requires_grad and grad (not the graph)
        return (_rebuild_tensor, (self.data, self._requires_grad, self.grad))

    def new_tensor(self, data: Any, dtype: Any = None, requires_grad: bool = False
                   ) -> Tensor:
        """A new tensor with ``self``'s dtype (unless given)."""
        return tensor(data, dtype=dtype or self.data.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return zeros(*size, dtype=dtype or self.data.dtype, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return ones(*size, dtype=dtype or self.data.dtype, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return empty(*size, dtype=dtype or self.data.dtype, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return full(size, fill_value, dtype=dtype or self.data.dtype,
                    requires_grad=requires_grad)

    def detach(self) -> Tensor:
        """A new tensor sharing ``data`` and outside any graph."""
        return _make(self.data, None)

    def detach_(self) -> Tensor:
        """Make ``self`` a leaf that does not require grad; returns ``self``."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ---------------------------------------------------------------- array attributes
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> str:
        return "cpu" if get_array_module(self.data) is np else "cuda"

    @property
    def is_cuda(self) -> bool:
        return self.device == "cuda"

    def size(self, dim: int | None = None) -> Any:
        """The shape (a tuple), or its entry at ``dim``."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def nelement(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def numpy(self) -> np.ndarray:
        """The NumPy array (shares memory with the tensor)."""
        d = self.data
        return d if get_array_module(d) is np else d.get()

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars, "
                             f"got shape {tuple(self.data.shape)}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is "
                               f"ambiguous (shape {tuple(self.data.shape)})")
        return bool(self.data.item())

    def __float__(self) -> _builtin_float:
        return _builtin_float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self.data.size == 1 and self.data.ndim <= 1 and spec:
            return format(self.data.item(), spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __repr__(self) -> str:
        d = self.numpy()
        body = np.array2string(d, separator=", ", prefix="tensor(", precision=4,
                               suppress_small=False, threshold=1000, edgeitems=3)
        extras = []
        if d.dtype not in (_default_dtype[0], np.int64, np.bool_):
            extras.append(f"dtype={d.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ---------------------------------------------------------------- dtype conversions
    def to(self, *args: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        """Convert dtype (``to(striate.float64)``); device strings ``'cpu'`` are accepted."""
        for a in args:
            if isinstance(a, str) and a in ("cpu",):
                continue
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) and a.startswith("cuda"):
                raise RuntimeError("to('cuda'): CuPy support is not enabled in this build")
            else:
                dtype = a
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        return Copy.apply(self, dtype=np.dtype(dtype))

    def type(self, dtype: Any = None) -> Any:
        if dtype is None:
            return str(self.data.dtype)
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def cpu(self) -> Tensor:
        return self

    def clone(self) -> Tensor:
        """A copy that stays in the graph (gradient flows back to ``self``)."""
        return Copy.apply(self)

    def contiguous(self) -> Tensor:
        if self.data.flags.c_contiguous:
            return self
        return Copy.apply(self, contiguous=True)

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return Add.apply(self, other)
        s = _scalar(other)
        if s is not None:
            return AddS.apply(self, s=s)
        return Add.apply(self, _as_operand(other, self.data))

    def __radd__(self, other: Any) -> Tensor:
        s = _scalar(other)
        if s is not None:
            return AddS.apply(self, s=s)
        return Add.apply(_as_operand(other, self.data), self)

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return Sub.apply(self, other)
        s = _scalar(other)
        if s is not None:
            return AddS.apply(self, s=-s)
        return Sub.apply(self, _as_operand(other, self.data))

    def __rsub__(self, other: Any) -> Tensor:
        s = _scalar(other)
        if s is not None:
            return RSubS.apply(self, s=s)
        return Sub.apply(_as_operand(other, self.data), self)

    def __mul__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return Mul.apply(self, other)
        s = _scalar(other)
        if s is not None:
            return MulS.apply(self, s=s)
        return Mul.apply(self, _as_operand(other, self.data))

    def __rmul__(self, other: Any) -> Tensor:
        s = _scalar(other)
        if s is not None:
            return MulS.apply(self, s=s)
        return Mul.apply(_as_operand(other, self.data), self)

    def __truediv__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return Div.apply(self, other)
        s = _scalar(other)
        if s is not None:
            return DivS.apply(self, s=s)
        return Div.apply(self, _as_operand(other, self.data))

    def __rtruediv__(self, other: Any) -> Tensor:
        s = _scalar(other)
        if s is not None:
            return RDivS.apply(self, s=s)
        return Div.apply(_as_operand(other, self.data), self)

    def __pow__(self, other: Any) -> Tensor:
        s = _scalar(other)
        if s is not None:
            if s == 1:
                return Copy.apply(self)
            return PowS.apply(self, p=s)
        return Pow.apply(self, _as_operand(other, self.data))

    def __rpow__(self, other: Any) -> Tensor:
        s = _scalar(other)
        if s is not None:
            return RPowS.apply(self, s=s)
        return Pow.apply(_as_operand(other, self.data), self)

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return Abs.apply(self)

    def __matmul__(self, other: Any) -> Tensor:
        return MatMul.apply(self, _as_operand(other, self.data))

    def __rmatmul__(self, other: Any) -> Tensor:
        return MatMul.apply(_as_operand(other, self.data), self)

    def __floordiv__(self, other: Any) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return _make(self.data // o, None)

    def __mod__(self, other: Any) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return _make(self.data % o, None)

    add = __add__
    sub = __sub__
    subtract = __sub__
    mul = __mul__
    multiply = __mul__
    div = __truediv__
    divide = __truediv__
    true_divide = __truediv__
    pow = __pow__
    neg = __neg__
    negative = __neg__
    matmul = __matmul__

    def mm(self, other: Tensor) -> Tensor:
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        return MatMul.apply(self, other)

    def bmm(self, other: Tensor) -> Tensor:
        if self.data.ndim != 3 or other.data.ndim != 3:
            raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(self.shape)} "
                               f"and {tuple(other.shape)}")
        return MatMul.apply(self, other)

    def dot(self, other: Tensor) -> Tensor:
        return MatMul.apply(self, other)

    # comparisons: no gradient, bool result
    def _cmp(self, other: Any, op: Callable) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        return _make(op(self.data, o), None)

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._cmp(other, _op_eq)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._cmp(other, _op_ne)

    def __lt__(self, other: Any) -> Tensor:
        return self._cmp(other, _op_lt)

    def __le__(self, other: Any) -> Tensor:
        return self._cmp(other, _op_le)

    def __gt__(self, other: Any) -> Tensor:
        return self._cmp(other, _op_gt)

    def __ge__(self, other: Any) -> Tensor:
        return self._cmp(other, _op_ge)

    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__

    def __and__(self, other: Any) -> Tensor:
        return self._cmp(other, _op_and)

    def __or__(self, other: Any) -> Tensor:
        return self._cmp(other, _op_or)

    def __xor__(self, other: Any) -> Tensor:
        return self._cmp(other, _op_xor)

    def __invert__(self) -> Tensor:
        return _make(~self.data, None)

    def logical_not(self) -> Tensor:
        return _make(get_array_module(self.data).logical_not(self.data), None)

    def equal(self, other: Tensor) -> bool:
        return self.shape == other.shape and bool((self.data == other.data).all())

    def allclose(self, other: Any, rtol: _builtin_float = 1e-5, atol: _builtin_float = 1e-8,
                 equal_nan: bool = False) -> bool:
        o = other.data if isinstance(other, Tensor) else other
        return bool(get_array_module(self.data).allclose(self.data, o, rtol=rtol, atol=atol,
                                                         equal_nan=equal_nan))

    def isnan(self) -> Tensor:
        return _make(get_array_module(self.data).isnan(self.data), None)

    def isfinite(self) -> Tensor:
        return _make(get_array_module(self.data).isfinite(self.data), None)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _make(self.data.all(axis=_norm_axis(dim, self.data.ndim), keepdims=keepdim),
                     None)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _make(self.data.any(axis=_norm_axis(dim, self.data.ndim), keepdims=keepdim),
                     None)

    # ---------------------------------------------------------------- elementwise math
    def exp(self) -> Tensor:
        return Exp.apply(self)

    def log(self) -> Tensor:
        return Log.apply(self)

    def sqrt(self) -> Tensor:
        return Sqrt.apply(self)

    def log1p(self) -> Tensor:
        return Log1p.apply(self)

    def expm1(self) -> Tensor:
        return Expm1.apply(self)

    def sin(self) -> Tensor:
        return Sin.apply(self)

    def cos(self) -> Tensor:
        return Cos.apply(self)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        """``log(sum(exp(x)))`` along ``dim``, computed stably; gradient ``softmax(x)``."""
        return LogSumExp.apply(self, axis=_norm_axis(dim, self.data.ndim), keepdim=keepdim)

    def rsqrt(self) -> Tensor:
        return PowS.apply(self, p=-0.5)

    def abs(self) -> Tensor:
        return Abs.apply(self)

    def sign(self) -> Tensor:
        return Sign.apply(self)

    def square(self) -> Tensor:
        return PowS.apply(self, p=2)

    def reciprocal(self) -> Tensor:
        return RDivS.apply(self, s=1.0)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """Clip to ``[min, max]``; the gradient passes where ``min <= x <= max``."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min or max must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = out.maximum(_as_operand(min, self.data))
            if max is not None:
                out = out.minimum(_as_operand(max, self.data))
            return out
        return Clamp.apply(self, lo=min, hi=max)

    clip = clamp

    def clamp_min(self, min: Any) -> Tensor:
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Tensor:
        return self.clamp(max=max)

    def maximum(self, other: Any) -> Tensor:
        return Maximum.apply(self, _as_operand(other, self.data))

    def minimum(self, other: Any) -> Tensor:
        return Minimum.apply(self, _as_operand(other, self.data))

    def sigmoid(self) -> Tensor:
        return _F().sigmoid(self)

    def tanh(self) -> Tensor:
        return _F().tanh(self)

    def relu(self) -> Tensor:
        return _F().relu(self)

    def softmax(self, dim: int) -> Tensor:
        return _F().softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _F().log_softmax(self, dim)

    # ---------------------------------------------------------------- reductions
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        return Sum.apply(x, axis=_norm_axis(dim, x.data.ndim), keepdim=keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        if x.data.dtype.kind not in "fc":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be "
                               f"either a floating point or complex dtype. Got: {x.dtype}")
        return Mean.apply(x, axis=_norm_axis(dim, x.data.ndim), keepdim=keepdim)

    def prod(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return Prod.apply(self, axis=_norm_axis(dim, self.data.ndim), keepdim=keepdim)

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
            correction: Any = None) -> Tensor:
        """Variance over ``dim`` with Bessel's correction by default (``correction=1``)."""
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return Var.apply(self, axis=_norm_axis(dim, self.data.ndim),
                         correction=correction, keepdim=keepdim)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
            correction: Any = None) -> Tensor:
        return self.var(dim, unbiased, keepdim, correction).sqrt()

    def _extremum(self, dim: Any, keepdim: bool, is_max: bool) -> Any:
        if dim is None:
            return AMaxMin.apply(self, axis=None, keepdim=False, is_max=is_max)
        if isinstance(dim, Tensor):  # torch.max(a, b) elementwise
            return self.maximum(dim) if is_max else self.minimum(dim)
        d = _norm_axis(dim, self.data.ndim)[0] if self.data.ndim else 0
        xp = get_array_module(self.data)
        if self.data.ndim == 0:
            return _MaxMin(self, _make(xp.zeros((), dtype=np.int64), None))
        f = xp.argmax if is_max else xp.argmin
        idx = xp.expand_dims(f(self.data, axis=d), d)
        values = TakeAlongDim.apply(self, idx=idx, dim=d, keepdim=keepdim)
        return _MaxMin(values, _make(idx if keepdim else idx.squeeze(d), None))

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Largest element, or ``(values, indices)`` along ``dim`` (see module docs for the
        gradient on ties)."""
        return self._extremum(dim, keepdim, True)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        return self._extremum(dim, keepdim, False)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return AMaxMin.apply(self, axis=_norm_axis(dim, self.data.ndim), keepdim=keepdim,
                             is_max=True)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return AMaxMin.apply(self, axis=_norm_axis(dim, self.data.ndim), keepdim=keepdim,
                             is_max=False)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        xp = get_array_module(self.data)
        if dim is None:
            return _make(xp.asarray(xp.argmax(self.data)), None)
        return _make(xp.argmax(self.data, axis=dim, keepdims=keepdim), None)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        xp = get_array_module(self.data)
        if dim is None:
            return _make(xp.asarray(xp.argmin(self.data)), None)
        return _make(xp.argmin(self.data, axis=dim, keepdims=keepdim), None)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
             ) -> Any:
        """The ``k`` largest (or smallest) entries along ``dim`` as ``(values, indices)``;
        the gradient flows to the selected entries."""
        xp = get_array_module(self.data)
        d = dim % max(self.data.ndim, 1)
        n = self.data.shape[d]
        if not 0 <= k <= n:
            raise RuntimeError(f"topk: expected k in [0, {n}] for dimension {dim} of shape "
                               f"{tuple(self.shape)}, got {k}")
        key = -self.data if largest else self.data
        idx = xp.argsort(key, axis=d, kind="stable")
        idx = xp.take(idx, xp.arange(k), axis=d)
        values = TakeAlongDim.apply(self, idx=idx, dim=d, keepdim=True)
        return _MaxMin(values, _make(idx, None))

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = True) -> Any:
        """Sorted values along ``dim`` and their indices (``(values, indices)``)."""
        xp = get_array_module(self.data)
        d = dim % max(self.data.ndim, 1)
        idx = xp.argsort(-self.data if descending else self.data, axis=d, kind="stable")
        return _MaxMin(TakeAlongDim.apply(self, idx=idx, dim=d, keepdim=True),
                       _make(idx, None))

    def argsort(self, dim: int = -1, descending: bool = False) -> Tensor:
        return self.sort(dim, descending).indices

    def cumsum(self, dim: int) -> Tensor:
        """Cumulative sum along ``dim``."""
        return CumSum.apply(self, dim=dim % max(self.data.ndim, 1))

    def norm(self, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
        if p == 2 or p == "fro":
            return (self * self).sum(dim, keepdim).sqrt()
        if p == 1:
            return self.abs().sum(dim, keepdim)
        if p == _builtin_float("inf"):
            return self.abs().amax(dim, keepdim)
        return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        idx = index.data if isinstance(index, Tensor) else np.asarray(index)
        return Gather.apply(self, idx=idx, dim=dim % max(self.data.ndim, 1))

    # ---------------------------------------------------------------- shapes
    def reshape(self, *shape: Any) -> Tensor:
        shape = _size(shape) if shape else ()
        if shape == self.data.shape:
            return self
        return Reshape.apply(self, shape=shape)

    def view(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return self.to(shape[0])
        return self.reshape(*shape)

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        shape = self.data.shape
        nd = len(shape)
        if nd == 0:
            return self.reshape(1)
        s, e = start_dim % nd, end_dim % nd
        if s > e:
            raise RuntimeError(f"flatten() has invalid args: start_dim {start_dim} cannot come "
                               f"after end_dim {end_dim}")
        return self.reshape(shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        shape = self.data.shape
        d = dim % len(shape)
        return self.reshape(shape[:d] + tuple(sizes) + shape[d + 1:])

    def squeeze(self, dim: Any = None) -> Tensor:
        shape = self.data.shape
        if dim is None:
            new = tuple(s for s in shape if s != 1)
        else:
            axes = _norm_axis(dim, len(shape)) if shape else ()
            new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
        return self.reshape(new)

    def unsqueeze(self, dim: int) -> Tensor:
        shape = self.data.shape
        nd = len(shape) + 1
        if not -nd <= dim < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                             f"{nd - 1}], but got {dim})")
        d = dim % nd
        return self.reshape(shape[:d] + (1,) + shape[d:])

    def permute(self, *dims: Any) -> Tensor:
        dims = _size(dims)
        nd = self.data.ndim
        if sorted(d % nd for d in dims) != list(range(nd)):
            raise RuntimeError(f"permute: dims {dims} is not a permutation of the {nd} "
                               f"dimensions of shape {tuple(self.shape)}")
        return Permute.apply(self, dims=tuple(d % nd for d in dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        nd = self.data.ndim
        if nd < 2 and dim0 in (0, -1) and dim1 in (0, -1):
            return self
        perm = list(range(nd))
        a, b = dim0 % nd, dim1 % nd
        perm[a], perm[b] = perm[b], perm[a]
        return Permute.apply(self, dims=tuple(perm))

    swapaxes = transpose

    def t(self) -> Tensor:
        if self.data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got shape "
                               f"{tuple(self.shape)}")
        return self.transpose(0, 1) if self.data.ndim == 2 else self

    @property
    def T(self) -> Tensor:
        nd = self.data.ndim
        return Permute.apply(self, dims=tuple(range(nd - 1, -1, -1))) if nd > 1 else self

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    def expand(self, *sizes: Any) -> Tensor:
        sizes = _size(sizes)
        shape = self.data.shape
        lead = len(sizes) - len(shape)
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                               f"greater or equal to the number of dimensions in the tensor "
                               f"({len(shape)})")
        full = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return Expand.apply(self, shape=full)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return self.expand(tuple(shape))

    def repeat(self, *reps: Any) -> Tensor:
        reps = _size(reps)
        if len(reps) < self.data.ndim:
            raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller "
                               f"than number of dimensions of tensor ({self.data.ndim})")
        return Repeat.apply(self, reps=reps)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple:
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        return chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple:
        d = dim % self.data.ndim
        idx = (slice(None),) * d
        return tuple(self[idx + (i,)] for i in range(self.data.shape[d]))

    def __getitem__(self, key: Any) -> Tensor:
        index, advanced = _index_key(key)
        if len(index) == 1 and not advanced:
            index = index[0]
        return GetItem.apply(self, index=index, advanced=advanced)

    def __setitem__(self, key: Any, value: Any) -> None:
        index, advanced = _index_key(key)
        if len(index) == 1 and not advanced:
            index = index[0]
        v_req = isinstance(value, Tensor) and value._requires_grad
        if _grad_enabled[0] and (self._requires_grad or v_req):
            self._check_inplace()
            out = SetItem.apply(self, _as_operand(value, self.data), index=index)
            self._rebind(out)
            return
        self.data[index] = value.data if isinstance(value, Tensor) else value

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        v = value if isinstance(value, Tensor) else _make(
            get_array_module(self.data).asarray(value, dtype=self.data.dtype), None)
        return Where.apply(v, self, cond=m)

    # ---------------------------------------------------------------- in place
    def _check_inplace(self) -> None:
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")

    def _rebind(self, out: Tensor) -> Tensor:
        self.data = out.data
        self.grad_fn = out.grad_fn
        self._requires_grad = out._requires_grad
        return self

    def _inplace(self, other: Any, op: Callable, inplace_np: Callable) -> Tensor:
        o_req = isinstance(other, Tensor) and other._requires_grad
        if _grad_enabled[0] and (self._requires_grad or o_req):
            self._check_inplace()
            return self._rebind(op(self, other))
        o = other.data if isinstance(other, Tensor) else other
        inplace_np(self.data, o)
        return self

    def add_(self, other: Any, alpha: Any = None) -> Tensor:
        if alpha is not None:
            other = other * alpha
        return self._inplace(other, _op_add_t, _np_iadd)

    def sub_(self, other: Any, alpha: Any = None) -> Tensor:
        if alpha is not None:
            other = other * alpha
        return self._inplace(other, _op_sub_t, _np_isub)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(other, _op_mul_t, _np_imul)

    def div_(self, other: Any) -> Tensor:
        return self._inplace(other, _op_div_t, _np_idiv)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def zero_(self) -> Tensor:
        """Fill with zeros in place (on ``.data``); returns ``self``."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        if _grad_enabled[0] and self._requires_grad:
            self._check_inplace()
            xp = get_array_module(self.data)
            return self._rebind(self * 0 + _make(xp.full_like(self.data, value), None))
        self.data[...] = value.data if isinstance(value, Tensor) else value
        return self

    def copy_(self, src: Any) -> Tensor:
        s = src.data if isinstance(src, Tensor) else src
        if _grad_enabled[0] and (self._requires_grad or
                                 (isinstance(src, Tensor) and src._requires_grad)):
            self._check_inplace()
            src_t = src if isinstance(src, Tensor) else _make(
                get_array_module(self.data).asarray(s), None)
            return self._rebind(Expand.apply(src_t.to(self.dtype), shape=self.data.shape)
                                + self * 0)
        self.data[...] = s
        return self

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        if _grad_enabled[0] and self._requires_grad:
            self._check_inplace()
            return self._rebind(self.clamp(min, max))
        get_array_module(self.data).clip(self.data, min, max, out=self.data)
        return self

    clip_ = clamp_

    def normal_(self, mean: _builtin_float = 0.0, std: _builtin_float = 1.0,
                generator: Generator | None = None) -> Tensor:
        """Fill with N(mean, std^2) samples from ``generator`` (default: global)."""
        rng = get_generator(generator)
        self.data[...] = rng.normal(mean, std, size=self.data.shape)
        return self

    def uniform_(self, a: _builtin_float = 0.0, b: _builtin_float = 1.0,
                 generator: Generator | None = None) -> Tensor:
        """Fill with U(a, b) samples from ``generator`` (default: global)."""
        rng = get_generator(generator)
        self.data[...] = rng.uniform(a, b, size=self.data.shape)
        return self

    def bernoulli_(self, p: _builtin_float = 0.5, generator: Generator | None = None
                   ) -> Tensor:
        rng = get_generator(generator)
        self.data[...] = rng.random(self.data.shape) < p
        return self


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hook", "_hooks")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass


_MaxMin = namedtuple("max", ["values", "indices"])


def _rebuild_tensor(data: Any, requires_grad: bool, grad: Any) -> Tensor:
    t = Tensor(data, requires_grad=requires_grad)
    t.grad = grad
    return t


def _op_eq(a, b):
    return a == b


def _op_ne(a, b):
    return a != b


def _op_lt(a, b):
    return a < b


def _op_le(a, b):
    return a <= b


def _op_gt(a, b):
    return a > b


def _op_ge(a, b):
    return a >= b


def _op_and(a, b):
    return a & b


def _op_or(a, b):
    return a | b


def _op_xor(a, b):
    return a ^ b


def _op_add_t(a, b):
    return a + b


def _op_sub_t(a, b):
    return a - b


def _op_mul_t(a, b):
    return a * b


def _op_div_t(a, b):
    return a / b


def _np_iadd(a, b):
    a += b


def _np_isub(a, b):
    a -= b


def _np_imul(a, b):
    a *= b


def _np_idiv(a, b):
    a /= b


_F_mod = []


def _F():
    if not _F_mod:
        import striate.functional as F

        _F_mod.append(F)
    return _F_mod[0]


_ag._make_tensor = _make
_ag._wrap_grad = _wrap_grad


# --------------------------------------------------------------------------------------------
# module-level functions and factories

def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats -> the default dtype, float32).

    Example:
        >>> import striate
        >>> striate.tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
    """
    if isinstance(data, Tensor):
        data = data.data
    xp = get_array_module(data)
    if xp is np:
        a = np.array(data, dtype=_dtype(dtype))
        if dtype is None and a.dtype == np.float64 and not (
                isinstance(data, (np.ndarray, _generic))):
            a = a.astype(_default_dtype[0])
    else:
        a = xp.array(data, dtype=_dtype(dtype))
    return Tensor(a, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """Like :func:`tensor` but shares memory with NumPy input when no conversion is needed."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        return Tensor(data if dtype is None else data.astype(dtype, copy=False))
    return tensor(data, dtype=dtype)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``a`` (its dtype kept)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(a).__name__}")
    return Tensor(a)


def _factory(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _make(arr, None)
    if requires_grad:
        t.requires_grad = True
    return t


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros with shape ``size`` (default dtype float32)."""
    return _factory(np.zeros(_size(size), dtype=_dtype(dtype) or _default_dtype[0]),
                    requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones with shape ``size`` (default dtype float32)."""
    return _factory(np.ones(_size(size), dtype=_dtype(dtype) or _default_dtype[0]),
                    requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor with shape ``size`` (default dtype float32)."""
    return _factory(np.empty(_size(size), dtype=_dtype(dtype) or _default_dtype[0]),
                    requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``."""
    if dtype is None:
        dtype = (_default_dtype[0] if isinstance(fill_value, _builtin_float)
                 else np.asarray(fill_value).dtype)
    return _factory(np.full(_size((size,)), fill_value, dtype=dtype), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False,
          generator: Generator | None = None) -> Tensor:
    """Standard normal samples with shape ``size`` from ``generator`` (default: the global
    one seeded by ``striate.manual_seed``)."""
    d = _dtype(dtype) or _default_dtype[0]
    rng = get_generator(generator)
    a = rng.standard_normal(_size(size), dtype=d if d in (float32, float64) else float64)
    return _factory(a.astype(d, copy=False), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False,
         generator: Generator | None = None) -> Tensor:
    """Uniform samples on ``[0, 1)`` with shape ``size``."""
    d = _dtype(dtype) or _default_dtype[0]
    rng = get_generator(generator)
    a = rng.random(_size(size), dtype=d if d in (float32, float64) else float64)
    return _factory(a.astype(d, copy=False), requires_grad)


def randint(low: int, high: int | None = None, size: Any = None, dtype: Any = None,
            generator: Generator | None = None) -> Tensor:
    """Integers on ``[low, high)`` (``randint(high, size)`` also accepted)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected a size argument")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    rng = get_generator(generator)
    return _make(rng.integers(low, high, size=_size((size,)),
                              dtype=_dtype(dtype) or np.int64), None)


def randperm(n: int, dtype: Any = None, generator: Generator | None = None) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    rng = get_generator(generator)
    return _make(rng.permutation(n).astype(_dtype(dtype) or np.int64), None)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values in ``[start, end)`` with ``step`` (int64 for integer arguments, else float32)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _default_dtype[0]
    return _factory(np.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start: Any, end: Any, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _factory(np.linspace(start, end, steps, dtype=_dtype(dtype) or _default_dtype[0]),
                    requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.eye(n, m, dtype=_dtype(dtype) or _default_dtype[0]), requires_grad)


def _like(t: Any, dtype: Any) -> tuple:
    d = t.data if isinstance(t, Tensor) else np.asarray(t)
    return d.shape, _dtype(dtype) or d.dtype


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, d = _like(t, dtype)
    return zeros(shape, dtype=d, requires_grad=requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, d = _like(t, dtype)
    return ones(shape, dtype=d, requires_grad=requires_grad)


def empty_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, d = _like(t, dtype)
    return empty(shape, dtype=d, requires_grad=requires_grad)


def full_like(t: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False
              ) -> Tensor:
    shape, d = _like(t, dtype)
    return full(shape, fill_value, dtype=d, requires_grad=requires_grad)


def randn_like(t: Any, dtype: Any = None, requires_grad: bool = False,
               generator: Generator | None = None) -> Tensor:
    shape, d = _like(t, dtype)
    return randn(shape, dtype=d, requires_grad=requires_grad, generator=generator)


def rand_like(t: Any, dtype: Any = None, requires_grad: bool = False,
              generator: Generator | None = None) -> Tensor:
    shape, d = _like(t, dtype)
    return rand(shape, dtype=d, requires_grad=requires_grad, generator=generator)


def _tensors(seq: Iterable[Any], fn: str) -> list:
    ts = list(seq)
    if not ts:
        raise ValueError(f"{fn}: expected a non-empty sequence of tensors")
    like = next((t.data for t in ts if isinstance(t, Tensor)), None)
    if like is None:
        return [_make(np.asarray(t), None) for t in ts]
    return [_as_operand(t, like) for t in ts]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension ``dim``.

    Raises:
        ValueError: empty input, or shapes that differ outside ``dim``.
    """
    ts = _tensors(tensors, "cat")
    nd = ts[0].data.ndim
    d = dim % max(nd, 1)
    ref = ts[0].data.shape
    for i, t in enumerate(ts):
        s = t.data.shape
        if len(s) != nd or s[:d] + s[d + 1:] != ref[:d] + ref[d + 1:]:
            raise ValueError(f"cat: expected tensor {i} with shape matching {ref} except in "
                             f"dimension {dim}, got shape {s}")
    return Cat.apply(*ts, dim=d)


concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack along a new dimension ``dim``.

    Raises:
        ValueError: empty input or unequal shapes.
    """
    ts = _tensors(tensors, "stack")
    ref = ts[0].data.shape
    for i, t in enumerate(ts):
        if t.data.shape != ref:
            raise ValueError(f"stack: expected each tensor to have shape {ref}, got shape "
                             f"{t.data.shape} for tensor {i}")
    return Stack.apply(*ts, dim=dim % (len(ref) + 1))


def split(t: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (last may be smaller) or of the listed sizes."""
    n = t.data.shape[dim]
    d = dim % t.data.ndim
    if isinstance(split_size_or_sections, (int, np.integer)):
        s = int(split_size_or_sections)
        if s <= 0:
            raise ValueError(f"split: expected split_size > 0, got {s}")
        sizes = [min(s, n - i) for i in range(0, n, s)] or [0]
    else:
        sizes = [int(v) for v in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: split sizes {sizes} must sum to the size of dimension "
                             f"{dim} ({n})")
    pre = (slice(None),) * d
    out = []
    start = 0
    for s in sizes:
        out.append(t[pre + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(t: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of ``ceil(n / chunks)`` (the last may be smaller)."""
    if chunks <= 0:
        raise ValueError(f"chunk: expected chunks > 0, got {chunks}")
    n = t.data.shape[dim]
    return split(t, max(-(-n // chunks), 1), dim)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """Elementwise ``input if condition else other`` (gradients flow to both branches where
    selected).  With only ``condition``, the indices of its non-zero entries."""
    c = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(_make(i, None) for i in c.nonzero())
    if isinstance(input, Tensor):
        like = input.data
    elif isinstance(other, Tensor):
        like = other.data
    else:  # two Python numbers: float results take the default dtype, as in PyTorch
        like = np.asarray(input)
        if like.dtype == np.float64 and not isinstance(input, (np.ndarray, _generic)):
            like = like.astype(_default_dtype[0])
    a = _as_operand(input, like)
    b = _as_operand(other, like)
    return Where.apply(a, b, cond=c.astype(bool, copy=False))


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's broadcasting rules (2-D float32 runs on striate's GEMM)."""
    if not isinstance(a, Tensor):
        a = _as_operand(a, b.data)
    return a @ b

