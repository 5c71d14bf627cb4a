"""RMSprop (Hinton's lecture 6e), with momentum and the centered variant."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import Optimizer, params_with_grad

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    Algorithm (per parameter :math:`\theta`)::

        if maximize:          g = -g
        if weight_decay != 0: g = g + weight_decay * theta
        s = alpha * s + (1 - alpha) * g * g            # state "square_avg" (starts at 0)
        if centered:
            a = alpha * a + (1 - alpha) * g            # state "grad_avg"
            denom = sqrt(s - a * a) + eps
        else:
            denom = sqrt(s) + eps
        if momentum > 0:
            b = momentum * b + g / denom               # state "momentum_buffer" (starts at 0)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / denom

    Args:
        params: parameters or parameter-group dicts.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: denominator term (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by an estimate of the gradient's variance instead of its second
            moment.
        maximize: maximise the objective.

    Raises:
        ValueError: for a negative lr, eps, momentum, weight decay or alpha.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        alpha = group["alpha"]
        eps = group["eps"]
        wd = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        maximize = group["maximize"]
        for p, g in params_with_grad(group):
            w = p.data
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["square_avg"] = np.zeros_like(w)
                if momentum > 0:
                    st["momentum_buffer"] = np.zeros_like(w)
                if centered:
                    st["grad_avg"] = np.zeros_like(w)
            st["step"] += 1
            g = self._decayed_grad(w, g, wd, maximize)
            tmp = self._buffer(w, 1)
            s = st["square_avg"]
            s *= alpha
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - alpha
            s += tmp
            if centered:
                a = st["grad_avg"]
                np.subtract(g, a, out=tmp)
                tmp *= 1.0 - alpha
                a += tmp
                np.multiply(a, a, out=tmp)
                np.subtract(s, tmp, out=tmp)
                np.sqrt(tmp, out=tmp)
            else:
                np.sqrt(s, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            if momentum > 0:
                b = st["momentum_buffer"]
                b *= momentum
                b += tmp
                w -= np.multiply(b, lr, out=tmp)
            else:
                tmp *= lr
                w -= tmp
