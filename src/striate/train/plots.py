"""PNG plots of a run (matplotlib, optional): curves, confusion matrix, misclassified images.

Each function returns the path written, or ``None`` when matplotlib is not installed (a run
never fails for want of plots). Figures are drawn with the Agg renderer on ``Figure`` objects,
without pyplot: nothing is shown and the caller's pyplot backend and state are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.train._io import atomic_write


def _figure(**kw: Any):
    """A new matplotlib ``Figure`` on an Agg canvas, or None when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    fig = Figure(**kw)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str) -> str:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110,
                                               bbox_inches="tight"))
    return path


def plot_history(history: Sequence[dict[str, Any]], path: str | os.PathLike) -> str | None:
    """Loss and accuracy curves (train and validation) against the epoch.

    Args:
        history: per-epoch records holding some of ``train_loss``, ``val_loss``,
            ``train_accuracy``, ``val_accuracy`` (a :class:`~striate.train.History` works).
        path: PNG file to write.
    """
    fig = _figure(figsize=(10, 3.8))
    if fig is None:
        return None
    records = list(history)
    epochs = [r.get("epoch", i + 1) for i, r in enumerate(records)]
    axes = fig.subplots(1, 2)
    for ax, what in zip(axes, ("loss", "accuracy")):
        for split, style in (("train", "-o"), ("val", "-s")):
            key = f"{split}_{what}"
            pts = [(e, r[key]) for e, r in zip(epochs, records) if r.get(key) is not None]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, style, label=split, markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(what)
        ax.set_title(what)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    return _save(fig, os.fspath(path))


def plot_confusion_matrix(confusion: np.ndarray, class_names: Sequence[str] | None,
                          path: str | os.PathLike, normalize: bool = True) -> str | None:
    """Heat map of ``confusion[true, pred]`` (rows normalised to recall when ``normalize``)."""
    cm = np.asarray(confusion, dtype=np.float64)
    c = cm.shape[0]
    size = max(4.0, 0.55 * c + 2)
    fig = _figure(figsize=(size, size))
    if fig is None:
        return None
    names = list(class_names) if class_names else [str(i) for i in range(c)]
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    ax = fig.subplots()
    im = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(c))
    ax.set_yticks(range(c))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix" + (" (row-normalised)" if normalize else ""))
    if c <= 20:
        thresh = shown.max() / 2 if shown.size else 0
        for i in range(c):
            for j in range(c):
                txt = f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
                ax.text(j, i, txt, ha="center", va="center", fontsize=6,
                        color="white" if shown[i, j] > thresh else "black")
    fig.tight_layout()
    return _save(fig, os.fspath(path))


def to_display(images: np.ndarray, mean: Sequence[float] | None = None,
               std: Sequence[float] | None = None) -> np.ndarray:
    """NCHW normalised float images -> NHWC (or NHW for one channel) in [0, 1] for imshow."""
    x = np.asarray(images, dtype=np.float32)
    if mean is not None and std is not None:
        m = np.asarray(mean, np.float32).reshape(1, -1, 1, 1)
        s = np.asarray(std, np.float32).reshape(1, -1, 1, 1)
        x = x * s + m
    x = np.clip(x, 0.0, 1.0) if x.max() <= 1.5 else np.clip(x / 255.0, 0.0, 1.0)
    return x[:, 0] if x.shape[1] == 1 else np.transpose(x, (0, 2, 3, 1))


def plot_misclassified(images: np.ndarray, true: Sequence[int], pred: Sequence[int],
                       class_names: Sequence[str] | None, path: str | os.PathLike,
                       mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                       max_images: int = 36) -> str | None:
    """A grid of misclassified images titled ``true -> pred``.

    Args:
        images: ``(N, C, H, W)`` images as fed to the model (normalised with ``mean``/``std``,
            which are undone for display).
        true, pred: ``(N,)`` labels.
        class_names: names for the labels (indices are shown when None).
        path: PNG file to write.
        max_images: at most this many are drawn.
    """
    n = min(len(true), max_images)
    names = list(class_names) if class_names else None
    cols = max(1, min(6, n))
    rows = max(1, -(-n // cols))
    fig = _figure(figsize=(1.9 * cols, 2.1 * rows))
    if fig is None:
        return None
    axes = fig.subplots(rows, cols, squeeze=False)
    disp = to_display(np.asarray(images[:n]), mean, std) if n else []
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= n:
            continue
        img = disp[i]
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
        t, p = int(true[i]), int(pred[i])
        tn, pn = (names[t], names[p]) if names else (str(t), str(p))
        ax.set_title(f"{tn}\n-> {pn}", fontsize=7, color="firebrick")
    if n == 0:
        axes[0, 0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    fig.suptitle("misclassified (true -> predicted)", fontsize=9)
    fig.tight_layout()
    return _save(fig, os.fspath(path))
