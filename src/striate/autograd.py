"""Reverse-mode automatic differentiation: grad mode, the ``Function`` node and the engine.

Every differentiable op is a :class:`Function` subclass with a ``forward`` over raw arrays and
a ``backward`` that maps the output gradient to one gradient per input (``None`` where the
input needs none).  ``Function.apply`` runs the forward and, when grad mode is on and some
input requires a gradient, records the node as the output's ``grad_fn``.  The node keeps its
input tensors and whatever its forward saved on ``self`` -- nothing else.

Retain-graph semantics (as in PyTorch):

* ``y.backward()`` walks the graph behind ``y`` once, in topological order, and then frees
  it: every node drops its saved arrays and its inputs.  A second ``backward`` through any
  freed node raises ``RuntimeError`` (``Trying to backward through the graph a second
  time ...``).
* ``y.backward(retain_graph=True)`` keeps the graph so it can be walked again; gradients of
  leaves accumulate into ``.grad`` on every call.
* Graphs that are never walked are freed by reference counting like any Python object.

The walk is iterative (no recursion), so graphs of any depth are fine.

Gradients are plain arrays: ``backward`` does not record a graph of its own, so higher-order
derivatives (PyTorch's ``create_graph=True``) are not available.  Hooks (``register_hook``)
run with a gradient tensor that does not require grad; returning a tensor replaces the
gradient that flows on.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Function",
    "backward",
    "enable_grad",
    "get_array_module",
    "grad",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]

# Grad mode lives in a one-element list so the hot path reads it with one index.
_grad_enabled = [True]


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded for differentiation."""
    return _grad_enabled[0]


def _in_grad_mode(fn: Callable, mode: bool) -> Callable:
    """``fn`` wrapped to run with grad mode ``mode`` (restored afterwards)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        prev = _grad_enabled[0]
        _grad_enabled[0] = mode
        try:
            return fn(*args, **kwargs)
        finally:
            _grad_enabled[0] = prev

    return wrapper


class set_grad_enabled:
    """Set grad mode on or off; usable as a function call, context manager or decorator.

    Example:
        >>> import striate
        >>> with striate.set_grad_enabled(False):
        ...     striate.is_grad_enabled()
        False
    """

    __slots__ = ("_mode", "_prev")

    def __init__(self, mode: bool) -> None:
        self._prev = _grad_enabled[0]
        self._mode = bool(mode)
        _grad_enabled[0] = self._mode

    def __enter__(self) -> set_grad_enabled:
        return self

    def __exit__(self, *exc: object) -> None:
        _grad_enabled[0] = self._prev

    def __call__(self, fn: Callable) -> Callable:
        _grad_enabled[0] = self._prev  # decorating must not change the current mode
        return _in_grad_mode(fn, self._mode)


class _GradMode:
    """Base of :class:`no_grad` / :class:`enable_grad`: context manager and decorator."""

    __slots__ = ("_prev",)
    _mode = True

    def __new__(cls, orig_func: Callable | None = None):
        # ``@no_grad`` without parentheses decorates directly, as in PyTorch
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self) -> None:
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = self._mode

    def __exit__(self, *exc: object) -> None:
        _grad_enabled[0] = self._prev

    def __call__(self, fn: Callable) -> Callable:
        return _in_grad_mode(fn, self._mode)


class no_grad(_GradMode):
    """Disable graph recording inside a ``with`` block or a decorated function.

    Example:
        >>> import striate
        >>> x = striate.ones(2, requires_grad=True)
        >>> with striate.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    __slots__ = ()
    _mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording (e.g. inside a ``no_grad`` block)."""

    __slots__ = ()
    _mode = True


class inference_mode(no_grad):
    """Same as :class:`no_grad` here (PyTorch's faster variant of it)."""

    __slots__ = ()

    def __new__(cls, mode: Any = True):
        if callable(mode):
            return no_grad.__new__(cls, mode)
        return super().__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        pass


class Function:
    """A node of the graph: one differentiable operation with a single output.

    Subclasses implement ``forward(self, *arrays, **params) -> array`` and
    ``backward(self, grad) -> tuple`` (one entry per positional input, ``None`` allowed),
    declare ``__slots__`` for what they save, and read ``self.needs_input_grad`` to skip
    gradients nobody asked for.  Positional inputs of ``apply`` are tensors (or ``None`` for
    an absent optional tensor such as a bias); keyword arguments are constants.
    """

    __slots__ = ("__weakref__", "_hooks", "inputs", "needs_input_grad")

    def forward(self, *arrays: Any, **params: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: Any) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any):
        """Run the op on tensors ``inputs`` and record it when a gradient may be needed."""
        fn = cls.__new__(cls)
        if _grad_enabled[0]:
            edges = tuple([None if t is None or not t._requires_grad else (t.grad_fn or t)
                           for t in inputs])
            needs = tuple([e is not None for e in edges])
            record = True in needs
        else:
            needs = (False,) * len(inputs)
            record = False
        fn.needs_input_grad = needs
        out = fn.forward(*[None if t is None else t.data for t in inputs], **params)
        if record:
            fn.inputs = edges
            fn._hooks = None
            return _make_tensor(out, fn)
        return _make_tensor(out, None)

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """The ``grad_fn`` of each input (``None`` for leaves and inputs without grad)."""
        inputs = getattr(self, "inputs", None)
        if inputs is None:
            return ()
        return tuple(e if isinstance(e, Function) else None for e in inputs)

    def register_hook(self, hook: Callable) -> None:
        """Call ``hook(grad_tensor)`` with this node's output gradient before ``backward``."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)

    def _release(self) -> None:
        """Drop inputs and saved arrays (the graph is freed after a backward)."""
        self.inputs = None
        cls = type(self)
        slots = _saved_slots.get(cls)
        if slots is None:
            slots = _saved_slots[cls] = tuple(
                slot for c in cls.__mro__ for slot in c.__dict__.get("__slots__", ())
                if slot not in ("inputs", "needs_input_grad", "_hooks", "__weakref__"))
        for slot in slots:
            setattr(self, slot, None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def get_array_module(*arrays: Any) -> Any:
    """The array module (``numpy`` or ``cupy``) that owns ``arrays`` (Chainer/CuPy style).

    Code paths call ``xp = get_array_module(x)`` and then ``xp.<fn>`` so one implementation
    serves both, without ``isinstance`` forks.
    """
    for a in arrays:
        if type(a).__module__.startswith("cupy"):
            import cupy  # optional dependency, only reached with a CuPy array

            return cupy
    return np


_saved_slots: dict = {}
_ndarray = np.ndarray
_getrefcount = sys.getrefcount


def _owned_refs() -> int:
    """References to an array held only by the engine's gradient dict, as counted inside the
    accumulation loop (the dict entry, the local name, getrefcount's argument)."""
    d = {0: np.zeros(1)}
    prev = d.get(0)
    return _getrefcount(prev)


_OWNED_REFS = _owned_refs()

# Set by striate.tensor at import: builds an output Tensor from (array, grad_fn).
_make_tensor: Callable = None  # type: ignore[assignment]
_wrap_grad: Callable = None  # type: ignore[assignment]


def _freed_error(node: Function) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (node {type(node).__name__}), "
        "or to directly access saved tensors after they have already been freed. Saved "
        "intermediate values of the graph are freed when you call .backward(). Specify "
        "retain_graph=True if you need to backward through the graph a second time.")


def _topo_order(root: Function) -> list:
    """Nodes reachable from ``root`` with every node before all of its inputs' nodes."""
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        inputs = node.inputs
        if inputs is None:
            raise _freed_error(node)
        for e in inputs:
            if e is not None and isinstance(e, Function) and e not in visited:
                stack.append((e, False))
    order.reverse()
    return order


def _accumulate(d: dict, key: Any, g: Any) -> None:
    prev = d.get(key)
    if prev is None:
        d[key] = g
    else:
        d[key] = prev + g


def _run_backward(roots: list, grads: list, retain_graph: bool, inputs: Any = None):
    """Walk the graph(s) behind ``roots`` once.

    With ``inputs`` None, gradients of leaves are accumulated into their ``.grad``.
    Otherwise the gradients w.r.t. the tensors in ``inputs`` are returned in a dict keyed by
    ``id(tensor)`` (nothing is written to ``.grad``)."""
    node_grads: dict = {}
    leaf_grads: dict = {}
    leaf_tensors: dict = {}
    tops = []
    for t, g in zip(roots, grads):
        f = t.grad_fn
        if f is None:
            _accumulate(leaf_grads, id(t), g)
            leaf_tensors[id(t)] = t
        else:
            _accumulate(node_grads, f, g)
            tops.append(f)
    if len(tops) == 1:
        order = _topo_order(tops[0])
    elif tops:
        sentinel = Function.__new__(Function)
        sentinel.inputs = tuple(tops)
        order = _topo_order(sentinel)[1:]
    else:
        order = []
    wanted_nodes = None
    captured: dict = {}
    if inputs is not None:
        wanted_nodes = {t.grad_fn: id(t) for t in inputs if t.grad_fn is not None}
    for node in order:
        g = node_grads.pop(node, None)
        if g is None:
            if not retain_graph:
                node._release()
            continue
        if node._hooks is not None:
            for hook in node._hooks:
                r = hook(_wrap_grad(g))
                if r is not None:
                    g = r.data if hasattr(r, "grad_fn") else r
        if wanted_nodes is not None and node in wanted_nodes:
            captured[wanted_nodes[node]] = g
        edges = node.inputs
        if edges is None:
            raise _freed_error(node)
        in_grads = node.backward(g)
        for e, ig in zip(edges, in_grads):
            if ig is None or e is None:
                continue
            if isinstance(e, Function):
                prev = node_grads.get(e)
                if prev is None:
                    node_grads[e] = ig
                elif (prev.__class__ is _ndarray and prev.base is None
                      and _getrefcount(prev) <= _OWNED_REFS and prev.shape == ig.shape
                      and prev.dtype == ig.dtype and prev.flags.writeable):
                    prev += ig  # nobody else holds this array: accumulate in place
                else:
                    node_grads[e] = prev + ig
            else:
                key = id(e)
                prev = leaf_grads.get(key)
                if prev is None:
                    leaf_grads[key] = ig
                    leaf_tensors[key] = e
                else:
                    leaf_grads[key] = prev + ig
        if not retain_graph:
            node._release()
    g = ig = in_grads = None  # drop local references so leaf grads can be stolen
    if inputs is not None:
        want = {id(t) for t in inputs}
        for key, lg in leaf_grads.items():
            if key in want:
                t = leaf_tensors[key]
                if t._hooks is not None:
                    for hook in t._hooks:
                        r = hook(_wrap_grad(lg))
                        if r is not None:
                            lg = r.data
                captured[key] = lg
        return captured
    while leaf_grads:
        key, lg = leaf_grads.popitem()
        leaf_tensors[key]._accumulate_grad(lg)
    return None


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None) -> None:
    """Accumulate into leaves' ``.grad`` the gradients of ``tensors`` (see module docs).

    Args:
        tensors: a tensor or a sequence of tensors.
        grad_tensors: the gradient of each w.r.t. itself (``None`` allowed for scalars).
        retain_graph: keep the graph for another backward (default ``False``).

    Raises:
        RuntimeError: a non-scalar output without a gradient, an output that does not
            require grad, or a graph that was already freed.
    """
    from striate.tensor import Tensor

    if isinstance(tensors, Tensor):
        tensors = [tensors]
        grad_tensors = [grad_tensors]
    else:
        tensors = list(tensors)
        if grad_tensors is None:
            grad_tensors = [None] * len(tensors)
        elif isinstance(grad_tensors, Tensor):
            grad_tensors = [grad_tensors]
        grad_tensors = list(grad_tensors)
    if len(tensors) != len(grad_tensors):
        raise ValueError(f"backward: expected {len(tensors)} gradients (one per tensor), "
                         f"got {len(grad_tensors)}")
    arrays = [_grad_array(t, g) for t, g in zip(tensors, grad_tensors)]
    _run_backward(tensors, arrays, bool(retain_graph))


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated into ``.grad``).

    Args:
        outputs: a tensor or a sequence of tensors.
        inputs: a tensor or a sequence of tensors that require grad.
        grad_outputs: gradient of each output (``None`` allowed for scalars).
        retain_graph: keep the graph for another backward (default ``False``).
        allow_unused: return ``None`` for an input the outputs do not depend on instead of
            raising.

    Returns:
        A tuple with one tensor (or ``None``) per input.
    """
    from striate.tensor import Tensor

    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outs) if grad_outputs is None else [grad_outputs]
    arrays = [_grad_array(t, g) for t, g in zip(outs, grad_outputs)]
    captured = _run_backward(outs, arrays, bool(retain_graph), inputs=ins)
    result = []
    for i, t in enumerate(ins):
        g = captured.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) was not used in "
                               "the graph; pass allow_unused=True to get None for it")
        result.append(None if g is None else _wrap_grad(g))
    return tuple(result)


def _grad_array(t: Any, g: Any) -> Any:
    if not t._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got "
                               f"an output of shape {tuple(t.data.shape)} - pass a gradient")
        return get_array_module(t.data).ones_like(t.data)
    g = g.data if hasattr(g, "grad_fn") else get_array_module(t.data).asarray(g)
    if g.shape != t.data.shape:
        raise RuntimeError(f"backward: expected a gradient of shape {tuple(t.data.shape)}, "
                           f"got {tuple(g.shape)}")
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    return g
