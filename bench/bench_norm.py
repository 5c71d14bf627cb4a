"""pytest-benchmark suite for striate's normalisation kernels: BatchNorm2d training (alone and
with the ReLU fused) on 64x64x32x32, LayerNorm over 384 on 64x197x384 and GELU (erf, tanh) on
64x197x384, forward and forward+backward, 1 and 2 threads.

    PYTHONPATH=src python -m pytest bench/bench_norm.py --benchmark-only
(side-by-side peers: bench/compare_norm.py)
"""

import os
import sys

import numpy as np
import pytest

from striate import kernels as K

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_norm import BN_SHAPE, LN_SHAPE


def _data(shape, c):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(c).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    return x, g, w, b


def test_batch_norm_forward(benchmark, nthreads):
    x, _, w, b = _data(BN_SHAPE, BN_SHAPE[1])
    benchmark(K.batch_norm_train_forward, x, w, b)


def test_batch_norm_forward_backward(benchmark, nthreads):
    x, g, w, b = _data(BN_SHAPE, BN_SHAPE[1])

    def run():
        _, m, s = K.batch_norm_train_forward(x, w, b)
        return K.batch_norm_backward(g, x, w, m, s)

    benchmark(run)


def test_batch_norm_relu_forward_backward(benchmark, nthreads):
    x, g, w, b = _data(BN_SHAPE, BN_SHAPE[1])

    def run():
        _, m, s = K.batch_norm_train_forward(x, w, b, activation="relu")
        return K.batch_norm_backward(g, x, w, m, s, bias=b, activation="relu")

    benchmark(run)


def test_layer_norm_forward(benchmark, nthreads):
    x, _, w, b = _data(LN_SHAPE, LN_SHAPE[-1])
    benchmark(K.layer_norm_forward, x.reshape(-1, LN_SHAPE[-1]), w, b)


def test_layer_norm_forward_backward(benchmark, nthreads):
    x, g, w, b = _data(LN_SHAPE, LN_SHAPE[-1])
    x2, g2 = x.reshape(-1, LN_SHAPE[-1]), g.reshape(-1, LN_SHAPE[-1])

    def run():
        _, m, s = K.layer_norm_forward(x2, w, b)
        return K.layer_norm_backward(g2, x2, w, m, s)

    benchmark(run)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_forward(benchmark, nthreads, approximate):
    x, _, _, _ = _data(LN_SHAPE, 1)
    benchmark(K.gelu, x, approximate)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_forward_backward(benchmark, nthreads, approximate):
    x, g, _, _ = _data(LN_SHAPE, 1)

    def run():
        K.gelu(x, approximate)
        return K.gelu_backward(x, g, approximate)

    benchmark(run)
