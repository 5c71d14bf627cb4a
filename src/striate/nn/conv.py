"""``Conv2d`` and ``ConvTranspose2d``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import striate.functional as F
from striate.nn import init
from striate.nn.linear import _float_dtype
from striate.nn.module import Module
from striate.nn.parameter import Parameter
from striate.tensor import Tensor

__all__ = ["Conv2d", "ConvTranspose2d"]


def _pair(value: Any, name: str, cls: str, minimum: int) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{cls}: {name} must be an int or a pair of ints, got {value!r}")
        out = tuple(value)
    else:
        out = (value, value)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
            raise ValueError(f"{cls}: {name} must be {'positive' if minimum else 'non-negative'}"
                             f" int(s), got {value!r}")
    return int(out[0]), int(out[1])


class _ConvNd(Module):
    def __init__(self, cls: str, in_channels: int, out_channels: int, kernel_size: Any,
                 stride: Any, padding: Any, dilation: Any, transposed: bool,
                 output_padding: Any, groups: int, bias: bool, padding_mode: str,
                 dtype: Any) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if isinstance(v, bool) or int(v) != v or v <= 0:
                raise ValueError(f"{cls}: {name} must be a positive integer, got {v!r}")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f"{cls}: padding_mode must be 'zeros' (the only mode supported), "
                             f"got {padding_mode!r}")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", cls, 1)
        self.stride = _pair(stride, "stride", cls, 1)
        self.dilation = _pair(dilation, "dilation", cls, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            if transposed:
                raise ValueError(f"{cls}: padding must be an int or a pair of ints, got "
                                 f"{padding!r}")
            self.padding: Any = padding
        else:
            self.padding = _pair(padding, "padding", cls, 0)
        self.transposed = transposed
        self.output_padding = _pair(output_padding, "output_padding", cls, 0)
        if transposed:
            for op, s, d in zip(self.output_padding, self.stride, self.dilation):
                if op >= s and op >= d:
                    raise ValueError(f"{cls}: output_padding must be smaller than either "
                                     f"stride or dilation, got output_padding="
                                     f"{self.output_padding}, stride={self.stride}, "
                                     f"dilation={self.dilation}")
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dt = _float_dtype(dtype)
        if transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight from kaiming_uniform(a=sqrt(5)), i.e. U(-k, k) with
        ``k = 1 / sqrt(fan_in)``; bias from U(-k, k) too."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * 2:
            s += ", padding={padding}"
        if self.dilation != (1,) * 2:
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * 2:
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)


class Conv2d(_ConvNd):
    r"""2-D convolution (cross-correlation) over an NCHW input.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: int or (kh, kw).
        stride: int or pair (default 1).
        padding: int, pair, ``"valid"`` (no padding) or ``"same"`` (output size = input size;
            stride 1 only) (default 0).
        dilation: int or pair (default 1).
        groups: blocked connections from input to output channels; both channel counts must
            be divisible by it (``groups == in_channels`` is a depthwise convolution).
        bias: learn a per-output-channel bias (default True; else registered as None).
        padding_mode: ``"zeros"`` (the only mode).
        dtype: parameter dtype (default float32).

    Shape:
        Input: ``(N, C_in, H_in, W_in)``. Output: ``(N, C_out, H_out, W_out)`` with
        ``H_out = floor((H_in + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1)
        / stride[0] + 1)`` (and likewise for W).

    Attributes:
        weight: ``(out_channels, in_channels / groups, kh, kw)``, from U(-k, k) with
            ``k = 1 / sqrt(in_channels / groups * kh * kw)``.
        bias: ``(out_channels,)``, from U(-k, k).

    Raises:
        ValueError: e.g. ``'in_channels must be divisible by groups'``, bad padding string,
            ``'same'`` with a stride, non-positive sizes.

    Example:
        >>> import striate
        >>> from striate import nn
        >>> nn.Conv2d(3, 8, 3, padding=1)(striate.randn(2, 3, 16, 16)).shape
        (2, 8, 16, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding,
                         dilation, False, 0, groups, bias, padding_mode, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    r"""2-D transposed convolution (the gradient of :class:`Conv2d` w.r.t. its input), e.g.
    for upsampling in a GAN generator.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: int or pair.
        stride: int or pair (default 1).
        padding: int or pair: ``dilation * (kernel_size - 1) - padding`` zeros are added to
            both sides of the input (default 0).
        output_padding: extra size added to one side of the output (must be smaller than
            stride or dilation) (default 0).
        groups: blocked connections (default 1).
        bias: learn a bias (default True).
        dilation: int or pair (default 1).
        padding_mode: ``"zeros"``.
        dtype: parameter dtype (default float32).

    Shape:
        Input: ``(N, C_in, H_in, W_in)``. Output: ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H_in - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kernel_size[0] - 1)
        + output_padding[0] + 1``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kh, kw)``, PyTorch's initialisation
            (fan_in computed from dimension 1).
        bias: ``(out_channels,)``.

    Raises:
        ValueError: for channels not divisible by groups, a too large output_padding, etc.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride,
                         padding, dilation, True, output_padding, groups, bias, padding_mode,
                         dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, int]:
        size = tuple(output_size)[-2:]
        out = []
        for d in range(2):
            h_in = input.shape[-2 + d]
            min_size = ((h_in - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            max_size = min_size + self.stride[d] - 1
            if not min_size <= size[d] <= max_size:
                raise ValueError(f"requested an output size of {size}, but valid sizes range "
                                 f"from {min_size} to {max_size} (for an input of "
                                 f"{tuple(input.shape[-2:])})")
            out.append(size[d] - min_size)
        return out[0], out[1]
