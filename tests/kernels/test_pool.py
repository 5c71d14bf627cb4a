"""Pooling kernels vs the NumPy reference (every ISA path, 1 and 2 threads), reference
backward vs finite differences, thread invariance, bad input, and parity with PyTorch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _helpers import numgrad, per_thread_count

from striate import kernels as K
from striate.backend import reference as R

SHAPES = [(1, 1, 1, 1), (1, 2, 5, 7), (2, 3, 13, 17), (1, 1, 28, 28), (1, 2, 3, 37),
          (2, 1, 31, 16)]


def _configs():
    """(kernel, stride, padding, dilation, ceil_mode) combos that PyTorch accepts."""
    out = []
    for k, s, ceil in itertools.product((1, 2, 3, 5), (1, 2, 3), (False, True)):
        for p in sorted({0, k // 2}):
            for d in (1, 2) if k > 1 else (1,):
                out.append((k, s, p, d, ceil))
    out += [((2, 3), (1, 2), (1, 0), (1, 2), True), ((3, 1), (2, 1), (1, 0), 1, False),
            ((5, 2), (3, 2), (2, 1), (2, 1), True)]
    return out


CONFIGS = _configs()


def _valid(shape, k, s, p, d, ceil):
    try:
        R.pool2d_output_shape(shape, k, s, p, d, ceil)
    except ValueError:
        return False
    return True


def _data(rng, shape, ties=False):
    if ties:  # small integers: many ties, exercising the first-wins rule
        return rng.integers(-3, 3, size=shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def test_output_shape_matches_reference():
    for shape, (k, s, p, d, ceil) in itertools.product(SHAPES, CONFIGS):
        if _valid(shape, k, s, p, d, ceil):
            assert K.pool2d_output_shape(shape, k, s, p, d, ceil) == \
                R.pool2d_output_shape(shape, k, s, p, d, ceil)
        else:
            with pytest.raises(ValueError, match="output size is too small"):
                K.pool2d_output_shape(shape, k, s, p, d, ceil)


def test_max_pool_matches_reference(arch, threads, rng):
    n = 0
    for shape, (k, s, p, d, ceil) in itertools.product(SHAPES, CONFIGS):
        if not _valid(shape, k, s, p, d, ceil):
            continue
        x = _data(rng, shape, ties=(n % 2 == 0))
        y, i = K.max_pool2d(x, k, s, p, d, ceil)
        yr, ir = R.max_pool2d(x, k, s, p, d, ceil)
        assert y.dtype == np.float32 and i.dtype == np.int32
        np.testing.assert_array_equal(y, yr, err_msg=f"{shape} {k, s, p, d, ceil}")
        np.testing.assert_array_equal(i, ir, err_msg=f"{shape} {k, s, p, d, ceil}")
        gy = rng.standard_normal(y.shape).astype(np.float32)
        np.testing.assert_allclose(K.max_pool2d_backward(gy, i, shape),
                                   R.max_pool2d_backward(gy, ir, shape), rtol=1e-6, atol=1e-6)
        n += 1
    assert n > 150


_AVG_CASES: list = []


def _avg_cases():
    """Inputs and reference results of the average-pool grid, computed once for all the
    arch / threads combinations (the reference backward is the slow part)."""
    if not _AVG_CASES:
        rng = np.random.default_rng(7)
        for shape, (k, s, p, d, ceil) in itertools.product(SHAPES, CONFIGS):
            if d != 1 or not _valid(shape, k, s, p, 1, ceil):
                continue
            x = _data(rng, shape)
            for cip, dov in ((True, None), (False, None), (True, 3), (False, -2)):
                kw = {"ceil_mode": ceil, "count_include_pad": cip, "divisor_override": dov}
                y = R.avg_pool2d(x, k, s, p, **kw)
                gy = rng.standard_normal(y.shape).astype(np.float32)
                _AVG_CASES.append((shape, (k, s, p), kw, x, y, gy,
                                   R.avg_pool2d_backward(gy, shape, k, s, p, **kw)))
    return _AVG_CASES


def test_avg_pool_matches_reference(arch, threads):
    cases = _avg_cases()
    for shape, ksp, kw, x, yr, gy, gxr in cases:
        y = K.avg_pool2d(x, *ksp, **kw)
        np.testing.assert_allclose(y, yr, rtol=1e-5, atol=1e-6, err_msg=f"{shape} {ksp} {kw}")
        np.testing.assert_allclose(K.avg_pool2d_backward(gy, shape, *ksp, **kw), gxr,
                                   rtol=1e-5, atol=1e-6, err_msg=f"{shape} {ksp} {kw}")
    assert len(cases) > 150


def test_global_avg_pool_matches_reference(arch, threads, rng):
    for shape in SHAPES + [(3, 5, 56, 56), (2, 70, 1, 9)]:
        x = _data(rng, shape)
        y = K.global_avg_pool2d(x)
        assert y.shape == shape[:2] + (1, 1)
        np.testing.assert_allclose(y, R.global_avg_pool2d(x), rtol=1e-5, atol=1e-6)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        np.testing.assert_allclose(K.global_avg_pool2d_backward(gy, shape),
                                   R.global_avg_pool2d_backward(gy, shape), rtol=1e-6)


@pytest.mark.parametrize("shape, k, s, p, d", [
    ((1, 2, 2, 60), (1, 32), 1, (0, 16), 1),    # border blocks in the middle of a row
    ((1, 1, 3, 37), (2, 34), (1, 2), (1, 17), 1),  # wider than the tabulated border masks
    ((2, 1, 5, 80), (3, 9), (2, 3), (1, 4), (2, 5)),
    ((1, 1, 40, 70), 3, 2, 1, 1),               # several column blocks, rows split in tasks
])
def test_wide_windows_match_reference(arch, threads, rng, shape, k, s, p, d):
    x = _data(rng, shape, ties=True)
    for ceil in (False, True):
        y, i = K.max_pool2d(x, k, s, p, d, ceil)
        yr, ir = R.max_pool2d(x, k, s, p, d, ceil)
        np.testing.assert_array_equal(y, yr)
        np.testing.assert_array_equal(i, ir)
        if d == 1:
            for cip in (True, False):
                np.testing.assert_allclose(
                    K.avg_pool2d(x, k, s, p, ceil, cip),
                    R.avg_pool2d(x, k, s, p, ceil, cip), rtol=1e-5, atol=1e-6)


def test_max_pool_nan_and_inf(arch):
    x = np.full((1, 1, 4, 6), -np.inf, dtype=np.float32)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 1, 0] = np.nan  # later NaN in the same window wins
    x[0, 0, 2, 2] = 5.0
    for k, s, p in ((2, 2, 0), (3, 1, 1), (2, 1, 1)):
        y, i = K.max_pool2d(x, k, s, p)
        yr, ir = R.max_pool2d(x, k, s, p)
        np.testing.assert_array_equal(y, yr)
        np.testing.assert_array_equal(i, ir)
    y, i = K.max_pool2d(x, 2)
    assert np.isnan(y[0, 0, 0, 0]) and i[0, 0, 0, 0] == 6
    assert y[0, 0, 0, 2] == -np.inf and i[0, 0, 0, 2] == 4  # all -inf: first element


def test_max_pool_window_outside_input_gives_minus_one():
    # Dilation can put every tap of a window outside the input: -inf and index -1 (skipped
    # by the backward), never an out-of-plane index.
    x = np.ones((1, 1, 2, 2), np.float32)
    y, i = K.max_pool2d(x, 2, stride=1, padding=1, dilation=3)
    assert y.shape == (1, 1, 1, 1) and y[0, 0, 0, 0] == -np.inf and i[0, 0, 0, 0] == -1
    _yr, ir = R.max_pool2d(x, 2, stride=1, padding=1, dilation=3)
    np.testing.assert_array_equal(i, ir)
    g = K.max_pool2d_backward(np.ones_like(y), i, x.shape)
    np.testing.assert_array_equal(g, np.zeros_like(x))


def test_thread_invariance(arch, rng):
    x = rng.standard_normal((4, 16, 33, 30)).astype(np.float32)

    def run():
        y, i = K.max_pool2d(x, 3, 2, 1, ceil_mode=True)
        a = K.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
        return (y, i, a, K.max_pool2d_backward(y, i, x.shape),
                K.avg_pool2d_backward(a, x.shape, 3, 2, 1, True, False), K.global_avg_pool2d(x))

    for u, v in zip(*per_thread_count(run)):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("cfg", [(2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False),
                                 ((2, 3), (2, 1), (1, 1), 1, True)])
def test_reference_max_backward_finite_differences(cfg, rng):
    k, s, p, d, ceil = cfg
    shape = (1, 2, 6, 7)
    x = rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64) * 0.1  # no ties
    y, _ = R.max_pool2d(x, k, s, p, d, ceil)
    w = rng.standard_normal(y.shape)

    def f(z):
        return float((R.max_pool2d(z, k, s, p, d, ceil)[0] * w).sum())

    _, i = R.max_pool2d(x, k, s, p, d, ceil)
    np.testing.assert_allclose(R.max_pool2d_backward(w, i, shape), numgrad(f, x), atol=1e-6)


@pytest.mark.parametrize("cfg", [(2, 2, 0, False, True, None), (3, 2, 1, True, True, None),
                                 (3, 2, 1, True, False, None), (3, 3, 1, True, True, 4),
                                 ((3, 2), (2, 1), (1, 1), False, False, None)])
def test_reference_avg_backward_finite_differences(cfg, rng):
    k, s, p, ceil, cip, dov = cfg
    shape = (2, 1, 7, 6)
    x = rng.standard_normal(shape)
    kw = {"ceil_mode": ceil, "count_include_pad": cip, "divisor_override": dov}
    w = rng.standard_normal(R.avg_pool2d(x, k, s, p, **kw).shape)

    def f(z):
        return float((R.avg_pool2d(z, k, s, p, **kw) * w).sum())

    np.testing.assert_allclose(R.avg_pool2d_backward(w, shape, k, s, p, **kw),
                               numgrad(f, x), atol=1e-7)


def test_reference_global_avg_backward_finite_differences(rng):
    x = rng.standard_normal((2, 3, 3, 4))
    w = rng.standard_normal((2, 3, 1, 1))
    np.testing.assert_allclose(R.global_avg_pool2d_backward(w, x.shape),
                               numgrad(lambda z: float((R.global_avg_pool2d(z) * w).sum()), x),
                               atol=1e-8)


X4 = np.zeros((1, 1, 4, 4), np.float32)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: K.max_pool2d(np.zeros((4, 4), np.float32), 2), ValueError, "4 dimensions"),
    (lambda: K.max_pool2d(np.zeros((1, 1, 4, 4), np.int64), 2), TypeError, "floating"),
    (lambda: K.max_pool2d([[1.0]], 2), TypeError, "numpy.ndarray"),
    (lambda: K.max_pool2d(X4, 0), ValueError, r"kernel_size in \[1, 1073741824\]"),
    (lambda: K.max_pool2d(X4, 2, stride=0), ValueError, r"stride in \[1, "),
    (lambda: K.max_pool2d(X4, 2, padding=-1), ValueError, r"padding in \[0, "),
    (lambda: K.max_pool2d(X4, 2, dilation=0), ValueError, r"dilation in \[1, "),
    (lambda: K.max_pool2d(X4, 2, stride=2**31), ValueError, r"stride in \[1, 1073741824\]"),
    (lambda: K.max_pool2d(X4, 1, dilation=2**31), ValueError, "dilation in"),
    (lambda: K.avg_pool2d(X4, 2, stride=2**31), ValueError, "stride in"),
    (lambda: K.max_pool2d(X4, (2**31, 1), padding=(2**30, 0)), ValueError, "kernel_size in"),
    (lambda: K.avg_pool2d(X4, 2, divisor_override=2**63), ValueError,
     r"divisor_override nonzero and within int32"),
    (lambda: K.max_pool2d(X4, (2.9, 2.9)), TypeError,
     r"expected kernel_size to be an int or a pair of ints, got \(2.9, 2.9\)"),
    (lambda: K.max_pool2d(X4, "22"), TypeError, "kernel_size"),
    (lambda: K.max_pool2d(X4, (2, 2, 2)), ValueError, "pair of ints"),
    (lambda: K.max_pool2d(X4, 3, padding=2), ValueError, r"at most half.*\(2, 2\)"),
    (lambda: K.avg_pool2d(X4, (4, 2), padding=(1, 2)), ValueError, "at most half"),
    (lambda: K.max_pool2d(X4, 5), ValueError, r"too small.*\(4, 4\).*\(0, 0\)"),
    (lambda: K.max_pool2d(X4, 3, stride=1, dilation=2), ValueError, r"output size \(0, 0\)"),
    (lambda: K.avg_pool2d(X4, 2, divisor_override=0), ValueError, "nonzero"),
    (lambda: K.avg_pool2d(X4, 2, divisor_override=1.5), TypeError, "divisor_override"),
    (lambda: K.max_pool2d_backward(np.zeros((1, 1, 2, 2), np.float32),
                                   np.zeros((1, 1, 2, 2), np.float32), (1, 1, 4, 4)),
     TypeError, "integer dtype"),
    (lambda: K.max_pool2d_backward(np.zeros((1, 1, 2, 2), np.float32),
                                   np.zeros((1, 1, 2, 3), np.int32), (1, 1, 4, 4)),
     ValueError, "shape of grad_out"),
    (lambda: K.max_pool2d_backward(np.zeros((1, 1, 2, 2), np.float32),
                                   np.zeros((1, 1, 2, 2), np.int32), (1, 2, 4, 4)),
     ValueError, "input_shape"),
    (lambda: K.max_pool2d_backward(np.zeros((1, 1, 2, 2), np.float32),
                                   np.zeros((1, 1, 2, 2), np.int32), (4, 4)),
     ValueError, "4 non-negative ints"),
    (lambda: K.avg_pool2d_backward(np.zeros((1, 1, 3, 3), np.float32), (1, 1, 4, 4), 2),
     ValueError, r"expected grad_out with shape \(1, 1, 2, 2\)"),
    (lambda: K.global_avg_pool2d(np.zeros((1, 1, 0, 3), np.float32)), ValueError, "non-empty"),
    (lambda: K.global_avg_pool2d_backward(np.zeros((2, 1, 1, 1), np.float32), (1, 1, 3, 3)),
     ValueError, "grad_out with shape"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("dtype", [np.int64, np.uint64, np.int16])
def test_max_backward_wide_indices_outside_the_plane_are_ignored(arch, rng, dtype):
    """Indices of any integer dtype: those outside [0, H*W) add nothing, even when they would
    wrap into the plane as int32 (5 + 2**32 is not 5)."""
    x = rng.standard_normal((2, 3, 4, 6)).astype(np.float32)
    _, idx = K.max_pool2d(x, 2)
    g = rng.standard_normal(idx.shape).astype(np.float32)
    wide = idx.astype(dtype)
    if np.iinfo(dtype).max > 2**32:
        wide[0, 0, 0, 0] += 2**32
        wide[1, 2, 1, 2] += 2**63 if dtype == np.uint64 else 2**40
    else:
        wide[0, 0, 0, 0] = np.iinfo(dtype).max
    want = K.max_pool2d_backward(g, idx, x.shape)
    want[0, 0].flat[idx[0, 0, 0, 0]] -= g[0, 0, 0, 0]
    if np.iinfo(dtype).max > 2**32:
        want[1, 2].flat[idx[1, 2, 1, 2]] -= g[1, 2, 1, 2]
    np.testing.assert_allclose(K.max_pool2d_backward(g, wide, x.shape), want, atol=1e-6)


def test_empty_batch_and_float64_input():
    y, i = K.max_pool2d(np.zeros((0, 3, 4, 4), np.float32), 2)
    assert y.shape == (0, 3, 2, 2) and i.shape == (0, 3, 2, 2)
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(K.avg_pool2d(x, 2), [[[[2.5, 4.5], [10.5, 12.5]]]])


@pytest.mark.parity
def test_parity_with_torch(rng):
    torch = pytest.importorskip("torch")
    saved = torch.get_num_threads()
    torch.set_num_threads(1)  # small problems: one thread is fastest on a busy machine
    try:
        _torch_parity(torch, rng)
    finally:
        torch.set_num_threads(saved)


def _torch_parity(torch, rng):
    F = torch.nn.functional
    for n, (shape, (k, s, p, d, ceil)) in enumerate(itertools.product(SHAPES[1:4],
                                                                       CONFIGS[::3])):
        if not _valid(shape, k, s, p, d, ceil):
            continue
        x = _data(rng, shape, ties=(n % 2 == 0))
        tx = torch.from_numpy(x).requires_grad_()
        ty, ti = F.max_pool2d(tx, k, s, p, d, ceil, return_indices=True)
        if (ti.numpy() >= shape[2] * shape[3]).any():
            continue  # a window wholly outside the input: PyTorch's index is out of plane
        y, i = K.max_pool2d(x, k, s, p, d, ceil)
        np.testing.assert_array_equal(y, ty.detach().numpy())
        np.testing.assert_array_equal(i, ti.numpy())
        gy = rng.standard_normal(y.shape).astype(np.float32)
        ty.backward(torch.from_numpy(gy))
        np.testing.assert_allclose(K.max_pool2d_backward(gy, i, shape), tx.grad.numpy(),
                                   rtol=1e-6, atol=1e-6)
        if d != 1:
            continue
        for cip, dov in ((True, None), (False, None), (True, 2)):
            tx.grad = None
            ta = F.avg_pool2d(tx, k, s, p, ceil, cip, dov)
            a = K.avg_pool2d(x, k, s, p, ceil, cip, dov)
            np.testing.assert_allclose(a, ta.detach().numpy(), rtol=1e-5, atol=1e-6)
            ta.backward(torch.from_numpy(gy[..., :a.shape[2], :a.shape[3]].copy()))
            np.testing.assert_allclose(
                K.avg_pool2d_backward(gy[..., :a.shape[2], :a.shape[3]], shape, k, s, p, ceil,
                                      cip, dov), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
