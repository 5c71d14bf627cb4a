"""Adam, AdamW (decoupled weight decay) and their AMSGrad variants."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import Optimizer, grad_array

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    Algorithm (per parameter :math:`\theta`, step ``t`` starting at 1)::

        if maximize:            g = -g
        if decoupled_weight_decay:
                                theta = theta * (1 - lr * weight_decay)     # AdamW
        elif weight_decay != 0: g = g + weight_decay * theta                 # L2 penalty
        m = beta1 * m + (1 - beta1) * g              # first moment  (state "exp_avg")
        v = beta2 * v + (1 - beta2) * g * g          # second moment (state "exp_avg_sq")
        if amsgrad:
            v_max = max(v_max, v)                    # state "max_exp_avg_sq"
            v_hat = v_max
        else:
            v_hat = v
        denom = sqrt(v_hat) / sqrt(1 - beta2**t) + eps
        theta = theta - (lr / (1 - beta1**t)) * m / denom

    The moments start at zero and are created lazily at the first step. Each step is a handful
    of whole-array in-place NumPy operations per parameter into reused scratch buffers.

    Args:
        params: parameters or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square.
        eps: term added to the denominator for numerical stability.
        weight_decay: L2 penalty (added to the gradient) unless ``decoupled_weight_decay``.
        amsgrad: use the AMSGrad variant (maximum of the past second moments).
        maximize: maximise the objective.
        decoupled_weight_decay: apply weight decay to the weights directly (AdamW).

    Raises:
        ValueError: for an invalid lr, eps, beta or weight decay.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        wd = group["weight_decay"]
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        for p in group["params"]:
            g = grad_array(p)
            if g is None:
                continue
            w = p.data
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = np.zeros_like(w)
                st["exp_avg_sq"] = np.zeros_like(w)
                if amsgrad:
                    st["max_exp_avg_sq"] = np.zeros_like(w)
            st["step"] += 1
            t = st["step"]
            m = st["exp_avg"]
            v = st["exp_avg_sq"]
            tmp = self._buffer(w, 1)
            owned = maximize
            if maximize:
                g = np.negative(g, out=self._buffer(w, 0))
            if wd != 0:
                if decoupled:
                    w *= 1.0 - lr * wd
                elif owned:
                    g += np.multiply(w, wd, out=tmp)
                else:
                    g = np.add(g, np.multiply(w, wd, out=tmp), out=self._buffer(w, 0))
            # m += (1 - beta1) * (g - m)   (torch's lerp)
            np.subtract(g, m, out=tmp)
            tmp *= 1.0 - beta1
            m += tmp
            # v = beta2 * v + (1 - beta2) * g * g
            v *= beta2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - beta2
            v += tmp
            if amsgrad:
                vmax = st.get("max_exp_avg_sq")
                if vmax is None:
                    vmax = st["max_exp_avg_sq"] = np.zeros_like(w)
                np.maximum(vmax, v, out=vmax)
                v = vmax
            bias_correction1 = 1.0 - beta1 ** t
            bias_correction2_sqrt = math.sqrt(1.0 - beta2 ** t)
            # (lr / bc1) * m / (sqrt(v) / bc2_sqrt + eps)
            #   == (lr * bc2_sqrt / bc1) * m / (sqrt(v) + eps * bc2_sqrt): one pass fewer
            np.sqrt(v, out=tmp)
            tmp += eps * bias_correction2_sqrt
            np.divide(m, tmp, out=tmp)
            tmp *= lr * bias_correction2_sqrt / bias_correction1
            w -= tmp


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Algorithm: the one of :class:`Adam` with ``decoupled_weight_decay=True``, i.e. before the
    Adam update the weights shrink by ``theta = theta * (1 - lr * weight_decay)`` and the
    gradient itself carries no L2 term::

        theta = theta * (1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta = theta - (lr / (1 - beta1**t)) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    Args:
        params: parameters or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: denominator term (default 1e-8).
        weight_decay: decoupled weight decay coefficient (default 1e-2).
        amsgrad: use the AMSGrad variant.
        maximize: maximise the objective.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
