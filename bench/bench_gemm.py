"""pytest-benchmark suite for striate's SGEMM on the WORKLOADS.md shapes.

    PYTHONPATH=src python -m pytest bench/bench_gemm.py --benchmark-only
(`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` for the NumPy rows.)
"""

import numpy as np
import pytest

import striate
from striate.kernels import gemm

WORKLOADS = {
    "sq256": (256, 256, 256),
    "sq512": (512, 512, 512),
    "sq1024": (1024, 1024, 1024),
    "sq2048": (2048, 2048, 2048),
    "conv64x576x1024": (64, 576, 1024),
    "conv128x1152x256": (128, 1152, 256),
    "conv512x4608x16": (512, 4608, 16),
}


@pytest.fixture(params=[1, 2], ids=lambda t: f"{t}thr")
def nthreads(request):
    saved = striate.get_num_threads()
    striate.set_num_threads(request.param)
    try:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(request.param, user_api="blas"):
            yield request.param
    except ImportError:
        yield request.param
    striate.set_num_threads(saved)


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
