"""Shared argument checks for the kernel API.  Messages name the argument and give the
expected and the actual value."""

from __future__ import annotations

import math

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
    # np.ascontiguousarray would turn a 0-d array into shape (1,)
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def real(name: str, v, fn: str) -> float:
    """``v`` as a float: Python and NumPy reals only (not bool, str or None)."""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
            v, (bool, np.bool_)):
        return float(v)
    raise TypeError(f"{fn}: expected {name} to be a real number, got {v!r} "
                    f"({type(v).__name__})")


def finite(name: str, v, fn: str) -> float:
    """``v`` as a finite float: TypeError for a non-number (bool, str, None), ValueError for
    NaN or an infinity."""
    f = real(name, v, fn)
    if not math.isfinite(f):
        raise ValueError(f"{fn}: expected {name} to be finite, got {f}")
    return f


def flag(name: str, v, fn: str) -> bool:
    """``v`` as a bool: bools, and the ints 0 and 1 (not str, which would be truthy)."""
    if isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer)) and v in (0, 1)):
        return bool(v)
    raise TypeError(f"{fn}: expected {name} to be a bool, got {v!r}")


def overlaps(out: np.ndarray, *inputs, exact_ok: bool = True) -> bool:
    """Whether ``out`` shares memory with one of ``inputs`` (None entries skipped), so that
    writing it could change values still to be read.  With ``exact_ok``, ``out`` laid over an
    input element for element (the same address, shape and strides: in place) does not count,
    which is safe for elementwise kernels."""
    for a in inputs:
        if a is None or not np.may_share_memory(out, a):
            continue
        if not (exact_ok and out.shape == a.shape and out.strides == a.strides
                and out.__array_interface__["data"][0] == a.__array_interface__["data"][0]):
            return True
    return False


ACTIVATIONS = ("none", "relu")


def drop_probability(p, fn: str) -> float:
    """``p`` as a float in ``[0, 1]`` (a dropout probability); ValueError otherwise, NaN
    included."""
    p = real("p", p, fn)
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


# Sizes, strides, paddings and dilations past this are refused: the kernels' vector code
# indexes planes with 32-bit lanes, and a padded extent of 2**30 elements already means a
# plane of gigabytes.
MAX_EXTENT = 2**30


def integer(name: str, v, fn: str, what: str = "an int") -> int:
    """``v`` as a Python int: ints and NumPy integers only (not bool, float or str, which
    int() would truncate or parse silently)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return int(v)
    raise TypeError(f"{fn}: expected {name} to be {what}, got {v!r}")


def int_tuple(name: str, v, fn: str, what: str) -> tuple[int, ...]:
    """``v`` (an int or a sequence of ints, never a str) as a tuple of ints; TypeError naming
    ``name`` and ``what`` was expected otherwise."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return (int(v),)
    if isinstance(v, (str, bytes)):
        raise TypeError(f"{fn}: expected {name} to be {what}, got {v!r}")
    try:
        items = list(v)
    except TypeError:
        raise TypeError(f"{fn}: expected {name} to be {what}, got {v!r}") from None
    if not all(isinstance(e, (int, np.integer)) and not isinstance(e, (bool, np.bool_))
               for e in items):
        raise TypeError(f"{fn}: expected {name} to be {what}, got {v!r}")
    return tuple(int(e) for e in items)


def pair(name: str, v, fn: str, min_value: int = 0,
         allow_single: bool = False) -> tuple[int, int]:
    """Normalise an int or a 2-sequence of ints to a pair, checking each is in
    ``[min_value, MAX_EXTENT]``.

    With ``allow_single`` a 1-sequence ``(n,)`` is also accepted and means ``(n, n)``.
    """
    what = "an int or a pair of ints"
    t = int_tuple(name, v, fn, what)
    if len(t) == 1 and (allow_single or isinstance(v, (int, np.integer))):
        t = (t[0], t[0])
    if len(t) != 2:
        raise ValueError(f"{fn}: expected {name} to be {what}, got {v!r}")
    if min(t) < min_value or max(t) > MAX_EXTENT:
        raise ValueError(f"{fn}: expected {name} in [{min_value}, {MAX_EXTENT}], got {v!r}")
    return t  # type: ignore[return-value]


def shape4(name: str, shape, fn: str) -> tuple[int, int, int, int]:
    """A shape given as 4 non-negative ints (N, C, H, W), as a tuple."""
    what = "a sequence of 4 ints (N, C, H, W)"
    t = int_tuple(name, shape, fn, what)
    if isinstance(shape, (int, np.integer)) or len(t) != 4 or min(t) < 0:
        raise ValueError(f"{fn}: expected {name} to be 4 non-negative ints (N, C, H, W), "
                         f"got {shape!r}")
    return t  # type: ignore[return-value]
