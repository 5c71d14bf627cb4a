"""``Dropout``."""

from __future__ import annotations

import striate.functional as F
from striate.nn.module import Module
from striate.tensor import Tensor

__all__ = ["Dropout"]


class Dropout(Module):
    """During training, zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; the identity in eval mode. Draws from striate's global generator
    (``striate.manual_seed``).

    Args:
        p: probability of an element being zeroed (default 0.5).
        inplace: accepted for PyTorch compatibility.

    Shape:
        Input: any. Output: same as input.

    Raises:
        ValueError: when ``p`` is not in [0, 1].
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
