"""Atomic file writes: write to a temporary file in the same directory, then rename."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` then atomically rename ``tmp_path`` onto ``path`` (creating
    the directory first).

    The temporary file lives in the destination directory (same file system) so the rename
    is atomic: readers see either the old file or the complete new one, never a torn file.
    The work is done by the one atomic-write helper that :func:`striate.save` uses too.
    """
    from striate.serialization import _atomic_write

    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    _atomic_write(path, write)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    def w(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    atomic_write(path, w)


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy scalars/arrays and tuples to plain JSON types; NaN/inf become None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")
