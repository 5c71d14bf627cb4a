"""Shared argument checks for the kernel API.  Messages name the argument and give the
expected and the actual value."""

from __future__ import annotations

import numpy as np


def as_f32(name: str, x, fn: str, ndim: int | None = None) -> np.ndarray:
    """Return ``x`` as a C-contiguous float32 ndarray.

    Floating inputs of other precision are converted; integer/bool/complex/object inputs are
    rejected (silent conversion of labels or masks would hide bugs).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{fn}: expected {name} to be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype != np.float32:
        if x.dtype.kind != "f":
            raise TypeError(f"{fn}: expected {name} with a floating dtype (float32), "
                            f"got dtype {x.dtype}")
        x = x.astype(np.float32)
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{fn}: expected {name} with {ndim} dimensions, got shape {x.shape}")
    return np.ascontiguousarray(x)


ACTIVATIONS = ("none", "relu")


def drop_probability(p, fn: str) -> float:
    """``p`` as a float in ``[0, 1]`` (a dropout probability); ValueError otherwise, NaN
    included."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: expected dropout probability p in [0, 1], got {p}")
    return p


def relu_activation(activation, fn: str) -> bool:
    """Whether ``activation`` (one of :data:`ACTIVATIONS`) is ``"relu"``; ValueError for any
    other name."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"{fn}: expected activation in {ACTIVATIONS}, got {activation!r}")
    return activation == "relu"


def check_out(name: str, out, shape: tuple, fn: str) -> np.ndarray:
    """Check a caller-provided output buffer: float32, C-contiguous, writeable, exact shape."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fn}: expected {name} to be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != np.float32:
        raise TypeError(f"{fn}: expected {name} with dtype float32, got {out.dtype}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"{fn}: expected {name} with shape {tuple(shape)}, got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{fn}: expected {name} to be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{fn}: expected {name} to be writeable")
    return out


def pair(name: str, v, fn: str, min_value: int = 0,
         allow_single: bool = False) -> tuple[int, int]:
    """Normalise an int or a 2-sequence of ints to a pair, checking each is >= min_value.

    With ``allow_single`` a 1-sequence ``(n,)`` is also accepted and means ``(n, n)``.
    """
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        t = (int(v), int(v))
    else:
        try:
            t = tuple(int(e) for e in v)
        except TypeError:
            raise TypeError(f"{fn}: expected {name} to be an int or a pair of ints, "
                            f"got {v!r}") from None
        if allow_single and len(t) == 1:
            t = (t[0], t[0])
        if len(t) != 2:
            raise ValueError(f"{fn}: expected {name} to be an int or a pair of ints, got {v!r}")
    if min(t) < min_value:
        raise ValueError(f"{fn}: expected {name} >= {min_value}, got {v!r}")
    return t


def shape4(name: str, shape, fn: str) -> tuple[int, int, int, int]:
    """A shape given as 4 non-negative ints (N, C, H, W), as a tuple."""
    try:
        t = tuple(int(e) for e in shape)
    except TypeError:
        raise TypeError(f"{fn}: expected {name} to be a sequence of 4 ints, "
                        f"got {shape!r}") from None
    if len(t) != 4 or min(t) < 0:
        raise ValueError(f"{fn}: expected {name} to be 4 non-negative ints (N, C, H, W), "
                         f"got {shape!r}")
    return t  # type: ignore[return-value]
