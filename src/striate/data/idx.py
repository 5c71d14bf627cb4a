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
import os
import struct
import zlib

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


def _read_bytes(path: str) -> bytes:
    """Whole file contents, gunzipped when the content is gzip; errors name the file."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataFormatError(f"{path}: cannot read file ({e.strerror or e})") from e
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except EOFError as e:
            raise DataFormatError(f"{path}: truncated gzip stream ({e})") from e
        except (OSError, zlib.error) as e:
            raise DataFormatError(f"{path}: corrupt gzip stream ({e})") from e
    return raw


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX ``data`` into a native-endian array.

    Args:
        data: the uncompressed file contents.
        name: the file name used in error messages.

    Returns:
        An ndarray with the dimensions and dtype from the header (native byte order).

    Raises:
        DataFormatError: bad magic number, unknown dtype code, header/size mismatch or
            truncated data. The message names ``name``.
    """
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
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(
            f"{name}: truncated IDX header ({len(data)} bytes, {ndim} dimensions need {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header
    if actual < expected:
        raise DataFormatError(
            f"{name}: truncated IDX data: header says dims {dims} of {dtype.newbyteorder('=')} "
            f"({expected} bytes), file has {actual} bytes after the header")
    if actual > expected:
        raise DataFormatError(
            f"{name}: IDX header/size mismatch: header says dims {dims} of "
            f"{dtype.newbyteorder('=')} ({expected} bytes), file has {actual} bytes after the "
            f"header ({actual - expected} unexpected trailing bytes)")
    arr = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return arr.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed).

    Args:
        path: file path.

    Returns:
        Native-endian ndarray (uint8 for MNIST-style files), writeable.

    Raises:
        DataFormatError: unreadable file, corrupt gzip or malformed IDX (see :func:`parse_idx`).
    """
    path = os.fspath(path)
    return parse_idx(_read_bytes(path), path)


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
