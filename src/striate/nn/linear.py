"""``Linear``, ``Identity``, ``Flatten``, ``Unflatten``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import striate.functional as F
from striate.nn import init
from striate.nn.module import Module
from striate.nn.parameter import Parameter
from striate.tensor import Tensor

__all__ = ["Flatten", "Identity", "Linear", "Unflatten"]


def _float_dtype(dtype: Any) -> np.dtype:
    from striate.tensor import get_default_dtype

    dt = np.dtype(get_default_dtype() if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"expected a floating point dtype, got {dt}")
    return dt


def _positive_int(value: Any, name: str, cls: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"{cls}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to drop a classifier head).

    Args:
        *args, **kwargs: ignored (PyTorch compatibility).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    """Affine map ``y = x @ weight.T + bias``.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True); without one, ``bias`` is registered as
            None.
        dtype: parameter dtype (default: the default dtype, float32).

    Shape:
        Input: ``(*, in_features)``. Output: ``(*, out_features)``.

    Attributes:
        weight: ``(out_features, in_features)``, initialised from U(-k, k) with
            ``k = 1 / sqrt(in_features)`` (kaiming_uniform with a = sqrt(5)).
        bias: ``(out_features,)``, from U(-k, k).

    Raises:
        ValueError: for negative sizes.

    Example:
        >>> import striate
        >>> from striate import nn
        >>> nn.Linear(20, 30)(striate.randn(128, 20)).shape
        (128, 30)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        dt = _float_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (see the class docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dimensions ``start_dim..end_dim`` into one.

    Args:
        start_dim: first dimension to flatten (default 1, keeping the batch).
        end_dim: last dimension to flatten (default -1).

    Shape:
        Input: ``(*, S_start, ..., S_end, *)``. Output: ``(*, prod(S_start..S_end), *)``.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dimension ``dim`` into ``unflattened_size``.

    Args:
        dim: the dimension to split.
        unflattened_size: the new sizes (their product must equal the size of ``dim``; one
            may be -1).

    Shape:
        Input: ``(*, S_dim, *)``. Output: ``(*, U_1, ..., U_n, *)``.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (list, tuple)):
            raise TypeError("unflattened_size must be a tuple or list of ints, got "
                            f"{type(unflattened_size).__name__}")
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
