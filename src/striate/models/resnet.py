"""ResNet (He et al. 2015) with torchvision's parameter names, plus the small-image variants.

ImageNet layout (``resnet18/34/50/101``): 7x7/2 stem conv, batch norm, ReLU, 3x3/2 max-pool,
four stages of :class:`BasicBlock` or :class:`Bottleneck`, global average pool, ``fc``.
Names are torchvision's (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer2.0.downsample.0``,
``fc``), so a torchvision state dict loads with ``load_state_dict(strict=True)``.

Small-image layout (``resnet18_small``, ``resnet20``, ``resnet56``, ``se_resnet18_small``):
3x3/1 stem conv, no max-pool, so 28x28 and 32x32 inputs keep their resolution in the first
stage.  ``resnet20``/``resnet56`` are the CIFAR networks of the paper (section 4.2): three
stages of ``n = (depth - 2) / 6`` basic blocks with 16/32/64 channels.  Their shortcut is
**option A** by default (parameter-free: subsample by the stride and zero-pad the new
channels, as in the paper, 0.27M parameters for resnet20); ``shortcut="B"`` uses a 1x1 conv +
batch-norm projection (``downsample.0/1``) where the shape changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from striate import nn
from striate.functional._zoo_ops import pad_shortcut
from striate.models._common import check_input, check_options, min_input_size
from striate.models.attention import CBAM, SqueezeExcitation
from striate.models.registry import register_model
from striate.nn import init as _init
from striate.nn.normalization import batch_norm_relu

__all__ = [
    "BasicBlock", "Bottleneck", "ResNet", "cbam_resnet18_small", "resnet18", "resnet18_small",
    "resnet20", "resnet34", "resnet50", "resnet56", "resnet101", "se_resnet18_small",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias."""
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, groups=groups,
                     bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution without bias."""
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class ShortcutA(nn.Module):
    """Option-A shortcut: ``x[:, :, ::stride, ::stride]`` zero-padded to ``planes`` channels.

    No parameters (He et al. 2015, CIFAR experiments)."""

    def __init__(self, planes: int, stride: int) -> None:
        super().__init__()
        self.planes = planes
        self.stride = stride

    def forward(self, x: Any) -> Any:
        return pad_shortcut(x, self.planes, self.stride)

    def extra_repr(self) -> str:
        return f"planes={self.planes}, stride={self.stride}"


class _AttentionMixin:
    """Registers the optional attention block of a residual block (``se``: squeeze-excitation
    with ``fc1``/``fc2``, or ``cbam``) and applies it to the residual branch."""

    _attention_kind: str | None

    def _add_attention(self, kind: str | None, channels: int, reduction: int) -> None:
        if kind == "se":
            self.se = SqueezeExcitation(channels, max(1, channels // reduction))
        elif kind == "cbam":
            self.cbam = CBAM(channels, reduction)
        elif kind is not None:
            raise ValueError(f"attention must be None, 'se' or 'cbam', got {kind!r}")
        self._attention_kind = kind

    def _attend(self, out: Any) -> Any:
        kind = self._attention_kind
        return out if kind is None else getattr(self, kind)(out)


class BasicBlock(_AttentionMixin, nn.Module):
    """Two 3x3 convs with batch norm and an identity (or projected) shortcut.

    Args:
        inplanes: input channels.
        planes: output channels.
        stride: stride of the first conv (and of the shortcut).
        downsample: module applied to the input for the shortcut, or ``None`` for identity.
        attention: ``"se"`` adds squeeze-excitation (``se``, ``planes // reduction`` squeeze
            channels), ``"cbam"`` a CBAM block (``cbam``), on the residual branch before the
            addition; ``None`` for none.
        reduction: channel reduction of the attention block.

    Shape:
        (N, inplanes, H, W) -> (N, planes, ceil(H / stride), ceil(W / stride))
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, attention: str | None = None,
                 reduction: int = 16) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self._add_attention(attention, planes, reduction)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Any) -> Any:
        identity = x
        out = batch_norm_relu(self.bn1, self.relu, self.conv1(x))
        out = self.bn2(self.conv2(out))
        out = self._attend(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn2


class Bottleneck(_AttentionMixin, nn.Module):
    """1x1 reduce -> 3x3 (carries the stride, as torchvision's "ResNet V1.5") -> 1x1 expand.

    Args:
        inplanes: input channels.
        planes: bottleneck width; the output has ``planes * 4`` channels.
        stride: stride of the 3x3 conv (and of the shortcut).
        downsample: shortcut module, or ``None`` for identity.
        attention, reduction: attention on the residual branch (see :class:`BasicBlock`).

    Shape:
        (N, inplanes, H, W) -> (N, 4 * planes, ceil(H / stride), ceil(W / stride))
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, attention: str | None = None,
                 reduction: int = 16) -> None:
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        out = planes * self.expansion
        self._add_attention(attention, out, reduction)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Any) -> Any:
        identity = x
        out = batch_norm_relu(self.bn1, self.relu, self.conv1(x))
        out = batch_norm_relu(self.bn2, self.relu, self.conv2(out))
        out = self.bn3(self.conv3(out))
        out = self._attend(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn3


class ResNet(nn.Module):
    """A residual network; see the module docstring for the layouts.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage.
        num_classes: outputs of ``fc``.
        in_channels: input image channels (1 for Fashion-MNIST, 3 for RGB).
        widths: channels of each stage (default 64/128/256/512).
        small_input: 3x3/1 stem without max-pool (for 28x28 / 32x32 images).
        zero_init_residual: start every residual branch's last batch norm at zero weight, so
            each block begins as the identity (Goyal et al. 2017).
        shortcut: ``"B"`` (1x1 conv + BN projection when the shape changes, torchvision) or
            ``"A"`` (parameter-free subsample + zero channel padding).
        attention: ``"se"`` (SE-ResNet) or ``"cbam"`` (CBAM-ResNet) attention in every block.
        reduction: channel reduction of the attention blocks (default 16).
        name: model name used in error messages.

    Shape:
        (N, in_channels, H, W) -> (N, num_classes)
    """

    def __init__(self, block: type, layers: Sequence[int], num_classes: int = 1000,
                 in_channels: int = 3, widths: Sequence[int] = (64, 128, 256, 512),
                 small_input: bool = False, zero_init_residual: bool = False,
                 shortcut: str = "B", attention: str | None = None, reduction: int = 16,
                 name: str = "resnet") -> None:
        super().__init__()
        if len(widths) != len(layers):
            raise ValueError(f"{name}: widths {tuple(widths)} and layers {tuple(layers)} "
                             "must have the same length")
        if shortcut not in ("A", "B"):
            raise ValueError(f"{name}: shortcut must be 'A' or 'B', got {shortcut!r}")
        if shortcut == "A" and block is not BasicBlock:
            raise ValueError(f"{name}: option-A shortcuts are defined for BasicBlock only")
        self.name = name
        self.in_channels = in_channels
        self.small_input = small_input
        self._shortcut = shortcut
        if attention not in (None, "se", "cbam"):
            raise ValueError(f"{name}: attention must be None, 'se' or 'cbam', got {attention!r}")
        self._attention = (attention, reduction)
        self.inplanes = widths[0]
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, 3, stride=1, padding=1,
                                   bias=False)
            self.maxpool = None
            steps = [(3, 1, 1)]
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, 7, stride=2, padding=3,
                                   bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            steps = [(7, 2, 3), (3, 2, 1)]
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU()
        for i, (planes, n) in enumerate(zip(widths, layers)):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", self._make_layer(block, planes, n, stride))
            if stride == 2:
                steps.append((3, 2, 1))
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)
        self._min_size = min_input_size(steps)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                _init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                _init.ones_(m.weight)
                _init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    _init.zeros_(m.last_bn().weight)

    def _make_layer(self, block: type, planes: int, blocks: int, stride: int) -> nn.Sequential:
        out = planes * block.expansion
        downsample: nn.Module | None = None
        if stride != 1 or self.inplanes != out:
            if self._shortcut == "A":
                downsample = ShortcutA(out, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, out, stride),
                                           nn.BatchNorm2d(out))
        att, red = self._attention
        layers = [block(self.inplanes, planes, stride, downsample, att, red)]
        self.inplanes = out
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, attention=att, reduction=red))
        return nn.Sequential(*layers)

    def forward_features(self, x: Any) -> Any:
        """Everything up to (not including) the global pool: (N, C_last, h, w)."""
        check_input(self.name, x, self.in_channels, min_size=self._min_size,
                    why="each stride-2 stage needs at least one pixel to work on")
        x = batch_norm_relu(self.bn1, self.relu, self.conv1(x))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return x

    def forward(self, x: Any) -> Any:
        x = self.avgpool(self.forward_features(x))
        return self.fc(x.reshape(x.shape[0], -1))


def _resnet(name: str, block: type, layers: Sequence[int], num_classes: int,
            in_channels: int, **cfg: Any) -> ResNet:
    check_options(name, cfg, ResNet, fixed=("block", "layers", "num_classes", "in_channels"))
    return ResNet(block, layers, num_classes=num_classes, in_channels=in_channels, name=name,
                  **cfg)


@register_model("resnet18")
def resnet18(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """ResNet-18, ImageNet layout (torchvision ``resnet18`` names). 11.7M parameters at 1000
    classes."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], num_classes, in_channels, **cfg)


@register_model("resnet34")
def resnet34(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """ResNet-34, ImageNet layout (torchvision ``resnet34`` names)."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], num_classes, in_channels, **cfg)


@register_model("resnet50")
def resnet50(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """ResNet-50 (V1.5, stride on the 3x3), ImageNet layout (torchvision ``resnet50``)."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], num_classes, in_channels, **cfg)


@register_model("resnet101")
def resnet101(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """ResNet-101, ImageNet layout (torchvision ``resnet101``)."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], num_classes, in_channels, **cfg)


@register_model("resnet18_small")
def resnet18_small(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """ResNet-18 for 28x28/32x32 images: 3x3/1 stem, no max-pool, 64/128/256/512 widths."""
    check_options("resnet18_small", cfg, ResNet,
                  fixed=("block", "layers", "num_classes", "in_channels", "small_input"))
    return _resnet("resnet18_small", BasicBlock, [2, 2, 2, 2], num_classes, in_channels,
                   small_input=True, **cfg)


def _cifar_resnet(name: str, depth: int, num_classes: int, in_channels: int,
                  cfg: dict[str, Any]) -> ResNet:
    if (depth - 2) % 6 != 0:
        raise ValueError(f"{name}: depth must be 6n + 2, got {depth}")
    n = (depth - 2) // 6
    check_options(name, cfg, ResNet, fixed=("block", "layers", "num_classes", "in_channels",
                                            "widths", "small_input"))
    cfg = {"shortcut": "A", **cfg}
    return _resnet(name, BasicBlock, [n, n, n], num_classes, in_channels, small_input=True,
                   widths=(16, 32, 64), **cfg)


@register_model("resnet20")
def resnet20(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """CIFAR ResNet-20 (3 x 3 basic blocks, 16/32/64 channels, option-A shortcuts by default;
    pass ``shortcut="B"`` for projections)."""
    return _cifar_resnet("resnet20", 20, num_classes, in_channels, cfg)


@register_model("resnet56")
def resnet56(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """CIFAR ResNet-56 (3 x 9 basic blocks, 16/32/64 channels, option-A shortcuts by
    default)."""
    return _cifar_resnet("resnet56", 56, num_classes, in_channels, cfg)


@register_model("se_resnet18_small")
def se_resnet18_small(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """SE-ResNet-18 (Hu et al. 2018) for small images: every basic block rescales its residual
    branch with squeeze-excitation (reduction 16) before the addition."""
    check_options("se_resnet18_small", cfg, ResNet,
                  fixed=("block", "layers", "num_classes", "in_channels", "small_input"))
    cfg = {"attention": "se", **cfg}
    return _resnet("se_resnet18_small", BasicBlock, [2, 2, 2, 2], num_classes, in_channels,
                   small_input=True, **cfg)


@register_model("cbam_resnet18_small")
def cbam_resnet18_small(num_classes: int = 10, in_channels: int = 3, **cfg: Any) -> ResNet:
    """CBAM-ResNet-18 (Woo et al. 2018) for small images: channel then spatial attention
    (reduction 16, 7x7 spatial conv) on every basic block's residual branch."""
    check_options("cbam_resnet18_small", cfg, ResNet,
                  fixed=("block", "layers", "num_classes", "in_channels", "small_input"))
    cfg = {"attention": "cbam", **cfg}
    return _resnet("cbam_resnet18_small", BasicBlock, [2, 2, 2, 2], num_classes, in_channels,
                   small_input=True, **cfg)
