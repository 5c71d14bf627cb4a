"""Small VGG-style CNNs for 28x28 / 32x32 images: ``small_cnn`` (the default model) and
``workload_cnn`` (the benchmark network of WORKLOADS.md, kept exactly as specified)."""

from __future__ import annotations

from collections.abc import Sequence

from striate import nn
from striate.models.registry import register_model


def _size2(v: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    h, w = v
    return (int(h), int(w))


def _conv_bn_relu(cin: int, cout: int) -> list:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class SmallCNN(nn.Module):
    """Stages of 3x3 conv + batch norm + ReLU (``convs_per_stage`` per stage), each stage
    ending in a 2x2 max-pool; then dropout, linear(hidden) + batch norm + ReLU, dropout and
    linear(num_classes).

    Args:
        num_classes: outputs.
        in_channels: input channels.
        input_size: ``H`` or ``(H, W)``; each stage halves it (floor).
        widths: channels of each stage.
        convs_per_stage: 3x3 convs per stage.
        hidden: width of the hidden linear layer.
        dropout: dropout probability before each linear layer (0 disables).

    Shape:
        input ``(N, in_channels, H, W)`` -> output ``(N, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 input_size: int | tuple[int, int] = 28, widths: Sequence[int] = (32, 64),
                 convs_per_stage: int = 1, hidden: int = 128, dropout: float = 0.25) -> None:
        super().__init__()
        h, w = _size2(input_size)
        if not widths or convs_per_stage < 1:
            raise ValueError("small_cnn: widths must be non-empty and convs_per_stage >= 1")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"small_cnn: dropout must lie in [0, 1), got {dropout}")
        layers: list = []
        cin = in_channels
        for width in widths:
            for _ in range(convs_per_stage):
                layers += _conv_bn_relu(cin, int(width))
                cin = int(width)
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(f"small_cnn: input_size {_size2(input_size)} is too small for "
                             f"{len(widths)} pooling stages")
        self.features = nn.Sequential(*layers)
        head: list = [nn.Flatten()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head += [nn.Linear(cin * h * w, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(hidden, num_classes))
        self.classifier = nn.Sequential(*head)

    def forward(self, x):
        return self.classifier(self.features(x))


class WorkloadCNN(nn.Module):
    """The benchmark CNN of WORKLOADS.md: conv3x3(in->32)+ReLU+maxpool2,
    conv3x3(32->64)+ReLU+maxpool2, flatten, linear(64*(H/4)*(W/4)->128)+ReLU,
    linear(128->num_classes). No batch norm, no dropout.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 input_size: int | tuple[int, int] = 28) -> None:
        super().__init__()
        h, w = _size2(input_size)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), 128), nn.ReLU(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register_model("small_cnn", default_cfg={"input_size": 28})
def small_cnn(num_classes: int = 10, in_channels: int = 1,
              input_size: int | tuple[int, int] = 28, widths: Sequence[int] = (32, 64),
              convs_per_stage: int = 1, hidden: int = 128, dropout: float = 0.25) -> SmallCNN:
    """Small CNN with batch norm (the default): [conv3x3+BN+ReLU+maxpool] x2, MLP head."""
    return SmallCNN(num_classes, in_channels, input_size, tuple(widths), convs_per_stage,
                    hidden, dropout)


@register_model("workload_cnn", default_cfg={"input_size": 28})
def workload_cnn(num_classes: int = 10, in_channels: int = 1,
                 input_size: int | tuple[int, int] = 28) -> WorkloadCNN:
    """The WORKLOADS.md benchmark CNN: conv32-pool-conv64-pool-fc128 (no BN)."""
    return WorkloadCNN(num_classes, in_channels, input_size)
