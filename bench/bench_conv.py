"""pytest-benchmark suite for striate's convolution on the WORKLOADS.md conv rows a..h (and i,
a layer with few outputs): forward and forward+backward (dX + dW), 1 and 2 threads.

    PYTHONPATH=src python -m pytest bench/bench_conv.py --benchmark-only
(side-by-side peers: bench/compare_conv.py)
"""

import os
import sys

import numpy as np
import pytest

from striate import kernels as K

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_conv import WORKLOADS


def _operands(name):
    n, cin, cout, h, w, k, pad, g, fwd_only = WORKLOADS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, cin, h, w)).astype(np.float32)
    wt = (rng.standard_normal((cout, cin // g, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    gy = rng.standard_normal(K.conv2d_output_shape(x.shape, wt.shape, 1, pad, 1, g))
    return x, wt, b, gy.astype(np.float32), pad, g, fwd_only


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_conv_forward(benchmark, name, nthreads):
    x, wt, b, _, pad, g, _ = _operands(name)
    y = benchmark(K.conv2d, x, wt, b, 1, pad, 1, g)
    assert y.shape[0] == x.shape[0]


@pytest.mark.parametrize("name", [n for n, v in WORKLOADS.items() if not v[-1]])
def test_conv_forward_backward(benchmark, name, nthreads):
    x, wt, b, gy, pad, g, _ = _operands(name)

    def step():
        K.conv2d(x, wt, b, 1, pad, 1, g)
        K.conv2d_backward_data(gy, wt, x.shape, 1, pad, 1, g)
        K.conv2d_backward_weight(gy, x, wt.shape, 1, pad, 1, g)
        K.conv2d_backward_bias(gy)

    benchmark(step)
