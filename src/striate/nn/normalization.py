"""``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import striate.functional as F
from striate.nn import init
from striate.nn.activation import ReLU
from striate.nn.linear import _float_dtype
from striate.nn.module import Module
from striate.nn.parameter import Parameter
from striate.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    _expected_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or int(num_features) != num_features \
                or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive integer, got "
                             f"{num_features!r}")
        if eps <= 0:
            raise ValueError(f"{name}: eps must be positive, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dt = _float_dtype(dtype)
        if affine:
            self.weight = Parameter(np.empty(self.num_features, dt))
            if bias:
                self.bias = Parameter(np.empty(self.num_features, dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dt))
            self.register_buffer("running_var", np.ones(self.num_features, dt))
            self.register_buffer("num_batches_tracked", np.array(0, np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batch tracked."""
        if self.track_running_stats:
            self.running_mean.data.fill(0)
            self.running_var.data.fill(1)
            self.num_batches_tracked.data.fill(0)

    def reset_parameters(self) -> None:
        """Running statistics reset; weight 1, bias 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._expected_dims:
            dims = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"{type(self).__name__}: expected {dims} input, got "
                             f"{input.ndim}D input of shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected input with {self.num_features} "
                             f"channels (dimension 1), got input shape {tuple(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        return self._forward(input, "none")

    def _fuses_relu(self, relu: Any) -> bool:
        """Whether ``relu(self(x))`` may run as one fused call (:func:`batch_norm_relu`):
        ``relu`` a plain :class:`ReLU`, ``self``'s forward not overridden, and no hooks on
        either (they would observe the tensor between the two)."""
        return (type(relu) is ReLU and type(self).forward is _BatchNorm.forward
                and not self._has_hooks and not relu._has_hooks)

    def _forward(self, input: Tensor, activation: str) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps, activation=activation)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


def batch_norm_relu(bn: Module, relu: Module, input: Tensor) -> Tensor:
    """``relu(bn(input))``: when ``bn`` is a batch norm and ``relu`` an :class:`ReLU` with
    no hooks, the ReLU runs inside the normalisation's passes (``F.batch_norm(...,
    activation="relu")``: one pass over the data less forward and backward, and the
    pre-activation never stored); otherwise the two modules are called in turn.  The same
    values and gradients either way.  :class:`~striate.nn.Sequential` fuses such pairs
    itself; models whose forward calls a norm and a ReLU by hand use this."""
    if isinstance(bn, _BatchNorm) and bn._fuses_relu(relu):
        return bn._forward(input, "relu")
    return relu(bn(input))


class BatchNorm1d(_BatchNorm):
    r"""Batch normalisation over a ``(N, C)`` or ``(N, C, L)`` input:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` per channel, with batch statistics
    in training (biased variance for normalising, unbiased for the running estimate) and the
    running estimates in eval mode.

    Args:
        num_features: ``C``.
        eps: added to the variance (default 1e-5).
        momentum: running estimate update ``running = (1 - momentum) * running + momentum *
            batch_stat`` (default 0.1); ``None`` gives a cumulative (equal-weight) average.
        affine: learn ``weight`` (init 1) and ``bias`` (init 0) (default True).
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` buffers (default True); without them batch statistics are
            used in eval mode too.
        dtype: parameter/buffer dtype (default float32).
        bias: learn the bias (with ``affine``; keyword-only, default True).

    Shape:
        Input: ``(N, C)`` or ``(N, C, L)``. Output: same as input.

    Raises:
        ValueError: for bad hyperparameters, or an input of the wrong rank or channel count.
    """

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    r"""Batch normalisation over an NCHW input, per channel (statistics over N, H, W).

    Args:
        num_features: ``C``.
        eps: added to the variance (default 1e-5).
        momentum: running-estimate factor (default 0.1; ``None``: cumulative average).
        affine: learn ``weight`` and ``bias`` (default True).
        track_running_stats: keep running statistics (default True).
        dtype: parameter/buffer dtype (default float32).
        bias: learn the bias (with ``affine``; keyword-only, default True).

    Shape:
        Input: ``(N, C, H, W)``. Output: same as input.

    Raises:
        ValueError: for bad hyperparameters, or an input that is not 4-D with ``C`` channels.

    Example:
        >>> import striate
        >>> from striate import nn
        >>> nn.BatchNorm2d(8)(striate.randn(4, 8, 5, 5)).shape
        (4, 8, 5, 5)
    """

    _expected_dims = (4,)


class LayerNorm(Module):
    r"""Layer normalisation over the last ``len(normalized_shape)`` dimensions:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` (biased variance).

    Args:
        normalized_shape: int or shape of the trailing dimensions to normalise.
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn ``weight`` (init 1) and ``bias`` (init 0) of shape
            ``normalized_shape`` (default True).
        bias: learn the bias (with ``elementwise_affine``; default True).
        dtype: parameter dtype (default float32).

    Shape:
        Input: ``(*, *normalized_shape)``. Output: same as input.

    Raises:
        ValueError: for a non-positive size or eps.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        if any(s <= 0 for s in self.normalized_shape) or not self.normalized_shape:
            raise ValueError(f"LayerNorm: normalized_shape must be positive sizes, got "
                             f"{normalized_shape!r}")
        if eps <= 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps}")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dt = _float_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
