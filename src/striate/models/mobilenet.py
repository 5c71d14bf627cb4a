"""MobileNetV2 (Sandler et al. 2018) with torchvision's parameter names.

``features.0`` is the 3x3/2 stem (conv, BN, ReLU6); ``features.1..17`` inverted residuals
(``conv.0`` 1x1 expansion when t != 1, then the 3x3 depthwise Conv2dNormActivation, the
linear 1x1 projection ``conv.{k}`` and its batch norm); ``features.18`` the 1x1 conv to 1280;
then global average pool and ``classifier.1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import striate.functional as F
from striate import nn
from striate.models._common import (
    Conv2dNormActivation,
    check_input,
    check_options,
    init_conv_bn_linear,
    make_divisible,
    min_input_size,
)
from striate.models.registry import register_model
from striate.nn import init as _init

__all__ = ["InvertedResidual", "MobileNetV2", "mobilenet_v2"]


class InvertedResidual(nn.Module):
    """Expand (1x1, ReLU6) -> depthwise 3x3 (ReLU6) -> linear 1x1 projection (+ identity).

    Shape:
        (N, inp, H, W) -> (N, oup, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: float) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride should be 1 or 2, got {stride}")
        hidden = round(inp * expand_ratio)
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden, 1, activation_layer=nn.ReLU6))
        layers += [
            Conv2dNormActivation(hidden, hidden, 3, stride=stride, groups=hidden,
                                 activation_layer=nn.ReLU6),
            nn.Conv2d(hidden, oup, 1, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: Any) -> Any:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2.

    Args:
        num_classes: outputs.
        width_mult: channel multiplier (rounded by :func:`make_divisible`).
        inverted_residual_setting: rows ``[t, c, n, s]`` (expansion, channels, repeats,
            stride); default the paper's table 2.
        round_nearest: channel rounding multiple.
        dropout: dropout before the classifier.
        in_channels: input image channels.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes)
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: Sequence[Sequence[float]] | None = None,
                 round_nearest: int = 8, dropout: float = 0.2, in_channels: int = 3,
                 name: str = "mobilenet_v2") -> None:
        super().__init__()
        if inverted_residual_setting is None:
            inverted_residual_setting = [
                [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
            ]
        if any(len(row) != 4 for row in inverted_residual_setting):
            raise ValueError(f"{name}: inverted_residual_setting should be a list of 4-element "
                             f"lists, got {inverted_residual_setting}")
        self.name = name
        self.in_channels = in_channels
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [
            Conv2dNormActivation(in_channels, input_channel, 3, stride=2,
                                 activation_layer=nn.ReLU6)]
        steps = [(3, 2, 1)]
        for t, c, n, s in inverted_residual_setting:
            out = make_divisible(c * width_mult, round_nearest)
            for i in range(int(n)):
                stride = int(s) if i == 0 else 1
                features.append(InvertedResidual(input_channel, out, stride, expand_ratio=t))
                input_channel = out
            if int(s) == 2:
                steps.append((3, 2, 1))
        features.append(Conv2dNormActivation(input_channel, self.last_channel, 1,
                                             activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))
        self._min_size = min_input_size(steps)
        init_conv_bn_linear(self, lambda w: _init.normal_(w, 0.0, 0.01))

    def forward(self, x: Any) -> Any:
        check_input(self.name, x, self.in_channels, min_size=self._min_size)
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(x.reshape(x.shape[0], -1))


@register_model("mobilenet_v2")
def mobilenet_v2(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> MobileNetV2:
    """MobileNetV2 (width 1.0), torchvision names. 3.5M parameters at 1000 classes."""
    check_options("mobilenet_v2", cfg, MobileNetV2, fixed=("num_classes", "in_channels"))
    return MobileNetV2(num_classes=num_classes, in_channels=in_channels, **cfg)
