"""Adam, AdamW (decoupled weight decay) and their AMSGrad variants."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from striate import kernels
from striate.optim.optimizer import Optimizer, params_with_grad

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

    The moments start at zero and are created lazily at the first step. A float32 parameter is
    updated by one pass of a compiled kernel (``striate.kernels.adam_step``, threaded); other
    arrays by a handful of whole-array in-place NumPy operations into reused scratch buffers,
    the same float32 operations in the same order, so both give the same bits. A group of
    small parameters (at most 2**18 elements in all) keeps its moments in one flat buffer (the
    state entries are views of it) and is updated with one set of NumPy operations for the
    whole group, again bit-identical, with far less per-call overhead.

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
        self._flat_cache: dict[int, _FlatAdamState] = {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._flat_cache.clear()
        super().load_state_dict(state_dict)

    def _step_group(self, group: dict[str, Any]) -> None:
        items = list(params_with_grad(group))
        if not items:
            return
        if len(items) > 1 and self._step_flat(group, items):
            return
        for p, g in items:
            if not self._step_kernel(group, p, g):
                self._step_param(group, p, g)

    def _moments(self, group: dict[str, Any], p: Any) -> dict[str, Any]:
        """``p``'s state, its moments created (zero) at the first step."""
        w = p.data
        st = self.state[p]
        if not st:
            st["step"] = 0
            st["exp_avg"] = np.zeros_like(w)
            st["exp_avg_sq"] = np.zeros_like(w)
        if group["amsgrad"] and "max_exp_avg_sq" not in st:
            st["max_exp_avg_sq"] = np.zeros_like(w)
        return st

    def _step_kernel(self, group: dict[str, Any], p: Any, g: Any) -> bool:
        """``p``'s step in one pass of the compiled kernel (float32 NumPy arrays, contiguous):
        the same bits as :meth:`_step_param`.  False (nothing done) for other arrays."""
        w = p.data
        if not (type(w) is np.ndarray and w.dtype == np.float32 and w.flags.c_contiguous
                and w.flags.writeable and type(g) is np.ndarray and g.dtype.kind == "f"):
            return False
        st = self._moments(group, p)
        names = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())
        for name in names:
            a = st[name]
            if not (type(a) is np.ndarray and a.dtype == np.float32 and a.flags.c_contiguous
                    and a.shape == w.shape):
                return False
        st["step"] += 1
        beta1, beta2 = group["betas"]
        kernels.adam_step(w, g, st["exp_avg"], st["exp_avg_sq"], st.get("max_exp_avg_sq")
                          if group["amsgrad"] else None, lr=group["lr"], beta1=beta1,
                          beta2=beta2, eps=group["eps"], step=st["step"],
                          weight_decay=group["weight_decay"],
                          decoupled=group["decoupled_weight_decay"],
                          maximize=group["maximize"])
        return True

    def _step_param(self, group: dict[str, Any], p: Any, g: np.ndarray) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        wd = group["weight_decay"]
        w = p.data
        st = self._moments(group, p)
        st["step"] += 1
        decoupled = group["decoupled_weight_decay"]
        g = self._decayed_grad(w, g, 0.0 if decoupled else wd, group["maximize"])
        if decoupled and wd != 0:
            w *= 1.0 - lr * wd
        tmp = self._buffer(w, 1)
        _adam_direction(g, st["exp_avg"], st["exp_avg_sq"], st.get("max_exp_avg_sq"),
                        st["step"], lr, beta1, beta2, group["eps"], tmp)
        w -= tmp

    def _step_flat(self, group: dict[str, Any], items: list) -> bool:
        """One pass of whole-array operations over all small parameters of the group at once.

        The moments of the group's parameters live in one flat buffer (the per-parameter
        state entries are views of it, so ``state_dict`` is unchanged); gradients are gathered
        with one ``concatenate``. Only the final ``w -= update`` is per parameter. Used for
        groups of at most ``_FLAT_MAX`` elements (where per-call overhead dominates) whose
        parameters share a dtype and a step count; the arithmetic is the per-parameter path's,
        operation for operation, so both give identical results.
        """
        params = [p for p, _ in items]
        flat = self._flat_cache.get(id(group))
        if flat is None or not flat.matches(params, self.state):
            flat = _FlatAdamState.build(params, self.state, group["amsgrad"])
            if flat is None:
                self._flat_cache.pop(id(group), None)
                return False
            self._flat_cache[id(group)] = flat
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        wd = group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        g = flat.grad
        np.concatenate([gi.reshape(-1) for _, gi in items], out=g)
        tmp = flat.tmp
        if group["maximize"]:
            np.negative(g, out=g)
        if wd != 0 and not decoupled:
            np.concatenate([p.data.reshape(-1) for p in params], out=tmp)
            tmp *= wd
            g += tmp
        flat.step += 1
        for st in flat.states:
            st["step"] = flat.step
        _adam_direction(g, flat.exp_avg, flat.exp_avg_sq, flat.max_exp_avg_sq, flat.step, lr,
                        beta1, beta2, group["eps"], tmp)
        shrink = 1.0 - lr * wd if (decoupled and wd != 0) else None
        for p, u in zip(params, flat.tmp_views):
            w = p.data
            if shrink is not None:
                w *= shrink
            w -= u
        return True


def _adam_direction(g: np.ndarray, m: np.ndarray, v: np.ndarray, vmax: np.ndarray | None,
                    t: int, lr: float, beta1: float, beta2: float, eps: float,
                    out: np.ndarray) -> None:
    """Update the moments in place and write the step ``theta -= out`` into ``out``."""
    # m += (1 - beta1) * (g - m)   (torch's lerp)
    np.subtract(g, m, out=out)
    out *= 1.0 - beta1
    m += out
    # v = beta2 * v + (1 - beta2) * g * g
    v *= beta2
    np.multiply(g, g, out=out)
    out *= 1.0 - beta2
    v += out
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        v = vmax
    bias_correction1 = 1.0 - beta1 ** t
    bias_correction2_sqrt = math.sqrt(1.0 - beta2 ** t)
    # (lr / bc1) * m / (sqrt(v) / bc2_sqrt + eps)
    #   == (lr * bc2_sqrt / bc1) * m / (sqrt(v) + eps * bc2_sqrt): one pass fewer
    np.sqrt(v, out=out)
    out += eps * bias_correction2_sqrt
    np.divide(m, out, out=out)
    out *= lr * bias_correction2_sqrt / bias_correction1


_FLAT_MAX = 1 << 18  # elements of a group updated through one flat buffer


class _FlatAdamState:
    """Flat moment buffers of one parameter group; the state dicts hold views of them."""

    __slots__ = ("ids", "shapes", "states", "exp_avg", "exp_avg_sq", "max_exp_avg_sq",
                 "views", "grad", "tmp", "tmp_views", "step")

    @classmethod
    def build(cls, params: list, state: Any, amsgrad: bool) -> "_FlatAdamState | None":
        dtype = params[0].data.dtype
        total = 0
        steps = set()
        for p in params:
            if p.data.dtype != dtype:
                return None
            total += p.data.size
            st = state.get_existing(p)
            steps.add(st.get("step", 0) if st else 0)
        if total > _FLAT_MAX or len(steps) != 1 or dtype.kind != "f":
            return None
        self = cls()
        self.ids = [id(p) for p in params]
        self.shapes = [p.data.shape for p in params]
        self.step = steps.pop()
        names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])
        flats = {n: np.zeros(total, dtype) for n in names}
        self.views = {n: [] for n in names}
        self.states = []
        off = 0
        for p in params:
            n = p.data.size
            st = state[p]
            for name in names:
                view = flats[name][off:off + n].reshape(p.data.shape)
                old = st.get(name)
                if old is not None:
                    view[...] = old
                st[name] = view
                self.views[name].append(view)
            st["step"] = self.step
            self.states.append(st)
            off += n
        self.exp_avg = flats["exp_avg"]
        self.exp_avg_sq = flats["exp_avg_sq"]
        self.max_exp_avg_sq = flats.get("max_exp_avg_sq")
        self.grad = np.empty(total, dtype)
        self.tmp = np.empty(total, dtype)
        self.tmp_views = []
        off = 0
        for p in params:
            self.tmp_views.append(self.tmp[off:off + p.data.size].reshape(p.data.shape))
            off += p.data.size
        return self

    def matches(self, params: list, state: Any) -> bool:
        """Whether the cache still describes ``params`` and their state (same parameters,
        shapes, step, and state entries that are still our views)."""
        if len(params) != len(self.ids):
            return False
        for i, p in enumerate(params):
            if id(p) != self.ids[i] or p.data.shape != self.shapes[i]:
                return False
            st = state.get_existing(p)
            if st is not self.states[i] or st.get("step") != self.step:
                return False
            for name, views in self.views.items():
                if st.get(name) is not views[i]:
                    return False
        return True


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
