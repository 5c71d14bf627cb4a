"""``Module``: the base class of layers and models (PyTorch's ``nn.Module`` API).

A Module owns state -- parameters, buffers and sub-modules registered by attribute
assignment -- and its ``forward`` delegates the math to :mod:`striate.functional`.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from striate.autograd import Function, is_grad_enabled
from striate.nn.parameter import Parameter
from striate.tensor import Tensor

__all__ = ["Module", "RemovableHandle"]

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook.

    Also a context manager: the hook is removed on exit.
    """

    _next_id = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks_dict = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _addindent(s: str, num_spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join((num_spaces * " ") + ln if ln.strip() else ""
                                    for ln in lines)


def _as_array(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray):
        return data
    return np.asarray(value)


def _loadable(value: np.ndarray, dtype: np.dtype, assign: bool) -> tuple[np.ndarray | None, str]:
    """``value`` ready to go into a tensor of ``dtype`` for :meth:`Module.load_state_dict`
    (a new array: cast to ``dtype``, or kept as it is with ``assign``), or ``(None, reason)``
    when loading it would be silently wrong.

    PyTorch copies state with a same-kind-or-looser cast; striate refuses what would change
    values beyond rounding: complex into real (the imaginary part would be dropped), NaN/inf
    or non-integers into an integer or bool tensor, values outside an integer type's range
    (0 to 1 for bool), and finite values that overflow to inf in a narrower float type.
    """
    src = value.dtype   # numbers: kind b, i, u, f or c (the caller refuses the rest)
    if src.kind == "c" and dtype.kind != "c":
        return None, "complex values into a real tensor would lose their imaginary part"
    if assign:
        return np.array(value, copy=True), ""
    with np.errstate(all="ignore"):
        if dtype.kind in "biu" and src.kind != "b":
            if src.kind == "f":
                if not np.isfinite(value).all():
                    return None, "NaN or inf cannot be stored in an integer or bool tensor"
                if (value != np.trunc(value)).any():
                    return None, "non-integer values would be truncated"
            lo, hi = (0, 1) if dtype.kind == "b" else (int(np.iinfo(dtype).min),
                                                        int(np.iinfo(dtype).max))
            if value.size:
                vmin, vmax = value.min(), value.max()
                fits = (lo <= vmin and vmax < float(hi + 1)) if src.kind == "f" else \
                    (lo <= int(vmin) and int(vmax) <= hi)
                if not fits:
                    return None, f"values from {vmin} to {vmax} do not fit {lo} to {hi}"
            return value.astype(dtype), ""
        if dtype.kind in "fc":
            out = value.astype(dtype)
            if src.kind != "b":
                over = np.isinf(out) & np.isfinite(value)
                if over.any():
                    return None, (f"{value[over].flat[0]} overflows {dtype} (it would become "
                                  "inf)")
            return out, ""
    if not np.can_cast(src, dtype, "same_kind"):  # a dtype striate does not use for state
        return None, f"NumPy does not cast {src} to {dtype} safely"
    return value.astype(dtype), ""


class Module:
    """Base class of all layers and models.

    Subclasses call ``super().__init__()`` first, assign :class:`Parameter`\\ s, sub-modules
    and buffers (:meth:`register_buffer`) as attributes, and implement :meth:`forward`.
    Calling the module runs the forward pre-hooks, ``forward``, the forward hooks and wires
    the backward hooks.

    Attributes:
        training: True in training mode (dropout active, batch norm uses batch statistics);
            switch with :meth:`train` / :meth:`eval`.

    Example:
        >>> import striate
        >>> from striate import nn
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> net = Net()
        >>> [name for name, _ in net.named_parameters()]
        ['fc.weight', 'fc.bias']
        >>> net(striate.randn(3, 4)).shape
        (3, 2)
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_has_hooks"] = False

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass overrides it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._has_hooks:
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        bw_state = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            bw_state = _BackwardHookState(self)
            args = bw_state.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if bw_state is not None:
            bw_state.wrap_outputs(output)
        return output

    # -- registration ---------------------------------------------------------------------------

    def _update_has_hooks(self) -> None:
        self.__dict__["_has_hooks"] = bool(self._forward_pre_hooks or self._forward_hooks
                                           or self._backward_hooks or self._backward_pre_hooks)

    def _check_name(self, name: str, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got "{name}"')

    def _discard(self, name: str) -> None:
        for d in (self._parameters, self._buffers, self._modules):
            d.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (``None`` registers an absent one, e.g. ``bias=False``, so the
        state-dict layout stays stable).

        Raises:
            TypeError: when ``param`` is neither a Parameter nor None.
            KeyError: for an empty or dotted name, or a name taken by another attribute.
        """
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (striate.nn.Parameter or None required)")
        self._discard(name)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Add a buffer: state that is not trained (e.g. batch-norm running statistics).

        Args:
            name: attribute name.
            tensor: a Tensor or array (stored as a Tensor that does not require grad), or None.
            persistent: whether it is part of ``state_dict()``.

        Raises:
            KeyError: for an empty or dotted name, or a name taken by another attribute.
        """
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(np.asarray(tensor))
        self._discard(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers_set.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module (also done by attribute assignment)."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._discard(name)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._discard(name)
            params[name] = value
            d[name] = value
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(striate.nn.Parameter or None expected)")
            params[name] = None
            d[name] = None
            return
        if isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._discard(name)
            self._modules[name] = value
            d[name] = value
            return
        modules = d.get("_modules")
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (striate.nn.Module or None expected)")
            modules[name] = None
            d[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                if not isinstance(value, np.ndarray):
                    raise TypeError(f"cannot assign '{type(value).__name__}' as buffer "
                                    f"'{name}' (striate.Tensor, array or None expected)")
                value = Tensor(value)
            buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._discard(name)
        object.__delattr__(self, name)

    def __getstate__(self) -> dict:
        return self.__dict__

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    # -- traversal ------------------------------------------------------------------------------

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for this module and all its descendants (depth first)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and all its descendants."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for the direct sub-modules."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, attr: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        seen = set()
        for mod_prefix, module in modules:
            for name, value in getattr(module, attr).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted name, parameter)``, each shared parameter once.

        Args:
            prefix: prepended to every name.
            recurse: include sub-modules' parameters (default True).
            remove_duplicate: yield a parameter shared by several modules only once.
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters (each once), e.g. to give to an optimizer."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(dotted name, buffer)``."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The sub-module at dotted path ``target`` (``""`` is this module).

        Raises:
            AttributeError: when a component of the path is not a sub-module.
        """
        if target == "":
            return self
        mod: Module = self
        for item in target.split("."):
            if item not in mod._modules or mod._modules[item] is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target``."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}`")
        return mod._parameters[name]

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (each shared parameter counted once).

        Args:
            trainable_only: count only parameters with ``requires_grad``.
        """
        return sum(int(p.data.size) for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # -- modes, gradients -----------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and its descendants; returns ``self``."""
        if not isinstance(mode, bool):
            raise TypeError(f"mode: expected a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``); returns ``self``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (``False`` freezes the module); returns
        ``self``."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (to None by default, else to zeros)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data.fill(0)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on ``self``; returns
        ``self`` (e.g. ``model.apply(init_weights)``)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply_to_arrays(self, fn: Callable[[np.ndarray], np.ndarray]) -> Module:
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p.data = fn(p.data)
                    if p.grad is not None:
                        p.grad.data = fn(p.grad.data)
            for b in m._buffers.values():
                if b is not None:
                    b.data = fn(b.data)
        return self

    def to(self, dtype: Any = None, *args: Any) -> Module:
        """Convert floating-point parameters and buffers to ``dtype`` in place (the Parameter
        objects are kept); ``"cpu"`` is accepted and ignored. Returns ``self``."""
        targets = [a for a in (dtype, *args) if a is not None and not (isinstance(a, str)
                                                                       and a == "cpu")]
        if not targets:
            return self
        dt = np.dtype(targets[-1])
        if dt.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dt}")
        return self._apply_to_arrays(lambda a: a.astype(dt) if a.dtype.kind == "f"
                                     and a.dtype != dt else a)

    def float(self) -> Module:
        """Convert floating-point parameters and buffers to float32; returns ``self``."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Convert floating-point parameters and buffers to float64; returns ``self``."""
        return self.to(np.float64)

    def cpu(self) -> Module:
        return self

    # -- hooks ----------------------------------------------------------------------------------

    def _add_hook(self, hooks: dict, hook: Callable) -> RemovableHandle:
        handle = _ModuleHookHandle(self, hooks)
        hooks[handle.id] = hook
        self._update_has_hooks()
        return handle

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, args) -> None | new args`` runs before ``forward``."""
        return self._add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, args, output) -> None | new output`` runs after ``forward``
        (e.g. to capture activations for Grad-CAM)."""
        return self._add_hook(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, grad_input, grad_output) -> None | new grad_input`` runs during
        ``backward`` once the gradients w.r.t. the module's inputs are known.

        ``grad_output`` is a tuple of the gradients w.r.t. the outputs, ``grad_input`` of the
        gradients w.r.t. the tensor positional inputs (``None`` for inputs that do not
        require grad). When no input requires grad, the hook runs as soon as ``grad_output``
        is known, with ``grad_input`` all ``None``. Returning a tuple replaces
        ``grad_input``.
        """
        return self._add_hook(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, grad_output) -> None | new grad_output`` runs during ``backward`` when
        the gradients w.r.t. the module's outputs are known, before they flow into it."""
        return self._add_hook(self._backward_pre_hooks, hook)

    # -- state dict -----------------------------------------------------------------------------

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.data
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.data

    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Any]:
        """All persistent state: parameters and persistent buffers, by dotted name.

        Args:
            destination: dict to fill (a new OrderedDict by default).
            prefix: prepended to every key.
            keep_vars: give the Parameter/buffer Tensors themselves instead of their arrays.

        Returns:
            ``name -> array`` (sharing memory with the module: copy before modifying). Save it
            with :func:`striate.save`.
        """
        if destination is None:
            destination = OrderedDict()
        for mod_prefix, module in self.named_modules(prefix=prefix.rstrip("."),
                                                     remove_duplicate=False):
            p = mod_prefix + "." if mod_prefix else ""
            module._save_to_state_dict(destination, p, keep_vars)
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` into this module (in place, so
        optimizers keep working on the same Parameter objects).

        Args:
            state_dict: ``name -> array or Tensor``, e.g. from :meth:`state_dict` or
                :func:`striate.load`.
            strict: require the keys to match exactly (missing and unexpected keys are
                errors); shape mismatches are always errors.
            assign: replace the arrays instead of copying into them (dtype follows the
                loaded values).

        Returns:
            ``(missing_keys, unexpected_keys)`` named tuple.

        Raises:
            RuntimeError: listing every missing and unexpected key (strict), every
                shape-mismatched key and every value that cannot be loaded without silently
                changing it: not numbers (e.g. None or strings), complex into a real tensor,
                NaN/inf, non-integers or out-of-range values into an integer (or bool)
                tensor, finite values that overflow the tensor's float type. Every value is
                checked and converted before the first is copied, so on error the module is
                unchanged.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own: dict[str, Tensor] = {}
        for mod_prefix, module in self.named_modules(remove_duplicate=False):
            p = mod_prefix + "." if mod_prefix else ""
            for name, t in module._parameters.items():
                if t is not None:
                    own[p + name] = t
            for name, t in module._buffers.items():
                if t is not None and name not in module._non_persistent_buffers_set:
                    own[p + name] = t
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        loaded = []
        for key, t in own.items():  # check and convert every value before changing anything
            if key not in state_dict:
                continue
            try:
                value = _as_array(state_dict[key])
            except (TypeError, ValueError) as e:   # e.g. a ragged list
                mismatched.append(f'cannot load "{key}": not an array ({e}).')
                continue
            if value.dtype.kind not in "biufc":
                mismatched.append(f'cannot load "{key}": the value has dtype {value.dtype}, '
                                  f"not numbers (the tensor is {t.data.dtype}).")
                continue
            if value.shape != t.data.shape:
                mismatched.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{value.shape} from checkpoint, the shape in current model "
                                  f"is {t.data.shape}.")
                continue
            new, why = _loadable(value, t.data.dtype, assign)
            if new is None:
                mismatched.append(f'cannot load "{key}": a {value.dtype} value into a '
                                  f"{t.data.dtype} tensor: {why}.")
                continue
            loaded.append((t, new))
        errors = []
        if strict:
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        errors.extend(mismatched)
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for t, new in loaded:   # nothing below can fail: same shapes, converted values
            if assign:
                t.data = new
            else:
                np.copyto(t.data, new)
        return _IncompatibleKeys(missing, unexpected)

    # -- repr -----------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """One-line description of the hyperparameters, shown by ``repr`` (override it)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for key, module in self._modules.items():
            mod_str = _addindent(repr(module), 2)
            child_lines.append("(" + key + "): " + mod_str)
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


class _ModuleHookHandle(RemovableHandle):
    def __init__(self, module: Module, hooks: dict) -> None:
        super().__init__(hooks)
        self._module = module

    def remove(self) -> None:
        super().remove()
        self._module._update_has_hooks()


class _BackwardHookIdentity(Function):
    """Identity on one module input; its backward hands ``grad_input`` to the hooks."""

    __slots__ = ("index", "state")

    def forward(self, x: Any, state: Any = None, index: int = 0) -> Any:
        self.state = state
        self.index = index
        return x.view()

    def backward(self, grad: Any) -> tuple:
        return (self.state.input_grad(self.index, grad),)


class _BackwardHookState:
    """Collects a module call's output and input gradients and runs its backward hooks."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.n_inputs = 0
        self.n_tensor_inputs = 0
        self.input_grads: list = []
        self.pending = 0
        self.grad_output: tuple | None = None
        self.n_outputs = 0
        self.output_grads: list = []
        self.outputs_pending = 0

    def wrap_inputs(self, args: tuple) -> tuple:
        new = []
        idx = 0
        for a in args:
            if isinstance(a, Tensor):
                if a.requires_grad:
                    a = _BackwardHookIdentity.apply(a, state=self, index=idx)
                    self.pending += 1
                idx += 1
            new.append(a)
        self.n_tensor_inputs = idx
        self.input_grads = [None] * idx
        return tuple(new)

    def wrap_outputs(self, output: Any) -> None:
        outs = output if isinstance(output, (tuple, list)) else (output,)
        tensors = [o for o in outs if isinstance(o, Tensor) and o.requires_grad]
        self.n_outputs = len(tensors)
        self.output_grads = [None] * len(tensors)
        self.outputs_pending = len(tensors)
        for i, t in enumerate(tensors):
            t.register_hook(self._make_output_hook(i))

    def _make_output_hook(self, i: int) -> Callable:
        def hook(g: Tensor) -> Any:
            self.output_grads[i] = g
            self.outputs_pending -= 1
            replaced = None
            if self.outputs_pending == 0:
                grad_output = tuple(self.output_grads)
                for h in list(self.module._backward_pre_hooks.values()):
                    r = h(self.module, grad_output)
                    if r is not None:
                        grad_output = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                        replaced = grad_output
                self.grad_output = grad_output
                if self.pending == 0:
                    self._run_hooks()
            if replaced is not None and self.n_outputs == 1:
                return replaced[0]
            return None

        return hook

    def input_grad(self, index: int, grad: Any) -> Any:
        self.input_grads[index] = Tensor(grad)
        self.pending -= 1
        if self.pending == 0:
            new = self._run_hooks()
            if new is not None:
                g = new[index]
                return None if g is None else _as_array(g)
        return grad

    def _run_hooks(self) -> tuple | None:
        grad_input = tuple(self.input_grads) if self.n_tensor_inputs else (None,)
        replaced = None
        for h in list(self.module._backward_hooks.values()):
            r = h(self.module, grad_input, self.grad_output)
            if r is not None:
                grad_input = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                replaced = grad_input
        return replaced
