"""``conv2d`` and ``conv_transpose2d`` on striate's convolution kernels (float32) or their
NumPy twins (other dtypes, e.g. float64 under gradcheck)."""

from __future__ import annotations

from typing import Any

from striate.autograd import Function, get_array_module
from striate.functional._util import ops, pair
from striate.tensor import Tensor

__all__ = ["conv2d", "conv2d_output_size", "conv_transpose2d"]


class Conv2d(Function):
    __slots__ = ("args", "w", "wshape", "x", "xshape")

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1),
                groups=1):
        n = self.needs_input_grad
        self.x = x if n[1] else None
        self.w = w if n[0] else None
        self.xshape, self.wshape = x.shape, w.shape
        self.args = (stride, padding, dilation, groups)
        return ops(x).conv2d(x, w, b, stride, padding, dilation, groups)

    def backward(self, g):
        n = self.needs_input_grad
        k = ops(g)
        stride, padding, dilation, groups = self.args
        g = get_array_module(g).ascontiguousarray(g)  # once for both kernels (g may be a view)
        gx = gw = gb = None
        if n[0]:
            gx = k.conv2d_backward_data(g, self.w, self.xshape, stride, padding, dilation,
                                        groups)
        if n[1]:
            gw = k.conv2d_backward_weight(g, self.x, self.wshape, stride, padding, dilation,
                                          groups)
        if len(n) > 2 and n[2]:
            gb = k.conv2d_backward_bias(g)
        return gx, gw, gb


class ConvTranspose2d(Function):
    __slots__ = ("args", "w", "wshape", "x", "xshape")

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                dilation=(1, 1), groups=1):
        n = self.needs_input_grad
        self.x = x if n[1] else None
        self.w = w if n[0] else None
        self.wshape, self.xshape = w.shape, x.shape
        self.args = (stride, padding, output_padding, dilation, groups)
        return ops(x).conv_transpose2d(x, w, b, stride, padding, output_padding, dilation,
                                       groups)

    def backward(self, g):
        n = self.needs_input_grad
        k = ops(g)
        stride, padding, output_padding, dilation, groups = self.args
        gx = gw = gb = None
        if n[0]:
            # the input gradient of a transposed conv is the plain conv of g with the weight
            gx = k.conv2d(g, self.w, None, stride, padding, dilation, groups)
            h, w = self.xshape[2:]
            if gx.shape[2:] != (h, w):  # output_padding >= stride (allowed below dilation)
                gx = gx[:, :, :h, :w]
        if n[1]:
            gw = k.conv_transpose2d_backward_weight(g, self.x, self.wshape, stride, padding,
                                                    output_padding, dilation, groups)
        if len(n) > 2 and n[2]:
            gb = k.conv2d_backward_bias(g)
        return gx, gw, gb


def _padding(padding: Any, kh: int, kw: int, dilation: tuple, stride: tuple, fn: str) -> tuple:
    """``(top, bottom, left, right)`` from an int, a pair, a 4-tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{fn}: padding='same' is not supported for strided "
                                 f"convolutions, got stride={stride}")
            th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(f"{fn}: expected padding to be an int, a pair, 'valid' or 'same', got "
                         f"{padding!r}")
    if not isinstance(padding, (int,)) and len(tuple(padding)) == 4:
        t = tuple(int(v) for v in padding)
        if min(t) < 0:
            raise ValueError(f"{fn}: expected padding >= 0, got {padding!r}")
        return t
    ph, pw = pair(padding, "padding", fn, 0)
    return (ph, ph, pw, pw)


def conv2d_output_size(h: int, w: int, kh: int, kw: int, stride: tuple, padding: tuple,
                       dilation: tuple) -> tuple:
    """``H_out = (H + top + bottom - dilation*(k-1) - 1) // stride + 1`` (same for W)."""
    pt, pb, pl, pr = padding
    return ((h + pt + pb - dilation[0] * (kh - 1) - 1) // stride[0] + 1,
            (w + pl + pr - dilation[1] * (kw - 1) - 1) // stride[1] + 1)


def _check_conv_args(fn: str, input: Tensor, weight: Tensor, groups: Any, unbatched_dims: str,
                     weight_dims: str) -> tuple[Tensor, bool]:
    """Checks shared by conv2d and conv_transpose2d: ranks, a common floating dtype and
    ``groups``.  Returns ``input`` with a batch dimension and whether one was added.

    Args:
        unbatched_dims, weight_dims: how the error messages describe the accepted unbatched
            input rank and the weight layout.
    """
    x, w = input.data, weight.data
    unbatched = x.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
        x = input.data
    if x.ndim != 4:
        raise ValueError(f"{fn}: expected input with 4 dimensions (N, C, H, W) or "
                         f"{unbatched_dims}, got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{fn}: expected weight with 4 dimensions {weight_dims}, "
                         f"got shape {w.shape}")
    if x.dtype.kind != "f" or x.dtype != w.dtype:
        raise TypeError(f"{fn}: expected input and weight of the same floating dtype, got "
                        f"{x.dtype} and {w.dtype}")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{fn}: expected groups to be a positive int, got {groups!r}")
    return input, unbatched


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation over an NCHW batch (``torch.nn.functional.conv2d``).

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kh, kw)``.
        bias: optional ``(C_out,)``.
        stride, dilation: int or pair, >= 1.
        padding: int, pair, ``(top, bottom, left, right)``, ``'valid'`` or ``'same'``.
        groups: ``C_in`` and ``C_out`` must both be divisible by it.

    Shape:
        ``H_out = (H + 2 * padding - dilation * (kh - 1) - 1) // stride + 1`` (same for W).

    Raises:
        ValueError: wrong ranks, channel counts that disagree with ``groups``, a kernel
            larger than the padded input, bad stride/padding/dilation/groups.
        TypeError: non-floating input or a dtype mismatch between input and weight.

    Example:
        >>> import striate, striate.functional as F
        >>> F.conv2d(striate.ones(2, 3, 8, 8), striate.ones(4, 3, 3, 3), padding=1).shape
        (2, 4, 8, 8)
    """
    fn = "conv2d"
    input, unbatched = _check_conv_args(fn, input, weight, groups, "3 (C, H, W)",
                                        "(C_out, C_in/groups, kh, kw)")
    x, w = input.data, weight.data
    cout, cg, kh, kw = w.shape
    if cout % groups:
        raise ValueError(f"{fn}: expected out_channels (weight.shape[0] = {cout}) divisible by "
                         f"groups={groups}, got weight shape {w.shape}")
    if cg * groups != x.shape[1]:
        raise ValueError(f"{fn}: expected input with {cg * groups} channels (groups={groups}, "
                         f"weight shape {w.shape}), got input shape {x.shape}")
    st = pair(stride, "stride", fn, 1)
    dl = pair(dilation, "dilation", fn, 1)
    pd = _padding(padding, kh, kw, dl, st, fn)
    ho, wo = conv2d_output_size(x.shape[2], x.shape[3], kh, kw, st, pd, dl)
    if ho < 1 or wo < 1:
        raise ValueError(f"{fn}: kernel size (dilated) ({dl[0] * (kh - 1) + 1}, "
                         f"{dl[1] * (kw - 1) + 1}) is larger than the padded input "
                         f"({x.shape[2] + pd[0] + pd[1]}, {x.shape[3] + pd[2] + pd[3]}) (input "
                         f"shape {x.shape}, weight shape {w.shape}, padding {pd})")
    if bias is None:
        out = Conv2d.apply(input, weight, stride=st, padding=pd, dilation=dl, groups=groups)
    else:
        if bias.data.shape != (cout,):
            raise ValueError(f"{fn}: expected bias with shape ({cout},) (weight shape "
                             f"{w.shape}), got {bias.data.shape}")
        out = Conv2d.apply(input, weight, bias, stride=st, padding=pd, dilation=dl,
                           groups=groups)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed convolution (the gradient of ``conv2d`` w.r.t. its input), with
    PyTorch's argument order.

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_in, C_out / groups, kh, kw)``.
        bias: optional ``(C_out,)``.
        stride, dilation: int or pair, >= 1.  padding: int or pair, >= 0.
        output_padding: int or pair, smaller than stride or dilation.
        groups: divides ``C_in``.

    Shape:
        ``H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1``.

    Raises:
        ValueError: wrong ranks, channels that disagree, bad hyper-parameters.
        TypeError: non-floating input or dtype mismatch.
    """
    fn = "conv_transpose2d"
    input, unbatched = _check_conv_args(fn, input, weight, groups, "3",
                                        "(C_in, C_out/groups, kh, kw)")
    x, w = input.data, weight.data
    cin, cog, kh, kw = w.shape
    if cin != x.shape[1]:
        raise ValueError(f"{fn}: expected input with {cin} channels (weight shape {w.shape}), "
                         f"got input shape {x.shape}")
    if cin % groups:
        raise ValueError(f"{fn}: expected in_channels ({cin}) divisible by groups={groups}")
    st = pair(stride, "stride", fn, 1)
    dl = pair(dilation, "dilation", fn, 1)
    pd = pair(padding, "padding", fn, 0)
    op = pair(output_padding, "output_padding", fn, 0)
    for i in range(2):
        if op[i] >= st[i] and op[i] >= dl[i]:
            raise ValueError(f"{fn}: expected output_padding smaller than stride or dilation, "
                             f"got output_padding={op}, stride={st}, dilation={dl}")
    ho = (x.shape[2] - 1) * st[0] - 2 * pd[0] + dl[0] * (kh - 1) + op[0] + 1
    wo = (x.shape[3] - 1) * st[1] - 2 * pd[1] + dl[1] * (kw - 1) + op[1] + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"{fn}: output size ({ho}, {wo}) is too small (input shape {x.shape}, "
                         f"weight shape {w.shape}, stride {st}, padding {pd})")
    cout = cog * groups
    if bias is None:
        out = ConvTranspose2d.apply(input, weight, stride=st, padding=pd, output_padding=op,
                                    dilation=dl, groups=groups)
    else:
        if bias.data.shape != (cout,):
            raise ValueError(f"{fn}: expected bias with shape ({cout},) (weight shape "
                             f"{w.shape}, groups={groups}), got {bias.data.shape}")
        out = ConvTranspose2d.apply(input, weight, bias, stride=st, padding=pd,
                                    output_padding=op, dilation=dl, groups=groups)
    return out.squeeze(0) if unbatched else out
