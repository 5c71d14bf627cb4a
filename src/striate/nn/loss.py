"""Loss modules: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``, ``L1Loss``,
``BCEWithLogitsLoss`` (the math is in :mod:`striate.functional`)."""

from __future__ import annotations

from typing import Any

import numpy as np

import striate.functional as F
from striate.nn.module import Module
from striate.tensor import Tensor

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "L1Loss", "MSELoss", "NLLLoss"]

_REDUCTIONS = ("none", "mean", "sum")


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, "
                             f"got {reduction!r}")
        self.reduction = reduction

    def _weight_buffer(self, name: str, weight: Any) -> None:
        if weight is not None and not isinstance(weight, Tensor):
            weight = Tensor(np.asarray(weight))
        self.register_buffer(name, weight)


class CrossEntropyLoss(_Loss):
    r"""Cross entropy between logits and class indices (or class probabilities):
    ``log_softmax`` followed by the negative log likelihood.

    Args:
        weight: optional per-class weight ``(C,)`` (a buffer).
        ignore_index: target value that contributes nothing (default -100).
        reduction: ``"none"`` | ``"mean"`` (weighted mean over non-ignored targets) |
            ``"sum"``.
        label_smoothing: amount in [0, 1] of uniform smoothing of the targets.

    Shape:
        Input: ``(N, C)`` or ``(N, C, d1, ...)`` logits. Target: ``(N)`` / ``(N, d1, ...)``
        class indices, or probabilities of the input's shape. Output: scalar, or the target's
        shape with ``reduction="none"``.

    Raises:
        ValueError: for a bad reduction or label_smoothing outside [0, 1].

    Example:
        >>> import striate
        >>> from striate import nn
        >>> loss = nn.CrossEntropyLoss()(striate.randn(4, 10), striate.tensor([1, 0, 9, 3]))
        >>> loss.shape
        ()
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing}")
        self._weight_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    r"""Negative log likelihood of log-probabilities: ``-input[n, target[n]]`` (weighted).

    Args:
        weight: optional per-class weight ``(C,)``.
        ignore_index: target value that contributes nothing (default -100).
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        Input: ``(N, C)`` or ``(N, C, d1, ...)``. Target: ``(N)`` or ``(N, d1, ...)``.
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._weight_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    r"""Mean squared error ``(input - target) ** 2`` (reduced).

    Args:
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.

    Shape:
        Input and target: same shape. Output: scalar, or that shape with ``"none"``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    r"""Mean absolute error ``|input - target|`` (reduced).

    Args:
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""Binary cross entropy on logits, computed stably:
    ``-w * (pos_weight * y * log sigmoid(x) + (1 - y) * log(1 - sigmoid(x)))``.

    Args:
        weight: optional weight broadcast to the input (a buffer).
        reduction: ``"none"`` | ``"mean"`` | ``"sum"``.
        pos_weight: optional weight of the positive examples, per class (a buffer).

    Shape:
        Input and target: same shape. Output: scalar, or that shape with ``"none"``.
    """

    def __init__(self, weight: Any = None, reduction: str = "mean",
                 pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self._weight_buffer("weight", weight)
        self._weight_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
