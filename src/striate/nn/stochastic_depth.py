"""Stochastic depth (drop path) as a module, torchvision's ``ops.StochasticDepth``."""

from __future__ import annotations

from typing import Any

from striate.functional._zoo_ops import stochastic_depth
from striate.nn.module import Module

__all__ = ["StochasticDepth"]


class StochasticDepth(Module):
    """Randomly drop a residual branch per sample (``"row"``) or per batch (``"batch"``).

    Args:
        p: drop probability in [0, 1].
        mode: ``"row"`` or ``"batch"``.

    Shape:
        (N, *) -> (N, *); identity in eval mode.

    Raises:
        ValueError: ``p`` outside [0, 1] or an unknown mode.
    """

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"StochasticDepth: drop probability has to be between 0 and 1, "
                             f"but got {p}")
        if mode not in ("batch", "row"):
            raise ValueError(f"StochasticDepth: mode has to be either 'batch' or 'row', "
                             f"but got {mode!r}")
        self.p = float(p)
        self.mode = mode

    def forward(self, x: Any) -> Any:
        return stochastic_depth(x, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"
