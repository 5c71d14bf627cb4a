"""Inference-time folding of batch norm into the preceding convolution.

In eval mode ``bn(conv(x)) = conv'(x)`` with ``w' = w * s`` and ``b' = (b - mean) * s + beta``
where ``s = gamma / sqrt(running_var + eps)`` per output channel, so each conv + batch-norm
pair becomes one conv: one pass over the activations fewer per pair.  Pairs are found
structurally: consecutive ``Conv2d``, ``BatchNorm2d`` children of a ``Sequential`` (VGG
features, ``Conv2dNormActivation``, MobileNet/EfficientNet blocks, ResNet ``downsample``) and
the ``conv{k}`` / ``bn{k}`` attributes of ResNet stems and blocks, DenseNet's stem
(``conv0``/``norm0``) and each dense layer's ``conv1``/``norm2``.  Pre-activation batch norms
(DenseNet's ``norm1`` and transitions) have no preceding conv and are left alone.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import numpy as np

from striate import nn
from striate.models.densenet import _DenseLayer

__all__ = ["fuse_conv_bn"]


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    w = conv.weight.data
    mean = np.asarray(bn.running_mean.data, np.float64)
    var = np.asarray(bn.running_var.data, np.float64)
    gamma = np.ones_like(mean) if bn.weight is None else np.asarray(bn.weight.data, np.float64)
    beta = np.zeros_like(mean) if bn.bias is None else np.asarray(bn.bias.data, np.float64)
    s = gamma / np.sqrt(var + bn.eps)
    b = np.zeros_like(mean) if conv.bias is None else np.asarray(conv.bias.data, np.float64)
    conv.weight.data[...] = (w.astype(np.float64) * s[:, None, None, None]).astype(w.dtype)
    new_bias = ((b - mean) * s + beta).astype(w.dtype)
    if conv.bias is None:
        conv.bias = nn.Parameter(new_bias)
    else:
        conv.bias.data[...] = new_bias


def _foldable(conv: Any, bn: Any) -> bool:
    return (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
            and bn.running_mean is not None and conv.out_channels == bn.num_features)


def fuse_conv_bn(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Fold every conv -> batch-norm pair of ``model`` for inference.

    Args:
        model: a model (any ``nn.Module``); its batch norms must have running statistics.
        inplace: modify ``model`` itself instead of a deep copy.

    Returns:
        The fused model, in eval mode: the folded batch norms are replaced by
        ``nn.Identity`` and the convs carry the bias.  Its outputs equal the eval-mode
        outputs of ``model`` up to float32 rounding; it is not meant for training (batch
        statistics are gone).

    Example:
        >>> from striate.models.resnet import resnet20
        >>> fused = fuse_conv_bn(resnet20())
        >>> sum(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
        0
    """
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    for module in list(model.modules()):
        if isinstance(module, nn.Sequential):
            names = [n for n, _ in module.named_children()]
            for a, b in itertools.pairwise(names):
                conv, bn = getattr(module, a), getattr(module, b)
                if _foldable(conv, bn):
                    _fold(conv, bn)
                    setattr(module, b, nn.Identity())
        pairs = [(f"conv{k}", f"bn{k}") for k in ("", "1", "2", "3")]
        if isinstance(module, _DenseLayer):
            pairs.append(("conv1", "norm2"))  # norm1 is pre-activation: stays
        elif isinstance(module, nn.Sequential):
            pairs.append(("conv0", "norm0"))  # DenseNet stem
        for c, b in pairs:
            conv, bn = getattr(module, c, None), getattr(module, b, None)
            if _foldable(conv, bn):
                _fold(conv, bn)
                setattr(module, b, nn.Identity())
    return model
