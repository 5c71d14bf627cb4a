"""Gradient utilities: ``clip_grad_norm_`` and ``clip_grad_value_`` (``striate.nn.utils``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _params(parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _grads(parameters: Any) -> list[np.ndarray]:
    out = []
    for p in _params(parameters):
        g = p.grad
        if g is not None:
            out.append(g if isinstance(g, np.ndarray) else g.data)
    return out


def clip_grad_norm_(parameters: Iterable[Any] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    r"""Scale all gradients in place so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated into one vector;
    when it exceeds ``max_norm`` every gradient is multiplied by
    ``max_norm / (total_norm + 1e-6)`` (PyTorch's formula, applied with the factor clamped to
    at most 1).

    Args:
        parameters: parameters (or one Tensor) whose ``.grad`` is clipped; those without a
            gradient are skipped.
        max_norm: the maximum norm.
        norm_type: the p of the p-norm (``float("inf")`` for the max norm).
        error_if_nonfinite: raise when the total norm is nan or inf.
        foreach: accepted for PyTorch compatibility.

    Returns:
        The total norm of the gradients before clipping (a 0-d float32 Tensor).

    Raises:
        RuntimeError: when ``error_if_nonfinite`` and the norm is not finite.

    Example:
        >>> import numpy as np, striate
        >>> from striate import nn
        >>> p = nn.Parameter(np.zeros(2, np.float32))
        >>> p.grad = striate.tensor([3.0, 4.0])
        >>> float(nn.utils.clip_grad_norm_([p], 1.0))
        5.0
    """
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.array(0.0, np.float32))
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    else:
        total = sum(float(np.sum(np.abs(g).astype(np.float64) ** norm_type))
                    for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return Tensor(np.array(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Iterable[Any] | Tensor, clip_value: float,
                     foreach: Any = None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place.

    Args:
        parameters: parameters (or one Tensor) whose ``.grad`` is clipped.
        clip_value: the bound (positive).
        foreach: accepted for PyTorch compatibility.
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)


def parameters_to_vector(parameters: Iterable[Any]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D Tensor (a copy)."""
    return Tensor(np.concatenate([p.data.ravel() for p in parameters]))


def vector_to_parameters(vec: Any, parameters: Iterable[Any]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place).

    Raises:
        ValueError: when ``vec`` has the wrong number of elements.
    """
    v = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    params = list(parameters)
    n = sum(p.data.size for p in params)
    if v.ndim != 1 or v.size != n:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {n} elements, got "
                         f"shape {v.shape}")
    i = 0
    for p in params:
        p.data[...] = v[i:i + p.data.size].reshape(p.data.shape)
        i += p.data.size
