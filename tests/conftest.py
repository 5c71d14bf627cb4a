"""Shared fixtures: every kernel test runs under each ISA path this CPU has and with 1 and 2
threads (forced at run time, as STRIATE_ARCH would)."""

import numpy as np
import pytest

import striate


@pytest.fixture(params=striate.available_archs())
def arch(request):
    saved = striate.get_arch()
    striate.set_arch(request.param)
    yield request.param
    striate.set_arch(saved)


@pytest.fixture(params=[1, 2])
def threads(request):
    saved = striate.get_num_threads()
    striate.set_num_threads(request.param)
    yield request.param
    striate.set_num_threads(saved)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_collection_modifyitems(config, items):
    try:
        import torch  # noqa: F401
    except ImportError:
        skip = pytest.mark.skip(reason="PyTorch not installed (parity test)")
        for item in items:
            if "parity" in item.keywords:
                item.add_marker(skip)

