"""pytest-benchmark suite for striate's pooling and elementwise kernels on the WORKLOADS.md
pooling row and the head / activation shapes (see compare_pool.py for the peers).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src \\
        python -m pytest bench/bench_pool.py --benchmark-only
"""

import os
import sys

import numpy as np
import pytest

from striate import kernels as K

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_pool as peers

X = np.random.default_rng(0).standard_normal((64, 64, 28, 28)).astype(np.float32)
GY = np.random.default_rng(1).standard_normal((64, 64, 14, 14)).astype(np.float32)


def _max_fwd_bwd(k, s, p):
    _, idx = K.max_pool2d(X, k, s, p)
    return K.max_pool2d_backward(GY, idx, X.shape)


POOL = {
    "maxpool2x2s2 fwd": lambda: K.max_pool2d(X, 2),
    "maxpool2x2s2 fwd+bwd": lambda: _max_fwd_bwd(2, 2, 0),
    "maxpool3x3s2p1 fwd": lambda: K.max_pool2d(X, 3, 2, 1),
    "maxpool3x3s2p1 fwd+bwd": lambda: _max_fwd_bwd(3, 2, 1),
    "avgpool2x2s2 fwd": lambda: K.avg_pool2d(X, 2),
    "avgpool2x2s2 bwd": lambda: K.avg_pool2d_backward(GY, X.shape, 2),
}


@pytest.mark.parametrize("name", list(POOL))
def test_striate_pool(benchmark, nthreads, name):
    benchmark.group = f"pool {name} {nthreads}thr"
    benchmark(POOL[name])


def test_numpy_maxpool2x2(benchmark):
    benchmark.group = "pool maxpool2x2s2 fwd numpy"
    benchmark(peers.np_maxpool2, X)


GAP = np.random.default_rng(2).standard_normal((64, 512, 7, 7)).astype(np.float32)
BIAS = np.random.default_rng(3).standard_normal(64).astype(np.float32)


@pytest.mark.parametrize("c", [10, 1000])
def test_striate_softmax_xent(benchmark, nthreads, c):
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((128, c)).astype(np.float32)
    t = rng.integers(0, c, size=128)
    gl = np.full(128, 1.0 / 128, np.float32)

    def step():
        _, prob = K.softmax_cross_entropy(logits, t)
        return K.softmax_cross_entropy_backward(prob, t, gl)

    benchmark.group = f"softmax-xent N=128 C={c} {nthreads}thr"
    benchmark(step)


def test_striate_global_avg_pool(benchmark, nthreads):
    benchmark.group = f"global avgpool 64x512x7x7 {nthreads}thr"
    benchmark(K.global_avg_pool2d, GAP)


def test_striate_bias_relu(benchmark, nthreads):
    benchmark.group = f"bias+relu 64x64x28x28 {nthreads}thr"
    benchmark(K.bias_act, X, BIAS, "relu")
