"""Reader and writer for the IDX format used by MNIST, Fashion-MNIST and KMNIST.

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then ``ndim``
big-endian uint32 dimension sizes, then the values in C order, big-endian. Files may be
gzip-compressed (detected from the content, not the name).

Example:
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x-idx3-ubyte.gz")
    >>> write_idx(path, np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    >>> read_idx(path).shape
    (2, 3, 4)
"""

from __future__ import annotations

import gzip
import math
import os
import stat
import struct
import zlib
from typing import Any

import numpy as np

from striate.data._errors import DataFormatError

#: IDX dtype codes -> big-endian NumPy dtypes.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("=").kind + str(dt.itemsize): code for code, dt in IDX_DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"

#: Bytes read (decompressed) per step. A gzip file never makes :func:`read_idx` hold more
#: than the data size its header declares plus this (the excess is counted as trailing
#: bytes, up to one chunk, and reading stops there: no gzip bomb is inflated further).
READ_CHUNK = 1 << 20

#: Most dimensions of a NumPy array (64 since NumPy 2, 32 before).
_MAX_NDIM = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32


def _parse_header(data: bytes, name: str) -> tuple[np.dtype, tuple[int, ...], int, int]:
    """``(dtype, dims, header bytes, data bytes)`` of the IDX header at the start of ``data``
    (which may hold more than the header); sizes are computed with Python ints (no wrap)."""
    if len(data) < 4:
        raise DataFormatError(f"{name}: truncated IDX file ({len(data)} bytes, header needs 4)")
    z0, z1, code, ndim = data[0], data[1], data[2], data[3]
    if z0 != 0 or z1 != 0:
        raise DataFormatError(
            f"{name}: bad IDX magic number 0x{data[:4].hex()} (expected 0x0000<dtype><ndim>); "
            "not an IDX file")
    if code not in IDX_DTYPES:
        raise DataFormatError(
            f"{name}: bad IDX magic number 0x{data[:4].hex()}: unknown dtype code 0x{code:02x} "
            f"(known: {', '.join(f'0x{c:02x}' for c in IDX_DTYPES)})")
    if ndim == 0:
        raise DataFormatError(f"{name}: bad IDX magic number 0x{data[:4].hex()}: 0 dimensions")
    if ndim > _MAX_NDIM:
        raise DataFormatError(f"{name}: IDX header declares {ndim} dimensions, NumPy arrays "
                              f"have at most {_MAX_NDIM}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(
            f"{name}: truncated IDX header ({len(data)} bytes, {ndim} dimensions need {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    count = math.prod(dims)
    if count > np.iinfo(np.intp).max // dtype.itemsize:
        raise DataFormatError(f"{name}: IDX header dims {dims} describe {count} values, more "
                              "than an array can hold")
    return dtype, dims, header, count * dtype.itemsize


def _size_error(name: str, dims: tuple[int, ...], dtype: np.dtype, expected: int, actual: int,
                stopped: bool = False) -> DataFormatError:
    """The error for ``actual`` data bytes where the header declares ``expected``;
    ``stopped``: reading stopped at ``actual`` bytes (there may be more)."""
    what = f"dims {dims} of {dtype.newbyteorder('=')} ({expected} bytes)"
    if actual < expected:
        return DataFormatError(f"{name}: truncated IDX data: header says {what}, file has "
                               f"{actual} bytes after the header")
    if stopped:
        return DataFormatError(f"{name}: IDX header/size mismatch: header says {what}, file has "
                               f"at least {actual} bytes after the header (at least "
                               f"{actual - expected} unexpected trailing bytes; reading stopped "
                               "there)")
    return DataFormatError(f"{name}: IDX header/size mismatch: header says {what}, file has "
                           f"{actual} bytes after the header ({actual - expected} unexpected "
                           "trailing bytes)")


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX ``data`` into a native-endian array.

    Args:
        data: the uncompressed file contents.
        name: the file name used in error messages.

    Returns:
        An ndarray with the dimensions and dtype from the header (native byte order).

    Raises:
        DataFormatError: bad magic number, unknown dtype code, more dimensions than NumPy
            allows, a size that overflows, header/size mismatch or truncated data. The
            message names ``name``.
    """
    dtype, dims, header, expected = _parse_header(data, name)
    actual = len(data) - header
    if actual != expected:
        raise _size_error(name, dims, dtype, expected, actual)
    arr = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return arr.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def _read_stream(stream: Any, name: str, size: int | None) -> np.ndarray:
    """Read an IDX array from the binary ``stream`` holding at most the declared size plus
    :data:`READ_CHUNK` bytes; ``size``: the stream's total size when known (checked before
    reading the data)."""
    head = stream.read(4)
    if len(head) == 4:
        head += stream.read(4 * head[3])
    dtype, dims, header, expected = _parse_header(head, name)
    if size is not None and size - header != expected:
        raise _size_error(name, dims, dtype, expected, size - header)
    limit = expected + READ_CHUNK  # enough to count a few trailing bytes, then stop
    data = bytearray()
    while len(data) < limit:
        piece = stream.read(min(READ_CHUNK, limit - len(data)))
        if not piece:
            break
        data += piece
    if len(data) != expected:
        raise _size_error(name, dims, dtype, expected, len(data), stopped=len(data) >= limit)
    # A bytearray is writeable: single-byte data needs no copy.
    arr = np.frombuffer(data, dtype=dtype)
    return arr.astype(dtype.newbyteorder("="), copy=False).reshape(dims)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed).

    The file is read as a stream: a gzip file is decompressed in chunks of
    :data:`READ_CHUNK` bytes and reading stops one chunk past the size the header declares,
    so a small file that inflates to gigabytes (a gzip bomb) is refused without being
    decompressed.

    Args:
        path: file path.

    Returns:
        Native-endian ndarray (uint8 for MNIST-style files), writeable.

    Raises:
        DataFormatError: unreadable file, corrupt gzip or malformed IDX (see :func:`parse_idx`).
    """
    path = os.fspath(path)
    compressed = False
    try:
        with open(path, "rb") as f:
            compressed = f.peek(2)[:2] == _GZIP_MAGIC
            if compressed:
                with gzip.GzipFile(fileobj=f, mode="rb") as gz:
                    return _read_stream(gz, path, None)
            st = os.fstat(f.fileno())
            return _read_stream(f, path, st.st_size if stat.S_ISREG(st.st_mode) else None)
    except EOFError as e:
        raise DataFormatError(f"{path}: truncated gzip stream ({e})") from e
    except (OSError, zlib.error) as e:
        if compressed:
            raise DataFormatError(f"{path}: corrupt gzip stream ({e})") from e
        raise DataFormatError(f"{path}: cannot read file ({e.strerror or e})") from e


def encode_idx(arr: np.ndarray) -> bytes:
    """The IDX encoding (uncompressed) of ``arr``.

    Raises:
        ValueError: dtype not representable in IDX, or a dimension >= 2**32.
    """
    arr = np.asarray(arr)
    key = arr.dtype.kind + str(arr.dtype.itemsize)
    if key not in _CODE_OF:
        raise ValueError(f"encode_idx: dtype {arr.dtype} has no IDX code "
                         "(use uint8, int8, int16, int32, float32 or float64)")
    if arr.ndim < 1 or arr.ndim > 255 or any(d >= 2**32 for d in arr.shape):
        raise ValueError(f"encode_idx: shape {arr.shape} cannot be stored in IDX")
    code = _CODE_OF[key]
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, arr: np.ndarray, compress: bool | None = None) -> None:
    """Write ``arr`` as an IDX file, atomically (temporary file + rename).

    Args:
        path: destination; gzip-compressed when ``compress`` is True, or when it is None and
            the name ends with ``.gz``.
        arr: the array to store.
        compress: force or forbid gzip compression.
    """
    path = os.fspath(path)
    if compress is None:
        compress = path.endswith(".gz")
    data = encode_idx(arr)
    if compress:
        # mtime=0 keeps the output byte-identical across runs (reproducible embedded files).
        data = gzip.compress(data, compresslevel=9, mtime=0)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
