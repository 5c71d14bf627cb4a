"""Activation layers. Each is a thin Module over the function of the same name in
:mod:`striate.functional` (the math lives there)."""

from __future__ import annotations

from collections.abc import Callable

import striate.functional as F
from striate.nn.module import Module
from striate.tensor import Tensor

__all__ = [
    "ELU", "GELU", "Hardsigmoid", "Hardswish", "LeakyReLU", "LogSoftmax", "ReLU", "ReLU6",
    "SiLU", "Sigmoid", "Softmax", "Tanh",
]


def _softmax_dim(dim: int | None, ndim: int) -> int:
    """PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-D input, else 1."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


class _Pointwise(Module):
    """A Module applying the one-argument function ``_fn`` of :mod:`striate.functional`."""

    _fn: Callable[[Tensor], Tensor]

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input)


class _InplacePointwise(_Pointwise):
    """A :class:`_Pointwise` taking ``inplace`` (accepted for PyTorch compatibility; the
    result is always a new tensor).  ``_repr_inplace`` says whether repr shows it."""

    _repr_inplace = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace and self._repr_inplace else ""


class _SoftmaxLike(Module):
    """A Module applying ``_fn(input, dim)`` along ``dim`` (PyTorch's legacy default)."""

    _fn: Callable[[Tensor, int], Tensor]

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, _softmax_dim(self.dim, input.ndim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class ReLU(_InplacePointwise):
    """``max(0, x)`` element-wise.

    Args:
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.

    Shape:
        Input: any. Output: same as input.
    """

    _fn = staticmethod(F.relu)


class ReLU6(_InplacePointwise):
    """``min(max(0, x), 6)`` element-wise (MobileNet).

    Args:
        inplace: accepted for PyTorch compatibility.
    """

    _fn = staticmethod(F.relu6)


class LeakyReLU(Module):
    """``x if x > 0 else negative_slope * x``.

    Args:
        negative_slope: slope for negative inputs (default 0.01).
        inplace: accepted for PyTorch compatibility.
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


class ELU(Module):
    """``x if x > 0 else alpha * (exp(x) - 1)``.

    Args:
        alpha: saturation value for negative inputs (default 1.0).
        inplace: accepted for PyTorch compatibility.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Gaussian error linear unit ``x * Phi(x)``.

    Args:
        approximate: ``"none"`` (exact, erf) or ``"tanh"`` (the tanh approximation).

    Raises:
        ValueError: for another ``approximate``.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_InplacePointwise):
    """``x * sigmoid(x)`` (swish)."""

    _fn = staticmethod(F.silu)


class Sigmoid(_Pointwise):
    """``1 / (1 + exp(-x))``."""

    _fn = staticmethod(F.sigmoid)


class Tanh(_Pointwise):
    """``tanh(x)``."""

    _fn = staticmethod(F.tanh)


class Hardswish(_InplacePointwise):
    """``x * relu6(x + 3) / 6`` (MobileNetV3)."""

    _fn = staticmethod(F.hardswish)
    _repr_inplace = False


class Hardsigmoid(_InplacePointwise):
    """``relu6(x + 3) / 6``."""

    _fn = staticmethod(F.hardsigmoid)
    _repr_inplace = False


class Softmax(_SoftmaxLike):
    """Softmax along ``dim`` (outputs are positive and sum to 1 along it).

    Args:
        dim: the dimension to normalise.
    """

    _fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxLike):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Args:
        dim: the dimension to normalise.
    """

    _fn = staticmethod(F.log_softmax)
