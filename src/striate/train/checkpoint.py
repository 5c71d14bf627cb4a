"""Training checkpoints on top of :func:`striate.save` / :func:`striate.load` (safetensors).

A checkpoint holds a nested state (``{"model": ..., "optimizer": ..., "scheduler": ...,
"trainer": ..., "rng": ...}``) and metadata describing how to rebuild and feed the model:
``arch`` (registry name + config), ``class_names``, ``normalization`` (mean/std on the [0, 1]
scale), ``input_shape`` (C, H, W), ``dataset``, ``epoch``. Nothing is pickled: loading never
executes code. Writes are atomic (temporary file + rename).
"""

from __future__ import annotations

import os
from typing import Any

FORMAT = "striate-checkpoint"
FORMAT_VERSION = 1


def available() -> bool:
    """Whether checkpoints can be written (the optional safetensors package is installed)."""
    import importlib.util

    return importlib.util.find_spec("safetensors") is not None


class CheckpointError(ValueError):
    """A file is not a readable striate checkpoint (message names the file and the problem)."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any],
                    meta: dict[str, Any] | None = None) -> str:
    """Write ``state`` with ``meta`` (JSON-able) to ``path``; returns the path."""
    import striate

    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, **(meta or {})}
    striate.save(state, path, metadata=metadata)
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns:
        ``(state, meta)``: the nested state (arrays as NumPy arrays) and the metadata.

    Raises:
        CheckpointError: missing file, not safetensors, or not a striate checkpoint.
    """
    import striate

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r}: no such file")
    try:
        meta = striate.load_metadata(path) or {}
        state = striate.load(path)
    except (ValueError, OSError) as e:  # striate.load's errors name the file and the problem
        raise CheckpointError(f"checkpoint {path!r}: not a readable striate checkpoint "
                              f"({e})") from e
    if meta.get("format") != FORMAT or not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"checkpoint {path!r}: not a striate training checkpoint "
                              "(written by something other than striate.train)")
    return state, meta
