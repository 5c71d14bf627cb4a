"""The Winograd F(4x4, 3x3) path (forced with set_conv_winograd("always")) vs the float64
NumPy reference on every ISA path and 1/2 threads: odd sizes, sizes around the 4x4 tile,
asymmetric and large padding, batch 1, chunking; the auto mode; the mode switch."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from striate import kernels as K
from striate.backend import reference as R

# (N, Cin, H, W, Cout, padding)
CASES = [
    (1, 1, 1, 1, 1, 1),                  # one pixel, one channel
    (1, 3, 3, 3, 2, 0),                  # 1x1 output
    (2, 5, 4, 4, 7, 1),                  # exactly one tile
    (1, 4, 5, 5, 3, 1),                  # one tile + 1 row/column
    (3, 17, 7, 9, 19, 1),                # prime channels, partial tiles
    (2, 16, 8, 8, 16, 1),                # whole tiles
    (1, 8, 13, 11, 5, 2),                # padding 2
    (2, 6, 9, 10, 4, (1, 0, 2, 1)),      # asymmetric padding
    (1, 4, 6, 7, 5, (3, 0, 0, 3)),       # padding > 2 (backward-data reads inside dy)
    (2, 3, 3, 12, 4, (0, 2, 1, 0)),      # short and wide
    (1, 33, 16, 16, 31, 1),              # more than 16 tiles (several lanes blocks)
    (5, 2, 6, 6, 3, 1),                  # 5 images: tiles of several images per lane block
    (2, 3, 61, 67, 4, 1),                # 16 x 17 tiles per image: lane blocks across rows
    (3, 2, 21, 5, 3, (2, 1, 0, 2)),      # tall and narrow, one tile column, uneven padding
    (1, 5, 12, 16, 6, 1),                # 12 tiles: a block of 16 with a half-empty half
    (2, 4, 20, 12, 3, 1),                # 30 tiles: a full block and one of 14
]


def _tol(ref: np.ndarray) -> float:
    return 3e-5 * float(np.abs(ref).max()) + 1e-6


@pytest.fixture
def winograd_always():
    saved = K.set_conv_winograd("always")
    yield
    K.set_conv_winograd(saved)


def _run_all(x, w, b, gy, pad):
    y = K.conv2d(x, w, b, 1, pad, 1, 1)
    dx = K.conv2d_backward_data(gy, w, x.shape, 1, pad, 1, 1)
    dw = K.conv2d_backward_weight(gy, x, w.shape, 1, pad, 1, 1)
    return y, dx, dw


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_winograd_vs_reference(case, arch, threads, winograd_always, rng):
    n, c, h, wd, k, pad = case
    x = rng.standard_normal((n, c, h, wd)).astype(np.float32)
    w = rng.standard_normal((k, c, 3, 3)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    y_shape = K.conv2d_output_shape(x.shape, w.shape, 1, pad, 1, 1)
    gy = rng.standard_normal(y_shape).astype(np.float32)
    y, dx, dw = _run_all(x, w, b, gy, pad)
    f64 = (lambda a: a.astype(np.float64))
    yr = R.conv2d(f64(x), f64(w), f64(b), 1, pad, 1, 1)
    dxr = R.conv2d_backward_data(f64(gy), f64(w), x.shape, 1, pad, 1, 1)
    dwr = R.conv2d_backward_weight(f64(gy), f64(x), w.shape, 1, pad, 1, 1)
    for name, got, ref in (("forward", y, yr), ("backward-data", dx, dxr),
                           ("backward-weight", dw, dwr)):
        assert got.shape == ref.shape, name
        err = float(np.abs(got - ref).max())
        assert err <= _tol(ref), f"{name}: max error {err:.3g} > {_tol(ref):.3g}"


def test_winograd_chunks_and_threads_agree(winograd_always, rng):
    """One image per chunk (smallest budget) gives the results of one chunk, within float
    rounding, and 1 and 2 threads give bit-identical results."""
    import striate

    x = rng.standard_normal((7, 20, 10, 9)).astype(np.float32)
    w = rng.standard_normal((24, 20, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((7, 24, 10, 9)).astype(np.float32)
    saved_t = striate.get_num_threads()
    try:
        striate.set_num_threads(1)
        one = _run_all(x, w, None, gy, 1)
        striate.set_num_threads(2)
        two = _run_all(x, w, None, gy, 1)
        saved = K.set_conv_chunk_bytes(1)
        try:
            small = _run_all(x, w, None, gy, 1)
        finally:
            K.set_conv_chunk_bytes(saved)
    finally:
        striate.set_num_threads(saved_t)
    for a, b_, c in zip(one, two, small):
        np.testing.assert_array_equal(a, b_)
        np.testing.assert_allclose(c, a, rtol=1e-5, atol=1e-4 * float(np.abs(a).max()))


@pytest.mark.parametrize("mode", ["auto", "never"])
def test_modes_agree_on_workload_shapes(mode, rng):
    """Shapes of the benchmark workloads (scaled down in batch) in auto mode, where the cost
    model picks Winograd for some directions, and with it off."""
    saved = K.set_conv_winograd(mode)
    try:
        for n, c, k, h in ((2, 64, 64, 32), (3, 128, 128, 16), (4, 256, 256, 8), (5, 32, 64, 14)):
            x = rng.standard_normal((n, c, h, h)).astype(np.float32)
            w = (rng.standard_normal((k, c, 3, 3)) * 0.1).astype(np.float32)
            gy = rng.standard_normal((n, k, h, h)).astype(np.float32)
            got = _run_all(x, w, None, gy, 1)
            f64 = (lambda a: a.astype(np.float64))
            refs = (R.conv2d(f64(x), f64(w), None, 1, 1, 1, 1),
                    R.conv2d_backward_data(f64(gy), f64(w), x.shape, 1, 1, 1, 1),
                    R.conv2d_backward_weight(f64(gy), f64(x), w.shape, 1, 1, 1, 1))
            for g, r in zip(got, refs):
                assert float(np.abs(g - r).max()) <= _tol(r)
    finally:
        K.set_conv_winograd(saved)


def test_not_applicable_shapes_fall_back(winograd_always, rng):
    """Strided, dilated, grouped and non-3x3 layers never take the Winograd path."""
    x = rng.standard_normal((2, 4, 9, 9)).astype(np.float32)
    for w_shape, stride, dil, groups in (((6, 4, 3, 3), 2, 1, 1), ((6, 4, 3, 3), 1, 2, 1),
                                         ((6, 2, 3, 3), 1, 1, 2), ((6, 4, 5, 5), 1, 1, 1)):
        w = rng.standard_normal(w_shape).astype(np.float32)
        y = K.conv2d(x, w, None, stride, 1, dil, groups)
        r = R.conv2d(x.astype(np.float64), w.astype(np.float64), None, stride, 1, dil, groups)
        np.testing.assert_allclose(y, r, rtol=1e-5, atol=1e-5)


def test_mode_switch():
    saved = K.set_conv_winograd("never")
    try:
        assert K.conv_winograd() == "never"
        assert K.set_conv_winograd("always") == "never"
        assert K.conv_winograd() == "always"
        with pytest.raises(ValueError,
                           match=r"set_conv_winograd: mode must be one of .*'sometimes'"):
            K.set_conv_winograd("sometimes")
        assert K.conv_winograd() == "always"
    finally:
        K.set_conv_winograd(saved)
    assert K.conv_winograd() == saved


def test_mode_from_environment():
    code = "from striate import kernels as K; print(K.conv_winograd())"
    env = dict(os.environ, STRIATE_CONV_WINOGRAD="never")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "never"
    env["STRIATE_CONV_WINOGRAD"] = "bogus"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=False)
    assert out.returncode != 0
    assert "STRIATE_CONV_WINOGRAD: expected one of" in out.stderr and "'bogus'" in out.stderr
