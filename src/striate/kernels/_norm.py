"""Normalisation and smooth-activation kernels on the compiled core: batch norm (training
and evaluation forward, backward), layer norm over the last dimension (forward, backward),
GELU (exact and tanh forms), SiLU and sigmoid, float32."""

from __future__ import annotations

import math

import numpy as np

from striate._kernels import _C
from striate.kernels._validate import as_f32, check_out, overlaps, real, relu_activation

GELU_APPROXIMATIONS = ("none", "tanh")


def _vec(name: str, v, n: int, fn: str, x_shape: tuple, optional: bool = False
         ) -> np.ndarray | None:
    """A ``(n,)`` float32 per-channel (or per-row) array; ``None`` passes only when
    ``optional`` (a required one reached the C kernel as a NULL pointer and crashed).

    Raises:
        TypeError: ``v`` not a floating ndarray (``None`` included, unless ``optional``).
        ValueError: ``v`` not of shape ``(n,)``.
    """
    if v is None and optional:
        return None
    a = as_f32(name, v, fn)
    if a.shape != (n,):
        raise ValueError(f"{fn}: expected {name} with shape ({n},) for x of shape {x_shape}, "
                         f"got {a.shape}")
    return a


def _nchw(x, fn: str) -> tuple[np.ndarray, int, int, int]:
    x = x if _images_in_place(x) else as_f32("x", x, fn)
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected x with at least 2 dimensions (N, C, *), got shape "
                         f"{x.shape}")
    n, c = x.shape[:2]
    return x, n, c, math.prod(x.shape[2:])


def _images_in_place(x) -> bool:
    """Whether the batch-norm kernels can read ``x`` where it lies: a float32 array of at
    least 2 dimensions whose images ``x[i]`` are each C-contiguous, a whole number of floats
    apart and not overlapping (a channel slice ``buf[:, :c]`` of a contiguous tensor, as in
    a DenseNet block)."""
    if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim >= 2):
        return False
    if x.flags.c_contiguous:
        return True
    st = x.strides[0]
    return (x.size > 0 and x[0].flags.c_contiguous and st > 0 and st % 4 == 0
            and st // 4 >= x[0].size)


def _flat_images(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``x`` (checked by :func:`_images_in_place`) as a flat float32 span from its first to
    its last element, and the image stride in floats."""
    if x.flags.c_contiguous:
        return x.reshape(-1), math.prod(x.shape[1:])
    xs = x.strides[0] // 4
    span = (x.shape[0] - 1) * xs + x[0].size
    return np.lib.stride_tricks.as_strided(x, shape=(span,), strides=(4,), writeable=False), xs


def _grads(grads, fn: str) -> tuple[bool, bool, bool]:
    """``grads`` as three Python bools (input, weight, bias).

    Raises:
        TypeError: not a sequence, or an element not a bool (``numpy.bool_`` accepted): a
            string such as ``'abc'`` or numbers passed before as truthy flags.
        ValueError: a sequence of bools of another length.
    """
    try:
        t = tuple(grads)
    except TypeError:
        raise TypeError(f"{fn}: expected grads to be three booleans, got {grads!r}") from None
    if isinstance(grads, (str, bytes)) or not all(isinstance(g, (bool, np.bool_)) for g in t):
        raise TypeError(f"{fn}: expected grads to be three booleans (input, weight, bias), "
                        f"got {grads!r}")
    if len(t) != 3:
        raise ValueError(f"{fn}: expected grads to be three booleans (input, weight, bias), "
                         f"got {grads!r}")
    return tuple(bool(g) for g in t)  # type: ignore[return-value]


def _eps(eps, fn: str) -> float:
    """``eps`` as a float >= 0 (inf included: the variance is then ignored, invstd 0)."""
    eps = real("eps", eps, fn)
    if not eps >= 0:  # NaN too
        raise ValueError(f"{fn}: expected eps >= 0, got {eps!r}")
    return eps


def batch_norm_train_forward(x: np.ndarray, weight: np.ndarray | None = None,
                             bias: np.ndarray | None = None, eps: float = 1e-5,
                             return_var: bool = False, activation: str = "none"):
    """Batch normalisation with batch statistics over every axis but 1.

    Per channel ``c`` the mean and the biased variance of ``x[:, c]`` give
    ``y = (x - mean) * invstd * weight[c] + bias[c]`` with ``invstd = 1 / sqrt(var + eps)``
    (statistics accumulated in double over blocks, in a fixed order).

    Args:
        x: ``(N, C, *)`` or ``(N, C)`` floating array with at least one value per channel.
        weight, bias: optional ``(C,)`` affine parameters (1 and 0 when absent).
        eps: added to the variance (>= 0).
        return_var: also return the biased variance (for the running statistics).
        activation: ``"none"`` or ``"relu"``: ``y = max(that, 0)`` in the same pass (a batch
            norm and the ReLU after it; NaN stays NaN).  Its backward is
            :func:`batch_norm_backward` with the same ``activation`` and ``bias``.

    Shape:
        ``y`` has ``x``'s shape; ``mean``, ``invstd`` (and ``var``) are ``(C,)``.

    Returns:
        ``(y, mean, invstd)``, or ``(y, mean, invstd, var)`` with ``return_var``.

    Raises:
        TypeError: non-floating inputs, ``eps`` not a real number.
        ValueError: ``x`` with fewer than 2 dimensions or no value per channel, parameters
            not ``(C,)``, negative or NaN ``eps``.

    Example:
        >>> y, m, s = batch_norm_train_forward(np.array([[1.0], [3.0]], np.float32))
        >>> y.ravel().round(3).tolist(), m.tolist()
        ([-1.0, 1.0], [2.0])
    """
    fn = "batch_norm_train_forward"
    x, n, c, s = _nchw(x, fn)
    if n * s < 1:
        raise ValueError(f"{fn}: expected at least one value per channel, got x of shape "
                         f"{x.shape}")
    eps = _eps(eps, fn)
    w = _vec("weight", weight, c, fn, x.shape, optional=True)
    b = _vec("bias", bias, c, fn, x.shape, optional=True)
    relu = relu_activation(activation, fn)
    y = np.empty(x.shape, np.float32)
    mean = np.empty(c, np.float32)
    invstd = np.empty(c, np.float32)
    var = np.empty(c, np.float32) if return_var else None
    if c:
        _C.batch_norm_train(n, c, s, *_flat_images(x), w, b, eps, relu, y.reshape(-1),
                            mean, invstd, var)
    return (y, mean, invstd, var) if return_var else (y, mean, invstd)


def batch_norm_eval_forward(x: np.ndarray, mean: np.ndarray, var: np.ndarray,
                            weight: np.ndarray | None = None, bias: np.ndarray | None = None,
                            eps: float = 1e-5, activation: str = "none") -> np.ndarray:
    """Batch normalisation with given (running) statistics:
    ``y = (x - mean[c]) * weight[c] / sqrt(var[c] + eps) + bias[c]``, one fused pass.

    Args:
        x: ``(N, C, *)`` or ``(N, C)`` floating array.
        mean, var: ``(C,)`` statistics.
        weight, bias: optional ``(C,)`` affine parameters.
        eps: added to the variance (>= 0).
        activation: ``"none"`` or ``"relu"`` (``max(y, 0)`` in the same pass).

    Returns:
        ``y`` of ``x``'s shape.

    Raises:
        TypeError: non-floating inputs (``None`` for ``mean`` or ``var`` included), ``eps``
            not a real number.
        ValueError: shapes that do not match, negative or NaN ``eps``.
    """
    fn = "batch_norm_eval_forward"
    x, n, c, s = _nchw(x, fn)
    eps = _eps(eps, fn)
    m = _vec("mean", mean, c, fn, x.shape)
    v = _vec("var", var, c, fn, x.shape)
    w = _vec("weight", weight, c, fn, x.shape, optional=True)
    b = _vec("bias", bias, c, fn, x.shape, optional=True)
    relu = relu_activation(activation, fn)
    scale = 1.0 / np.sqrt(v.astype(np.float64) + eps)
    if w is not None:
        scale = scale * w
    scale = scale.astype(np.float32)
    shift = b if b is not None else np.zeros(c, np.float32)
    y = np.empty(x.shape, np.float32)
    if x.size:
        _C.batch_norm_eval(n, c, s, *_flat_images(x), m, scale, shift, relu, y.reshape(-1))
    return y


def batch_norm_backward(grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray | None,
                        mean: np.ndarray, invstd: np.ndarray,
                        grads=(True, True, True), bias: np.ndarray | None = None,
                        activation: str = "none"):
    """Gradients of :func:`batch_norm_train_forward` from its saved ``mean`` and ``invstd``.

    With ``xhat = (x - mean) * invstd`` and ``M = x.size / C`` values per channel:
    ``dweight = sum(g * xhat)``, ``dbias = sum(g)``,
    ``dx = invstd * weight * (g - dbias / M - xhat * dweight / M)`` (sums per channel), where
    ``g = grad_out``, or with ``activation="relu"`` ``grad_out`` where the forward's output
    was positive and 0 elsewhere (recomputed from ``x``, so the output is not needed).

    Args:
        grad_out: gradient of ``y``, ``x``'s shape.
        x: the forward input.
        weight: the ``(C,)`` weight or ``None`` (1).
        mean, invstd: ``(C,)`` from the forward.
        grads: which of ``(dx, dweight, dbias)`` to compute; the others are ``None``.
        bias: the forward's ``(C,)`` bias or ``None`` (0); used only with a ReLU.
        activation: the forward's: ``"none"`` or ``"relu"``.

    Returns:
        ``(dx, dweight, dbias)``.

    Raises:
        TypeError: non-floating inputs (``None`` for ``mean`` or ``invstd`` included),
            ``grads`` not three bools.
        ValueError: shapes that do not match, ``grads`` not of length 3.
    """
    fn = "batch_norm_backward"
    x, n, c, s = _nchw(x, fn)
    gy = as_f32("grad_out", grad_out, fn)
    if gy.shape != x.shape:
        raise ValueError(f"{fn}: expected grad_out with x's shape {x.shape}, got {gy.shape}")
    w = _vec("weight", weight, c, fn, x.shape, optional=True)
    m = _vec("mean", mean, c, fn, x.shape)
    i = _vec("invstd", invstd, c, fn, x.shape)
    b = _vec("bias", bias, c, fn, x.shape, optional=True)
    relu = relu_activation(activation, fn)
    want = _grads(grads, fn)
    gx = np.empty(x.shape, np.float32) if want[0] else None
    gw = np.zeros(c, np.float32) if want[1] else None
    gb = np.zeros(c, np.float32) if want[2] else None
    if x.size and any(want):
        _C.batch_norm_backward(n, c, s, gy.reshape(-1), *_flat_images(x), w, b, m, i, relu,
                               None if gx is None else gx.reshape(-1), gw, gb)
    return gx, gw, gb


def _rows(x, fn: str) -> np.ndarray:
    x = as_f32("x", x, fn, ndim=2)
    if x.shape[1] < 1:
        raise ValueError(f"{fn}: expected x with at least one column, got shape {x.shape}")
    return x


def layer_norm_forward(x: np.ndarray, weight: np.ndarray | None = None,
                       bias: np.ndarray | None = None, eps: float = 1e-5):
    """Layer normalisation of each row of a 2-D array:
    ``y = (x - mean) * invstd * weight + bias``, ``invstd = 1 / sqrt(var + eps)`` with the
    row's mean and biased variance.

    Args:
        x: ``(R, M)`` floating array (``M >= 1``).
        weight, bias: optional ``(M,)``.
        eps: added to the variance (>= 0).

    Returns:
        ``(y, mean, invstd)``, ``y`` of shape ``(R, M)``, the others ``(R,)``.

    Raises:
        TypeError: non-floating inputs, ``eps`` not a real number.
        ValueError: ``x`` not 2-D or without columns, parameters not ``(M,)``, negative or
            NaN ``eps``.

    Example:
        >>> y, m, s = layer_norm_forward(np.array([[1.0, 3.0]], np.float32), eps=0.0)
        >>> y.tolist(), m.tolist(), s.tolist()
        ([[-1.0, 1.0]], [2.0], [1.0])
    """
    fn = "layer_norm_forward"
    x = _rows(x, fn)
    eps = _eps(eps, fn)
    r, m = x.shape
    w = _vec("weight", weight, m, fn, x.shape, optional=True)
    b = _vec("bias", bias, m, fn, x.shape, optional=True)
    y = np.empty_like(x)
    mean = np.empty(r, np.float32)
    invstd = np.empty(r, np.float32)
    if r:
        _C.layer_norm(r, m, x.reshape(-1), w, b, eps, y.reshape(-1), mean, invstd)
    return y, mean, invstd


def layer_norm_backward(grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray | None,
                        mean: np.ndarray, invstd: np.ndarray, grads=(True, True, True)):
    """Gradients of :func:`layer_norm_forward` from its saved ``mean`` and ``invstd``.

    With ``xhat = (x - mean) * invstd`` and ``g = grad_out * weight`` (per row of ``M``):
    ``dx = invstd * (g - mean(g) - xhat * mean(g * xhat))``, ``dweight = sum_rows(grad_out *
    xhat)``, ``dbias = sum_rows(grad_out)``.

    Args:
        grad_out: ``(R, M)``.
        x: the forward input ``(R, M)``.
        weight: ``(M,)`` or ``None`` (1).
        mean, invstd: ``(R,)`` from the forward.
        grads: which of ``(dx, dweight, dbias)`` to compute; the others are ``None``.

    Returns:
        ``(dx, dweight, dbias)``.

    Raises:
        TypeError: non-floating inputs (``None`` for ``mean`` or ``invstd`` included),
            ``grads`` not three bools.
        ValueError: shapes that do not match, ``grads`` not of length 3.
    """
    fn = "layer_norm_backward"
    x = _rows(x, fn)
    r, m = x.shape
    gy = as_f32("grad_out", grad_out, fn)
    if gy.shape != x.shape:
        raise ValueError(f"{fn}: expected grad_out with x's shape {x.shape}, got {gy.shape}")
    w = _vec("weight", weight, m, fn, x.shape, optional=True)
    mu = _vec("mean", mean, r, fn, x.shape)
    i = _vec("invstd", invstd, r, fn, x.shape)
    want = _grads(grads, fn)
    gx = np.empty_like(x) if want[0] else None
    gw = np.zeros(m, np.float32) if want[1] else None
    gb = np.zeros(m, np.float32) if want[2] else None
    if r and any(want):
        _C.layer_norm_backward(r, m, gy.reshape(-1), x.reshape(-1), w, mu, i,
                               None if gx is None else gx.reshape(-1), gw, gb)
    return gx, gw, gb


def _approx(approximate: str, fn: str) -> bool:
    """Whether ``approximate`` (one of :data:`GELU_APPROXIMATIONS`) is ``"tanh"``.

    Raises:
        TypeError: not a string (an array made the ``in`` test itself raise).
        ValueError: another name.
    """
    if not isinstance(approximate, str):
        raise TypeError(f"{fn}: expected approximate to be a string in "
                        f"{GELU_APPROXIMATIONS}, got {approximate!r} "
                        f"({type(approximate).__name__})")
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"{fn}: expected approximate in {GELU_APPROXIMATIONS}, got "
                         f"{approximate!r}")
    return approximate == "tanh"


def _x_and_out(x, out, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as a float32 array and the output of an elementwise map of it: ``out`` checked
    (or a new array).  ``out`` exactly in ``x``'s place is computed in place; an ``out``
    that overlaps ``x`` otherwise (``buf[1:]`` for ``buf[:-1]``) would have its input
    overwritten before it is read, so ``x`` is copied first, as NumPy's ufuncs do."""
    x = as_f32("x", x, fn)
    if out is None:
        return x, np.empty_like(x)
    y = check_out("out", out, x.shape, fn)
    if overlaps(y, x):
        x = x.copy()
    return x, y


def _x_and_grad(x, grad_out, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``grad_out`` as float32 arrays, checked to have the same shape."""
    x = as_f32("x", x, fn)
    gy = as_f32("grad_out", grad_out, fn)
    if gy.shape != x.shape:
        raise ValueError(f"{fn}: expected grad_out with x's shape {x.shape}, got {gy.shape}")
    return x, gy


def gelu(x: np.ndarray, approximate: str = "none", out: np.ndarray | None = None
         ) -> np.ndarray:
    """Gaussian error linear unit, elementwise: ``x * Phi(x)`` (``Phi`` the standard normal
    CDF, through erfc so both tails keep their relative accuracy), or with
    ``approximate="tanh"`` ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Args:
        x: floating array of any shape (0-d included).
        approximate: ``"none"`` or ``"tanh"``.
        out: optional C-contiguous float32 output of ``x``'s shape: ``x`` itself (computed
            in place) or memory that overlaps ``x`` otherwise (``x`` is then copied first).

    Returns:
        ``out`` (a new array when not given).

    Raises:
        TypeError: non-floating ``x``, ``approximate`` not a string.
        ValueError: unknown approximation, bad ``out``.

    Example:
        >>> [round(float(v), 4) for v in gelu(np.array([0.0, 1.0], np.float32))]
        [0.0, 0.8413]
    """
    fn = "gelu"
    tanh = _approx(approximate, fn)
    x, y = _x_and_out(x, out, fn)
    if x.size:
        _C.gelu(x.reshape(-1), tanh, y.reshape(-1))
    return y


def gelu_backward(x: np.ndarray, grad_out: np.ndarray, approximate: str = "none"
                  ) -> np.ndarray:
    """``grad_out * gelu'(x)`` for the form named by ``approximate``.

    Raises:
        TypeError: non-floating inputs, ``approximate`` not a string.
        ValueError: shapes that differ, unknown approximation.
    """
    fn = "gelu_backward"
    tanh = _approx(approximate, fn)
    x, gy = _x_and_grad(x, grad_out, fn)
    gx = np.empty_like(x)
    if x.size:
        _C.gelu_backward(x.reshape(-1), gy.reshape(-1), tanh, gx.reshape(-1))
    return gx


def silu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``x * sigmoid(x)`` elementwise, of ``x``'s shape; ``out`` as in :func:`gelu`.

    Raises:
        TypeError: non-floating ``x``.  ValueError: bad ``out``.
    """
    x, y = _x_and_out(x, out, "silu")
    if x.size:
        _C.silu(x.reshape(-1), y.reshape(-1))
    return y


def silu_backward(x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """``grad_out * s * (1 + x * (1 - s))`` with ``s = sigmoid(x)``.

    Raises:
        TypeError: non-floating inputs.  ValueError: shapes that differ.
    """
    fn = "silu_backward"
    x, gy = _x_and_grad(x, grad_out, fn)
    gx = np.empty_like(x)
    if x.size:
        _C.silu_backward(x.reshape(-1), gy.reshape(-1), gx.reshape(-1))
    return gx


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``1 / (1 + exp(-x))`` elementwise, of ``x``'s shape; ``out`` as in :func:`gelu`.

    Raises:
        TypeError: non-floating ``x``.  ValueError: bad ``out``.
    """
    x, y = _x_and_out(x, out, "sigmoid")
    if x.size:
        _C.sigmoid(x.reshape(-1), y.reshape(-1))
    return y
