"""The model registry: architectures by name, created with a config that checkpoints record.

A model factory is any callable ``factory(num_classes=..., in_channels=..., **cfg) -> Module``
registered under a name with :func:`register_model`. :func:`create` builds it and attaches
``model.arch = {"name": ..., "config": {...}}`` so a checkpoint can rebuild the same model.

Example:
    >>> from striate.models import create, list_models
    >>> "small_cnn" in list_models()
    True
    >>> m = create("lenet5", num_classes=10, in_channels=1)
    >>> m.arch["name"]
    'lenet5'
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelSpec", "create", "get_spec", "list_models", "model_config", "register_model"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered architecture: its name, factory, one-line summary and default input."""

    name: str
    factory: Callable[..., Any]
    summary: str = ""
    default_cfg: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str | Callable | None = None, *, summary: str | None = None,
                   default_cfg: dict[str, Any] | None = None,
                   overwrite: bool = False) -> Callable:
    """Decorator registering a model factory (function or class) under ``name``.

    Usable bare (``@register_model``, the name is the function's) or with a name
    (``@register_model("resnet18")``).

    Args:
        name: registry name (lower case, ``[a-z0-9_]``); default: the factory's ``__name__``.
        summary: one line shown by ``striate info``; default: the docstring's first line.
        default_cfg: config defaults recorded with the model (e.g. ``{"input_size": 28}``).
        overwrite: allow replacing an existing entry.

    Raises:
        ValueError: the name is taken (and ``overwrite`` is False).
    """

    def deco(fn: Callable, _name: str | None = None) -> Callable:
        reg = _name or fn.__name__
        if reg in _REGISTRY and not overwrite and _REGISTRY[reg].factory is not fn:
            raise ValueError(f"register_model: a model named {reg!r} is already registered")
        doc = inspect.getdoc(fn) or ""
        line = summary if summary is not None else (doc.splitlines()[0] if doc else "")
        _REGISTRY[reg] = ModelSpec(reg, fn, line, dict(default_cfg or {}))
        return fn

    if callable(name):  # bare decorator
        return deco(name)
    return lambda fn: deco(fn, name)


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``.

    Raises:
        ValueError: unknown name (the message lists close matches and all names).
    """
    spec = _REGISTRY.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}; available: {', '.join(list_models())}")
    return spec


def create(name: str, num_classes: int = 10, in_channels: int = 1, **cfg: Any):
    """Build the registered model ``name``.

    Args:
        name: a name from :func:`list_models`.
        num_classes: size of the output layer.
        in_channels: channels of the input images (1 grayscale, 3 RGB).
        **cfg: architecture options of that model (e.g. ``input_size=32``, ``dropout=0.3``).

    Returns:
        The model (a ``striate.nn.Module``) with ``model.arch = {"name", "config"}``.

    Raises:
        ValueError: unknown name, bad ``num_classes``/``in_channels``, or an option the
            model does not take.
    """
    spec = get_spec(name)
    for arg, v in (("num_classes", num_classes), ("in_channels", in_channels)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"create({name!r}): {arg} must be a positive int, got {v!r}")
    full = {**spec.default_cfg, **cfg}
    try:
        sig = inspect.signature(spec.factory)
        has_var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        unknown = [k for k in full if k not in sig.parameters and not has_var_kw]
    except (TypeError, ValueError):
        unknown = []
    if unknown:
        raise ValueError(f"create({name!r}): unknown option(s) {', '.join(unknown)}")
    model = spec.factory(num_classes=num_classes, in_channels=in_channels, **full)
    config = {"num_classes": num_classes, "in_channels": in_channels, **full}
    try:
        object.__setattr__(model, "arch", {"name": name, "config": config})
    except (AttributeError, TypeError):
        pass
    return model


def model_config(model: Any) -> dict[str, Any] | None:
    """``{"name", "config"}`` of a model made by :func:`create` (None for other models)."""
    arch = getattr(model, "arch", None)
    return dict(arch) if isinstance(arch, dict) else None
