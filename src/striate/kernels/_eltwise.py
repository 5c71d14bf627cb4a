"""Elementwise and row-wise kernels on the compiled core: bias + activation, the ReLU
gradient, dropout, softmax / log-softmax over rows and softmax cross-entropy, forward and
backward."""

from __future__ import annotations

import math
import operator

import numpy as np

from striate._kernels import _C
from striate.kernels._validate import (
    as_f32,
    check_out,
    drop_probability,
    finite,
    flag,
    integer,
    overlaps,
    real,
    relu_activation,
)


def bias_act(x: np.ndarray, bias: np.ndarray | None = None, activation: str = "none",
             out: np.ndarray | None = None) -> np.ndarray:
    """``out = activation(x + bias[c])`` with the bias broadcast along the channel axis 1.

    Args:
        x: ``(N, C, *spatial)`` or ``(N, C)`` floating array.
        bias: optional ``(C,)`` floating array.
        activation: ``"none"`` or ``"relu"`` (``max(v, 0)``; NaN stays NaN as in PyTorch).
        out: optional C-contiguous float32 array of ``x``'s shape; may be ``x`` itself
            (in place) or overlap ``x`` or ``bias`` otherwise (through a temporary).

    Returns:
        ``out`` (a new array when not given).

    Raises:
        TypeError: non-floating ``x`` or ``bias``, ``out`` not float32.
        ValueError: ``x`` with fewer than 2 dimensions, ``bias`` not ``(C,)``, unknown
            activation, ``out`` of the wrong shape.

    Example:
        >>> import numpy as np
        >>> bias_act(np.array([[-1.0, 1.0]], np.float32), np.array([0.5, 0.5], np.float32),
        ...          "relu").tolist()
        [[0.0, 1.5]]
    """
    fn = "bias_act"
    relu = relu_activation(activation, fn)
    x = as_f32("x", x, fn)
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected x with at least 2 dimensions (N, C, ...), "
                         f"got shape {x.shape}")
    n, c = x.shape[:2]
    s = int(np.prod(x.shape[2:], dtype=np.int64))
    b = None
    if bias is not None:
        b = as_f32("bias", bias, fn)
        if b.shape != (c,):
            raise ValueError(f"{fn}: expected bias with shape ({c},) for x of shape {x.shape}, "
                             f"got {b.shape}")
    if out is None:
        out = np.empty_like(x)
    else:
        check_out("out", out, x.shape, fn)
        if overlaps(out, x, b):  # in place on x is fine, any other overlap is not
            out[...] = bias_act(x, b, activation)
            return out
    if x.size:
        _C.bias_act(n, c, s, x.reshape(-1), b, relu, out.reshape(-1))
    return out


def relu_backward(grad_out: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Gradient of ReLU from its output: ``grad_out`` where ``out > 0``, else 0 (a NaN
    ``out`` passes the gradient, as PyTorch's ``threshold_backward``).

    Raises:
        TypeError: non-floating input.  ValueError: shapes that differ.
    """
    fn = "relu_backward"
    gy = as_f32("grad_out", grad_out, fn)
    y = as_f32("out", out, fn)
    _same(fn, gy, y, "grad_out", "out")
    gx = np.empty_like(gy)
    if gx.size:
        _C.relu_backward(gy.reshape(-1), y.reshape(-1), gx.reshape(-1))
    return gx


def dropout(x: np.ndarray, p: float, seed: int,
            out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dropout with a counter-based random stream: element ``i`` is kept when the ``i``-th
    uniform of stream ``seed`` is ``>= p``, and scaled by ``1 / (1 - p)``; dropped elements
    become ``x * 0`` (NaN and inf give NaN, as ``x * mask``).

    The stream is Philox4x32-10 keyed by ``seed`` (element ``i = 64 g + 16 w + l`` takes
    word ``w`` of counter ``16 g + l``, ``u = (word >> 8) / 2**24``): the same mask on every
    ISA path and thread count, and in :func:`striate.backend.reference.dropout`.

    Args:
        x: floating array of any shape.
        p: drop probability in ``[0, 1]``.
        seed: the stream, an int in ``[0, 2**64)``.
        out: optional C-contiguous float32 array of ``x``'s shape; may be ``x`` itself (in
            place) or overlap it otherwise (through a temporary).

    Returns:
        ``(y, keep)``: ``y`` (``out`` when given) and the ``uint8`` keep mask (1 kept, 0
        dropped) that :func:`dropout_backward` takes.

    Raises:
        TypeError: non-floating ``x``, ``out`` not float32.  ValueError: ``p`` outside
            ``[0, 1]``, ``seed`` outside ``[0, 2**64)``, ``out`` of the wrong shape.
    """
    fn = "dropout"
    x = as_f32("x", x, fn)
    p = drop_probability(p, fn)
    seed = _seed(seed, fn)
    if out is None:
        out = np.empty_like(x)
    else:
        check_out("out", out, x.shape, fn)
        if overlaps(out, x):
            y, keep = dropout(x, p, seed)
            out[...] = y
            return out, keep
    keep = np.empty(x.shape, np.uint8)
    if x.size:
        _C.dropout(x.reshape(-1), p, seed, out.reshape(-1), keep.reshape(-1))
    return out, keep


def dropout_backward(grad_out: np.ndarray, keep: np.ndarray, p: float) -> np.ndarray:
    """Gradient of :func:`dropout`: ``grad_out * (keep ? 1 / (1 - p) : 0)``.

    Raises:
        TypeError: non-floating ``grad_out``, ``keep`` not uint8 or bool.
        ValueError: shapes that differ, ``p`` outside ``[0, 1]``.
    """
    fn = "dropout_backward"
    gy = as_f32("grad_out", grad_out, fn)
    p = drop_probability(p, fn)
    k = np.asarray(keep)
    if k.dtype not in (np.uint8, np.bool_):
        raise TypeError(f"{fn}: expected keep with dtype uint8 or bool, got {k.dtype}")
    _same(fn, gy, k, "grad_out", "keep")
    k = np.ascontiguousarray(k).view(np.uint8)
    gx = np.empty_like(gy)
    if gx.size:
        _C.dropout_backward(gy.reshape(-1), k.reshape(-1), p, gx.reshape(-1))
    return gx


def adam_step(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
              exp_avg_sq: np.ndarray, max_exp_avg_sq: np.ndarray | None = None, *,
              lr: float, beta1: float, beta2: float, eps: float, step: int,
              weight_decay: float = 0.0, decoupled: bool = False,
              maximize: bool = False) -> None:
    """One Adam (or AdamW, ``decoupled=True``; AMSGrad with ``max_exp_avg_sq``) step in place,
    in one pass over the arrays: the update of :class:`striate.optim.Adam`, operation for
    operation in float32, so the same bits as its NumPy formulas.

    Args:
        param: the parameter values (updated).
        grad: their gradient (floating, same shape; converted to float32 if needed).
        exp_avg, exp_avg_sq: the moments (updated); ``max_exp_avg_sq`` the AMSGrad maximum.
        lr, beta1, beta2, eps: Adam's hyperparameters.
        step: the step number ``t`` (>= 1) for the bias corrections.
        weight_decay: L2 penalty added to the gradient, or with ``decoupled`` the weights'
            shrink ``1 - lr * weight_decay``.
        maximize: ascend instead of descend.

    Raises:
        TypeError: arrays not numpy float32 (``grad``: not floating), non-real
            hyperparameters, non-int ``step``.
        ValueError: shapes that differ, arrays not C-contiguous or not writeable, arrays that
            share memory, ``step`` below 1, ``lr`` / ``eps`` / ``weight_decay`` negative or
            infinite, ``beta1`` / ``beta2`` outside ``[0, 1)``.
    """
    fn = "adam_step"
    w = check_out("param", param, np.shape(param), fn)
    g = as_f32("grad", grad, fn)
    _same(fn, w, g, "param", "grad")
    m = check_out("exp_avg", exp_avg, w.shape, fn)
    v = check_out("exp_avg_sq", exp_avg_sq, w.shape, fn)
    vm = (None if max_exp_avg_sq is None
          else check_out("max_exp_avg_sq", max_exp_avg_sq, w.shape, fn))
    t = integer("step", step, fn)
    if t < 1:
        raise ValueError(f"{fn}: expected step >= 1, got {t}")
    lr, eps = finite("lr", lr, fn), finite("eps", eps, fn)
    wd = finite("weight_decay", weight_decay, fn)
    beta1, beta2 = real("beta1", beta1, fn), real("beta2", beta2, fn)
    for name, val in (("lr", lr), ("eps", eps), ("weight_decay", wd)):
        if val < 0.0:
            raise ValueError(f"{fn}: expected {name} >= 0, got {val}")
    for name, val in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= val < 1.0:
            raise ValueError(f"{fn}: expected {name} in [0, 1), got {val}")
    decoupled, maximize = flag("decoupled", decoupled, fn), flag("maximize", maximize, fn)
    bc1 = 1.0 - beta1 ** t
    bc2_sqrt = math.sqrt(1.0 - beta2 ** t)
    shrink = 1.0 - lr * wd if decoupled and wd != 0 else 1.0
    if w.size:
        _C.adam_step(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                     None if vm is None else vm.reshape(-1), 1.0 - beta1, beta2, 1.0 - beta2,
                     eps * bc2_sqrt, lr * bc2_sqrt / bc1, 0.0 if decoupled else wd, shrink,
                     maximize)


def _seed(seed, fn: str) -> int:
    try:
        s = operator.index(seed)
    except TypeError:
        raise TypeError(f"{fn}: expected seed to be an int, got {type(seed).__name__}") from None
    if not 0 <= s < 2**64:
        raise ValueError(f"{fn}: expected seed in [0, 2**64), got {s}")
    return s


def _rows(name: str, x, fn: str) -> np.ndarray:
    return as_f32(name, x, fn, ndim=2)


def _same(fn: str, a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{fn}: expected {na} and {nb} of the same shape, got {a.shape} "
                         f"and {b.shape}")


def _softmax(x, fn: str, log: bool) -> np.ndarray:
    x = _rows("x", x, fn)
    y = np.empty_like(x)
    if x.size:
        _C.softmax(x, y, log)
    return y


def _softmax_backward(y, grad_out, fn: str, log: bool) -> np.ndarray:
    y = _rows("y", y, fn)
    gy = _rows("grad_out", grad_out, fn)
    _same(fn, y, gy, "y", "grad_out")
    gx = np.empty_like(y)
    if y.size:
        _C.softmax_backward(y, gy, gx, log)
    return gx


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis of a 2-D array (the row maximum is subtracted first).

    Shape: ``(N, C) -> (N, C)``.

    Raises:
        TypeError: non-floating ``x``.  ValueError: ``x`` not 2-D.
    """
    return _softmax(x, "softmax", False)


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis of a 2-D array: ``x - logsumexp(x)`` per row.

    Shape: ``(N, C) -> (N, C)``.

    Raises:
        TypeError: non-floating ``x``.  ValueError: ``x`` not 2-D.
    """
    return _softmax(x, "log_softmax", True)


def softmax_backward(y: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """Gradient of :func:`softmax` from its output ``y``: ``y * (g - sum(g * y))`` per row.

    Raises:
        TypeError: non-floating input.  ValueError: not 2-D or shapes that differ.
    """
    return _softmax_backward(y, grad_out, "softmax_backward", False)


def log_softmax_backward(y: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """Gradient of :func:`log_softmax` from its output ``y``: ``g - exp(y) * sum(g)`` per row.

    Raises:
        TypeError: non-floating input.  ValueError: not 2-D or shapes that differ.
    """
    return _softmax_backward(y, grad_out, "log_softmax_backward", True)


def _target(fn: str, target, n: int, c: int) -> np.ndarray:
    if not isinstance(target, np.ndarray):
        raise TypeError(f"{fn}: expected target to be a numpy.ndarray, "
                        f"got {type(target).__name__}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{fn}: expected target with an integer dtype (class indices), "
                        f"got dtype {target.dtype}")
    if target.shape != (n,):
        raise ValueError(f"{fn}: expected target with shape ({n},), got {target.shape}")
    t = np.ascontiguousarray(target, dtype=np.int64)
    if n:
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= c:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{fn}: target values must lie in [0, {c}) for {c} classes, "
                             f"got {bad}")
    return t


def softmax_cross_entropy(logits: np.ndarray, target: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample softmax cross-entropy and the softmax itself.

    ``loss[n] = logsumexp(logits[n]) - logits[n, target[n]]`` (numerically stable).

    Args:
        logits: ``(N, C)`` floating array.
        target: ``(N,)`` integer class indices in ``[0, C)``.

    Returns:
        ``(loss, prob)``: float32 ``(N,)`` and ``(N, C)``.

    Raises:
        TypeError: non-floating ``logits``, non-integer ``target``.
        ValueError: ``logits`` not 2-D, ``target`` not ``(N,)``, a target out of range.

    Example:
        >>> import numpy as np
        >>> loss, prob = softmax_cross_entropy(np.zeros((1, 4), np.float32), np.array([2]))
        >>> round(float(loss[0]), 4), prob.tolist()
        (1.3863, [[0.25, 0.25, 0.25, 0.25]])
    """
    fn = "softmax_cross_entropy"
    x = _rows("logits", logits, fn)
    n, c = x.shape
    t = _target(fn, target, n, c)
    loss = np.empty(n, dtype=np.float32)
    prob = np.empty_like(x)
    if x.size:
        _C.softmax_xent(x, t, loss, prob)
    return loss, prob


def softmax_cross_entropy_backward(prob: np.ndarray, target: np.ndarray,
                                   grad_loss: np.ndarray) -> np.ndarray:
    """Gradient of :func:`softmax_cross_entropy` with respect to the logits:
    ``(prob - onehot(target)) * grad_loss[:, None]``.

    Args:
        prob: ``(N, C)`` softmax from the forward pass.
        target: ``(N,)`` integer class indices.
        grad_loss: ``(N,)`` gradient of the per-sample losses.

    Returns:
        ``grad_logits`` float32 ``(N, C)``.

    Raises:
        TypeError: non-floating ``prob``/``grad_loss``, non-integer ``target``.
        ValueError: shapes that do not match, a target out of range.
    """
    fn = "softmax_cross_entropy_backward"
    p = _rows("prob", prob, fn)
    n, c = p.shape
    t = _target(fn, target, n, c)
    gl = as_f32("grad_loss", grad_loss, fn)
    if gl.shape != (n,):
        raise ValueError(f"{fn}: expected grad_loss with shape ({n},) for prob of shape "
                         f"{p.shape}, got {gl.shape}")
    g = np.empty_like(p)
    if p.size:
        _C.softmax_xent_backward(p, t, gl, g)
    return g
