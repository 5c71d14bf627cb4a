"""pytest-benchmark suite for striate's SGEMM on the WORKLOADS.md shapes.

    PYTHONPATH=src python -m pytest bench/bench_gemm.py --benchmark-only
(`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` for the NumPy rows.)
"""

import os
import sys

import numpy as np
import pytest

from striate.kernels import gemm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_gemm import WORKLOADS


def _operands(name):
    m, k, n = WORKLOADS[name]
    rng = np.random.default_rng(0)
    return (rng.standard_normal((m, k)).astype(np.float32),
            rng.standard_normal((k, n)).astype(np.float32), np.empty((m, n), np.float32))


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_striate_gemm(benchmark, nthreads, name):
    a, b, c = _operands(name)
    benchmark.group = f"gemm {name} {nthreads}thr"
    benchmark.extra_info["gflop"] = 2.0 * a.shape[0] * a.shape[1] * b.shape[1] / 1e9
    benchmark(gemm, a, b, c)


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_numpy_matmul(benchmark, nthreads, name):
    a, b, c = _operands(name)
    benchmark.group = f"gemm {name} {nthreads}thr"
    benchmark(np.matmul, a, b, out=c)
