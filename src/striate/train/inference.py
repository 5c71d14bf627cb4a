"""Use a trained checkpoint: rebuild the model, evaluate it on a data set, classify image
files (any size or mode: converted, resized and normalised as in training)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.train.checkpoint import CheckpointError, load_checkpoint

__all__ = ["evaluate_checkpoint", "load_images", "load_model", "predict_files", "softmax"]


def load_model(path: str | os.PathLike) -> tuple[Any, dict[str, Any]]:
    """Rebuild the model of a checkpoint and load its weights (eval mode).

    Returns:
        ``(model, meta)`` where ``meta`` holds ``arch``, ``class_names``, ``normalization``,
        ``input_shape``...

    Raises:
        CheckpointError: not a checkpoint (see :func:`load_checkpoint`), one without a
            registered architecture, whose architecture cannot be built, whose weights do not
            fit it or are not finite (NaN/inf), or whose ``class_names`` do not match the
            model's classes; the message names the file.
    """
    from striate.models import create

    path = os.fspath(path)
    state, meta = load_checkpoint(path)
    arch = meta.get("arch")
    if not isinstance(arch, dict) or "name" not in arch:
        raise CheckpointError(f"checkpoint {path!r}: no architecture recorded "
                              "(the model was not built with striate.models.create)")
    cfg = dict(arch.get("config", {}))
    try:
        model = create(arch["name"], **cfg)
    except (ValueError, TypeError, MemoryError) as e:  # options from the file, checked here
        why = f"not enough memory: {e}" if isinstance(e, MemoryError) else e
        raise CheckpointError(f"checkpoint {path!r}: cannot rebuild {arch['name']!r} from "
                              f"arch.config ({why})") from e
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:  # one line: the CLI prints the first line of an error
        head, *rest = str(e).splitlines()
        why = head.rstrip(":") + (": " + "; ".join(r.strip() for r in rest) if rest else "")
        raise CheckpointError(f"checkpoint {path!r}: the weights do not fit the "
                              f"{arch['name']!r} of arch.config ({why})") from e
    for name, v in model.state_dict().items():
        if v.dtype.kind == "f" and not np.isfinite(v).all():
            raise CheckpointError(f"checkpoint {path!r}: {name!r} holds NaN or inf values "
                                  "(did the training diverge?)")
    names = meta.get("class_names")
    n_classes = getattr(model, "arch", {}).get("config", {}).get("num_classes")
    if names is not None and n_classes is not None and len(names) != n_classes:
        raise CheckpointError(f"checkpoint {path!r}: class_names has {len(names)} names, the "
                              f"model has {n_classes} classes")
    model.eval()
    return model, meta


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _normalise(x: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    norm = meta.get("normalization") or {}
    if "mean" in norm and "std" in norm:
        c = x.shape[1]
        m = np.asarray(norm["mean"], np.float32)
        s = np.asarray(norm["std"], np.float32)
        m = m.reshape(1, -1, 1, 1) if m.size == c else m.reshape(-1)[0]
        s = s.reshape(1, -1, 1, 1) if s.size == c else s.reshape(-1)[0]
        x = (x - m) / s
    return x.astype(np.float32, copy=False)


def load_images(paths: Sequence[str | os.PathLike], input_shape: Sequence[int],
                meta: dict[str, Any] | None = None) -> np.ndarray:
    """Read image files into a model-ready batch ``(N, C, H, W)`` float32.

    Each image is read by :func:`striate.data.read_image`, as the training image folders
    read it (EXIF orientation, 16-bit scaling, transparency composited over white),
    converted to grayscale (``C == 1``) or RGB (``C == 3``), resized to ``H x W``
    (bilinear), scaled to [0, 1] and normalised with ``meta["normalization"]``.

    Raises:
        FileNotFoundError: a path does not exist.
        ValueError: a file is not a readable image or is a decompression bomb (a
            :class:`~striate.data.DataFormatError` naming it); Pillow missing.
    """
    from striate.data import read_image

    c, h, w = (int(v) for v in input_shape)
    if c not in (1, 3):
        raise ValueError(f"input_shape: expected 1 or 3 channels, got {c}")
    out = np.empty((len(paths), c, h, w), np.float32)
    for i, p in enumerate(paths):
        p = os.fspath(p)
        if not os.path.isfile(p):
            raise FileNotFoundError(f"image {p!r}: no such file")
        try:
            a = read_image(p, "L" if c == 1 else "RGB", (h, w))
        except ImportError as e:  # pragma: no cover
            raise ValueError(f"predict needs Pillow to read images: {e}") from e
        a = np.divide(a, np.float32(255.0), dtype=np.float32)  # as the DataLoader scales
        out[i] = a[None] if c == 1 else a.transpose(2, 0, 1)
    return _normalise(out, meta or {})


def predict_files(checkpoint: str | os.PathLike, paths: Sequence[str | os.PathLike],
                  topk: int = 3) -> list[list[tuple[str, float]]]:
    """Top-``k`` ``(class name, probability)`` for each image file, best first."""
    import striate
    from striate.train.trainer import to_tensor

    model, meta = load_model(checkpoint)
    shape = meta.get("input_shape")
    if not shape:
        raise CheckpointError(f"checkpoint {os.fspath(checkpoint)!r}: no input_shape recorded")
    if shape[0] not in (1, 3):
        raise CheckpointError(f"checkpoint {os.fspath(checkpoint)!r}: the model takes "
                              f"{shape[0]} channels (input_shape), predict reads grayscale "
                              "or RGB images")
    x = load_images(paths, shape, meta)
    with striate.no_grad():
        logits = np.asarray(model(to_tensor(x)).data)
    bad = ~np.isfinite(logits).all(axis=1)
    if bad.any():
        raise ValueError(f"image {os.fspath(paths[int(np.argmax(bad))])!r}: the model's "
                         f"outputs are NaN or inf (checkpoint {os.fspath(checkpoint)!r})")
    probs = softmax(logits.astype(np.float64))
    names = meta.get("class_names") or [str(i) for i in range(probs.shape[1])]
    if len(names) != probs.shape[1]:
        raise CheckpointError(f"checkpoint {os.fspath(checkpoint)!r}: class_names has "
                              f"{len(names)} names, the model gives {probs.shape[1]} classes")
    k = max(1, min(int(topk), probs.shape[1]))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(names[j], float(probs[i, j])) for j in order[i]] for i in range(len(paths))]


def evaluate_checkpoint(checkpoint: str | os.PathLike, dataset: str | None = None,
                        root: str | None = None, batch_size: int = 256,
                        limit: int | None = None) -> dict[str, Any]:
    """Test-set loss, accuracy, top-5, per-class accuracy and confusion matrix of a
    checkpoint (the data set defaults to the one it was trained on; ``limit`` takes the same
    seeded subset as ``striate train --limit-test``)."""
    from striate.data import DataLoader, load_dataset
    from striate.train.run import _subset
    from striate.train.trainer import Trainer

    model, meta = load_model(checkpoint)
    name = dataset or meta.get("dataset")
    if not name:
        raise ValueError("evaluate: the checkpoint records no data set; pass --dataset")
    seed = (meta.get("run_config") or {}).get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise CheckpointError(f"checkpoint {os.fspath(checkpoint)!r}: run_config.seed: "
                              f"expected an integer >= 0, got {seed!r}")
    ds = _subset(load_dataset(name, root=root, train=False), limit, seed)
    shape = meta.get("input_shape")
    if shape and tuple(ds.image_shape) != tuple(shape):
        raise ValueError(f"evaluate: {name} images have shape {tuple(ds.image_shape)}, the "
                         f"model expects {tuple(shape)}")
    norm = meta.get("normalization") or {}
    loader = DataLoader(ds, batch_size=batch_size, mean=norm.get("mean"), std=norm.get("std"))
    res = Trainer(model, progress=False, verbose=False,
                  num_classes=len(meta.get("class_names") or []) or None).evaluate(loader)
    res["class_names"] = meta.get("class_names") or list(ds.classes)
    res["dataset"] = name
    return res
