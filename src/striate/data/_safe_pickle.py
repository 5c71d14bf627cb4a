"""A restricted unpickler for the CIFAR "python version" batch files.

The CIFAR-10/100 batches are Python pickles of plain dicts holding bytes, str, int, lists
and one uint8 ndarray. Plain :func:`pickle.load` would execute whatever callable a crafted
file names, so this module resolves only the few globals needed to rebuild NumPy arrays:

- ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct`` (only
  with ``numpy.ndarray`` as the class), ``numpy.ndarray``, ``numpy.dtype`` and
  ``numpy.core.numeric._frombuffer`` (protocol-5 pickles), and ``_codecs.encode`` only as
  ``str -> latin1 bytes`` (how Python 3 writes ``bytes`` in protocols 0-2);
- dtypes that can hold Python objects (``object`` or structured with object fields) are
  refused, since ``ndarray.__setstate__`` would unpickle their elements.

Every other global (``os.system``, ``builtins.eval``, ``copyreg._reconstructor``, ...) is
refused with a :class:`~striate.data.DataFormatError` naming the file and the global.
"""

from __future__ import annotations

import io
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


def _safe_reconstruct(cls: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    if cls is not np.ndarray:
        raise pickle.UnpicklingError(f"refusing to reconstruct {cls!r} (only numpy.ndarray)")
    code = dtype_code.decode("latin1") if isinstance(dtype_code, bytes) else dtype_code
    dt = np.dtype(code)
    if dt.hasobject:
        raise pickle.UnpicklingError("refusing an object-dtype array")
    return np.ndarray.__new__(np.ndarray, shape, dt)


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
    def find_class(self, module: str, name: str) -> Any:
        if module in _MODULES_MULTIARRAY and name == "_reconstruct":
            return _safe_reconstruct
        if module == "numpy" and name == "ndarray":
            return np.ndarray
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
        DataFormatError: the pickle names a forbidden global, is truncated or is corrupt.
    """
    try:
        return _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as e:
        if "truncated" in str(e):
            raise DataFormatError(f"{name}: truncated pickle ({e})") from e
        raise DataFormatError(f"{name}: refused or corrupt pickle: {e}") from e
    except EOFError as e:
        raise DataFormatError(f"{name}: truncated pickle (unexpected end of data)") from e
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, struct.error) as e:
        raise DataFormatError(f"{name}: corrupt pickle: {type(e).__name__}: {e}") from e
