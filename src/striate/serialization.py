"""Checkpoints: ``striate.save`` / ``striate.load`` in the safetensors format.

A checkpoint is a state dict (``name -> array``) or a nested structure of dicts, lists and
tuples such as ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``.
Arrays (NumPy arrays, or Tensors whose ``.data`` is one) become safetensors tensors named by
their path joined with dots (``"optimizer.state.0.exp_avg"``); everything else (ints, floats,
strings, bools, None and the shape of the structure itself, including integer dict keys and
tuples) is stored as JSON in the safetensors header, together with the striate version and the
caller's metadata (e.g. architecture name and config). A plain state dict keeps its own names,
so other safetensors readers see ``"conv1.weight"`` etc.

Writes are atomic: the file is written to a temporary file in a hidden directory beside the
target, flushed to disk (fsync) and renamed over the target with :func:`os.replace`, so a crash
or an error in the middle of a save leaves any previous file intact. What a killed save leaves
behind is removed by a later save of the same file, once it is an hour old and no live process
is writing it (see ``_remove_stale_temps``). Loading parses only the safetensors header
(JSON) and raw array bytes: it never executes code from the file (no pickle).

safetensors is an optional dependency (``pip install 'striate[weights]'``).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["load", "load_metadata", "save"]

_FORMAT_KEY = "striate.format"
_FORMAT_VERSION = "1"
#: ``striate.format`` values this version reads (the current one and every older one).
_READABLE_FORMATS = ("1",)
_STRUCTURE_KEY = "striate.structure"
_VERSION_KEY = "striate.version"
_USER_KEY = "striate.metadata"


def _safetensors() -> Any:
    try:
        import safetensors.numpy as stnp
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("striate.save/striate.load need the optional 'safetensors' package: "
                          "pip install 'striate[weights]' (or pip install safetensors)") from exc
    return stnp


def _as_array(x: Any) -> np.ndarray | None:
    """``x`` as an array when it is an array leaf (ndarray or Tensor-like), else None."""
    if isinstance(x, np.ndarray):
        return x
    data = getattr(x, "data", None)
    if isinstance(data, np.ndarray) and not isinstance(x, (memoryview, bytes)):
        return data
    return None


#: Array dtypes a safetensors file stores (by NumPy name, any byte order).
_STORABLE = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float16", "float32", "float64")


def _flatten(obj: Any, path: list[str], tensors: dict[str, np.ndarray],
             active: set[int] | None = None) -> Any:
    """Describe ``obj`` as a JSON skeleton, moving its arrays into ``tensors`` (``active``:
    the ids of the containers being flattened, to find a structure that contains itself)."""
    arr = _as_array(obj)
    if arr is not None:
        if arr.dtype.name not in _STORABLE:
            raise TypeError(f"striate.save: array at '{'.'.join(path)}' has dtype {arr.dtype}, "
                            f"which cannot be stored (supported: {', '.join(_STORABLE)})")
        key = ".".join(path)
        if key in tensors:
            raise ValueError(f"striate.save: two entries flatten to the same name '{key}'")
        tensors[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        return {"t": "array", "key": key}
    if isinstance(obj, (Mapping, list, tuple)):
        active = set() if active is None else active
        if id(obj) in active:
            raise ValueError(f"striate.save: the structure contains itself at "
                             f"'{'.'.join(path)}'")
        active.add(id(obj))
        if isinstance(obj, Mapping):
            items = []
            for k, v in obj.items():
                if isinstance(k, bool) or not isinstance(k, (str, int, np.integer)):
                    raise TypeError(f"striate.save: dict keys must be str or int, got "
                                    f"{type(k).__name__} key {k!r} at '{'.'.join(path)}'")
                k = k if isinstance(k, str) else int(k)
                items.append([k, _flatten(v, path + [str(k)], tensors, active)])
            node = {"t": "dict", "items": items}
        else:
            node = {"t": "tuple" if isinstance(obj, tuple) else "list",
                    "items": [_flatten(v, path + [str(i)], tensors, active)
                              for i, v in enumerate(obj)]}
        active.discard(id(obj))
        return node
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, str)):
        return {"t": "value", "v": obj}
    if isinstance(obj, float):
        if math.isfinite(obj):
            return {"t": "value", "v": obj}
        return {"t": "float", "v": repr(obj)}  # inf / nan, kept exactly
    raise TypeError(f"striate.save: cannot store a {type(obj).__name__} at "
                    f"'{'.'.join(path) or '<root>'}' (arrays, Tensors, dicts, lists, tuples, "
                    "int, float, str, bool and None are supported)")


def _unflatten(node: Any, tensors: Mapping[str, np.ndarray]) -> Any:
    kind = node["t"]
    if kind == "array":
        return tensors[node["key"]]
    if kind == "dict":
        return {k: _unflatten(v, tensors) for k, v in node["items"]}
    if kind == "list":
        return [_unflatten(v, tensors) for v in node["items"]]
    if kind == "tuple":
        return tuple(_unflatten(v, tensors) for v in node["items"])
    if kind == "value":
        return node["v"]
    if kind == "float":
        return float(node["v"])
    raise ValueError(f"striate.load: unknown node kind {kind!r} in the checkpoint structure")


def _write_safetensors(tensors: dict[str, np.ndarray], path: str,
                       metadata: dict[str, str]) -> None:
    """Write the safetensors file (the step that a crash could interrupt)."""
    _safetensors().save_file(tensors, path, metadata=metadata)


def _file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        pass
    umask = 0o022
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    umask = int(line.split()[1], 8)
    except OSError:
        pass
    return 0o666 & ~umask


def _naming_target(exc: OSError, path: str, who: str) -> OSError:
    """``exc`` (same type and errno) with a message naming ``path``, not the temporary file."""
    why = exc.strerror or str(exc)
    new = type(exc)(f"{who + ': ' if who else ''}cannot write '{path}': {why}")
    new.errno = exc.errno
    return new


#: A temporary directory of :func:`_atomic_write` untouched this long (seconds) and with no
#: live writer is a leftover of a killed save, removed by the next save of the same file.
_STALE_TEMP_SECONDS = 3600.0
_LOCK_NAME = ".lock"


def _lock(fd: int) -> bool:
    """Take an exclusive advisory lock (flock) on ``fd`` without waiting: False when another
    open file holds one, or where locks are not supported."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _newest_mtime(path: str) -> float:
    """The latest modification time of ``path`` and, for a directory, of its entries."""
    newest = os.lstat(path).st_mtime
    if os.path.isdir(path) and not os.path.islink(path):
        with os.scandir(path) as it:
            for e in it:
                newest = max(newest, e.stat(follow_symlinks=False).st_mtime)
    return newest


def _remove_stale_temps(path: str) -> None:
    """Remove what earlier saves of ``path`` killed mid-write (SIGKILL, power loss) left.

    Each write happens in a hidden temporary directory ``.<name>.<8 characters>.tmp`` beside
    ``path``, whose lock file its writer holds locked (flock) from start to end; a lock dies
    with its process, so a directory whose lock can be taken has no live writer. Such a
    directory is removed with what it holds (the partial file, safetensors' own temporary
    file) when, in addition, nothing in it changed for :data:`_STALE_TEMP_SECONDS` (which
    covers the instant between creating the directory and locking it, and file systems whose
    locks do not reach other machines). A regular file of that name (written by striate
    versions that used a bare temporary file) is removed on the same conditions. Where locks
    are unsupported nothing is removed; errors are ignored: this is tidying.
    """
    import shutil

    directory = os.path.dirname(os.path.abspath(path))
    name = re.compile(re.escape(f".{os.path.basename(path)}.") + r"[a-z0-9_]{8}\.tmp")
    try:
        with os.scandir(directory) as it:
            candidates = [e.path for e in it if name.fullmatch(e.name)]
    except OSError:
        return
    for tmp in candidates:
        try:
            mode = os.lstat(tmp).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                continue
            if time.time() - _newest_mtime(tmp) < _STALE_TEMP_SECONDS:
                continue
            lock = os.path.join(tmp, _LOCK_NAME) if stat.S_ISDIR(mode) else tmp
            fd = os.open(lock, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:   # gone, or a directory whose writer died before locking
            fd = None
        except OSError:
            continue
        try:
            if fd is None or _lock(fd):
                if stat.S_ISDIR(mode):
                    shutil.rmtree(tmp, ignore_errors=True)
                elif os.path.samestat(os.fstat(fd), os.lstat(tmp)):
                    os.unlink(tmp)
        except OSError:
            pass
        finally:
            if fd is not None:
                os.close(fd)


def _atomic_write(path: str, write: Callable[[str], None], who: str = "") -> None:
    """Call ``write(tmp)`` on a new temporary file beside ``path``, flush it to disk (fsync),
    give it the permissions of the file it replaces (or the umask's for a new one) and rename
    it onto ``path`` with :func:`os.replace`; the directory is fsynced too, so the rename is
    durable. On any error or interruption the temporary file is removed and ``path`` is left
    as it was. The one atomic-write helper of striate (``striate.train._io.atomic_write``
    calls it).

    The temporary file lives in a hidden directory ``.<name>.<8 characters>.tmp`` beside
    ``path`` (so that temporary files ``write`` itself makes, e.g. safetensors', stay in it
    too), locked while the write lasts; a save that succeeds then removes what killed saves of
    ``path`` left (see :func:`_remove_stale_temps`: never what a live process is writing).

    Args:
        path: the destination; its directory must exist.
        write: writes the complete new contents to the path it is given.
        who: prefix of error messages (e.g. ``"striate.save"``).

    Raises:
        OSError: the same type and errno as the failure, its message naming ``path`` (not the
            temporary file).
    """
    import shutil

    directory = os.path.dirname(os.path.abspath(path))
    try:
        work = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                dir=directory)
    except OSError as exc:
        raise _naming_target(exc, path, who) from None
    tmp = os.path.join(work, os.path.basename(path))
    lock = os.path.join(work, _LOCK_NAME)
    fd = None
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        _lock(fd)   # held until the end: marks a live writer
        write(tmp)
        wfd = os.open(tmp, os.O_RDONLY)   # the file now at ``tmp``, however ``write`` made it
        try:
            os.fsync(wfd)
        finally:
            os.close(wfd)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _naming_target(exc, path, who) from exc
        raise
    finally:
        if fd is not None:
            os.close(fd)
    shutil.rmtree(work, ignore_errors=True)   # now only the lock file
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        dfd = None
    if dfd is not None:
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)
    _remove_stale_temps(path)


def save(obj: Mapping[str, Any], path: str | os.PathLike,
         metadata: Mapping[str, Any] | None = None) -> None:
    """Save a state dict or a nested checkpoint to ``path`` (safetensors), atomically.

    Args:
        obj: a dict of arrays/Tensors, or nested dicts/lists/tuples of arrays, Tensors and
            JSON values (int, float, str, bool, None); dict keys are str or int.
        path: destination file (conventionally ``*.safetensors``); replaced atomically.
        metadata: extra JSON-serialisable information stored in the header, e.g.
            ``{"arch": "resnet18", "config": {"num_classes": 10}}``; read it back with
            :func:`load_metadata`.

    Raises:
        TypeError: when ``obj`` is not a mapping or holds an unsupported value: an object of
            another type, or an array of a dtype safetensors cannot store (complex, str,
            datetime, structured, object); the message names its path.
        ValueError: when two entries flatten to the same tensor name, the structure contains
            itself (the message names where) or is nested too deeply.
        OSError: when the file cannot be written (e.g. a missing directory); the message
            names ``path``, and any previous file there is left intact.
        ImportError: when safetensors is not installed.

    Example:
        >>> import numpy as np, tempfile, os, striate
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> striate.save({"model": {"w": np.ones(2, np.float32)}, "epoch": 3}, path)
        >>> striate.load(path)["epoch"]
        3
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"striate.save: expected a dict (state dict or checkpoint), "
                        f"got {type(obj).__name__}")
    tensors: dict[str, np.ndarray] = {}
    from striate import __version__

    try:
        structure = _flatten(obj, [], tensors)
        header = {
            _FORMAT_KEY: _FORMAT_VERSION,
            _VERSION_KEY: __version__,
            _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"), allow_nan=False),
        }
    except RecursionError:
        raise ValueError("striate.save: the structure is nested too deeply (beyond Python's "
                         "recursion limit)") from None
    if metadata is not None:
        try:
            header[_USER_KEY] = json.dumps(metadata, separators=(",", ":"))
        except TypeError as exc:
            raise TypeError(f"striate.save: metadata must be JSON-serialisable ({exc})") from None
        except (ValueError, RecursionError) as exc:
            why = "nested too deeply" if isinstance(exc, RecursionError) else exc
            raise ValueError(f"striate.save: metadata cannot be stored as JSON ({why})") from None
    _safetensors()
    path = os.fspath(path)
    _atomic_write(path, lambda tmp: _write_safetensors(tensors, tmp, header), "striate.save")


def _read(path: str, who: str, arrays: bool = True) -> tuple[dict[str, str],
                                                              dict[str, np.ndarray]]:
    """The header metadata of the safetensors file ``path`` and, when ``arrays``, its tensors.

    Raises:
        FileNotFoundError, IsADirectoryError, OSError: the file cannot be read (the message
            names it).
        ValueError: not a valid safetensors file (truncated, corrupt, not safetensors at all),
            a ``striate.format`` this version cannot read, or a tensor whose dtype NumPy
            cannot represent (e.g. bfloat16).
    """
    _safetensors()
    from safetensors import SafetensorError, safe_open

    if not os.path.exists(path):
        raise FileNotFoundError(f"{who}: no such file: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: '{path}' is a directory, not a file")
    tensors: dict[str, np.ndarray] = {}
    try:
        with safe_open(path, framework="np") as f:
            header = dict(f.metadata() or {})
            _check_format(header, path, who)
            for name in f.keys() if arrays else ():
                try:
                    tensors[name] = f.get_tensor(name)
                except TypeError as exc:  # a dtype NumPy lacks (bfloat16, float8...)
                    raise ValueError(f"{who}: '{path}': tensor '{name}' has dtype "
                                     f"{f.get_slice(name).get_dtype()}, which NumPy cannot "
                                     f"represent ({exc})") from None
    except SafetensorError as exc:
        raise ValueError(f"{who}: '{path}' is not a valid safetensors file ({exc})") from None
    except OSError as exc:  # safetensors' own OSErrors name no file
        raise type(exc)(f"{who}: cannot read '{path}' ({exc})") from None
    return header, tensors


def _check_format(header: dict[str, str], path: str, who: str) -> None:
    """Refuse a striate file whose ``striate.format`` this version cannot read (a foreign
    safetensors file, with neither a format nor a structure entry, is fine)."""
    if _FORMAT_KEY not in header and _STRUCTURE_KEY not in header:
        return
    found = header.get(_FORMAT_KEY)
    if found in _READABLE_FORMATS:
        return
    supported = ", ".join(repr(v) for v in _READABLE_FORMATS)
    if found is None:
        raise ValueError(f"{who}: '{path}' has a striate structure but no {_FORMAT_KEY} "
                         f"entry (supported: {supported})")
    hint = ""
    if found.isdigit() and int(found) > int(_READABLE_FORMATS[-1]):
        writer = header.get(_VERSION_KEY)
        hint = (f"; it was written by a newer striate{f' ({writer})' if writer else ''}, "
                "upgrade striate to read it")
    raise ValueError(f"{who}: '{path}' has striate format {found!r}, this version reads "
                     f"{supported}{hint}")


def load(path: str | os.PathLike) -> Any:
    """Load a checkpoint written by :func:`save` (or any safetensors file).

    Args:
        path: the file.

    Returns:
        The saved structure with NumPy arrays in place of arrays/Tensors (dict keys, tuples and
        scalar values restored). A safetensors file written by another tool gives a flat dict
        ``name -> array``.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        IsADirectoryError, OSError: when ``path`` is a directory or cannot be read.
        ValueError: when the file is not a valid safetensors file (truncated, corrupt), holds
            a dtype NumPy lacks (bfloat16), has a ``striate.format`` this version cannot read
            (newer, unknown or missing), or its striate structure is malformed or names a
            tensor the file lacks. Every message names the file.
        ImportError: when safetensors is not installed.
    """
    path = os.fspath(path)
    header, tensors = _read(path, "striate.load")
    for k, v in tensors.items():
        if not v.flags.writeable:
            tensors[k] = v.copy()
    raw = header.get(_STRUCTURE_KEY)
    if raw is None:
        return dict(tensors)
    try:
        structure = json.loads(raw)
        return _unflatten(structure, tensors)
    except (KeyError, TypeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ValueError(f"striate.load: '{path}' has a malformed striate structure "
                         f"header ({type(exc).__name__}: {exc})") from None
    except RecursionError:
        raise ValueError(f"striate.load: '{path}' has a malformed striate structure "
                         "header (nested too deeply)") from None


def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata stored in a checkpoint's header, without reading its arrays.

    Returns:
        The ``metadata`` given to :func:`save` (JSON-decoded) plus ``"striate_version"``; for
        a safetensors file from another tool, its raw string metadata.

    Raises:
        FileNotFoundError, IsADirectoryError, OSError: the file cannot be read.
        ValueError: not a valid safetensors file, a ``striate.format`` this version cannot
            read, or metadata that is not valid JSON (messages name the file).
        ImportError: when safetensors is not installed.
    """
    path = os.fspath(path)
    header, _ = _read(path, "striate.load_metadata", arrays=False)
    if _STRUCTURE_KEY not in header:
        return header
    out: dict[str, Any] = {}
    if _USER_KEY in header:
        try:
            user = json.loads(header[_USER_KEY])
        except (ValueError, RecursionError) as exc:
            why = "nested too deeply" if isinstance(exc, RecursionError) else exc
            raise ValueError(f"striate.load_metadata: '{path}' has malformed metadata "
                             f"({_USER_KEY}: {why})") from None
        out.update(user if isinstance(user, dict) else {"metadata": user})
    out.setdefault("striate_version", header.get(_VERSION_KEY))
    return out
