"""``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``."""

from __future__ import annotations

from typing import Any

import striate.functional as F
from striate.nn.module import Module
from striate.tensor import Tensor

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


def _check(value: Any, name: str, cls: str, minimum: int) -> Any:
    vals = value if isinstance(value, (tuple, list)) else (value,)
    if isinstance(value, (tuple, list)) and len(value) != 2:
        raise ValueError(f"{cls}: {name} must be an int or a pair of ints, got {value!r}")
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise ValueError(f"{cls}: {name} must be int(s) >= {minimum}, got {value!r}")
    return tuple(value) if isinstance(value, list) else value


class MaxPool2d(Module):
    r"""2-D max pooling over an NCHW input.

    Args:
        kernel_size: window size (int or pair).
        stride: window step (default: ``kernel_size``).
        padding: implicit -inf padding on both sides (at most half the kernel).
        dilation: spacing between window elements (default 1).
        return_indices: also return the flat argmax indices (per plane, as PyTorch).
        ceil_mode: use ceil instead of floor for the output size.

    Shape:
        Input: ``(N, C, H_in, W_in)``. Output: ``(N, C, H_out, W_out)`` with
        ``H_out = floor((H_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)``.

    Raises:
        ValueError: for non-positive sizes.
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = _check(kernel_size, "kernel_size", "MaxPool2d", 1)
        self.stride = kernel_size if stride is None else _check(stride, "stride", "MaxPool2d",
                                                                1)
        self.stride = tuple(self.stride) if isinstance(self.stride, list) else self.stride
        self.padding = _check(padding, "padding", "MaxPool2d", 0)
        self.dilation = _check(dilation, "dilation", "MaxPool2d", 1)
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding},"
                f" dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    r"""2-D average pooling over an NCHW input.

    Args:
        kernel_size: window size (int or pair).
        stride: window step (default: ``kernel_size``).
        padding: implicit zero padding on both sides (at most half the kernel).
        ceil_mode: use ceil instead of floor for the output size.
        count_include_pad: count the zero padding in the divisor (default True).
        divisor_override: use this divisor instead of the window size.

    Shape:
        Input: ``(N, C, H_in, W_in)``. Output: ``(N, C, H_out, W_out)`` with
        ``H_out = floor((H_in + 2 * padding - kernel_size) / stride + 1)``.

    Raises:
        ValueError: for non-positive sizes or a zero divisor.
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = _check(kernel_size, "kernel_size", "AvgPool2d", 1)
        self.stride = kernel_size if stride is None else _check(stride, "stride", "AvgPool2d",
                                                                1)
        self.stride = tuple(self.stride) if isinstance(self.stride, list) else self.stride
        self.padding = _check(padding, "padding", "AvgPool2d", 0)
        if divisor_override is not None and divisor_override == 0:
            raise ValueError("AvgPool2d: divisor_override must be non-zero")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    r"""Average pooling to a fixed output size, whatever the input size (window ``i`` spans
    ``floor(i * H_in / H_out)`` to ``ceil((i + 1) * H_in / H_out)``).

    Args:
        output_size: ``H_out`` and ``W_out`` (int or pair; ``None`` keeps that input size).
            ``1`` is global average pooling.

    Shape:
        Input: ``(N, C, H_in, W_in)``. Output: ``(N, C, H_out, W_out)``.

    Raises:
        ValueError: for a non-positive size.
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        vals = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
        for v in vals:
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"AdaptiveAvgPool2d: output_size must be positive int(s) or "
                                 f"None, got {output_size!r}")
        self.output_size = tuple(output_size) if isinstance(output_size, list) else output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
