"""EfficientNet-B0..B3 (Tan & Le 2019) with torchvision's parameter names.

``features.0`` is the 3x3/2 stem (Conv2dNormActivation with SiLU), ``features.1..7`` the MBConv
stages (``features.i.j.block.k``: optional 1x1 expansion, k x k depthwise conv, squeeze-
excitation ``fc1``/``fc2``, 1x1 projection), ``features.8`` the 1x1 head conv to 4x the last
stage's channels, then ``avgpool`` and ``classifier.1``.  Residual blocks drop their branch
per sample with stochastic depth, the rate growing linearly from 0 to
``stochastic_depth_prob`` over the blocks.

Compound scaling: a model is B0 scaled by a width multiplier (channels, rounded by
:func:`make_divisible` to multiples of 8), a depth multiplier (layers per stage rounded up)
and an input resolution.  The paper derives them from one coefficient phi as depth =
1.2^phi, width = 1.1^phi, resolution = 1.15^phi (see :func:`compound_coefficients`); the
released B1-B3 use the rounded values in :data:`EFFICIENTNET_PARAMS` (torchvision's), which
the registered models follow so that published weights load.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from striate import nn
from striate.models._common import (
    Conv2dNormActivation,
    check_input,
    check_options,
    init_conv_bn_linear,
    make_divisible,
    min_input_size,
)
from striate.models.attention import SqueezeExcitation
from striate.models.registry import register_model
from striate.nn import init as _init
from striate.nn.stochastic_depth import StochasticDepth

__all__ = [
    "EFFICIENTNET_PARAMS", "EfficientNet", "MBConv", "MBConvConfig", "compound_coefficients",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
]

#: name -> (width_mult, depth_mult, resolution, dropout), as released / torchvision.
EFFICIENTNET_PARAMS: dict[str, tuple[float, float, int, float]] = {
    "efficientnet_b0": (1.0, 1.0, 224, 0.2),
    "efficientnet_b1": (1.0, 1.1, 240, 0.2),
    "efficientnet_b2": (1.1, 1.2, 260, 0.3),
    "efficientnet_b3": (1.2, 1.4, 300, 0.3),
}


def compound_coefficients(phi: float, alpha: float = 1.2, beta: float = 1.1,
                          gamma: float = 1.15, base_resolution: int = 224
                          ) -> tuple[float, float, int]:
    """The paper's compound scaling rule: (depth_mult, width_mult, resolution) for ``phi``.

    ``alpha * beta^2 * gamma^2 ~= 2`` so each unit of phi about doubles the FLOPs.

    Example:
        >>> d, w, r = compound_coefficients(1)
        >>> round(d, 2), round(w, 2), r
        (1.2, 1.1, 258)
    """
    return alpha ** phi, beta ** phi, round(base_resolution * gamma ** phi)


class MBConvConfig:
    """One stage of MBConv blocks, its channels and depth already scaled.

    Args:
        expand_ratio: expansion of the inverted bottleneck.
        kernel: depthwise kernel size.
        stride: stride of the stage's first block.
        input_channels, out_channels: B0 channels (scaled by ``width_mult``).
        num_layers: B0 blocks (scaled by ``depth_mult``, rounded up).
    """

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int,
                 out_channels: int, num_layers: int, width_mult: float = 1.0,
                 depth_mult: float = 1.0) -> None:
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.num_layers = math.ceil(num_layers * depth_mult)

    @staticmethod
    def adjust_channels(channels: int, width_mult: float) -> int:
        return make_divisible(channels * width_mult, 8)


class MBConv(nn.Module):
    """Mobile inverted bottleneck with squeeze-excitation and stochastic depth.

    Shape:
        (N, C_in, H, W) -> (N, C_out, ceil(H / stride), ceil(W / stride))
    """

    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float,
                 norm_layer: Callable[..., nn.Module]) -> None:
        super().__init__()
        if cnf.stride not in (1, 2):
            raise ValueError(f"MBConv: illegal stride value {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers: list[nn.Module] = []
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, 1,
                                               norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, cnf.kernel, stride=cnf.stride,
                                           groups=expanded, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        layers.append(SqueezeExcitation(expanded, max(1, cnf.input_channels // 4),
                                        activation=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, 1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x: Any) -> Any:
        out = self.block(x)
        if self.use_res_connect:
            out = self.stochastic_depth(out) + x
        return out


def _b0_setting(width_mult: float, depth_mult: float) -> list[MBConvConfig]:
    conf = partial(MBConvConfig, width_mult=width_mult, depth_mult=depth_mult)
    return [
        conf(1, 3, 1, 32, 16, 1),
        conf(6, 3, 2, 16, 24, 2),
        conf(6, 5, 2, 24, 40, 2),
        conf(6, 3, 2, 40, 80, 3),
        conf(6, 5, 1, 80, 112, 3),
        conf(6, 5, 2, 112, 192, 4),
        conf(6, 3, 1, 192, 320, 1),
    ]


class EfficientNet(nn.Module):
    """EfficientNet from a list of stage configs.

    Args:
        inverted_residual_setting: the MBConv stages.
        dropout: dropout before the classifier.
        stochastic_depth_prob: drop probability of the last block (linear ramp from 0).
        num_classes: outputs.
        in_channels: input image channels.
        norm_layer: normalisation (default ``nn.BatchNorm2d``).
        name: model name for error messages.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes)
    """

    def __init__(self, inverted_residual_setting: Sequence[MBConvConfig], dropout: float,
                 stochastic_depth_prob: float = 0.2, num_classes: int = 1000,
                 in_channels: int = 3, norm_layer: Callable[..., nn.Module] | None = None,
                 name: str = "efficientnet") -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError(f"{name}: the inverted_residual_setting should not be empty")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.name = name
        self.in_channels = in_channels
        layers: list[nn.Module] = []
        first = inverted_residual_setting[0].input_channels
        layers.append(Conv2dNormActivation(in_channels, first, 3, stride=2,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        steps = [(3, 2, 1)]
        total_blocks = sum(c.num_layers for c in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                bc = copy.copy(cnf)
                if stage:
                    bc.input_channels = bc.out_channels
                    bc.stride = 1
                sd = stochastic_depth_prob * float(block_id) / total_blocks
                stage.append(MBConv(bc, sd, norm_layer))
                block_id += 1
            if cnf.stride == 2:
                steps.append((cnf.kernel, 2, (cnf.kernel - 1) // 2))
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, 1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(last_out, num_classes))
        self._min_size = min_input_size(steps)

        def linear_weight(w: Any) -> None:
            r = 1.0 / math.sqrt(w.shape[0])
            _init.uniform_(w, -r, r)

        init_conv_bn_linear(self, linear_weight)

    def forward(self, x: Any) -> Any:
        check_input(self.name, x, self.in_channels, min_size=self._min_size)
        x = self.avgpool(self.features(x))
        return self.classifier(x.reshape(x.shape[0], -1))


def _efficientnet(name: str, num_classes: int, in_channels: int, **cfg: Any) -> EfficientNet:
    width, depth, _res, dropout = EFFICIENTNET_PARAMS[name]
    check_options(name, cfg, EfficientNet,
                  fixed=("inverted_residual_setting", "num_classes", "in_channels"))
    cfg.setdefault("dropout", dropout)
    return EfficientNet(_b0_setting(width, depth), num_classes=num_classes,
                        in_channels=in_channels, name=name, **cfg)


@register_model("efficientnet_b0")
def efficientnet_b0(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> EfficientNet:
    """EfficientNet-B0 (width 1.0, depth 1.0, 224px), torchvision names. 5.3M params at 1000
    classes."""
    return _efficientnet("efficientnet_b0", num_classes, in_channels, **cfg)


@register_model("efficientnet_b1")
def efficientnet_b1(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> EfficientNet:
    """EfficientNet-B1 (width 1.0, depth 1.1, 240px)."""
    return _efficientnet("efficientnet_b1", num_classes, in_channels, **cfg)


@register_model("efficientnet_b2")
def efficientnet_b2(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> EfficientNet:
    """EfficientNet-B2 (width 1.1, depth 1.2, 260px)."""
    return _efficientnet("efficientnet_b2", num_classes, in_channels, **cfg)


@register_model("efficientnet_b3")
def efficientnet_b3(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> EfficientNet:
    """EfficientNet-B3 (width 1.2, depth 1.4, 300px)."""
    return _efficientnet("efficientnet_b3", num_classes, in_channels, **cfg)
