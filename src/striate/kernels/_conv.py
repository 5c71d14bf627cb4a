"""2-D convolution (NCHW, float32) on the compiled core, validated.

Padding is an int (all sides), a pair ``(ph, pw)`` (top = bottom = ph, left = right = pw) or
a 4-tuple ``(top, bottom, left, right)``.  Note: ``torch.nn.functional.pad`` orders its
tuple from the last dimension, ``(left, right, top, bottom)``; ours goes rows first.

Algorithms (chosen in C, see ``striate/conv.h``): Winograd F(4x4, 3x3) for 3x3 stride-1
undilated ungrouped layers with enough channels (all three directions; see
:func:`set_conv_winograd`); a direct kernel for depthwise
(``groups == Cin``, any channel multiplier); on the AVX-512 and AVX2 paths a direct register-blocked
kernel for stride-1 forward and input gradients; a GEMM directly on the image for 1x1
stride-1 unpadded kernels; otherwise im2col + GEMM with the column matrix built a tile of
output positions (or a batch of small images) at a time, so a thread's column workspace is at
most ``max(conv_chunk_bytes(), (Cin/groups)*kh*kw*16*4)`` bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from striate._kernels import _C
from striate.kernels._validate import MAX_EXTENT, as_f32, int_tuple, pair, shape4

Pads = tuple[int, int, int, int]


def conv_chunk_bytes() -> int:
    """Per-thread budget, in bytes, of the im2col column workspace (default 8 MiB)."""
    return int(_C.conv_get_chunk_bytes())


def set_conv_chunk_bytes(nbytes: int) -> int:
    """Set the per-thread im2col workspace budget; 0 restores the default.  Results do not
    depend on it (only speed and memory do).  Also settable with the environment variable
    ``STRIATE_CONV_CHUNK_BYTES`` read at first use.

    Returns:
        The previous budget in bytes.

    Raises:
        ValueError: a negative or non-int value.
    """
    if not isinstance(nbytes, (int, np.integer)) or isinstance(nbytes, bool) or nbytes < 0:
        raise ValueError(f"set_conv_chunk_bytes: expected an int >= 0, got {nbytes!r}")
    return int(_C.conv_set_chunk_bytes(int(nbytes)))


_WINOGRAD_MODES = ("never", "auto", "always")


def conv_winograd() -> str:
    """The Winograd mode of 3x3 stride-1 convolutions: ``"auto"``, ``"never"`` or
    ``"always"`` (see :func:`set_conv_winograd`)."""
    return _WINOGRAD_MODES[int(_C.conv_get_winograd())]


def set_conv_winograd(mode: str) -> str:
    """Choose when 3x3, stride-1, undilated, ungrouped convolutions (forward, backward-data
    and backward-weight) use Winograd F(4x4, 3x3): 2.25 multiplies per output and tap
    instead of 9, with float32 rounding a few times larger (relative error ~1e-5).

    A NaN or infinite input (or output gradient) element makes its whole Winograd tile
    non-finite: every output of the 4x4 tile (6x6 input positions) that holds it becomes NaN
    or infinite, where the direct sum leaves finite the outputs whose 3x3 window misses it.
    Finite inputs are unaffected; choose ``"never"`` where exact propagation of non-finite
    values matters.

    Args:
        mode: ``"auto"`` (default: where a cost model says it is faster: roughly
            C*K/(C+K) >= 12 (>= 8 for the weight gradient) and at least 16 4x4 output
            tiles per call), ``"never"`` (im2col/direct kernels only) or ``"always"`` (wherever it
            applies).  Also settable with the environment variable
            ``STRIATE_CONV_WINOGRAD`` read at import.

    Returns:
        The previous mode.

    Raises:
        ValueError: an unknown mode.
    """
    if mode not in _WINOGRAD_MODES:
        raise ValueError(f"set_conv_winograd: mode must be one of {_WINOGRAD_MODES}, "
                         f"got {mode!r}")
    return _WINOGRAD_MODES[int(_C.conv_set_winograd(_WINOGRAD_MODES.index(mode)))]


def _winograd_from_env() -> None:
    mode = os.environ.get("STRIATE_CONV_WINOGRAD", "").strip().lower()
    if mode:
        if mode not in _WINOGRAD_MODES:
            raise ValueError(f"STRIATE_CONV_WINOGRAD: expected one of {_WINOGRAD_MODES}, "
                             f"got {mode!r}")
        set_conv_winograd(mode)


_winograd_from_env()


def _pads(padding, fn: str) -> Pads:
    """Normalise padding to (top, bottom, left, right), each in [0, MAX_EXTENT]."""
    what = "an int, (ph, pw) or (top, bottom, left, right)"
    t = int_tuple("padding", padding, fn, what)
    if len(t) == 1 and isinstance(padding, (int, np.integer)):
        t = t * 4
    elif len(t) == 2:
        t = (t[0], t[0], t[1], t[1])
    elif len(t) != 4:
        raise ValueError(f"{fn}: expected padding to be {what}, got {padding!r}")
    if min(t) < 0 or max(t) > MAX_EXTENT:
        raise ValueError(f"{fn}: expected padding in [0, {MAX_EXTENT}], got {padding!r}")
    return t  # type: ignore[return-value]


def _check_extent(fn: str, hp: int, wp: int, what: str) -> None:
    """Refuse a padded plane past MAX_EXTENT rows or columns (see _validate.MAX_EXTENT)."""
    if hp > MAX_EXTENT or wp > MAX_EXTENT:
        raise ValueError(f"{fn}: expected a padded {what} of at most {MAX_EXTENT} rows and "
                         f"columns, got ({hp}, {wp})")


def _groups(groups, fn: str) -> int:
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: expected groups to be a positive int, got {groups!r}")
    return int(groups)


def _geometry(fn: str, input_shape, weight_shape, stride, padding, dilation,
              groups: int | None) -> tuple:
    """Validate a conv2d's hyper-parameters and shapes; return the C descriptor tuple
    (N, C, H, W, K, R, S, P, Q, sh, sw, pt, pl, dh, dw, groups)."""
    n, c, h, w = input_shape
    k, cg, kh, kw = weight_shape
    sh, sw = pair("stride", stride, fn, min_value=1)
    dh, dw = pair("dilation", dilation, fn, min_value=1)
    pt, pb, pl, pr = _pads(padding, fn)
    if groups is not None:
        if k % groups:
            raise ValueError(f"{fn}: expected out_channels (weight.shape[0] = {k}) divisible "
                             f"by groups={groups}, weight shape {tuple(weight_shape)}")
        if cg * groups != c:
            raise ValueError(
                f"{fn}: expected input with {cg * groups} channels (groups={groups}, weight "
                f"shape {tuple(weight_shape)}), got input shape {tuple(input_shape)}")
    if kh < 1 or kw < 1:
        raise ValueError(f"{fn}: expected a kernel of size >= 1, got weight shape "
                         f"{tuple(weight_shape)}")
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    hp, wp = h + pt + pb, w + pl + pr
    _check_extent(fn, hp, wp, "input")
    if eh > hp or ew > wp:
        raise ValueError(
            f"{fn}: kernel size (dilated) ({eh}, {ew}) is larger than the padded input "
            f"({hp}, {wp}) (input shape {tuple(input_shape)}, weight shape "
            f"{tuple(weight_shape)}, padding {(pt, pb, pl, pr)}, dilation {(dh, dw)})")
    p, q = (hp - eh) // sh + 1, (wp - ew) // sw + 1
    return (n, c, h, w, k, kh, kw, p, q, sh, sw, pt, pl, dh, dw,
            groups if groups is not None else 1)


def conv2d_output_shape(input_shape: Sequence[int], weight_shape: Sequence[int], stride=1,
                        padding=0, dilation=1, groups: int | None = None
                        ) -> tuple[int, int, int, int]:
    """Output shape of :func:`conv2d`, validating the arguments.

    Args:
        input_shape: ``(N, Cin, H, W)``.
        weight_shape: ``(Cout, Cin/groups, kh, kw)``.
        stride, dilation: int or pair, >= 1.  padding: int, pair or 4-tuple, >= 0.
        groups: when given, the channel counts are checked against it too.

    Shape:
        ``Hout = (H + top + bottom - dilation_h*(kh-1) - 1) // stride_h + 1`` (same for W).

    Returns:
        ``(N, Cout, Hout, Wout)``.

    Raises:
        ValueError: bad hyper-parameters or a kernel larger than the padded input.

    Example:
        >>> conv2d_output_shape((8, 3, 32, 32), (16, 3, 3, 3), stride=2, padding=1)
        (8, 16, 16, 16)
    """
    fn = "conv2d_output_shape"
    g = _groups(groups, fn) if groups is not None else None
    geom = _geometry(fn, shape4("input_shape", input_shape, fn),
                     shape4("weight_shape", weight_shape, fn), stride, padding, dilation, g)
    return geom[0], geom[4], geom[7], geom[8]


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1,
           padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """2-D cross-correlation over an NCHW batch, like ``torch.nn.functional.conv2d``.

    Args:
        x: input ``(N, Cin, H, W)``.
        weight: ``(Cout, Cin/groups, kh, kw)``.
        bias: optional ``(Cout,)``.
        stride, dilation: int or ``(h, w)``, >= 1.
        padding: int, ``(ph, pw)`` or ``(top, bottom, left, right)``, >= 0 (zeros).
        groups: channel groups; ``Cin`` and ``Cout`` divisible by it.

    Shape:
        output ``(N, Cout, Hout, Wout)``, ``Hout = (H + top + bottom - dil_h*(kh-1) - 1) //
        stride_h + 1``, ``Wout`` likewise.

    Returns:
        float32 output.

    Raises:
        TypeError: non-array or non-floating input.
        ValueError: wrong ndim, channel/group mismatch, bad stride/padding/dilation, kernel
            larger than the padded input, bias of the wrong shape.

    Example:
        >>> x = np.ones((1, 1, 3, 3), np.float32); w = np.ones((1, 1, 2, 2), np.float32)
        >>> conv2d(x, w)[0, 0]
        array([[4., 4.],
               [4., 4.]], dtype=float32)
    """
    fn = "conv2d"
    x = as_f32("input", x, fn, ndim=4)
    weight = as_f32("weight", weight, fn, ndim=4)
    g = _groups(groups, fn)
    geom = _geometry(fn, x.shape, weight.shape, stride, padding, dilation, g)
    n, k, p, q = geom[0], geom[4], geom[7], geom[8]
    if bias is not None:
        bias = as_f32("bias", bias, fn)
        if bias.shape != (k,):
            raise ValueError(f"{fn}: expected bias with shape ({k},) (weight shape "
                             f"{weight.shape}), got {bias.shape}")
    y = np.empty((n, k, p, q), dtype=np.float32)
    if y.size == 0:
        return y
    if x.size == 0 or weight.size == 0:
        y[...] = 0.0 if bias is None else bias[None, :, None, None]
        return y
    _C.conv2d_forward(geom, x.reshape(-1), weight.reshape(-1),
                      None if bias is None else bias.reshape(-1), y.reshape(-1))
    return y


def _check_grad(fn: str, name: str, g: np.ndarray, expected: tuple) -> None:
    if tuple(g.shape) != tuple(expected):
        raise ValueError(f"{fn}: expected {name} with shape {tuple(expected)}, got {g.shape}")


def _backward_data(geom: tuple, grad_out: np.ndarray, weight: np.ndarray) -> np.ndarray:
    if not (grad_out.size and weight.size and np.prod(geom[:4])):
        return np.zeros(geom[:4], dtype=np.float32)
    dx = np.empty(geom[:4], dtype=np.float32)  # the kernel writes every element
    _C.conv2d_backward_data(geom, grad_out.reshape(-1), weight.reshape(-1), dx.reshape(-1))
    return dx


def _backward_weight(geom: tuple, grad_out: np.ndarray, x: np.ndarray,
                     weight_shape: tuple) -> np.ndarray:
    if not (grad_out.size and x.size and np.prod(weight_shape)):
        return np.zeros(weight_shape, dtype=np.float32)
    dw = np.empty(weight_shape, dtype=np.float32)  # the kernel writes every element
    _C.conv2d_backward_weight(geom, grad_out.reshape(-1), x.reshape(-1), dw.reshape(-1))
    return dw


def conv2d_backward_data(grad_out: np.ndarray, weight: np.ndarray, input_shape: Sequence[int],
                         stride=1, padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """Gradient of :func:`conv2d` with respect to its input.

    Args:
        grad_out: ``(N, Cout, Hout, Wout)``, the gradient of the output.
        weight: ``(Cout, Cin/groups, kh, kw)``.
        input_shape: ``(N, Cin, H, W)`` of the forward input.
        stride, padding, dilation, groups: as in :func:`conv2d`.

    Returns:
        float32 ``(N, Cin, H, W)``.

    Raises:
        TypeError, ValueError: as :func:`conv2d`; grad_out of the wrong shape.
    """
    fn = "conv2d_backward_data"
    grad_out = as_f32("grad_out", grad_out, fn, ndim=4)
    weight = as_f32("weight", weight, fn, ndim=4)
    geom = _geometry(fn, shape4("input_shape", input_shape, fn), weight.shape, stride,
                     padding, dilation, _groups(groups, fn))
    _check_grad(fn, "grad_out", grad_out, (geom[0], geom[4], geom[7], geom[8]))
    return _backward_data(geom, grad_out, weight)


def conv2d_backward_weight(grad_out: np.ndarray, x: np.ndarray, weight_shape: Sequence[int],
                           stride=1, padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """Gradient of :func:`conv2d` with respect to its weight.

    Args:
        grad_out: ``(N, Cout, Hout, Wout)``.
        x: the forward input ``(N, Cin, H, W)``.
        weight_shape: ``(Cout, Cin/groups, kh, kw)``.
        stride, padding, dilation, groups: as in :func:`conv2d`.

    Returns:
        float32 ``weight_shape`` (summed over the batch).

    Raises:
        TypeError, ValueError: as :func:`conv2d`; grad_out of the wrong shape.
    """
    fn = "conv2d_backward_weight"
    grad_out = as_f32("grad_out", grad_out, fn, ndim=4)
    x = as_f32("input", x, fn, ndim=4)
    wshape = shape4("weight_shape", weight_shape, fn)
    geom = _geometry(fn, x.shape, wshape, stride, padding, dilation, _groups(groups, fn))
    _check_grad(fn, "grad_out", grad_out, (geom[0], geom[4], geom[7], geom[8]))
    return _backward_weight(geom, grad_out, x, wshape)


def conv2d_backward_bias(grad_out: np.ndarray) -> np.ndarray:
    """Gradient of the bias of :func:`conv2d`: ``grad_out.sum((0, 2, 3))``.

    Args:
        grad_out: ``(N, Cout, Hout, Wout)``.

    Returns:
        float32 ``(Cout,)``.
    """
    fn = "conv2d_backward_bias"
    grad_out = as_f32("grad_out", grad_out, fn, ndim=4)
    n, k, p, q = grad_out.shape
    db = np.zeros((k,), dtype=np.float32)
    if grad_out.size:
        geom = (n, 1, 1, 1, k, 1, 1, p, q, 1, 1, 0, 0, 1, 1, 1)
        _C.conv2d_backward_bias(geom, grad_out.reshape(-1), db)
    return db


def _transposed_geometry(fn: str, x_shape, weight_shape, stride, padding, output_padding,
                         dilation, groups) -> tuple:
    """Descriptor of the conv2d whose backward-data is this transposed conv: its input is
    the transposed conv's output (N, Cout, Hout, Wout), its output the transposed input."""
    n, cin, h, w = x_shape
    cin_w, cog, kh, kw = weight_shape
    g = _groups(groups, fn)
    sh, sw = pair("stride", stride, fn, min_value=1)
    dh, dw = pair("dilation", dilation, fn, min_value=1)
    oph, opw = pair("output_padding", output_padding, fn, min_value=0)
    pt, pb, pl, pr = _pads(padding, fn)
    if cin_w != cin:
        raise ValueError(f"{fn}: expected input with {cin_w} channels (groups={g}, weight "
                         f"shape {tuple(weight_shape)}), got input shape {tuple(x_shape)}")
    if cin % g:
        raise ValueError(f"{fn}: expected in_channels ({cin}) divisible by groups={g}")
    if kh < 1 or kw < 1:
        raise ValueError(f"{fn}: expected a kernel of size >= 1, got weight shape "
                         f"{tuple(weight_shape)}")
    if (oph >= sh and oph >= dh) or (opw >= sw and opw >= dw):
        raise ValueError(f"{fn}: expected output_padding smaller than stride or dilation, "
                         f"got output_padding {(oph, opw)}, stride {(sh, sw)}, "
                         f"dilation {(dh, dw)}")
    ho = (h - 1) * sh - pt - pb + dh * (kh - 1) + oph + 1
    wo = (w - 1) * sw - pl - pr + dw * (kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"{fn}: output size ({ho}, {wo}) is not positive (input shape "
                         f"{tuple(x_shape)}, weight shape {tuple(weight_shape)}, padding "
                         f"{(pt, pb, pl, pr)})")
    _check_extent(fn, ho + pt + pb, wo + pl + pr, "output")
    return (n, cog * g, ho, wo, cin, kh, kw, h, w, sh, sw, pt, pl, dh, dw, g)


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                     stride=1, padding=0, output_padding=0, dilation=1,
                     groups: int = 1) -> np.ndarray:
    """Transposed 2-D convolution, like ``torch.nn.functional.conv_transpose2d``: the adjoint
    of :func:`conv2d` (its forward is ``conv2d_backward_data``).

    Args:
        x: ``(N, Cin, H, W)``.
        weight: ``(Cin, Cout/groups, kh, kw)`` (PyTorch's layout).
        bias: optional ``(Cout,)``.
        stride, dilation: int or pair, >= 1.  padding: int, pair or 4-tuple, >= 0 (removed
            from the output).  output_padding: int or pair added to the bottom/right,
            smaller than stride or dilation.

    Shape:
        ``Hout = (H - 1)*stride_h - top - bottom + dil_h*(kh - 1) + output_padding_h + 1``.

    Returns:
        float32 ``(N, Cout, Hout, Wout)``.

    Raises:
        TypeError, ValueError: as :func:`conv2d`; output_padding too large.
    """
    fn = "conv_transpose2d"
    x = as_f32("input", x, fn, ndim=4)
    weight = as_f32("weight", weight, fn, ndim=4)
    geom = _transposed_geometry(fn, x.shape, weight.shape, stride, padding, output_padding,
                                dilation, groups)
    cout = geom[1]
    if bias is not None:
        bias = as_f32("bias", bias, fn)
        if bias.shape != (cout,):
            raise ValueError(f"{fn}: expected bias with shape ({cout},) (weight shape "
                             f"{weight.shape}, groups={groups}), got {bias.shape}")
    y = _backward_data(geom, x, weight)
    if bias is not None:
        y += bias[None, :, None, None]
    return y


def conv_transpose2d_backward_weight(grad_out: np.ndarray, x: np.ndarray,
                                     weight_shape: Sequence[int], stride=1, padding=0,
                                     output_padding=0, dilation=1,
                                     groups: int = 1) -> np.ndarray:
    """Gradient of :func:`conv_transpose2d` with respect to its weight.

    Args:
        grad_out: ``(N, Cout, Hout, Wout)``.
        x: the forward input ``(N, Cin, H, W)``.
        weight_shape: ``(Cin, Cout/groups, kh, kw)``.
        stride, padding, output_padding, dilation, groups: as in :func:`conv_transpose2d`.

    Returns:
        float32 ``weight_shape``.
    """
    fn = "conv_transpose2d_backward_weight"
    grad_out = as_f32("grad_out", grad_out, fn, ndim=4)
    x = as_f32("input", x, fn, ndim=4)
    wshape = shape4("weight_shape", weight_shape, fn)
    geom = _transposed_geometry(fn, x.shape, wshape, stride, padding, output_padding,
                                dilation, groups)
    _check_grad(fn, "grad_out", grad_out, geom[:4])
    # conv2d view: its input is grad_out, its output gradient is x.
    return _backward_weight(geom, x, grad_out, wshape)
