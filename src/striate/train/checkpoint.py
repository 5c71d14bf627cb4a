"""Training checkpoints on top of :func:`striate.save` / :func:`striate.load` (safetensors).

A checkpoint holds a nested state (``{"model": ..., "optimizer": ..., "scheduler": ...,
"trainer": ..., "rng": ...}``) and metadata describing how to rebuild and feed the model:
``arch`` (registry name + config), ``class_names``, ``normalization`` (mean/std on the [0, 1]
scale), ``input_shape`` (C, H, W), ``dataset``, ``epoch``. Nothing is pickled: loading never
executes code. Writes are atomic (temporary file + rename).

Loading checks ``format_version`` and the metadata, since a checkpoint may come from anywhere:
each field has the documented type, and sizes stay below generous sanity bounds
(:data:`MAX_CLASSES`, :data:`MAX_CHANNELS`, :data:`MAX_IMAGE_SIDE`, :data:`MAX_INPUT_SIZE`)
so that a crafted file cannot ask for an absurd allocation before a single weight is read.
"""

from __future__ import annotations

import math
import os
from typing import Any

FORMAT = "striate-checkpoint"
FORMAT_VERSION = 1
#: ``format_version`` values :func:`load_checkpoint` reads: the current one and every older one.
READABLE_VERSIONS = (1,)

#: Sanity bounds on checkpoint metadata, far above any real model (ImageNet-21k has 21,841
#: classes; hyperspectral images a few hundred channels) but finite.
MAX_CLASSES = 1_000_000        # arch.config.num_classes and len(class_names)
MAX_CHANNELS = 1024            # input channels: input_shape[0], arch.config.in_channels
MAX_IMAGE_SIDE = 16384         # input height/width: input_shape[1:], arch.config.input_size
MAX_INPUT_SIZE = 2 ** 28       # C * H * W of input_shape: 1 GiB per float32 image


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
    metadata = {**(meta or {}), "format": FORMAT, "format_version": FORMAT_VERSION}
    striate.save(state, path, metadata=metadata)
    return path


def _short(v: Any, limit: int = 60) -> str:
    r = repr(v)
    return r if len(r) <= limit else r[:limit] + "..."


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_version(meta: dict[str, Any]) -> str | None:
    v = meta.get("format_version")
    supported = ", ".join(map(str, READABLE_VERSIONS))
    if _is_int(v) and v in READABLE_VERSIONS:
        return None
    if _is_int(v) and v > max(READABLE_VERSIONS):
        writer = meta.get("striate_version")
        return (f"format_version {v} is newer than this striate reads ({supported}); it was "
                f"written by striate {writer or '(unknown version)'}: upgrade striate")
    return f"format_version: expected one of {supported}, got {_short(v)}"


def _check_size(field: str, v: Any, hi: int) -> str | None:
    if not _is_int(v) or not 1 <= v <= hi:
        return f"{field}: expected an integer from 1 to {hi:,}, got {_short(v)}"
    return None


def _meta_problem(meta: dict[str, Any]) -> str | None:
    """The first problem of a checkpoint's metadata (``"field: expected ..., got ..."``), or
    None. Every field is optional except the format ones."""
    problem = _check_version(meta)
    if problem:
        return problem
    if "arch" in meta:
        arch = meta["arch"]
        if not isinstance(arch, dict):
            return f"arch: expected a dict with 'name' and 'config', got {_short(arch)}"
        if not isinstance(arch.get("name"), str):
            return f"arch.name: expected a model name, got {_short(arch.get('name'))}"
        cfg = arch.get("config", {})
        if not isinstance(cfg, dict):
            return f"arch.config: expected a dict of model options, got {_short(cfg)}"
        if "name" in cfg:
            return "arch.config: 'name' is not a model option"
        for key, hi in (("num_classes", MAX_CLASSES), ("in_channels", MAX_CHANNELS)):
            if key in cfg:
                problem = _check_size(f"arch.config.{key}", cfg[key], hi)
                if problem:
                    return problem
        for key in ("input_size", "image_size"):   # the image side options of the zoo
            if key in cfg:
                size = cfg[key]
                sides = size if isinstance(size, list) and len(size) == 2 else [size]
                for side in sides:
                    problem = _check_size(f"arch.config.{key}", side, MAX_IMAGE_SIDE)
                    if problem:
                        return problem + (" (or a list of two)" if len(sides) == 1 else "")
    if "class_names" in meta:
        names = meta["class_names"]
        if (not isinstance(names, list) or not 1 <= len(names) <= MAX_CLASSES
                or not all(isinstance(n, str) for n in names)):
            return (f"class_names: expected a list of 1 to {MAX_CLASSES:,} strings, got "
                    f"{_short(names)}")
    shape = meta.get("input_shape")
    if "input_shape" in meta:
        if not isinstance(shape, list) or len(shape) != 3 or not all(map(_is_int, shape)):
            return f"input_shape: expected [channels, height, width], got {_short(shape)}"
        c, h, w = shape
        if not (1 <= c <= MAX_CHANNELS and 1 <= h <= MAX_IMAGE_SIDE
                and 1 <= w <= MAX_IMAGE_SIDE and c * h * w <= MAX_INPUT_SIZE):
            return (f"input_shape: expected 1 to {MAX_CHANNELS} channels, sides of 1 to "
                    f"{MAX_IMAGE_SIDE} and at most {MAX_INPUT_SIZE:,} values, got {shape}")
        in_ch = (meta.get("arch") or {}).get("config", {}).get("in_channels", c)
        if in_ch != c:
            return f"input_shape: {c} channels, but arch.config.in_channels is {in_ch}"
    if "normalization" in meta:
        norm = meta["normalization"]
        if not isinstance(norm, dict):
            return f"normalization: expected a dict with 'mean' and 'std', got {_short(norm)}"
        n_ch = (1, shape[0]) if shape is not None else None
        for key in ("mean", "std"):
            if key not in norm:
                continue
            v = norm[key]
            if not isinstance(v, list) or not v or not all(map(_is_number, v)):
                return (f"normalization.{key}: expected a list of finite numbers, got "
                        f"{_short(v)}")
            if key == "std" and not all(s > 0 for s in v):
                return f"normalization.std: expected values > 0, got {_short(v)}"
            if n_ch is not None and len(v) not in n_ch:
                return (f"normalization.{key}: expected 1 or {shape[0]} values (one per "
                        f"channel of input_shape), got {len(v)}")
    if "epoch" in meta and not (_is_int(meta["epoch"]) and meta["epoch"] >= 0):
        return f"epoch: expected an integer >= 0, got {_short(meta['epoch'])}"
    if "dataset" in meta and not isinstance(meta["dataset"], str):
        return f"dataset: expected a data set name, got {_short(meta['dataset'])}"
    if "run_config" in meta and not isinstance(meta["run_config"], dict):
        return f"run_config: expected a dict, got {_short(meta['run_config'])}"
    return None


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns:
        ``(state, meta)``: the nested state (arrays as NumPy arrays) and the metadata.

    Raises:
        CheckpointError: missing file, not safetensors, not a striate checkpoint, a
            ``format_version`` this striate does not read (newer, unknown, missing), or
            metadata of the wrong type or beyond the sanity bounds (the message names the
            file and the field).
    """
    import striate

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path!r}: no such file")
    try:
        meta = striate.load_metadata(path) or {}
    except (ValueError, OSError) as e:  # striate.load's errors name the file and the problem
        raise CheckpointError(f"checkpoint {path!r}: not a readable striate checkpoint "
                              f"({e})") from e
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path!r}: not a striate training checkpoint "
                              "(written by something other than striate.train)")
    problem = _meta_problem(meta)
    if problem:
        raise CheckpointError(f"checkpoint {path!r}: {problem}")
    try:
        state = striate.load(path)
    except (ValueError, OSError) as e:
        raise CheckpointError(f"checkpoint {path!r}: not a readable striate checkpoint "
                              f"({e})") from e
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(f"checkpoint {path!r}: not a striate training checkpoint "
                              "(no model state)")
    return state, meta
