"""Parameter initialisations with PyTorch's names and semantics (``torch.nn.init``).

Each function fills its argument in place (a Tensor/Parameter, through its ``.data`` array, or
a NumPy array) and returns it. Random draws come from striate's global generator (seeded with
``striate.manual_seed``) unless ``generator=`` gives a private :class:`striate.Generator`.
Values for float32 arrays are drawn in float32 directly into the array (no float64
temporary: a 100M-weight layer initialises in a second); other dtypes are drawn in float64
and cast.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

from striate.random import Generator, get_generator

__all__ = [
    "calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_",
    "orthogonal_", "trunc_normal_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]

T = TypeVar("T")


def _array(tensor: Any) -> np.ndarray:
    arr = tensor if isinstance(tensor, np.ndarray) else getattr(tensor, "data", None)
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected a Tensor or a NumPy array, got {type(tensor).__name__}")
    return arr


def _direct(arr: np.ndarray) -> bool:
    """True when values can be drawn straight into ``arr`` (float32, C-contiguous, writeable)."""
    return arr.dtype == np.float32 and arr.flags.c_contiguous and arr.flags.writeable


def _fill(tensor: T, values: np.ndarray | float) -> T:
    arr = _array(tensor)
    arr[...] = values
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (as ``torch.nn.init.calculate_gain``).

    ========================  =====================================
    nonlinearity              gain
    ========================  =====================================
    linear, conv*, sigmoid    1
    tanh                      5/3
    relu                      sqrt(2)
    leaky_relu                sqrt(2 / (1 + negative_slope**2))
    selu                      3/4
    ========================  =====================================

    Args:
        nonlinearity: the name above.
        param: the negative slope of ``leaky_relu`` (default 0.01).

    Raises:
        ValueError: for an unknown nonlinearity or a non-numeric slope.
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {shape})")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> T:
    """Fill with values drawn from U(a, b)."""
    arr = _array(tensor)
    rng = get_generator(generator)
    if _direct(arr):
        rng.random(out=arr, dtype=np.float32)
        arr *= np.float32(b - a)
        arr += np.float32(a)
        return tensor
    return _fill(tensor, rng.uniform(a, b, size=arr.shape))


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> T:
    """Fill with values drawn from N(mean, std**2)."""
    arr = _array(tensor)
    rng = get_generator(generator)
    if _direct(arr):
        rng.standard_normal(out=arr, dtype=np.float32)
        arr *= np.float32(std)
        arr += np.float32(mean)
        return tensor
    return _fill(tensor, rng.normal(mean, std, size=arr.shape))


def trunc_normal_(tensor: T, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> T:
    """Fill with N(mean, std**2) values truncated to [a, b] (absolute bounds, as in PyTorch);
    out-of-range draws are redrawn.

    Raises:
        ValueError: when ``a >= b``.
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    arr = _array(tensor)
    rng = get_generator(generator)
    out = rng.normal(mean, std, size=arr.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor: T, val: float) -> T:
    """Fill with ``val``."""
    return _fill(tensor, val)


def zeros_(tensor: T) -> T:
    """Fill with zeros."""
    return _fill(tensor, 0)


def ones_(tensor: T) -> T:
    """Fill with ones."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor: T, gain: float = 1.0, generator: Generator | None = None) -> T:
    """Glorot uniform: U(-bound, bound) with ``bound = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: T, gain: float = 1.0, generator: Generator | None = None) -> T:
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: T, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Generator | None = None) -> T:
    """He uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``.

    Args:
        tensor: weight of at least 2 dimensions (``fan_in = shape[1] * prod(shape[2:])``).
        a: negative slope of the following leaky ReLU (used in the gain).
        mode: ``"fan_in"`` (preserve the forward variance) or ``"fan_out"`` (backward).
        nonlinearity: passed to :func:`calculate_gain`.
        generator: optional private random stream.

    Raises:
        ValueError: for an unknown mode, a tensor of fewer than 2 dimensions or a zero fan.

    Example:
        >>> import numpy as np
        >>> w = np.empty((64, 3, 3, 3), np.float32)
        >>> bool(np.abs(kaiming_uniform_(w, a=5 ** 0.5)).max() <= 1 / 27 ** 0.5)
        True
    """
    if 0 in _array(tensor).shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: T, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Generator | None = None) -> T:
    """He normal: N(0, std**2) with ``std = gain / sqrt(fan)`` (arguments as
    :func:`kaiming_uniform_`)."""
    if 0 in _array(tensor).shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: T, gain: float = 1.0, generator: Generator | None = None) -> T:
    """A (semi-)orthogonal matrix (Saxe et al., 2013): the tensor viewed as
    ``(shape[0], prod(shape[1:]))`` has orthonormal rows or columns, times ``gain``.

    Raises:
        ValueError: for a tensor of fewer than 2 dimensions.
    """
    arr = _array(tensor)
    if arr.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported (got shape "
                         f"{arr.shape})")
    if arr.size == 0:
        return tensor
    rows = arr.shape[0]
    cols = arr.size // rows
    flat = get_generator(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(arr.shape))
