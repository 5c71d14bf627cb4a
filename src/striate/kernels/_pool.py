"""2-D pooling on the compiled core (NCHW float32), forward and backward, with PyTorch's
semantics: output sizes (floor or ceil mode), padding at most half the kernel, max pooling
that never picks padding (ties keep the first element, NaN wins), average pooling with
``count_include_pad`` and ``divisor_override``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from striate._kernels import _C
from striate.kernels._validate import as_f32, pair, shape4

_INT32_MAX = 2**31 - 1


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's ``pooling_output_shape``: floor (or ceil) of the window count; in ceil mode
    the last window must start inside the input or the left padding."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _stride(stride, kernel: tuple[int, int], fn: str) -> tuple[int, int]:
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return kernel
    return pair("stride", stride, fn, min_value=1)


def _params(fn: str, kernel_size, stride, padding, dilation):
    k = pair("kernel_size", kernel_size, fn, min_value=1)
    s = _stride(stride, k, fn)
    p = pair("padding", padding, fn, min_value=0)
    d = pair("dilation", dilation, fn, min_value=1)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{fn}: padding should be at most half of kernel_size, got "
                         f"padding={p} with kernel_size={k}")
    return k, s, p, d


def _geometry(fn: str, shape: tuple[int, ...], k, s, p, d, ceil_mode: bool) -> tuple:
    h, w = shape[2], shape[3]
    ho = _out_size(h, k[0], s[0], p[0], d[0], ceil_mode)
    wo = _out_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{fn}: output size is too small: input size ({h}, {w}) with kernel_size={k}, "
            f"stride={s}, padding={p}, dilation={d}, ceil_mode={bool(ceil_mode)} gives output "
            f"size ({ho}, {wo})")
    if h * w > _INT32_MAX:
        raise ValueError(f"{fn}: input plane of {h} x {w} elements is too large for int32 "
                         f"indices (at most {_INT32_MAX})")
    return (h, w, ho, wo, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1])


def pool2d_output_shape(input_shape: Sequence[int], kernel_size, stride=None, padding=0,
                        dilation=1, ceil_mode: bool = False) -> tuple[int, int]:
    """Output size ``(Ho, Wo)`` of 2-D pooling, with PyTorch's formula.

    ``Ho = floor((H + 2*padding - dilation*(kernel-1) - 1) / stride) + 1`` (``ceil`` in
    ``ceil_mode``, where the last window must also start inside the input or the left padding;
    otherwise it is dropped).  Same for ``Wo``.

    Args:
        input_shape: ``(H, W)`` or any shape ending in ``H, W`` (e.g. ``(N, C, H, W)``).
        kernel_size, stride, padding, dilation: int or pair; ``stride`` defaults to
            ``kernel_size``.
        ceil_mode: round the window count up.

    Returns:
        ``(Ho, Wo)``.

    Raises:
        ValueError: bad hyper-parameters (see :func:`max_pool2d`) or an output size below 1.

    Example:
        >>> pool2d_output_shape((28, 28), 2)
        (14, 14)
        >>> pool2d_output_shape((5, 5), 2, ceil_mode=True)
        (3, 3)
    """
    fn = "pool2d_output_shape"
    shape = tuple(int(v) for v in input_shape)
    if len(shape) < 2:
        raise ValueError(f"{fn}: expected input_shape ending in (H, W), got {input_shape!r}")
    k, s, p, d = _params(fn, kernel_size, stride, padding, dilation)
    g = _geometry(fn, (1, 1) + shape[-2:], k, s, p, d, ceil_mode)
    return g[2], g[3]


def max_pool2d(x: np.ndarray, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """2-D max pooling, returning the values and the argmax indices.

    Padding is implicit negative infinity: it is never chosen.  Within a window, ties keep
    the first element (rows, then columns) and a NaN is always taken, as in PyTorch.

    Args:
        x: ``(N, C, H, W)`` floating array (converted to float32).
        kernel_size: int or ``(kh, kw)``, >= 1.
        stride: int or pair, >= 1; ``None`` means ``kernel_size``.
        padding: int or pair, at most half of ``kernel_size``.
        dilation: int or pair, >= 1.
        ceil_mode: ceil instead of floor in the output size.

    Shape:
        ``(N, C, H, W) -> (N, C, Ho, Wo)``, sizes from :func:`pool2d_output_shape`.

    Returns:
        ``(y, indices)``: ``y`` float32; ``indices`` int32, the flat index ``ih * W + iw`` of
        each maximum inside its ``H x W`` input plane (as PyTorch's ``return_indices``).

    Raises:
        TypeError: non-array or non-floating ``x``, non-int hyper-parameters.
        ValueError: ``x`` not 4-D, kernel/stride/dilation < 1, negative padding or padding
            above half the kernel, output size below 1.

    Example:
        >>> import numpy as np
        >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        >>> y, i = max_pool2d(x, 2)
        >>> y[0, 0].tolist(), i[0, 0].tolist()
        ([[5.0, 7.0], [13.0, 15.0]], [[5, 7], [13, 15]])
    """
    fn = "max_pool2d"
    x = as_f32("x", x, fn, ndim=4)
    k, s, p, d = _params(fn, kernel_size, stride, padding, dilation)
    g = _geometry(fn, x.shape, k, s, p, d, ceil_mode)
    n, c = x.shape[:2]
    y = np.empty((n, c, g[2], g[3]), dtype=np.float32)
    idx = np.empty((n, c, g[2], g[3]), dtype=np.int32)
    if y.size:
        _C.maxpool2d(g, n * c, x.reshape(-1), y.reshape(-1), idx.reshape(-1))
    return y, idx


def max_pool2d_backward(grad_out: np.ndarray, indices: np.ndarray,
                        input_shape: Sequence[int]) -> np.ndarray:
    """Gradient of :func:`max_pool2d` with respect to its input.

    Args:
        grad_out: ``(N, C, Ho, Wo)`` floating array.
        indices: integer array of the same shape, as returned by :func:`max_pool2d`.
        input_shape: ``(N, C, H, W)`` of the forward input.

    Returns:
        ``grad_input`` float32 ``(N, C, H, W)``: each ``grad_out`` element added at its index
        (overlapping windows accumulate); indices outside the plane are ignored.

    Raises:
        TypeError: non-floating ``grad_out`` or non-integer ``indices``.
        ValueError: shapes that do not match.
    """
    fn = "max_pool2d_backward"
    gy = as_f32("grad_out", grad_out, fn, ndim=4)
    shape = shape4("input_shape", input_shape, fn)
    if not isinstance(indices, np.ndarray):
        raise TypeError(f"{fn}: expected indices to be a numpy.ndarray, "
                        f"got {type(indices).__name__}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{fn}: expected indices with an integer dtype, got {indices.dtype}")
    if indices.shape != gy.shape:
        raise ValueError(f"{fn}: expected indices with the shape of grad_out {gy.shape}, "
                         f"got {indices.shape}")
    if gy.shape[:2] != shape[:2]:
        raise ValueError(f"{fn}: grad_out shape {gy.shape} does not match input_shape "
                         f"{shape} in (N, C)")
    if shape[2] * shape[3] > _INT32_MAX:
        raise ValueError(f"{fn}: input plane of {shape[2]} x {shape[3]} elements is too large")
    if indices.dtype == np.int32:
        idx = np.ascontiguousarray(indices)
    else:  # out-of-plane indices become -1 (ignored) instead of wrapping into int32
        wide = indices.astype(np.int64)  # uint64 past 2**63 turns negative: outside either way
        idx = np.where((wide >= 0) & (wide < shape[2] * shape[3]), wide, -1).astype(np.int32)
    gx = np.empty(shape, dtype=np.float32)
    if gx.size == 0:
        return gx
    if gy.size == 0:
        gx.fill(0.0)
        return gx
    g = (shape[2], shape[3], gy.shape[2], gy.shape[3], 1, 1, 1, 1, 0, 0, 1, 1)
    _C.maxpool2d_backward(g, shape[0] * shape[1], gy.reshape(-1), idx.reshape(-1),
                          gx.reshape(-1))
    return gx


def _divisor(fn: str, divisor_override) -> int:
    if divisor_override is None:
        return 0
    if isinstance(divisor_override, bool) or not isinstance(divisor_override,
                                                            (int, np.integer)):
        raise TypeError(f"{fn}: expected divisor_override to be None or an int, "
                        f"got {divisor_override!r}")
    if divisor_override == 0 or abs(divisor_override) > _INT32_MAX:
        raise ValueError(f"{fn}: expected divisor_override nonzero and within int32 "
                         f"(|d| <= {_INT32_MAX}), got {divisor_override}")
    return int(divisor_override)


def avg_pool2d(x: np.ndarray, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None
               ) -> np.ndarray:
    """2-D average pooling.

    The divisor of a window is ``divisor_override`` when given; otherwise its area clipped to
    the padded input (``count_include_pad``, PyTorch's default; a ceil-mode window that
    overhangs the padded input counts only its part inside) or to the input itself.

    Args:
        x: ``(N, C, H, W)`` floating array.
        kernel_size, stride, padding, ceil_mode: as :func:`max_pool2d` (no dilation).
        count_include_pad: count the zero padding in the divisor.
        divisor_override: nonzero int used as the divisor of every window.

    Shape:
        ``(N, C, H, W) -> (N, C, Ho, Wo)``.

    Returns:
        ``y`` float32.

    Raises:
        TypeError: non-floating ``x``; ``divisor_override`` not an int.
        ValueError: as :func:`max_pool2d`; ``divisor_override`` of 0.

    Example:
        >>> import numpy as np
        >>> avg_pool2d(np.ones((1, 1, 3, 3), np.float32), 2, padding=1)[0, 0].tolist()
        [[0.25, 0.5], [0.5, 1.0]]
    """
    fn = "avg_pool2d"
    x = as_f32("x", x, fn, ndim=4)
    k, s, p, d = _params(fn, kernel_size, stride, padding, 1)
    dov = _divisor(fn, divisor_override)
    g = _geometry(fn, x.shape, k, s, p, d, ceil_mode)
    n, c = x.shape[:2]
    y = np.empty((n, c, g[2], g[3]), dtype=np.float32)
    if y.size:
        _C.avgpool2d(g, n * c, bool(count_include_pad), dov, x.reshape(-1), y.reshape(-1))
    return y


def avg_pool2d_backward(grad_out: np.ndarray, input_shape: Sequence[int], kernel_size,
                        stride=None, padding=0, ceil_mode: bool = False,
                        count_include_pad: bool = True, divisor_override: int | None = None
                        ) -> np.ndarray:
    """Gradient of :func:`avg_pool2d` with respect to its input (same hyper-parameters).

    Args:
        grad_out: ``(N, C, Ho, Wo)`` floating array.
        input_shape: ``(N, C, H, W)`` of the forward input.

    Returns:
        ``grad_input`` float32 ``(N, C, H, W)``.

    Raises:
        TypeError, ValueError: as :func:`avg_pool2d`; ``grad_out`` not of the output shape.
    """
    fn = "avg_pool2d_backward"
    gy = as_f32("grad_out", grad_out, fn, ndim=4)
    shape = shape4("input_shape", input_shape, fn)
    k, s, p, d = _params(fn, kernel_size, stride, padding, 1)
    dov = _divisor(fn, divisor_override)
    g = _geometry(fn, shape, k, s, p, d, ceil_mode)
    want = shape[:2] + (g[2], g[3])
    if gy.shape != want:
        raise ValueError(f"{fn}: expected grad_out with shape {want} (the output for "
                         f"input_shape {shape}), got {gy.shape}")
    gx = np.empty(shape, dtype=np.float32)
    if gx.size:
        _C.avgpool2d_backward(g, shape[0] * shape[1], bool(count_include_pad), dov,
                              gy.reshape(-1), gx.reshape(-1))
    return gx


def global_avg_pool2d(x: np.ndarray) -> np.ndarray:
    """Mean over each ``H x W`` plane.

    Shape:
        ``(N, C, H, W) -> (N, C, 1, 1)``.

    Raises:
        TypeError: non-floating ``x``.  ValueError: ``x`` not 4-D or an empty plane.
    """
    fn = "global_avg_pool2d"
    x = as_f32("x", x, fn, ndim=4)
    n, c, h, w = x.shape
    if h * w == 0:
        raise ValueError(f"{fn}: expected a non-empty H x W plane, got input shape {x.shape}")
    y = np.empty((n, c, 1, 1), dtype=np.float32)
    if y.size:
        _C.global_avgpool2d(n * c, h * w, x.reshape(-1), y.reshape(-1))
    return y


def global_avg_pool2d_backward(grad_out: np.ndarray, input_shape: Sequence[int]) -> np.ndarray:
    """Gradient of :func:`global_avg_pool2d`: ``grad_out / (H*W)`` over each plane.

    Args:
        grad_out: ``(N, C, 1, 1)`` (or ``(N, C)``) floating array.
        input_shape: ``(N, C, H, W)`` of the forward input.

    Returns:
        ``grad_input`` float32 ``(N, C, H, W)``.
    """
    fn = "global_avg_pool2d_backward"
    shape = shape4("input_shape", input_shape, fn)
    gy = as_f32("grad_out", grad_out, fn)
    if gy.shape not in (shape[:2] + (1, 1), shape[:2]):
        raise ValueError(f"{fn}: expected grad_out with shape {shape[:2] + (1, 1)}, "
                         f"got {gy.shape}")
    if shape[2] * shape[3] == 0:
        raise ValueError(f"{fn}: expected a non-empty H x W plane, got input_shape {shape}")
    gx = np.empty(shape, dtype=np.float32)
    if gx.size:
        _C.global_avgpool2d_backward(shape[0] * shape[1], shape[2] * shape[3],
                                     gy.reshape(-1), gx.reshape(-1))
    return gx
