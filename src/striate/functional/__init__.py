"""``striate.functional`` (import as ``F``): the differentiable ops behind the layers,
named and ordered like ``torch.nn.functional``.  Arguments are validated here; messages name
the argument and give the expected and the actual value.

Convolution, pooling, softmax and cross-entropy run on striate's compiled kernels for float32
inputs and on their NumPy twins (``striate.backend.reference``) for other dtypes, so float64
gradchecks exercise the same code path.
"""

from striate.functional._activation import (
    elu,
    erf,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    relu_,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from striate.functional._attention import scaled_dot_product_attention
from striate.functional._conv import conv2d, conv_transpose2d
from striate.functional._linear import alpha_dropout, bilinear, dropout, dropout2d, linear
from striate.functional._loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from striate.functional._norm import batch_norm, group_norm, layer_norm, normalize
from striate.functional._pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
    max_pool2d_with_indices,
)
from striate.functional._sampling import (
    cosine_similarity,
    embedding,
    interpolate,
    one_hot,
    upsample,
)
from striate.functional._shape import flatten, pad, unflatten
from striate.functional._zoo_ops import stochastic_depth

__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "alpha_dropout", "avg_pool2d", "batch_norm",
    "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv2d",
    "conv_transpose2d", "cosine_similarity", "cross_entropy", "dropout", "dropout2d", "elu",
    "embedding", "erf", "flatten", "gelu", "group_norm", "hardsigmoid", "hardswish", "hardtanh",
    "huber_loss", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear",
    "log_softmax", "logsigmoid", "max_pool2d", "max_pool2d_with_indices", "mish", "mse_loss",
    "nll_loss", "normalize", "one_hot", "pad", "relu", "relu6", "relu_",
    "scaled_dot_product_attention", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus",
    "stochastic_depth", "tanh", "unflatten", "upsample",
]
