"""Argument checks shared by the data layer (the loader and the transforms), built on
:mod:`striate.kernels._validate`. Messages name the function and the argument and give the
expected and the actual value: ``"fn: expected X, got Y"``."""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.kernels._validate import finite, integer


def non_negative_int(name: str, v: Any, fn: str) -> int:
    """``v`` as an int >= 0 (ints and NumPy integers only: no bool, float or str)."""
    i = integer(name, v, fn)
    if i < 0:
        raise ValueError(f"{fn}: expected {name} >= 0, got {i}")
    return i


def finite_pair(name: str, v: Any, fn: str) -> tuple[float, float]:
    """``v``, a sequence of two finite numbers, as ``(lo, hi)`` with ``lo <= hi``."""
    what = "a (lo, hi) pair of finite numbers"
    if isinstance(v, (str, bytes)) or not hasattr(v, "__len__") or len(v) != 2:
        raise TypeError(f"{fn}: expected {name} to be {what}, got {v!r}")
    lo, hi = (finite(name, a, fn) for a in v)
    if lo > hi:
        raise ValueError(f"{fn}: expected {name} to be {what} with lo <= hi, got "
                         f"({lo}, {hi})")
    return lo, hi


def channel_vector(name: str, v: Any, fn: str, positive: bool = False) -> np.ndarray:
    """``v`` (a number or a per-channel sequence of numbers) as a non-empty 1-D float32
    array of finite values (> 0 with ``positive``), e.g. a normalisation mean or std."""
    what = "a number or a per-channel sequence of numbers"
    try:
        a = np.asarray(v, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: expected {name} to be {what}, got {v!r}") from None
    if a.size == 0:
        raise ValueError(f"{fn}: expected {name} to be {what}, got {v!r}")
    with np.errstate(over="ignore"):
        a32 = a.astype(np.float32)
    if not np.all(np.isfinite(a32)):  # NaN, inf, or past float32's range
        raise ValueError(f"{fn}: expected finite {name} (float32), got {v!r}")
    if positive and np.any(a32 <= 0):
        raise ValueError(f"{fn}: {name} must be > 0, got {v!r}")
    return a32


__all__ = ["channel_vector", "finite_pair", "non_negative_int"]
