"""Shared helpers of ``striate.functional``: kernel dispatch and argument checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.kernels._validate import pair as _pair
from striate.tensor import Tensor, _make

_kernels: list = []
_reference: list = []


def ops(x: Any) -> Any:
    """The kernel module for array ``x``: ``striate.kernels`` (compiled, float32) for float32
    NumPy arrays, ``striate.backend.reference`` (NumPy twins, same signatures) otherwise
    (float64, e.g. under gradcheck)."""
    if x.dtype == np.float32 and type(x) is np.ndarray:
        if not _kernels:
            import striate.kernels as k

            _kernels.append(k)
        return _kernels[0]
    if not _reference:
        import striate.backend.reference as r

        _reference.append(r)
    return _reference[0]


def as_tensor(x: Any, name: str, fn: str) -> Tensor:
    """``x`` as a Tensor (arrays and numbers are wrapped as constants)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic, int, float, list, tuple)):
        return Tensor(x)
    raise TypeError(f"{fn}: expected {name} to be a Tensor, got {type(x).__name__}")


def floating(x: Tensor, name: str, fn: str) -> None:
    if x.data.dtype.kind != "f":
        raise TypeError(f"{fn}: expected {name} with a floating dtype, got dtype {x.dtype}")


def reduction_check(reduction: str, fn: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{fn}: expected reduction to be one of 'none', 'mean', 'sum', got "
                         f"{reduction!r}")


def pair(v: Any, name: str, fn: str, min_value: int = 0) -> tuple:
    """An int or a pair (or 1-sequence) of ints, each >= ``min_value``, as a 2-tuple."""
    return _pair(name, v, fn, min_value, allow_single=True)


def const(a: Any) -> Tensor:
    return _make(a, None)


def kfn(x: Any, name: str) -> Any:
    """``striate.kernels.<name>`` when ``x`` is a float32 NumPy array and the kernel exists,
    else ``None`` (callers then use their NumPy formula)."""
    if x.dtype == np.float32 and type(x) is np.ndarray:
        return getattr(ops(x), name, None)
    return None
