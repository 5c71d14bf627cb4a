"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import Optimizer, params_with_grad, required

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    Algorithm (per parameter :math:`\theta` with gradient :math:`g_t`, one step)::

        if maximize:          g = -g
        if weight_decay != 0: g = g + weight_decay * theta
        if momentum != 0:
            if t == 1:        b = g                                  # buffer starts at g
            else:             b = momentum * b + (1 - dampening) * g
            if nesterov:      g = g + momentum * b
            else:             g = b
        theta = theta - lr * g

    The update is done in place on ``p.data`` with whole-array NumPy operations into reused
    scratch buffers (no per-element Python work, no temporaries per step).

    Args:
        params: parameters or parameter-group dicts.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: maximise the objective instead of minimising it.

    Raises:
        ValueError: for a negative lr/momentum/weight_decay, or Nesterov without momentum or
            with dampening.

    Example:
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> p = SimpleNamespace(data=np.ones(3, np.float32), grad=np.full(3, 2, np.float32))
        >>> SGD([p], lr=0.1).step()
        >>> p.data
        array([0.8, 0.8, 0.8], dtype=float32)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        momentum = group["momentum"]
        dampening = group["dampening"]
        wd = group["weight_decay"]
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        for p, g in params_with_grad(group):
            w = p.data
            d = self._decayed_grad(w, g, wd, maximize)  # g itself or scratch slot 0
            owned = d is not g
            if momentum != 0:
                st = self.state[p]
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = np.array(d, copy=True)
                else:
                    buf *= momentum
                    if dampening != 0:
                        buf += np.multiply(d, 1.0 - dampening, out=self._buffer(w, 1))
                    else:
                        buf += d
                if nesterov:
                    u = np.multiply(buf, momentum, out=self._buffer(w, 1))
                    u += d
                    d, owned = u, True
                else:
                    d, owned = buf, False
            if owned:
                d *= lr
                w -= d
            else:
                w -= np.multiply(d, lr, out=self._buffer(w, 1))
