"""LeNet-5 (LeCun et al., 1998), with ReLU and max-pooling by default.

Two 5x5 convolutions (6 and 16 maps), each followed by a 2x2 pool, then three linear layers
(120, 84, ``num_classes``). On 32x32 inputs this is the classic layout; on 28x28 inputs
(MNIST, Fashion-MNIST) the first convolution pads by 2 so the feature map is the same.
"""

from __future__ import annotations

from striate import nn
from striate.models.registry import register_model


def _size2(v: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    h, w = v
    return (int(h), int(w))


class LeNet5(nn.Module):
    """LeNet-5.

    Args:
        num_classes: outputs.
        in_channels: input channels.
        input_size: ``H`` (square) or ``(H, W)`` of the input; at least 28 (with padding) .
        padding: padding of the first conv; ``None`` pads by 2 when the input is below 32.
        activation: ``"relu"`` (default) or ``"tanh"`` (classic).
        pool: ``"max"`` (default) or ``"avg"`` (classic sub-sampling).

    Shape:
        input ``(N, in_channels, H, W)`` -> output ``(N, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 input_size: int | tuple[int, int] = 28, padding: int | None = None,
                 activation: str = "relu", pool: str = "max") -> None:
        super().__init__()
        h, w = _size2(input_size)
        if padding is None:
            padding = 2 if min(h, w) < 32 else 0
        if activation not in ("relu", "tanh"):
            raise ValueError(f"lenet5: activation must be 'relu' or 'tanh', got {activation!r}")
        if pool not in ("max", "avg"):
            raise ValueError(f"lenet5: pool must be 'max' or 'avg', got {pool!r}")
        act = nn.ReLU if activation == "relu" else nn.Tanh
        pl = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
        # spatial size: conv5 (pad p) -> pool2 -> conv5 -> pool2
        fh = ((h + 2 * padding - 4) // 2 - 4) // 2
        fw = ((w + 2 * padding - 4) // 2 - 4) // 2
        if fh < 1 or fw < 1:
            raise ValueError(f"lenet5: input_size {(h, w)} is too small (padding {padding})")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), act(), pl(2),
            nn.Conv2d(6, 16, 5), act(), pl(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * fh * fw, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model("lenet5", default_cfg={"input_size": 28})
def lenet5(num_classes: int = 10, in_channels: int = 1,
           input_size: int | tuple[int, int] = 28, padding: int | None = None,
           activation: str = "relu", pool: str = "max") -> LeNet5:
    """LeNet-5: two 5x5 convs (6, 16) + pools, linear 120-84-classes (28x28 or 32x32)."""
    return LeNet5(num_classes, in_channels, input_size, padding, activation, pool)
