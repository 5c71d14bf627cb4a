"""The :class:`Optimizer` base class: parameter groups, lazy per-parameter state, state dicts.

A parameter is any object exposing ``.data`` (a NumPy array, updated in place) and ``.grad``
(``None`` or a Tensor whose ``.data`` is the gradient array). :class:`striate.nn.Parameter` is
the usual one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import numpy as np

__all__ = ["Optimizer", "required"]


class _Required:
    """Marker for a hyperparameter that has no default and must be given."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def grad_array(p: Any) -> np.ndarray | None:
    """The gradient of ``p`` as an array (``None`` when it has none).

    Accepts a Tensor gradient (the array is its ``.data``) or a bare array.
    """
    g = p.grad
    if g is None:
        return None
    return g if isinstance(g, np.ndarray) else g.data


def params_with_grad(group: dict[str, Any]) -> Iterator[tuple[Any, np.ndarray]]:
    """``(p, grad_array(p))`` for each parameter of ``group`` that has a gradient."""
    for p in group["params"]:
        g = grad_array(p)
        if g is not None:
            yield p, g


class ParamState(MutableMapping):
    """Per-parameter optimizer state keyed by the parameter object itself (by identity).

    Behaves like ``torch.optim.Optimizer.state`` (a mapping ``param -> dict``), creating an empty
    dict on first access, but never hashes or compares parameters (Tensors may define
    element-wise ``__eq__``).
    """

    def __init__(self) -> None:
        self._items: dict[int, tuple[Any, dict]] = {}

    def __getitem__(self, p: Any) -> dict:
        entry = self._items.get(id(p))
        if entry is None:
            entry = (p, {})
            self._items[id(p)] = entry
        return entry[1]

    def __setitem__(self, p: Any, value: dict) -> None:
        self._items[id(p)] = (p, value)

    def __delitem__(self, p: Any) -> None:
        del self._items[id(p)]

    def __contains__(self, p: object) -> bool:
        return id(p) in self._items

    def __iter__(self) -> Iterator[Any]:
        return (p for p, _ in list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def get_existing(self, p: Any) -> dict | None:
        """The state of ``p`` or ``None`` (without creating an entry)."""
        entry = self._items.get(id(p))
        return None if entry is None else entry[1]

    def __repr__(self) -> str:
        return f"ParamState({len(self)} parameters)"


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of parameters, or of dicts defining parameter groups (each with a
            ``"params"`` entry and optional per-group hyperparameters overriding ``defaults``).
        defaults: the default hyperparameters of every group.

    Attributes:
        param_groups: list of dicts, one per group: ``"params"`` (list of parameters) and the
            hyperparameters (``lr``, ``weight_decay``, ...). Schedulers edit ``group["lr"]``.
        state: per-parameter state (e.g. momentum buffers), created lazily at the first step.

    Raises:
        ValueError: for an empty parameter list or a parameter in two groups.
        TypeError: for a set of parameters (order would not be reproducible).
    """

    def __init__(self, params: Iterable[Any] | Iterable[dict], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state = ParamState()
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict[tuple, list[np.ndarray]] = {}
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of a set changes between runs; use a list instead")
        if hasattr(params, "data") and hasattr(params, "grad"):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"parameters or dicts, but got {type(params).__name__}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self) -> dict:
        return self.__dict__

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (e.g. layers unfrozen during fine-tuning).

        Args:
            param_group: dict with ``"params"`` and optional hyperparameters; missing ones take
                the optimizer's defaults.

        Raises:
            ValueError: when a required hyperparameter is missing or a parameter is already
                in another group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if hasattr(params, "data") and hasattr(params, "grad"):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of a set changes between runs; use a list instead")
        else:
            params = list(params)
        for p in params:
            if not (hasattr(p, "data") and hasattr(p, "grad")):
                raise TypeError("optimizer can only optimize parameters (objects with .data and "
                                f".grad), but one of the params is {type(p).__name__}")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters.

        Args:
            set_to_none: drop the gradients (``p.grad = None``, the default, cheaper) instead of
                filling them with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad_array(p).fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss.

        Subclasses implement :meth:`_step_group`.
        """
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _buffer(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A reusable scratch array shaped like ``like`` (never part of the state)."""
        key = (like.shape, like.dtype)
        bufs = self._scratch.get(key)
        if bufs is None:
            bufs = self._scratch[key] = []
        while len(bufs) <= slot:
            bufs.append(np.empty_like(like))
        return bufs[slot]

    def _decayed_grad(self, w: np.ndarray, g: np.ndarray, weight_decay: float,
                      maximize: bool) -> np.ndarray:
        """The gradient step direction before the optimiser's own rule: ``g``, negated when
        ``maximize``, plus ``weight_decay * w`` (L2 penalty).

        Returns ``g`` itself when neither applies, else scratch slot 0 (slot 1 may also be
        overwritten); ``g`` is never modified.
        """
        if maximize:
            d = np.negative(g, out=self._buffer(w, 0))
            if weight_decay != 0:
                d += np.multiply(w, weight_decay, out=self._buffer(w, 1))
            return d
        if weight_decay != 0:
            d = np.multiply(w, weight_decay, out=self._buffer(w, 0))
            d += g
            return d
        return g

    # -- state dicts ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as a dict, like PyTorch's.

        Returns:
            ``{"state": {index: {name: value}}, "param_groups": [{hyperparameters...,
            "params": [index, ...]}]}`` where parameters are numbered by their position over
            all groups in order. State arrays are returned by reference (not copied).
        """
        index_of: dict[int, int] = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = list(range(start, start + len(group["params"])))
            for i, p in zip(ids, group["params"]):
                index_of[id(p)] = i
            packed["params"] = ids
            start += len(ids)
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get_existing(p)
                if st:
                    state[index_of[id(p)]] = dict(st)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state produced by :meth:`state_dict` (arrays are copied and cast to the dtype
        of their parameter when they have the parameter's shape).

        Raises:
            ValueError: when the number of groups or of parameters per group differs.
        """
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(groups)})")
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(f"loaded state dict contains a parameter group {i} that doesn't "
                                 f"match the size of optimizer's group ({len(sg['params'])} vs "
                                 f"{len(g['params'])} parameters)")
        id_map = {}
        for g, sg in zip(groups, saved_groups):
            for saved_id, p in zip(sg["params"], g["params"]):
                id_map[saved_id] = p
        saved_state = state_dict["state"]
        self.state = ParamState()
        for key, st in saved_state.items():
            k = int(key) if isinstance(key, str) else key
            if k not in id_map:
                continue
            p = id_map[k]
            new_st = {}
            for name, value in st.items():
                arr = value if isinstance(value, np.ndarray) else getattr(value, "data", None)
                if not isinstance(arr, np.ndarray):
                    new_st[name] = copy.deepcopy(value)
                elif name == "step" and arr.ndim == 0:
                    new_st[name] = int(arr)
                elif arr.shape == p.data.shape:
                    new_st[name] = arr.astype(p.data.dtype, copy=True)
                else:
                    new_st[name] = arr.copy()
            self.state[p] = new_st
        new_groups = []
        for g, sg in zip(groups, saved_groups):
            ng = {k: copy.deepcopy(v) for k, v in sg.items() if k != "params"}
            for k, v in ng.items():
                if isinstance(v, list) and isinstance(g.get(k), tuple):
                    ng[k] = tuple(v)
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.param_groups = new_groups
