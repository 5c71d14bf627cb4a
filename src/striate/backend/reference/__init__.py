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
from striate.backend.reference._eltwise import (
    adam_step,
    bias_act,
    dropout,
    dropout_backward,
    dropout_keep,
    log_softmax,
    log_softmax_backward,
    philox4x32_10,
    relu_backward,
    softmax,
    softmax_backward,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
)
from striate.backend.reference._gemm import gemm
from striate.backend.reference._norm import (
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
from striate.backend.reference._pool import (
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
    "batch_norm_eval_forward", "batch_norm_train_forward", "bias_act", "conv2d",
    "conv2d_backward_bias", "conv2d_backward_data", "conv2d_backward_weight",
    "conv2d_output_shape", "conv_transpose2d", "conv_transpose2d_backward_weight", "dropout",
    "dropout_backward", "dropout_keep", "gelu", "gelu_backward", "gemm", "global_avg_pool2d",
    "global_avg_pool2d_backward", "layer_norm_backward", "layer_norm_forward", "log_softmax",
    "log_softmax_backward", "max_pool2d", "max_pool2d_backward", "philox4x32_10",
    "pool2d_output_shape", "relu_backward", "sigmoid", "silu", "silu_backward", "softmax",
    "softmax_backward", "softmax_cross_entropy", "softmax_cross_entropy_backward",
]
