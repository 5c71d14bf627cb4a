"""``linear`` (``x @ W^T + b``) and ``dropout``."""

from __future__ import annotations

import numpy as np

from striate.autograd import Function, _grad_enabled, get_array_module
from striate.functional._util import kfn
from striate.kernels._validate import drop_probability
from striate.random import Generator, dropout_keep, get_generator
from striate.tensor import Tensor, _ndarray, _sgemm

__all__ = ["alpha_dropout", "bilinear", "dropout", "dropout2d", "linear"]

_f32 = np.dtype(np.float32)


class Linear(Function):
    """``y = x @ W^T + b`` over the last axis of ``x``; 2-D float32 runs on striate's GEMM."""

    __slots__ = ("lead", "w", "x")

    def forward(self, x, w, b=None):
        n = self.needs_input_grad
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        fast = x2.dtype == _f32 and w.dtype == _f32 and type(x2) is _ndarray
        y = _sgemm(x2, w, tb=True) if fast else x2 @ w.T
        if b is not None:
            if fast and b.dtype == _f32 and type(b) is _ndarray:
                kfn(y, "bias_act")(y, b, "none", out=y)  # threaded, in place
            else:
                y += b
        self.x = x2 if n[1] else None
        self.w = w if n[0] else None
        self.lead = lead
        return y.reshape(lead + (w.shape[0],)) if x.ndim != 2 else y

    def backward(self, g):
        n = self.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        fast = g2.dtype == _f32 and type(g2) is _ndarray
        gx = gw = gb = None
        if n[0]:
            w = self.w
            gx = _sgemm(g2, w) if fast and w.dtype == _f32 else g2 @ w
            gx = gx.reshape(self.lead + (w.shape[1],))
        if n[1]:
            x = self.x
            gw = _sgemm(g2, x, ta=True) if fast and x.dtype == _f32 else g2.T @ x
        if len(n) > 2 and n[2]:
            # column sums as a threaded matrix-vector product (ones @ g)
            gb = (_sgemm(np.ones((1, g2.shape[0]), _f32), g2)[0] if fast
                  else g2.sum(axis=0))
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Affine map ``input @ weight.T + bias``.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: optional ``(out_features,)``.

    Shape:
        ``(*, in_features) -> (*, out_features)``.

    Raises:
        ValueError: ``weight`` not 2-D, feature sizes that differ, ``bias`` of the wrong shape.

    Example:
        >>> import striate, striate.functional as F
        >>> F.linear(striate.ones(2, 3), striate.ones(4, 3)).shape
        (2, 4)
    """
    xs, ws = input.data.shape, weight.data.shape
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        if len(ws) != 2:
            raise ValueError(f"linear: expected weight with 2 dimensions (out_features, "
                             f"in_features), got shape {ws}")
        raise ValueError(f"linear: expected input with {ws[1]} features in its last dimension "
                         f"(weight shape {ws}), got input shape {xs}")
    if bias is None:
        return Linear.apply(input, weight)
    if bias.data.shape != (ws[0],):
        raise ValueError(f"linear: expected bias with shape ({ws[0]},) (weight shape {ws}), "
                         f"got {bias.data.shape}")
    return Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k``; weight ``(out, in1, in2)``."""
    if weight.data.ndim != 3:
        raise ValueError(f"bilinear: expected weight with 3 dimensions, got shape "
                         f"{weight.data.shape}")
    t = (input1.unsqueeze(-2).unsqueeze(-2) @ weight @ input2.unsqueeze(-2).unsqueeze(-1))
    y = t.squeeze(-1).squeeze(-1)
    return y if bias is None else y + bias


class Dropout(Function):
    """``x * mask`` with a given float mask (NumPy formula: other dtypes, CuPy, channel
    masks)."""

    __slots__ = ("mask",)

    def forward(self, x, mask=None):
        self.mask = mask
        return x * mask

    def backward(self, g):
        return (g * self.mask,)


class DropoutKernel(Function):
    """Elementwise dropout of a float32 NumPy array by the compiled kernel: the mask drawn,
    applied and kept (as bytes) in one pass."""

    __slots__ = ("keep", "p")

    def forward(self, x, p=0.5, seed=0):
        y, self.keep = kfn(x, "dropout")(x, p, seed)
        self.p = p
        return y

    def backward(self, g):
        k = kfn(g, "dropout_backward")
        if k is not None:
            return (k(g, self.keep, self.p),)
        scale = g.dtype.type(0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p))
        return (g * (self.keep * scale),)


def _stream(generator: Generator | None) -> int:
    """A fresh dropout stream: 64 bits drawn from ``generator`` (default: the global one)."""
    return int(get_generator(generator).integers(0, 2**64, dtype=np.uint64))


def _keep(shape, p, generator, xp):
    """Dropout's keep decisions for ``shape`` (nonzero: kept), an ``xp`` array, from a fresh
    stream of ``generator``: on NumPy by the compiled kernel (run in place on ones, its mask
    is what is kept), otherwise by the same stream computed with ``xp``
    (:func:`striate.random.dropout_keep`), so every dtype and shape draws the same decisions
    from the same generator state."""
    seed = _stream(generator)
    if xp is np:
        ones = np.ones(shape, np.float32)
        return kfn(ones, "dropout")(ones, p, seed, out=ones)[1]
    return dropout_keep(shape, p, seed, xp)


def _keep_mask(shape, p, dtype, generator, xp):
    """Dropout's float mask for ``shape``, an ``xp`` array: ``1 / (1 - p)`` where kept, 0
    where dropped (decisions from :func:`_keep`)."""
    scale = dtype.type(0.0 if p == 1.0 else 1.0 / (1.0 - p))
    return _keep(shape, p, generator, xp).astype(dtype) * scale


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False, generator: Generator | None = None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from ``generator`` (default: the global one seeded by
    ``striate.manual_seed``), so a seeded run reproduces the same masks.

    Args:
        input: any shape.
        p: drop probability in ``[0, 1]``.
        training: identity when False.
        inplace: overwrite ``input.data`` when no graph is recorded.

    Raises:
        ValueError: ``p`` outside ``[0, 1]``.
    """
    p = drop_probability(p, "dropout")
    if not training or p == 0.0:
        return input
    x = input.data
    kernel = kfn(x, "dropout")
    if kernel is not None:  # float32 NumPy: mask drawn and applied in one pass
        seed = _stream(generator)
        if inplace and x.flags.c_contiguous and not (input.requires_grad and _grad_enabled[0]):
            kernel(x, p, seed, out=x)
            return input
        return DropoutKernel.apply(input, p=p, seed=seed)
    mask = _keep_mask(x.shape, p, x.dtype, generator, get_array_module(x))
    if inplace and not (input.requires_grad and _grad_enabled[0]):
        x *= mask
        return input
    return Dropout.apply(input, mask=mask)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False, generator: Generator | None = None) -> Tensor:
    """Zero whole channels of an ``(N, C, H, W)`` (or ``(C, H, W)``) input with probability
    ``p``; the kept channels are scaled by ``1 / (1 - p)``."""
    p = drop_probability(p, "dropout2d")
    if not training or p == 0.0:
        return input
    x = input.data
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected input with 3 or 4 dimensions, got shape "
                         f"{x.shape}")
    shape = x.shape[:-2] + (1, 1)
    mask = _keep_mask(shape, p, x.dtype, generator, get_array_module(x))
    return Dropout.apply(input, mask=mask)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False, generator: Generator | None = None) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance."""
    p = drop_probability(p, "alpha_dropout")
    if not training or p == 0.0:
        return input
    x = input.data
    alpha_p = -1.7580993408473766
    a = (1.0 / np.sqrt((alpha_p ** 2 * p + 1) * (1 - p))) if p < 1 else 0.0
    b = -a * alpha_p * p
    keep = _keep(x.shape, p, generator, get_array_module(x))
    keep_t = Tensor(keep.astype(x.dtype))
    return (input * keep_t + alpha_p * (1.0 - keep_t)) * float(a) + float(b)
