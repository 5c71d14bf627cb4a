"""Classification metrics, vectorised NumPy (no Python loop over samples).

Every function takes ``logits`` (or probabilities: only the ranking matters) of shape
``(N, C)`` and integer ``targets`` of shape ``(N,)``; soft targets (``(N, C)`` float rows, as
MixUp/CutMix produce) are reduced to their arg-max class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _as_labels(targets: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Hard labels ``(N,)`` int64 from hard labels or soft-target rows ``(N, C)``."""
    t = np.asarray(targets)
    if t.ndim == 2:
        if num_classes is not None and t.shape[1] != num_classes:
            raise ValueError(f"targets: expected soft targets with {num_classes} columns, "
                             f"got shape {t.shape}")
        return np.argmax(t, axis=1).astype(np.int64)
    if t.ndim != 1:
        raise ValueError(f"targets: expected shape (N,) or (N, C), got shape {t.shape}")
    return t.astype(np.int64, copy=False)


def _check(logits: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(logits)
    if z.ndim != 2:
        raise ValueError(f"logits: expected shape (N, C), got shape {z.shape}")
    y = _as_labels(targets, z.shape[1])
    if y.shape[0] != z.shape[0]:
        raise ValueError(f"targets: expected {z.shape[0]} labels to match logits shape "
                         f"{z.shape}, got {y.shape[0]}")
    if y.size and (y.min() < 0 or y.max() >= z.shape[1]):
        raise ValueError(f"targets: labels must lie in [0, {z.shape[1]}), got range "
                         f"[{y.min()}, {y.max()}]")
    return z, y


def topk_correct(logits: np.ndarray, targets: np.ndarray, k: int = 1) -> np.ndarray:
    """Boolean ``(N,)``: is the true class among the ``k`` highest scores?

    Classes are ranked by score, ties by class index (as ``argmax`` does), so top-1 agrees
    with ``argmax(logits, 1) == targets``.

    Args:
        logits: ``(N, C)`` scores.
        targets: ``(N,)`` int labels or ``(N, C)`` soft targets.
        k: how many top classes count (clipped to C).
    """
    z, y = _check(logits, targets)
    if k < 1:
        raise ValueError(f"k: expected >= 1, got {k}")
    true_score = z[np.arange(z.shape[0]), y]
    cols = np.arange(z.shape[1])
    ahead = (z > true_score[:, None]) | ((z == true_score[:, None]) & (cols < y[:, None]))
    return ahead.sum(axis=1) < min(k, z.shape[1])


def accuracy(logits: np.ndarray, targets: np.ndarray, k: int = 1) -> float:
    """Top-``k`` accuracy in [0, 1] (0.0 for an empty batch)."""
    c = topk_correct(logits, targets, k)
    return float(c.mean()) if c.size else 0.0


def confusion_matrix(preds: np.ndarray, targets: np.ndarray, num_classes: int) -> np.ndarray:
    """Confusion counts ``M[true, pred]`` of shape ``(C, C)``, int64.

    Args:
        preds: ``(N,)`` predicted labels.
        targets: ``(N,)`` true labels (or soft targets, reduced by arg-max).
        num_classes: C.
    """
    p = np.asarray(preds).astype(np.int64, copy=False).ravel()
    y = _as_labels(targets, None).ravel()
    if p.shape != y.shape:
        raise ValueError(f"preds: expected {y.shape[0]} predictions, got {p.shape[0]}")
    if p.size and (min(p.min(), y.min()) < 0 or max(p.max(), y.max()) >= num_classes):
        raise ValueError(f"confusion_matrix: labels must lie in [0, {num_classes})")
    flat = np.bincount(y * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix (NaN for a class with no samples)."""
    cm = np.asarray(confusion, dtype=np.float64)
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


@dataclass
class MetricAccumulator:
    """Running sums for one pass over a data set; :meth:`compute` gives the summary.

    Feed it batch by batch with :meth:`update` (the loss given is the batch *mean*, weighted
    by the batch size). Keeps only O(C^2) state: the confusion matrix, top-k counts, sums.

    Example:
        >>> acc = MetricAccumulator(num_classes=3)
        >>> acc.update(np.array([[2., 1., 0.], [0., 1., 3.]]), np.array([0, 1]), loss=0.5)
        >>> acc.compute()["accuracy"]
        0.5
    """

    num_classes: int
    topk: tuple[int, ...] = (5,)
    loss_sum: float = 0.0
    count: int = 0
    topk_hits: dict[int, int] = field(default_factory=dict)
    confusion: np.ndarray | None = None

    def reset(self) -> None:
        self.loss_sum, self.count, self.topk_hits = 0.0, 0, {}
        self.confusion = None

    def update(self, logits: np.ndarray, targets: np.ndarray, loss: float | None = None) -> None:
        z, y = _check(logits, targets)
        n = z.shape[0]
        if self.confusion is None:
            self.confusion = np.zeros((self.num_classes, self.num_classes), np.int64)
        self.confusion += confusion_matrix(np.argmax(z, axis=1), y, self.num_classes)
        for k in self.topk:
            if k <= 1:
                continue
            self.topk_hits[k] = self.topk_hits.get(k, 0) + int(topk_correct(z, y, k).sum())
        if loss is not None:
            self.loss_sum += float(loss) * n
        self.count += n

    def compute(self) -> dict:
        """``{"loss", "accuracy", "top<k>", "per_class_accuracy", "confusion_matrix", "n"}``."""
        cm = self.confusion if self.confusion is not None else np.zeros(
            (self.num_classes, self.num_classes), np.int64)
        n = max(self.count, 1)
        out: dict = {
            "loss": self.loss_sum / n if self.count else float("nan"),
            "accuracy": float(np.trace(cm)) / n if self.count else 0.0,
            "n": int(self.count),
        }
        for k in self.topk:
            if k > 1:
                out[f"top{k}"] = self.topk_hits.get(k, 0) / n if self.count else 0.0
        out["per_class_accuracy"] = [None if np.isnan(v) else float(v)
                                     for v in per_class_accuracy(cm)]
        out["confusion_matrix"] = cm.tolist()
        return out
