"""DenseNet (Huang et al. 2017) with torchvision's names, and DenseNet-BC for small images.

Each dense block writes its features into one preallocated buffer of
``C_in + num_layers * growth_rate`` channels (:func:`striate.functional._zoo_ops.dense_concat`):
every layer's output is copied once into its channel slice and the next layer reads a view of
the channels written so far (its batch norm reads that view in place), so a block does O(L)
copying instead of the O(L^2) of concatenating all previous features at every layer.  The backward of each step hands the
gradient's channel slices back to the pieces (views, no copies).

ImageNet layout (``densenet121``): ``features.conv0`` 7x7/2, ``norm0``, ``pool0`` 3x3/2,
``denseblock1..4`` of ``denselayer{i}`` (``norm1``, ``conv1`` 1x1 to ``bn_size * k``,
``norm2``, ``conv2`` 3x3 to ``k``), ``transition1..3`` (``norm``, ``conv`` 1x1 halving,
``pool`` 2x2 average), ``features.norm5``, ``classifier``.  Needs at least 29x29 input.

Small-image DenseNet-BC (``densenet_bc``, default depth 100, k=12): ``features.conv0`` 3x3 to
``2k`` channels, no stem pool, three blocks of ``(depth - 4) / 6`` bottleneck layers,
transitions with compression 0.5, then ``features.norm5`` and ``classifier``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import striate.functional as F
from striate import nn
from striate.autograd import get_array_module
from striate.functional._zoo_ops import dense_concat
from striate.models._common import check_input, check_options, min_input_size
from striate.models.registry import register_model
from striate.nn import init as _init
from striate.nn.normalization import batch_norm_relu

__all__ = ["DenseNet", "densenet121", "densenet_bc"]


class _DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv (to ``bn_size * growth_rate``) - BN-ReLU-3x3 conv (to
    ``growth_rate``), optional dropout.

    Shape:
        (N, C, H, W) -> (N, growth_rate, H, W)
    """

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int,
                 drop_rate: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, x: Any) -> Any:
        out = self.conv1(batch_norm_relu(self.norm1, self.relu1, x))
        out = self.conv2(batch_norm_relu(self.norm2, self.relu2, out))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        return out


class _DenseBlock(nn.Module):
    """``num_layers`` dense layers (``denselayer1`` ...), features gathered in one buffer.

    Shape:
        (N, C, H, W) -> (N, C + num_layers * growth_rate, H, W)
    """

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int,
                 growth_rate: int, drop_rate: float) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.growth_rate = growth_rate
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size,
                                drop_rate)
            setattr(self, f"denselayer{i + 1}", layer)

    def forward(self, x: Any) -> Any:
        n, c, h, w = x.shape
        total = c + self.num_layers * self.growth_rate
        buffer = get_array_module(x.data).empty((n, total, h, w), dtype=x.data.dtype)
        feats = x
        for i in range(self.num_layers):
            new = getattr(self, f"denselayer{i + 1}")(feats)
            feats = dense_concat(feats, new, buffer)
        return feats


class _Transition(nn.Sequential):
    """BN-ReLU-1x1 conv-2x2 average pool (children ``norm``, ``relu``, ``conv``, ``pool``)."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(num_input_features, num_output_features, 1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """Densely connected network.

    Args:
        growth_rate: k, channels each dense layer adds.
        block_config: layers per dense block.
        num_init_features: channels of the stem conv.
        bn_size: bottleneck width factor (1x1 conv to ``bn_size * k``).
        drop_rate: dropout after each dense layer.
        num_classes: outputs.
        in_channels: input image channels.
        small_input: 3x3/1 stem without norm0/pool0 (CIFAR-style DenseNet-BC).
        compression: transition output = floor(compression * input channels).
        name: model name for error messages.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes)
    """

    def __init__(self, growth_rate: int = 32, block_config: Sequence[int] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0.0,
                 num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                 compression: float = 0.5, name: str = "densenet") -> None:
        super().__init__()
        if not 0.0 < compression <= 1.0:
            raise ValueError(f"{name}: compression must be in (0, 1], got {compression}")
        self.name = name
        self.in_channels = in_channels
        self.features = nn.Sequential()
        if small_input:
            self.features.add_module(
                "conv0", nn.Conv2d(in_channels, num_init_features, 3, padding=1, bias=False))
            steps = [(3, 1, 1)]
        else:
            self.features.add_module(
                "conv0", nn.Conv2d(in_channels, num_init_features, 7, stride=2, padding=3,
                                   bias=False))
            self.features.add_module("norm0", nn.BatchNorm2d(num_init_features))
            self.features.add_module("relu0", nn.ReLU())
            self.features.add_module("pool0", nn.MaxPool2d(3, stride=2, padding=1))
            steps = [(7, 2, 3), (3, 2, 1)]
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                out = int(num_features * compression)
                self.features.add_module(f"transition{i + 1}", _Transition(num_features, out))
                num_features = out
                steps.append((2, 2, 0))
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        self.num_features = num_features
        self._min_size = min_input_size(steps)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                _init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                _init.ones_(m.weight)
                _init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                _init.zeros_(m.bias)

    def forward(self, x: Any) -> Any:
        check_input(self.name, x, self.in_channels, min_size=self._min_size,
                    why="the stem and the transitions' 2x2 average pools need at least one "
                        "pixel at every stage")
        out = F.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1))
        return self.classifier(out.reshape(out.shape[0], -1))


@register_model("densenet121")
def densenet121(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> DenseNet:
    """DenseNet-121 (k=32, blocks 6/12/24/16), torchvision names. 8.0M params at 1000
    classes."""
    check_options("densenet121", cfg, DenseNet,
                  fixed=("growth_rate", "block_config", "num_init_features", "num_classes",
                         "in_channels"))
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes, in_channels=in_channels,
                    name="densenet121", **cfg)


@register_model("densenet_bc")
def densenet_bc(num_classes: int = 10, in_channels: int = 3, depth: int = 100,
                growth_rate: int = 12, compression: float = 0.5, **cfg: Any) -> DenseNet:
    """DenseNet-BC for 28x28/32x32 images (default depth 100, k=12, compression 0.5: 0.77M
    parameters): three blocks of ``(depth - 4) / 6`` bottleneck layers."""
    if depth < 10 or (depth - 4) % 6 != 0:
        raise ValueError(f"densenet_bc: depth must be 6n + 4 with n >= 1, got {depth}")
    n = (depth - 4) // 6
    check_options("densenet_bc", cfg, DenseNet,
                  fixed=("growth_rate", "block_config", "num_init_features", "num_classes",
                         "in_channels", "small_input", "compression"))
    return DenseNet(growth_rate, (n, n, n), 2 * growth_rate, num_classes=num_classes,
                    in_channels=in_channels, small_input=True, compression=compression,
                    name=f"densenet_bc{depth}", **cfg)
