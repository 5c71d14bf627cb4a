"""Building blocks shared by the zoo: torchvision's ``Conv2dNormActivation``, channel
rounding, and the input checks every model runs before its first layer."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from striate import nn
from striate.nn import init as _init
from striate.random import get_generator

__all__ = [
    "Conv2dNormActivation",
    "check_input",
    "check_options",
    "init_conv_bn_linear",
    "make_divisible",
    "min_input_size",
    "normal_f32_",
]


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor`` without losing more than 10%.

    The rule of torchvision / the TF MobileNet code (``_make_divisible``), so that scaled
    models have exactly the published channel counts.

    Example:
        >>> make_divisible(32 * 1.1), make_divisible(40 * 1.2), make_divisible(3.5)
        (32, 48, 8)
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """Conv2d -> norm -> activation as a Sequential (children ``0``, ``1``, ``2``).

    Same layout as ``torchvision.ops.Conv2dNormActivation``: "same" padding
    ``(kernel_size - 1) // 2``, and a conv bias only when there is no norm layer.

    Args:
        in_channels, out_channels, kernel_size, stride, groups: as ``nn.Conv2d``.
        norm_layer: a callable ``C -> Module`` (default ``nn.BatchNorm2d``), or ``None``.
        activation_layer: a callable ``() -> Module`` (default ``nn.ReLU``), or ``None``.

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, floor((H - 1) / stride) + 1, ...)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU) -> None:
        padding = (kernel_size - 1) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                      groups=groups, bias=norm_layer is None)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer())
        super().__init__(*layers)
        self.out_channels = out_channels


def _conv_out(h: int, k: int, s: int, p: int) -> int:
    return (h + 2 * p - k) // s + 1


def min_input_size(downsamples: Sequence[tuple[int, int, int]], limit: int = 4096) -> int:
    """Smallest spatial size that every (kernel, stride, padding) step keeps >= 1."""
    for h in range(1, limit):
        cur = h
        ok = True
        for k, s, p in downsamples:
            cur = _conv_out(cur, k, s, p)
            if cur < 1:
                ok = False
                break
        if ok:
            return h
    raise ValueError("min_input_size: no size up to the limit fits")  # pragma: no cover


def check_input(name: str, x: Any, in_channels: int, *, min_size: int | None = None,
                exact: int | None = None, why: str = "") -> None:
    """Raise a ValueError naming the model when ``x`` cannot go through it.

    Args:
        name: model name for the message (``"resnet18"``).
        x: the input tensor.
        in_channels: the channels the stem expects.
        min_size: smallest height/width the model's downsampling allows.
        exact: the only height/width the model takes (ViT's position embeddings).
        why: the reason appended to a size error.
    """
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ValueError(f"{name}: expected input of shape (N, C, H, W), got shape {shape}")
    if shape[1] != in_channels:
        raise ValueError(f"{name}: expected {in_channels} input channels "
                         f"(in_channels={in_channels}), got input shape {shape}")
    h, w = shape[2], shape[3]
    if exact is not None and (h != exact or w != exact):
        raise ValueError(f"{name}: expected {exact}x{exact} input (image_size={exact}), "
                         f"got {h}x{w}{': ' + why if why else ''}")
    if min_size is not None and (h < min_size or w < min_size):
        raise ValueError(f"{name}: input {h}x{w} is too small, expected at least "
                         f"{min_size}x{min_size}{': ' + why if why else ''}")


def check_options(name: str, cfg: dict[str, Any], target: Callable[..., Any],
                  fixed: Sequence[str] = ()) -> None:
    """Raise a ValueError naming the model for options ``target`` does not take.

    Args:
        name: model name for the message.
        cfg: the user's options.
        target: the class or function the options go to.
        fixed: parameters the factory sets itself (not user options).
    """
    params = [p for p in inspect.signature(target).parameters
              if p not in ("self", "name") and p not in fixed]
    unknown = sorted(k for k in cfg if k not in params)
    if unknown:
        raise ValueError(f"{name}: unknown option(s) {', '.join(unknown)}; it takes "
                         f"{', '.join(params)}")


def normal_f32_(param: Any, std: float) -> Any:
    """Fill a float32 parameter with N(0, std^2) draws in place, in single precision.

    The same distribution as ``nn.init.normal_`` from the same global generator, without a
    float64 temporary: VGG's 25088 x 4096 classifier weight fills in a fifth of the time.
    """
    a = param.data
    if a.dtype != np.float32:
        return nn.init.normal_(param, 0.0, std)
    get_generator(None).standard_normal(a.shape, dtype=np.float32, out=a)
    a *= np.float32(std)
    return param


def init_conv_bn_linear(model: nn.Module, linear_weight: Callable[[Any], Any],
                        nonlinearity: str = "leaky_relu") -> None:
    """torchvision's weight init shared by VGG, MobileNetV2 and EfficientNet, module by module
    in ``model.modules()`` order: Conv2d ``kaiming_normal_(mode="fan_out", nonlinearity)``
    and zero bias, BatchNorm2d weight 1 and bias 0, Linear ``linear_weight(weight)`` and zero
    bias."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            _init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity=nonlinearity)
            if m.bias is not None:
                _init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            _init.ones_(m.weight)
            _init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            linear_weight(m.weight)
            _init.zeros_(m.bias)
