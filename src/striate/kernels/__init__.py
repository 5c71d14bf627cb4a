"""The compiled kernels, validated.  Every function here checks its arguments (naming the
argument, the expected and the actual value) before any C code runs, makes inputs
C-contiguous float32, and has a NumPy twin of the same signature in
``striate.backend.reference``."""

from striate._kernels._C import cache_bytes, empty_cache
from striate._runtime import fma_peak
from striate.kernels._conv import (
    conv2d,
    conv2d_backward_bias,
    conv2d_backward_data,
    conv2d_backward_weight,
    conv2d_output_shape,
    conv_chunk_bytes,
    conv_transpose2d,
    conv_transpose2d_backward_weight,
    conv_winograd,
    set_conv_chunk_bytes,
    set_conv_winograd,
)
from striate.kernels._eltwise import (
    adam_step,
    bias_act,
    dropout,
    dropout_backward,
    log_softmax,
    log_softmax_backward,
    relu_backward,
    softmax,
    softmax_backward,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
)
from striate.kernels._gemm import gemm
from striate.kernels._norm import (
    batch_norm_backward,
    batch_norm_eval_forward,
    batch_norm_train_forward,
    gelu,
    gelu_backward,
    layer_norm_backward,
    layer_norm_forward,
    sigmoid,
    silu,
    silu_backward,
)
from striate.kernels._pool import (
    avg_pool2d,
    avg_pool2d_backward,
    global_avg_pool2d,
    global_avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    pool2d_output_shape,
)

__all__ = [
    "adam_step", "avg_pool2d", "avg_pool2d_backward", "batch_norm_backward",
    "batch_norm_eval_forward", "batch_norm_train_forward", "bias_act", "cache_bytes", "conv2d",
    "conv2d_backward_bias", "conv2d_backward_data", "conv2d_backward_weight",
    "conv2d_output_shape", "conv_chunk_bytes", "conv_transpose2d",
    "conv_transpose2d_backward_weight", "conv_winograd", "dropout", "dropout_backward",
    "empty_cache", "fma_peak", "gelu", "gelu_backward", "gemm", "global_avg_pool2d",
    "global_avg_pool2d_backward", "layer_norm_backward", "layer_norm_forward", "log_softmax",
    "log_softmax_backward", "max_pool2d", "max_pool2d_backward", "pool2d_output_shape",
    "relu_backward", "set_conv_chunk_bytes", "set_conv_winograd", "sigmoid", "silu",
    "silu_backward", "softmax", "softmax_backward", "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
]
