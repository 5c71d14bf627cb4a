"""Attention blocks for CNNs: squeeze-excitation and CBAM.

Multi-head self-attention lives in :mod:`striate.nn.attention` (``nn.MultiheadAttention``);
the vision transformer in :mod:`striate.models.vit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import striate.functional as F
from striate import nn
from striate.functional._zoo_ops import channel_pool, global_max_pool2d

__all__ = ["CBAM", "ChannelAttention", "SpatialAttention", "SqueezeExcitation"]


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018), torchvision's ``ops.SqueezeExcitation``.

    ``x * sigmoid(fc2(act(fc1(avgpool(x)))))`` with 1x1 convs ``fc1`` (C -> squeeze) and
    ``fc2`` (squeeze -> C), parameter names as torchvision.

    Args:
        input_channels: C.
        squeeze_channels: width of the bottleneck.
        activation: module class for the inner activation (default ``nn.ReLU``; EfficientNet
            uses ``nn.SiLU``).

    Shape:
        (N, C, H, W) -> (N, C, H, W)
    """

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU) -> None:
        super().__init__()
        if input_channels < 1 or squeeze_channels < 1:
            raise ValueError(f"SqueezeExcitation: channels must be positive, got "
                             f"input_channels={input_channels}, "
                             f"squeeze_channels={squeeze_channels}")
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: Any) -> Any:
        s = self.avgpool(x)
        s = self.scale_activation(self.fc2(self.activation(self.fc1(s))))
        return s * x


class ChannelAttention(nn.Module):
    """CBAM channel attention: ``sigmoid(mlp(avgpool(x)) + mlp(maxpool(x)))``.

    ``mlp`` is a Sequential of 1x1 convs (``mlp.0``: C -> C/r, ``mlp.2``: C/r -> C, no bias)
    shared by both pooled descriptors.

    Shape:
        (N, C, H, W) -> (N, C, 1, 1) weights in (0, 1)
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(nn.Conv2d(channels, hidden, 1, bias=False), nn.ReLU(),
                                 nn.Conv2d(hidden, channels, 1, bias=False))

    def forward(self, x: Any) -> Any:
        avg = self.mlp(F.adaptive_avg_pool2d(x, 1))
        mx = self.mlp(global_max_pool2d(x))
        return F.sigmoid(avg + mx)


class SpatialAttention(nn.Module):
    """CBAM spatial attention: ``sigmoid(conv([mean_c(x), max_c(x)]))``, a k x k conv 2 -> 1.

    Shape:
        (N, C, H, W) -> (N, 1, H, W) weights in (0, 1)
    """

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"SpatialAttention: kernel_size must be odd, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: Any) -> Any:
        return F.sigmoid(self.conv(channel_pool(x)))


class CBAM(nn.Module):
    """Convolutional block attention module (Woo et al. 2018): channel then spatial.

    Args:
        channels: C.
        reduction: channel-MLP reduction ratio (default 16).
        kernel_size: spatial-attention conv size (default 7).

    Shape:
        (N, C, H, W) -> (N, C, H, W)
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel_attention = ChannelAttention(channels, reduction)
        self.spatial_attention = SpatialAttention(kernel_size)

    def forward(self, x: Any) -> Any:
        x = x * self.channel_attention(x)
        return x * self.spatial_attention(x)
