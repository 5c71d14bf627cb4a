"""Torch-style module functions (``striate.exp(x)``, ``striate.max(x, 1)``, ...) that forward
to the :class:`~striate.tensor.Tensor` method of the same name.  Kept apart from
``striate.tensor`` because several names (``max``, ``min``, ``sum``, ``abs``, ``all``) shadow
Python builtins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from striate.tensor import Tensor

# --------------------------------------------------------------------------------------------
# torch-style module functions that forward to the Tensor method of the same name


def _forward_to_method(name: str) -> Callable:
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:
        t = input if isinstance(input, Tensor) else Tensor(input)
        return getattr(t, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``striate.{name}(x, ...)`` is ``x.{name}(...)`` (see :class:`Tensor`)."
    return fn


_METHOD_FUNCTIONS = (
    "exp", "log", "sqrt", "rsqrt", "abs", "sign", "square", "reciprocal", "clamp", "clip",
    "maximum", "minimum", "sigmoid", "tanh", "relu", "softmax", "log_softmax", "sum", "mean",
    "prod", "var", "std", "amax", "amin", "argmax", "argmin", "norm", "all", "any", "reshape",
    "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes", "t",
    "expand", "broadcast_to", "unbind", "gather", "masked_fill", "mm", "bmm", "dot", "isnan",
    "isfinite", "numel", "clone", "detach", "allclose", "equal", "neg", "negative", "pow",
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
    "logical_not", "eq", "ne", "lt", "le", "gt", "ge", "topk", "sort", "argsort", "cumsum",
    "log1p", "expm1", "sin", "cos", "logsumexp",
)
for _name in _METHOD_FUNCTIONS:
    globals()[_name] = _forward_to_method(_name)
del _name


def max(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """``striate.max(x)``, ``striate.max(x, dim)`` (values, indices) or elementwise
    ``striate.max(a, b)``."""
    t = input if isinstance(input, Tensor) else Tensor(input)
    return t.max(dim, keepdim)


def min(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """``striate.min(x)``, ``striate.min(x, dim)`` (values, indices) or elementwise
    ``striate.min(a, b)``."""
    t = input if isinstance(input, Tensor) else Tensor(input)
    return t.min(dim, keepdim)


__all__ = list(_METHOD_FUNCTIONS) + ["max", "min"]
