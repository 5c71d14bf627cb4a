"""Plain NumPy implementations of every kernel in ``striate.kernels``, with the same
signatures.  Readable rather than fast: they are the oracle the tests compare against."""

from striate.backend.reference._conv import (
    conv2d,
    conv2d_backward_bias,
    conv2d_backward_data,
    conv2d_backward_weight,
    conv2d_output_shape,
    conv_transpose2d,
    conv_transpose2d_backward_weight,
)
from striate.backend.reference._gemm import gemm

__all__ = [
    "conv2d",
    "conv2d_backward_bias",
    "conv2d_backward_data",
    "conv2d_backward_weight",
    "conv2d_output_shape",
    "conv_transpose2d",
    "conv_transpose2d_backward_weight",
    "gemm",
]
