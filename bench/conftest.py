"""Fixtures shared by the bench/bench_*.py pytest-benchmark suites."""

from __future__ import annotations

import pytest

import striate


@pytest.fixture(params=[1, 2], ids=lambda t: f"{t}thr")
def nthreads(request):
    """Run a benchmark with striate (and NumPy's BLAS, via threadpoolctl) at 1 and 2 threads."""
    saved = striate.get_num_threads()
    striate.set_num_threads(request.param)
    try:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(request.param, user_api="blas"):
            yield request.param
    except ImportError:
        yield request.param
    striate.set_num_threads(saved)
