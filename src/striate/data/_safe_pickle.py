"""A restricted unpickler for the CIFAR "python version" batch files.

The CIFAR-10/100 batches are Python pickles of plain dicts holding bytes, str, int, lists
and one uint8 ndarray. Plain :func:`pickle.load` would execute whatever callable a crafted
file names, so this module resolves only the few globals needed to rebuild NumPy arrays:

- ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct`` (only
  with ``numpy.ndarray`` as the class, and a shape whose size fits in the pickle itself),
  ``numpy.ndarray`` (only as that argument, never called), ``numpy.dtype``,
  ``numpy.core.numeric._frombuffer`` (protocol-5 pickles),
  ``numpy.core.multiarray.scalar`` (NumPy scalars such as the ``np.int64`` labels of
  ``list(array)``: only a plain dtype and exactly its bytes) and ``_codecs.encode`` only
  as ``str -> latin1 bytes`` (how Python 3 writes ``bytes`` in protocols 0-2);
- dtypes that can hold Python objects (``object`` or structured with object fields) are
  refused, since ``ndarray.__setstate__`` would unpickle their elements.

Every other global (``os.system``, ``builtins.eval``, ``copyreg._reconstructor``, ...) is
refused with a :class:`~striate.data.DataFormatError` naming the file and the global.
"""

from __future__ import annotations

import functools
import io
import math
import pickle
import struct
from typing import Any

import numpy as np

from striate.data._errors import DataFormatError

_MODULES_MULTIARRAY = ("numpy.core.multiarray", "numpy._core.multiarray")
_MODULES_NUMERIC = ("numpy.core.numeric", "numpy._core.numeric")


def _safe_dtype(*args: Any) -> np.dtype:
    dt = np.dtype(*args)
    if dt.hasobject:
        raise pickle.UnpicklingError(f"refusing a dtype that holds Python objects: {dt}")
    return dt


class _NDArrayToken:
    """What the pickle gets for the global ``numpy.ndarray``: only a marker for
    :func:`_safe_reconstruct`'s class argument. Not callable, so a pickle cannot call
    ``ndarray(shape)`` to allocate an array of any size."""

    def __repr__(self) -> str:
        return "numpy.ndarray (restricted)"


_NDARRAY = _NDArrayToken()


def _safe_reconstruct(cls: Any, shape: Any, dtype_code: Any, limit: int) -> np.ndarray:
    # NumPy writes shape (0,) here and the real shape and bytes in the state that follows; a
    # crafted shape would allocate before any data is read, so its size must fit in the
    # pickle (``limit`` bytes).
    if cls is not _NDARRAY:
        raise pickle.UnpicklingError(f"refusing to reconstruct {cls!r} (only numpy.ndarray)")
    code = dtype_code.decode("latin1") if isinstance(dtype_code, bytes) else dtype_code
    dt = np.dtype(code)
    if dt.hasobject:
        raise pickle.UnpicklingError("refusing an object-dtype array")
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(d, int) and d >= 0 for d in dims):
        raise pickle.UnpicklingError(f"bad array shape {shape!r}")
    nbytes = math.prod(dims) * dt.itemsize
    if nbytes > limit:
        raise pickle.UnpicklingError(f"array of shape {dims} and dtype {dt} declares {nbytes} "
                                     f"bytes, more than the whole pickle ({limit} bytes)")
    return np.ndarray.__new__(np.ndarray, dims, dt)


def _safe_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing a NumPy scalar of dtype {dtype!r}")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise pickle.UnpicklingError(f"bad NumPy scalar: {dtype} needs {dtype.itemsize} bytes")
    return np.frombuffer(data, dtype=dtype)[0]


def _safe_frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    dt = _safe_dtype(dtype)
    arr = np.frombuffer(bytes(buf), dtype=dt)
    return arr.reshape(shape, order=order).copy()


def _safe_codecs_encode(obj: Any, encoding: str = "utf-8") -> bytes:
    # Python 3 writes bytes as _codecs.encode(str, 'latin1') in protocols 0-2.
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("refusing _codecs.encode other than str -> latin1 bytes")
    return obj.encode("latin1")


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="bytes")
        self._limit = len(data)

    def find_class(self, module: str, name: str) -> Any:
        if module in _MODULES_MULTIARRAY and name == "_reconstruct":
            return functools.partial(_safe_reconstruct, limit=self._limit)
        if module in _MODULES_MULTIARRAY and name == "scalar":
            return _safe_scalar
        if module == "numpy" and name == "ndarray":
            return _NDARRAY
        if module == "numpy" and name == "dtype":
            return _safe_dtype
        if module in _MODULES_NUMERIC and name == "_frombuffer":
            return _safe_frombuffer
        if module == "_codecs" and name == "encode":
            return _safe_codecs_encode
        raise pickle.UnpicklingError(f"forbidden global {module}.{name}")


def safe_load(data: bytes, name: str = "<bytes>") -> Any:
    """Unpickle ``data`` allowing only plain containers and NumPy arrays (see module doc).

    Args:
        data: the pickle bytes (protocol 0-5; Python 2 pickles are read with
            ``encoding='bytes'`` so their ``str`` values come back as ``bytes``).
        name: the file name used in error messages.

    Raises:
        DataFormatError: the pickle names a forbidden global, is truncated or is corrupt, or
            declares an array larger than itself.
    """
    try:
        return _RestrictedUnpickler(data).load()
    except pickle.UnpicklingError as e:
        if "truncated" in str(e):
            raise DataFormatError(f"{name}: truncated pickle ({e})") from e
        raise DataFormatError(f"{name}: refused or corrupt pickle: {e}") from e
    except EOFError as e:
        raise DataFormatError(f"{name}: truncated pickle (unexpected end of data)") from e
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, struct.error) as e:
        raise DataFormatError(f"{name}: corrupt pickle: {type(e).__name__}: {e}") from e
