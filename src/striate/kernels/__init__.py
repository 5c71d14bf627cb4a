"""The compiled kernels, validated.  Every function here checks its arguments (naming the
argument, the expected and the actual value) before any C code runs, makes inputs
C-contiguous float32, and has a NumPy twin of the same signature in
``striate.backend.reference``."""

from striate._kernels._C import cache_bytes, empty_cache
from striate.kernels._conv import (
    conv2d,
    conv2d_backward_bias,
    conv2d_backward_data,
    conv2d_backward_weight,
    conv2d_output_shape,
    conv_chunk_bytes,
    conv_transpose2d,
    conv_transpose2d_backward_weight,
    set_conv_chunk_bytes,
)
from striate.kernels._gemm import gemm

__all__ = [
    "cache_bytes",
    "conv2d",
    "conv2d_backward_bias",
    "conv2d_backward_data",
    "conv2d_backward_weight",
    "conv2d_output_shape",
    "conv_chunk_bytes",
    "conv_transpose2d",
    "conv_transpose2d_backward_weight",
    "empty_cache",
    "gemm",
    "set_conv_chunk_bytes",
]
