"""Finite-difference checks of analytic gradients (``striate.gradcheck``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from striate import autograd
from striate.autograd import enable_grad, no_grad
from striate.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numeric one."""


def _outputs(out: Any) -> list:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [o for o in out if isinstance(o, Tensor) and o.dtype.kind == "f"]
    raise TypeError(f"gradcheck: fn must return a Tensor or a sequence of Tensors, got "
                    f"{type(out).__name__}")


def gradcheck(fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Compare the analytic gradient of ``fn`` with central differences, input by input.

    The check projects the outputs on a fixed random direction ``v`` (so one backward pass
    suffices): for ``L = sum(v * fn(*inputs))`` it compares ``dL/dx`` from ``backward`` with
    ``(L(x + eps e_j) - L(x - eps e_j)) / (2 eps)`` for every element ``j`` of every input
    ``x`` that requires grad.  An element fails when ``|analytic - numeric| > atol + rtol *
    |numeric|``.

    Args:
        fn: function of the inputs returning a tensor or a sequence of tensors.
        inputs: a tensor or a sequence (non-tensors are passed through unchanged).  Inputs
            that require grad must be float64.
        eps: finite-difference step.
        atol, rtol: tolerances (see above).
        raise_exception: raise :class:`GradcheckError` on failure (else return False).
        seed: seed of the projection direction.

    Returns:
        True when every gradient matches.

    Raises:
        GradcheckError: a mismatch (the message names the input, the worst element and the
            max error) when ``raise_exception``.
        TypeError: an input that requires grad is not float64.
        ValueError: no input requires grad.

    Example:
        >>> import striate
        >>> x = striate.randn(3, 4, dtype=striate.float64, requires_grad=True)
        >>> striate.gradcheck(lambda t: (t * t).sum(1), (x,))
        True
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: expected at least one input with requires_grad=True, "
                         "got none")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: expected input {i} with dtype float64 (finite "
                            f"differences need double precision), got {inputs[i].dtype}")
    rng = np.random.default_rng(seed)
    with enable_grad():
        outs = _outputs(fn(*inputs))
    vs = [rng.standard_normal(o.shape) for o in outs]

    def objective() -> float:
        with no_grad():
            res = _outputs(fn(*inputs))
        return float(sum((np.asarray(o.data, dtype=np.float64) * v).sum()
                         for o, v in zip(res, vs)))

    diff_outs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    targets = [inputs[i] for i in diff]
    if diff_outs:
        grads = autograd.grad([o for o, _ in diff_outs],
                              targets, [v.astype(o.dtype) for o, v in diff_outs],
                              allow_unused=True)
    else:
        grads = [None] * len(targets)
    for i, x, g in zip(diff, targets, grads):
        analytic = np.zeros(x.shape) if g is None else np.asarray(g.data, dtype=np.float64)
        if g is not None and g.dtype != x.dtype:
            return _fail(raise_exception, f"gradcheck: gradient of input {i} has dtype "
                                          f"{g.dtype}, expected {x.dtype}")
        if analytic.shape != x.shape:
            return _fail(raise_exception, f"gradcheck: gradient of input {i} has shape "
                                          f"{analytic.shape}, expected {x.shape}")
        a = x.data
        numeric = np.zeros(a.shape)
        for j in range(a.size):
            idx = np.unravel_index(j, a.shape)
            orig = a[idx]
            a[idx] = orig + eps
            fp = objective()
            a[idx] = orig - eps
            fm = objective()
            a[idx] = orig
            numeric[idx] = (fp - fm) / (2 * eps)
        err = np.abs(analytic - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            j = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), a.shape)
            return _fail(raise_exception,
                         f"gradcheck: gradient mismatch for input {i} (shape {a.shape}): "
                         f"{int(bad.sum())} of {a.size} elements fail; max error "
                         f"{err.max():.3e}; worst at index {tuple(int(v) for v in j)}: "
                         f"analytic {analytic[j]:.6e}, numeric {numeric[j]:.6e} "
                         f"(atol={atol}, rtol={rtol})")
    return True


def _fail(raise_exception: bool, msg: str) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False
