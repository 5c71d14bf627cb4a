"""VGG (Simonyan & Zisserman 2014) with torchvision's layout, and a small-image variant.

ImageNet layout (``vgg11``, ``vgg16``, ``vgg11_bn``, ``vgg16_bn``): ``features`` is one
Sequential of 3x3 convs (+ batch norm), ReLUs and 2x2 max-pools, numbered exactly as
torchvision (``features.0``, ``features.3`` ...), then ``avgpool`` (adaptive to 7x7) and
``classifier`` (``classifier.0/3/6``: 25088 -> 4096 -> 4096 -> classes with dropout).  Five
max-pools need an input of at least 32x32.

Small-image layout (``vgg11_small``, ``vgg16_small``, and ``*_bn_small``): the same conv stacks
without the last max-pool (four halvings: 28x28 -> 1x1, 32x32 -> 2x2), global average pooling
and a 512 -> 512 -> classes classifier.  9.2M parameters instead of 128M for vgg11.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from striate import nn
from striate.models._common import (
    check_input,
    check_options,
    init_conv_bn_linear,
    min_input_size,
    normal_f32_,
)
from striate.models.registry import register_model

__all__ = ["VGG", "cfgs", "make_layers", "vgg11", "vgg11_bn", "vgg11_small", "vgg16",
           "vgg16_bn", "vgg16_small"]

cfgs: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


def make_layers(cfg: Sequence[int | str], batch_norm: bool = False,
                in_channels: int = 3) -> nn.Sequential:
    """The ``features`` Sequential: an int is a 3x3 conv (+BN) + ReLU, ``"M"`` a 2x2 pool."""
    layers: list[nn.Module] = []
    c = in_channels
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(c, int(v), 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU())
            c = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG network.

    Args:
        features: the conv stack (see :func:`make_layers`).
        num_classes: outputs.
        in_channels: input image channels.
        small_input: global-average-pool head (512 -> 512 -> classes) instead of the 7x7
            adaptive pool and 25088 -> 4096 -> 4096 -> classes classifier.
        dropout: dropout probability in the classifier.
        name: model name for error messages.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes)
    """

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, in_channels: int = 3,
                 small_input: bool = False, dropout: float = 0.5, name: str = "vgg",
                 num_pools: int = 5) -> None:
        super().__init__()
        self.name = name
        self.in_channels = in_channels
        self.features = features
        if small_input:
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.classifier = nn.Sequential(
                nn.Linear(512, 512), nn.ReLU(), nn.Dropout(p=dropout),
                nn.Linear(512, num_classes))
        else:
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(p=dropout),
                nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=dropout),
                nn.Linear(4096, num_classes))
        self._min_size = min_input_size([(2, 2, 0)] * num_pools)
        self._num_pools = num_pools
        init_conv_bn_linear(self, lambda w: normal_f32_(w, 0.01), nonlinearity="relu")

    def forward(self, x: Any) -> Any:
        check_input(self.name, x, self.in_channels, min_size=self._min_size,
                    why=f"{self._num_pools} 2x2 max-pools halve it {self._num_pools} times")
        x = self.avgpool(self.features(x))
        return self.classifier(x.reshape(x.shape[0], -1))


def _vgg(name: str, cfg: str, batch_norm: bool, small: bool, num_classes: int,
         in_channels: int, **kw: Any) -> VGG:
    check_options(name, kw, VGG, fixed=("features", "num_classes", "in_channels", "small_input",
                                        "num_pools"))
    layers = list(cfgs[cfg])
    if small:
        layers = layers[:-1]  # drop the last max-pool: 4 halvings
    return VGG(make_layers(layers, batch_norm, in_channels), num_classes=num_classes,
               in_channels=in_channels, small_input=small, name=name,
               num_pools=layers.count("M"), **kw)


@register_model("vgg11")
def vgg11(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> VGG:
    """VGG-11 (config A), torchvision layout."""
    return _vgg("vgg11", "A", False, False, num_classes, in_channels, **cfg)


@register_model("vgg11_bn")
def vgg11_bn(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> VGG:
    """VGG-11 with batch norm, torchvision layout."""
    return _vgg("vgg11_bn", "A", True, False, num_classes, in_channels, **cfg)


@register_model("vgg16")
def vgg16(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> VGG:
    """VGG-16 (config D), torchvision layout."""
    return _vgg("vgg16", "D", False, False, num_classes, in_channels, **cfg)


@register_model("vgg16_bn")
def vgg16_bn(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> VGG:
    """VGG-16 with batch norm, torchvision layout."""
    return _vgg("vgg16_bn", "D", True, False, num_classes, in_channels, **cfg)


@register_model("vgg11_small")
def vgg11_small(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> VGG:
    """VGG-11 with batch norm for 28x28/32x32 images (4 pools, global-average-pool head)."""
    return _vgg("vgg11_small", "A", True, True, num_classes, in_channels, **cfg)


@register_model("vgg16_small")
def vgg16_small(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> VGG:
    """VGG-16 with batch norm for 28x28/32x32 images (4 pools, global-average-pool head)."""
    return _vgg("vgg16_small", "D", True, True, num_classes, in_channels, **cfg)
