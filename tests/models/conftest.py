"""Fixtures of the model-zoo tests: ``tvref``, the torchvision re-implementation (torch
needed; the test is skipped without it)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest


@pytest.fixture(scope="session")
def tvref():
    pytest.importorskip("torch")
    name = "_striate_tests_tv_reference"
    if name not in sys.modules:
        path = pathlib.Path(__file__).with_name("tv_reference.py")
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]
