"""Test helpers: one op checker used by every op test (tinygrad style).

:func:`check_op` runs an op on the same inputs through striate's finite-difference
:func:`~striate.gradcheck` (float64) and, when a PyTorch twin is given and torch is installed,
compares striate's forward values and input gradients with PyTorch's (float32 by default),
with explicit tolerances.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from striate.gradcheck import gradcheck
from striate.tensor import Tensor

__all__ = ["assert_close", "check_op"]


def assert_close(actual: Any, expected: Any, atol: float, rtol: float, what: str) -> None:
    """``|actual - expected| <= atol * max(1, max|expected|) + rtol * |expected|``.

    ``atol`` is relative to the scale of ``expected`` so one tolerance serves small and large
    values.

    Raises:
        AssertionError: naming ``what``, the worst index, both values and the max error.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape} != expected {e.shape}")
    if a.size == 0:
        return
    scale = max(1.0, float(np.nanmax(np.abs(e))) if np.isfinite(e).any() else 1.0)
    err = np.abs(a - e)
    tol = atol * scale + rtol * np.abs(e)
    bad = ~(err <= tol) & ~(np.isnan(a) & np.isnan(e)) & ~(a == e)
    if bad.any():
        i = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), a.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {a.size} elements differ; max error "
            f"{float(np.nanmax(np.where(bad, err, 0))):.3e} at {tuple(int(v) for v in i)}: "
            f"got {a[i]!r}, expected {e[i]!r} (atol={atol} x scale {scale:.3g}, rtol={rtol})")


def _outputs(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_op(fn: Callable[..., Any], inputs: Sequence[Any],
             torch_fn: Callable[..., Any] | None = None, *,
             requires_grad: Sequence[bool] | None = None,
             atol: float = 1e-4, rtol: float = 1e-4,
             grad_atol: float | None = None, grad_rtol: float | None = None,
             gradcheck_: bool = True, gc_eps: float = 1e-6, gc_atol: float = 1e-5,
             gc_rtol: float = 1e-3, dtype: Any = np.float32, seed: int = 0) -> None:
    """Check one op: gradients by finite differences, and forward + gradients vs PyTorch.

    Args:
        fn: the striate op, called with one Tensor per input.
        inputs: NumPy arrays (or array-likes).  Floating ones require grad unless
            ``requires_grad`` says otherwise; integer/bool ones are passed as constants.
        torch_fn: the PyTorch twin (called with torch tensors); ``None`` skips the parity part.
        requires_grad: per input, overrides the default above.
        atol, rtol: forward tolerances (``atol`` scaled by ``max(1, max|expected|)``).
        grad_atol, grad_rtol: gradient tolerances (default: the forward ones).
        gradcheck_: run :func:`striate.gradcheck` in float64.
        gc_eps, gc_atol, gc_rtol: its step and tolerances.
        dtype: floating dtype of the parity run (float32).
        seed: seed of the upstream gradient of the parity run.

    Raises:
        AssertionError / GradcheckError: the first mismatch, with a message naming it.
    """
    arrays = [np.asarray(a) for a in inputs]
    req = (list(requires_grad) if requires_grad is not None
           else [a.dtype.kind == "f" for a in arrays])
    if gradcheck_ and any(req):
        ts = [Tensor(a.astype(np.float64) if a.dtype.kind == "f" else a, requires_grad=r)
              for a, r in zip(arrays, req)]
        gradcheck(fn, ts, eps=gc_eps, atol=gc_atol, rtol=gc_rtol)
    if torch_fn is None:
        return
    import torch

    ga = atol if grad_atol is None else grad_atol
    gr = rtol if grad_rtol is None else grad_rtol
    cast = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    st = [Tensor(a.copy(), requires_grad=r) for a, r in zip(cast, req)]
    tt = [torch.tensor(a.copy(), requires_grad=bool(r)) for a, r in zip(cast, req)]
    s_out = _outputs(fn(*st))
    t_out = _outputs(torch_fn(*tt))
    if len(s_out) != len(t_out):
        raise AssertionError(f"forward: {len(s_out)} outputs, torch gives {len(t_out)}")
    rng = np.random.default_rng(seed)
    s_terms, t_terms = [], []
    for k, (so, to) in enumerate(zip(s_out, t_out)):
        assert_close(so.data, to.detach().numpy(), atol, rtol, f"forward output {k}")
        if so.requires_grad and to.requires_grad:
            g = rng.standard_normal(so.shape).astype(so.dtype)
            s_terms.append((so, g))
            t_terms.append((to, torch.tensor(g)))
    if not s_terms:
        return
    from striate import autograd

    autograd.backward([o for o, _ in s_terms], [g for _, g in s_terms])
    torch.autograd.backward([o for o, _ in t_terms], [g for _, g in t_terms])
    for i, (s, t, r) in enumerate(zip(st, tt, req)):
        if not r:
            continue
        if t.grad is None:
            assert s.grad is None or not np.any(s.grad.data), f"input {i}: torch grad is None"
            continue
        if s.grad is None:
            raise AssertionError(f"gradient of input {i}: striate gives None, torch does not")
        assert_close(s.grad.data, t.grad.numpy(), ga, gr, f"gradient of input {i}")
