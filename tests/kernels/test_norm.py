"""Normalisation and smooth-activation kernels vs the NumPy reference (every ISA path, 1 and
2 threads), the reference backward vs finite differences in float64, thread and schedule
invariance, accuracy in the tails, bad input, PyTorch parity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import numgrad, per_thread_count

from striate import kernels as K
from striate.backend import reference as R
from striate.kernels._norm import _images_in_place

# (N, C, *spatial): batch 1, odd/prime sizes, (N, C) BatchNorm1d, planes longer than one
# statistics block (4096), few and many channels.
BN_SHAPES = [(1, 1, 2), (2, 1), (1, 3, 5, 7), (3, 5), (2, 7, 1, 1), (5, 130), (4, 3, 17, 19),
             (1, 2, 70, 67), (2, 3, 4099), (3, 17, 6, 6), (16, 64, 8, 8), (2, 2, 3, 4, 5)]
LN_SHAPES = [(1, 1), (1, 2), (3, 7), (5, 33), (17, 384), (200, 65), (2, 4099), (3, 9000)]
GELU_SIZES = [1, 7, 31, 33, 1000, 40000]


def _data(rng, shape, loc=0.0, scale=1.0):
    return (rng.standard_normal(shape) * scale + loc).astype(np.float32)


def _f64(*a):
    return [None if v is None else v.astype(np.float64) for v in a]


def _grad_scale(g, w, invstd, want):
    """Magnitude of the terms that cancel in a normalisation gradient (for an atol)."""
    terms = float(np.abs(g).max()) * float(invstd.max())
    terms *= 1.0 if w is None else float(np.abs(w).max())
    return max(1.0, terms, float(np.abs(want[1]).max()), float(np.abs(want[2]).max()))


def _close(got, want, rtol, atol):
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _bn_cases(rng, affine, loc):
    """(shape, C, x, weight, bias) for each of BN_SHAPES; ``affine``: none, weight, both."""
    for shape in BN_SHAPES:
        c = shape[1]
        x = _data(rng, shape, loc=loc, scale=2.0)
        w = _data(rng, c) if affine != "none" else None
        b = _data(rng, c) if affine == "both" else None
        yield shape, c, x, w, b


@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_batch_norm_matches_reference(arch, threads, rng, affine):
    for shape, c, x, w, b in _bn_cases(rng, affine, loc=3.0):
        y, mean, invstd, var = K.batch_norm_train_forward(x, w, b, 1e-5, return_var=True)
        want = R.batch_norm_train_forward(*_f64(x, w, b), 1e-5, return_var=True)
        _close((y, mean, invstd, var), want, rtol=2e-6, atol=2e-6)
        g = _data(rng, shape)
        got = K.batch_norm_backward(g, x, w, mean, invstd)
        want = R.batch_norm_backward(*_f64(g, x, w, mean, invstd))
        scale = _grad_scale(g, w, invstd, want)
        _close(got, want, rtol=1e-5, atol=2e-6 * scale)
        for grads in ((True, False, False), (False, True, True), (False, False, True)):
            part = K.batch_norm_backward(g, x, w, mean, invstd, grads=grads)
            _close(part, [v if k else None for v, k in zip(got, grads)], 0, 0)
        rm, rv = _data(rng, c), np.abs(_data(rng, c)) + 0.1
        np.testing.assert_allclose(K.batch_norm_eval_forward(x, rm, rv, w, b, 1e-3),
                                   R.batch_norm_eval_forward(*_f64(x, rm, rv, w, b), 1e-3),
                                   rtol=2e-6, atol=2e-5)


def _relu(v):
    return np.where(v < 0, np.float32(0), v)


@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_batch_norm_relu_fused(arch, threads, rng, affine):
    # activation="relu": the forward is exactly relu of the plain forward, and the backward
    # exactly the plain backward of the gradient masked where that output is positive (the
    # mask recomputed from x, mean, invstd, weight and bias agrees with the forward's); both
    # also match the float64 reference
    for shape, c, x, w, b in _bn_cases(rng, affine, loc=0.5):
        y, mean, invstd, var = K.batch_norm_train_forward(x, w, b, 1e-5, return_var=True,
                                                          activation="relu")
        plain = K.batch_norm_train_forward(x, w, b, 1e-5, return_var=True)
        _close((y, mean, invstd, var), (_relu(plain[0]),) + plain[1:], 0, 0)
        want = R.batch_norm_train_forward(*_f64(x, w, b), 1e-5, return_var=True,
                                          activation="relu")
        _close((y, mean, invstd, var), want, rtol=2e-6, atol=2e-6)
        g = _data(rng, shape)
        got = K.batch_norm_backward(g, x, w, mean, invstd, bias=b, activation="relu")
        masked = np.where(y > 0, g, np.float32(0))
        _close(got, K.batch_norm_backward(masked, x, w, mean, invstd), 0, 0)
        want = R.batch_norm_backward(*_f64(masked, x, w, mean, invstd))
        _close(got, want, rtol=1e-5, atol=2e-6 * _grad_scale(g, w, invstd, want))
        for grads in ((True, False, False), (False, True, True)):
            part = K.batch_norm_backward(g, x, w, mean, invstd, grads=grads, bias=b,
                                         activation="relu")
            _close(part, [v if k else None for v, k in zip(got, grads)], 0, 0)
        rm, rv = _data(rng, c), np.abs(_data(rng, c)) + 0.1
        np.testing.assert_array_equal(
            K.batch_norm_eval_forward(x, rm, rv, w, b, 1e-3, activation="relu"),
            _relu(K.batch_norm_eval_forward(x, rm, rv, w, b, 1e-3)))


def test_batch_norm_relu_keeps_nan(arch):
    x = np.array([[1.0, np.nan], [3.0, 2.0], [-5.0, 0.5]], np.float32).T.copy()  # (2, 3)
    y, mean, invstd = K.batch_norm_train_forward(x[:, :, None], activation="relu")
    assert np.isnan(y[1, 0, 0]) and (y[np.isfinite(y)] >= 0).all()
    e = K.batch_norm_eval_forward(np.array([[np.nan, -1.0]], np.float32),
                                  np.zeros(2, np.float32), np.ones(2, np.float32),
                                  activation="relu")
    assert np.isnan(e[0, 0]) and e[0, 1] == 0.0


@pytest.mark.parametrize("shape", [(1, 3, 5, 7), (3, 5), (4, 3, 17, 19), (2, 3, 4099),
                                   (16, 12, 8, 8)])
def test_batch_norm_reads_channel_slices_in_place(arch, threads, rng, shape):
    # a channel slice of a wider tensor (a DenseNet block's feature buffer) is read where it
    # lies: the same bits as its contiguous copy, and x is not copied
    n, c = shape[:2]
    buf = _data(rng, (n, c + 5) + shape[2:], loc=1.0, scale=3.0)
    x = buf[:, :c]
    assert n == 1 or not x.flags.c_contiguous
    assert _images_in_place(x)
    xc = np.ascontiguousarray(x)
    w, b, g = _data(rng, c), _data(rng, c), _data(rng, shape)
    got = K.batch_norm_train_forward(x, w, b, 1e-5, return_var=True)
    want = K.batch_norm_train_forward(xc, w, b, 1e-5, return_var=True)
    _close(got, want, 0, 0)
    assert got[0].flags.c_contiguous
    mean, invstd = want[1], want[2]
    _close(K.batch_norm_backward(g, x, w, mean, invstd),
           K.batch_norm_backward(g, xc, w, mean, invstd), 0, 0)
    _close(K.batch_norm_train_forward(x, w, b, activation="relu"),
           K.batch_norm_train_forward(xc, w, b, activation="relu"), 0, 0)
    _close(K.batch_norm_backward(g, x, w, mean, invstd, bias=b, activation="relu"),
           K.batch_norm_backward(g, xc, w, mean, invstd, bias=b, activation="relu"), 0, 0)
    rm, rv = _data(rng, c), np.abs(_data(rng, c)) + 0.1
    np.testing.assert_array_equal(K.batch_norm_eval_forward(x, rm, rv, w, b),
                                  K.batch_norm_eval_forward(xc, rm, rv, w, b))
    # layouts the kernels cannot read in place are copied first: same results
    odds = [buf[::-1, :c], np.swapaxes(xc, 0, 1).copy().swapaxes(0, 1)]
    if len(shape) > 2:
        odds.append(buf[:, :c, ::-1])
    for odd in odds:
        assert n == 1 or not _images_in_place(odd)
        _close(K.batch_norm_train_forward(odd, w, b, 1e-5),
               K.batch_norm_train_forward(np.ascontiguousarray(odd), w, b, 1e-5), 0, 0)


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_layer_norm_matches_reference(arch, threads, rng, affine):
    for shape in LN_SHAPES:
        m = shape[1]
        x = _data(rng, shape, loc=-2.0, scale=3.0)
        w = _data(rng, m) if affine in ("weight", "both") else None
        b = _data(rng, m) if affine in ("bias", "both") else None
        y, mean, invstd = K.layer_norm_forward(x, w, b, 1e-5)
        _close((y, mean, invstd), R.layer_norm_forward(*_f64(x, w, b), 1e-5), 2e-6, 2e-6)
        g = _data(rng, shape)
        got = K.layer_norm_backward(g, x, w, mean, invstd)
        want = R.layer_norm_backward(*_f64(g, x, w, mean, invstd))
        scale = _grad_scale(g, w, invstd, want)
        _close(got, want, rtol=1e-5, atol=2e-6 * scale)
        part = K.layer_norm_backward(g, x, w, mean, invstd, grads=(False, True, False))
        _close(part, (None, got[1], None), 0, 0)


def test_statistics_are_stable(arch):
    """A large mean and a small spread (where E[x^2] - E[x]^2 fails) and a constant input."""
    rng = np.random.default_rng(3)
    x = (1000.0 + rng.standard_normal((8, 4, 33, 33)) * 1e-2).astype(np.float32)
    _, mean, invstd, var = K.batch_norm_train_forward(x, eps=0.0, return_var=True)
    _, rmean, _, rvar = R.batch_norm_train_forward(x.astype(np.float64), eps=0.0,
                                                         return_var=True)
    np.testing.assert_allclose(var, rvar, rtol=1e-4)
    np.testing.assert_allclose(mean, rmean, rtol=1e-7)
    y, mean, invstd = K.layer_norm_forward(x.reshape(32, -1), eps=0.0)
    np.testing.assert_allclose(1.0 / invstd**2, x.astype(np.float64).reshape(32, -1).var(1),
                               rtol=1e-4)
    c = np.full((3, 2, 5, 5), 7.0, np.float32)
    y, mean, invstd, var = K.batch_norm_train_forward(c, eps=1e-5, return_var=True)
    assert (y == 0).all() and (var == 0).all() and (mean == 7.0).all()
    np.testing.assert_allclose(invstd, 1.0 / math.sqrt(1e-5), rtol=1e-6)


def _same_as_reference(got, want, rtol=2e-6, atol=2e-6):
    """Each array: NaN exactly where the reference has NaN (an infinity where it has that
    infinity), close elsewhere."""
    for g, w in zip(got, want):
        assert g.dtype == np.float32 and g.shape == w.shape
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_array_equal(np.isposinf(g), np.isposinf(w))
        np.testing.assert_array_equal(np.isneginf(g), np.isneginf(w))
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# (N, C) columns, planes shorter and longer than a statistics block (4096)
STAT_SHAPES = [(6, 3), (3, 2, 3, 5), (2, 3, 4099), (5, 2, 70, 67)]


@pytest.mark.parametrize("shape", STAT_SHAPES)
@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "inf-inf", "nan-inf"])
def test_statistics_propagate_nan_and_inf(arch, threads, rng, shape, bad):
    """A NaN or an infinity in a channel (a row) gives the reference's statistics: the mean
    NaN or that infinity (NaN for both infinities), var and invstd NaN, the output NaN; the
    other channels are untouched.  Before, var came back 0 and invstd 1 / sqrt(eps) (so the
    running variance hid the NaN) and the mean of +inf NaN."""
    x = _data(rng, shape, loc=1.0)
    vals = {"nan": [np.nan], "inf": [np.inf], "-inf": [-np.inf], "inf-inf": [np.inf, -np.inf],
            "nan-inf": [np.nan, np.inf]}[bad]
    c = shape[1] - 1  # the last channel; in the last image, the last block of its plane
    for k, v in enumerate(vals):
        plane = x[-1 if k == 0 else 0, c, ...].reshape(-1)  # a view, 0-d planes too
        plane[-1 - min(3 * k, plane.size - 1)] = v
    with np.errstate(invalid="ignore"):
        want = R.batch_norm_train_forward(x, None, None, 1e-5, return_var=True)
        got = K.batch_norm_train_forward(x, None, None, 1e-5, return_var=True)
        _same_as_reference(got, want, atol=2e-5)
        assert np.isnan(got[2][c]) and np.isnan(got[3][c]) and np.isnan(got[0][:, c]).all()
        assert not np.isnan(got[2][:c]).any()
        if bad in ("inf", "-inf"):
            assert got[1][c] == float(bad)
        w, b = _data(rng, shape[1]), _data(rng, shape[1])
        _same_as_reference(K.batch_norm_train_forward(x, w, b, 1e-5, activation="relu"),
                           R.batch_norm_train_forward(x, w, b, 1e-5, activation="relu"),
                           atol=2e-5)
        # layer norm: each image a row (the rows of 12285 and 9380 values span several blocks)
        x2 = x.reshape(shape[0], -1)
        got = K.layer_norm_forward(x2)
        _same_as_reference(got, R.layer_norm_forward(x2), atol=2e-5)
        bad_rows = np.isnan(x2).any(1) | np.isinf(x2).any(1)
        assert np.isnan(got[2][bad_rows]).all() and not np.isnan(got[2][~bad_rows]).any()


def test_statistics_overflow_fuzz_reproducer(arch, threads):
    # /tmp/fuzz/repro/r04_bn_overflow_nan.py: one 1e20 among unit values overflowed the float
    # sum of squares (var inf, invstd 0, the output all zeros); the reference's statistics
    # are representable
    x = np.random.default_rng(1).standard_normal((3, 1, 3, 5)).astype(np.float32)
    x[0, 0, 0, 0] = 1e20
    got = K.batch_norm_train_forward(x, return_var=True)
    want = R.batch_norm_train_forward(x, return_var=True)
    _same_as_reference(got, want)
    np.testing.assert_allclose(got[0].ravel()[:3], [6.6332498, -0.15075567, -0.15075567],
                               rtol=1e-6)
    assert np.isfinite(got[3]).all() and got[2][0] > 0
    y, m, s = K.layer_norm_forward(x.reshape(1, -1))
    _same_as_reference((y, m, s), R.layer_norm_forward(x.reshape(1, -1)))
    np.testing.assert_allclose(s, [6.784005e-20], rtol=1e-6)
    x[0, 0, 0, 0] = np.nan
    with np.errstate(invalid="ignore"):
        _, _, invstd, var = K.batch_norm_train_forward(x, return_var=True)
    assert np.isnan(invstd[0]) and np.isnan(var[0])


@pytest.mark.parametrize("shape", STAT_SHAPES)
def test_statistics_of_huge_values(arch, threads, rng, shape):
    """Finite inputs whose statistics are representable get them, where the float sums of
    a block overflow: a single huge value (sum of squares past FLT_MAX), or a channel of
    values near 1e36 (sum past FLT_MAX; the variance 0, or large: inf in float32 as in the
    reference, invstd finite)."""
    for big, scale in ((1e20, 1.0), (-3e19, 1.0), (1e36, 0.0), (-2e36, 0.0), (3e35, 3e34)):
        x = _data(rng, shape)
        c = shape[1] - 1
        if scale:
            x[:, c] = _data(rng, x[:, c].shape, loc=big, scale=scale) if big > 1e30 else x[:, c]
            x[-1, c, ...].reshape(-1)[-1] = big
        else:
            x[:, c] = big
        with np.errstate(over="ignore"):  # the reference's var past float32: inf
            want = R.batch_norm_train_forward(x, None, None, 1e-5, return_var=True)
        got = K.batch_norm_train_forward(x, None, None, 1e-5, return_var=True)
        # the mean is float32 (so is x - mean for huge values): y to within that rounding
        _same_as_reference(got[1:], want[1:], rtol=1e-5, atol=2e-6)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-4 if big > 1e30 else 2e-6)
        x2 = x.reshape(shape[0], -1)
        got = K.layer_norm_forward(x2)
        want = R.layer_norm_forward(x2)
        _same_as_reference(got[1:], want[1:], rtol=1e-5, atol=2e-6)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-4)


def test_thread_invariance(arch, rng):
    """Same bits on 1, 2 and 8 threads (batch norm with planes shorter and longer than a
    statistics block, the (N, C) column path, layer norm with its gradient groups, GELU)."""
    cases = [_data(rng, (8, 16, 20, 20)), _data(rng, (4, 2, 90, 90)), _data(rng, (256, 200))]
    ln = _data(rng, (300, 384))
    gel = _data(rng, 100000)

    def run():
        out = []
        for x in cases:
            y, m, s = K.batch_norm_train_forward(x)
            out += [y, m, s, *K.batch_norm_backward(x[::-1].copy(), x, m, m, s)]
        y, m, s = K.layer_norm_forward(ln, ln[0], ln[1])
        out += [y, m, s, *K.layer_norm_backward(ln[::-1].copy(), ln, ln[2], m, s)]
        out += [K.gelu(gel), K.gelu_backward(gel, gel, "tanh")]
        return out

    res = per_thread_count(run, (1, 2, 8))
    for other in res[1:]:
        for u, v in zip(res[0], other):
            np.testing.assert_array_equal(u, v)


def test_gelu_family_accuracy(arch, threads, rng):
    """Relative accuracy over the whole range, tails included (the exact form through erfc)."""
    x = np.concatenate([np.linspace(-15.0, 15.0, 30001), rng.standard_normal(5000) * 4,
                        [0.0, -0.0, 1e-30, -1e-30, 1e-6]]).astype(np.float32)
    x64 = x.astype(np.float64)
    g = _data(rng, x.shape)
    core = np.abs(x) <= 5
    for approx, tail_rtol in (("none", 1e-5), ("tanh", 2e-5)):
        y, want = K.gelu(x, approx), R.gelu(x64, approx)
        np.testing.assert_allclose(y[core], want[core], rtol=3e-6, atol=1e-30)
        # far tails: the float rounding of the exponent's argument (|arg| ~ 100) dominates
        np.testing.assert_allclose(y, want, rtol=tail_rtol, atol=1e-30)
        np.testing.assert_allclose(K.gelu_backward(x, g, approx),
                                   R.gelu_backward(x64, g.astype(np.float64), approx),
                                   rtol=1e-5, atol=5e-7)
    np.testing.assert_allclose(K.silu(x), R.silu(x64), rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(K.silu_backward(x, g), R.silu_backward(x64, g.astype(np.float64)),
                               rtol=1e-5, atol=5e-7)
    np.testing.assert_allclose(K.sigmoid(x), R.sigmoid(x64), rtol=2e-6, atol=1e-30)
    for n in GELU_SIZES:  # sizes around vector widths and tasks; in place
        v = _data(rng, n) * 3
        want = R.gelu(v.astype(np.float64))
        assert K.gelu(v, out=v) is v
        np.testing.assert_allclose(v, want, rtol=5e-6, atol=1e-30)
    # erf form matches math.erf on a small grid (the independent oracle of the reference)
    s = np.linspace(-6, 6, 241)
    phi = np.vectorize(lambda t: 0.5 * (1.0 + math.erf(t / math.sqrt(2.0))))(s)
    np.testing.assert_allclose(K.gelu(s.astype(np.float32)), s.astype(np.float32) * phi,
                               rtol=1e-5, atol=1e-7)


def test_gelu_special_values(arch):
    x = np.array([np.inf, -np.inf, np.nan, 20.0, -20.0, 100.0, -100.0], np.float32)
    y = K.gelu(x)
    assert y[0] == np.inf and np.isnan(y[1]) and np.isnan(y[2])
    assert y[3] == 20.0 and y[4] == 0.0 and y[5] == 100.0 and y[6] == 0.0
    yt = K.gelu(x, "tanh")
    assert yt[0] == np.inf and np.isnan(yt[2]) and yt[3] == 20.0 and abs(yt[4]) < 1e-36
    d = K.gelu_backward(x[2:], np.ones(5, np.float32))
    assert np.isnan(d[0]) and d[1] == 1.0 and d[2] == 0.0


# NaN, the infinities, huge finite values (x^3 and x^2 overflow float from 7e12 and 1.8e19),
# the edges of exp's range (overflow at 88.7, flushed or denormal below -87.3, 0 below -104)
# and of the tanh form's saturation (|x| = 10 to 16), tiny and signed zero inputs
SIG_SPECIAL = [np.nan, np.inf, -np.inf, 3.4e38, -3.4e38, 3e38, -3e38, 1e30, -1e30, 2e19, -2e19,
               1e13, -1e13, 1e11, -1e11, 1e6, -1e6, 200.0, -200.0, 104.5, -104.5, 100.0,
               -100.0, 90.0, -90.0, 88.8, -88.8, 88.4, -88.4, 88.0, -88.0, 87.5, -87.5, 87.3,
               -87.3, 50.0, -50.0, 44.0, -44.0, 20.0, -20.0, 16.0, -16.0, 11.0, -11.0, 10.1,
               -10.1, 10.0, -10.0, 5.0, -5.0, 1.0, -1.0, 1e-30, -1e-30, 1e-40, -1e-40, 0.0, -0.0]


def _sig_special(rng, n):
    """The special values spread over n (> 4 times their count) random ones, at random places
    and at the end, so that each meets full vectors, masked tails and, for a large n, several
    tasks; and a mask of where they are."""
    x = _data(rng, n, scale=4.0)
    k = len(SIG_SPECIAL)
    idx = np.concatenate([rng.permutation(n - k)[: 3 * k], np.arange(n - k, n)])
    x[idx] = np.tile(np.array(SIG_SPECIAL, np.float32), 4)
    special = np.zeros(n, bool)
    special[idx] = True
    return x, special


@pytest.mark.parametrize("n", [59, 1000, 70001])
def test_sigmoid_family_special_values(arch, threads, rng, n):
    """NaN propagates and huge |x| gives the reference's values (the fuzzing reports:
    sigmoid(NaN) was 1, sigmoid(-inf) 4.5e-39 so silu(-3e38) was -1.35 and silu(-inf) -inf,
    the tanh GELU's gradient -inf at -1e30 and NaN at +-1e30 with a zero gradient).  Below
    FLT_MIN the kernels may flush to 0 where the reference has a denormal: atol covers
    |x| FLT_MIN there.  Infinities give what x sigmoid(x) gives: NaN for inf * 0.  The random
    values around them are held to the accuracy test's tolerances."""
    if n == 59:
        x, special = np.array(SIG_SPECIAL, np.float32), np.ones(len(SIG_SPECIAL), bool)
    else:
        x, special = _sig_special(rng, n)
    x64 = x.astype(np.float64)
    g = _data(rng, x.size)
    g[::7] = 0.0
    g64 = g.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        for got, want, rtol, atol, atol_rest in (
                (K.sigmoid(x), R.sigmoid(x64), 3e-6, 2e-38, 1e-30),
                (K.silu(x), R.silu(x64), 3e-6, 2e-36, 1e-30),
                (K.gelu(x), R.gelu(x64), 1e-5, 2e-36, 1e-30),
                (K.gelu(x, "tanh"), R.gelu(x64, "tanh"), 2e-5, 2e-36, 1e-30),
                (K.silu_backward(x, g), R.silu_backward(x64, g64), 1e-5, 1e-35, 5e-7),
                (K.gelu_backward(x, g), R.gelu_backward(x64, g64), 1e-5, 1e-35, 5e-7),
                (K.gelu_backward(x, g, "tanh"), R.gelu_backward(x64, g64, "tanh"), 1e-5, 1e-35,
                 5e-7)):
            assert got.dtype == np.float32 and got.shape == x.shape
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_allclose(got[special], want[special], rtol=rtol, atol=atol)
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol_rest)


def test_sigmoid_family_fuzz_reproducers(arch, threads):
    # /tmp/fuzz/repro/r03_sigmoid_nan.py, exactly
    x = np.array([np.nan, -np.inf, -3e38], np.float32)
    nan = np.nan
    np.testing.assert_array_equal(K.sigmoid(x), [nan, 0.0, 0.0])
    np.testing.assert_array_equal(K.silu(x), [nan, nan, -0.0])
    assert np.signbit(K.silu(x)[2])
    np.testing.assert_array_equal(K.gelu(x, "tanh"), [nan, nan, -0.0])
    np.testing.assert_array_equal(K.silu_backward(x, np.ones(3, np.float32)), [nan, nan, 0.0])
    v = np.array([-1e30, 1e30], np.float32)
    np.testing.assert_array_equal(K.gelu_backward(v, np.ones(2, np.float32), "tanh"), [0, 1])
    np.testing.assert_array_equal(K.gelu_backward(v, np.zeros(2, np.float32), "tanh"), [0, 0])
    np.testing.assert_array_equal(K.gelu_backward(v, np.ones(2, np.float32)), [0, 1])
    np.testing.assert_array_equal(K.silu_backward(v, np.ones(2, np.float32)), [0, 1])
    # and the reference agrees
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(R.sigmoid(x), [nan, 0.0, 0.0])
        np.testing.assert_array_equal(R.silu(x), [nan, nan, -0.0])
        np.testing.assert_array_equal(R.gelu_backward(v, np.ones(2, np.float32), "tanh"), [0, 1])
    # sigmoid reaches 0 and 1 exactly
    big = np.array([-1e30, -200.0, 200.0, 1e30], np.float32)
    np.testing.assert_array_equal(K.sigmoid(big), [0.0, 0.0, 1.0, 1.0])
    want = np.array([-0.0, -0.0, 200.0, 1e30], np.float32)
    np.testing.assert_array_equal(K.silu(big), want)
    np.testing.assert_array_equal(K.gelu(big, "tanh"), want)


def test_reference_backward_finite_differences(rng):
    x = rng.standard_normal((3, 4, 2, 3)) * 2 + 1
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    go = rng.standard_normal(x.shape)

    def bn(xx, ww, bb):
        return float((R.batch_norm_train_forward(xx, ww, bb, 1e-3)[0] * go).sum())

    _, m, s = R.batch_norm_train_forward(x, w, b, 1e-3)
    dx, dw, db = R.batch_norm_backward(go, x, w, m, s)
    np.testing.assert_allclose(dx, numgrad(lambda z: bn(z, w, b), x), atol=1e-7)
    np.testing.assert_allclose(dw, numgrad(lambda z: bn(x, z, b), w.copy()), atol=1e-7)
    np.testing.assert_allclose(db, numgrad(lambda z: bn(x, w, z), b.copy()), atol=1e-7)
    dx1, _, _ = R.batch_norm_backward(go, x, None, m, s)
    np.testing.assert_allclose(dx1, numgrad(lambda z: bn(z, None, None), x), atol=1e-7)

    def bn_relu(xx, ww, bb):
        y = R.batch_norm_train_forward(xx, ww, bb, 1e-3, activation="relu")[0]
        return float((y * go).sum())

    pre = R.batch_norm_train_forward(x, w, b, 1e-3)[0]
    assert np.abs(pre).min() > 1e-3 and (pre < 0).any()  # no kink within the FD step
    dx, dw, db = R.batch_norm_backward(go, x, w, m, s, bias=b, activation="relu")
    np.testing.assert_allclose(dx, numgrad(lambda z: bn_relu(z, w, b), x), atol=1e-7)
    np.testing.assert_allclose(dw, numgrad(lambda z: bn_relu(x, z, b), w.copy()), atol=1e-7)
    np.testing.assert_allclose(db, numgrad(lambda z: bn_relu(x, w, z), b.copy()), atol=1e-7)

    x2 = rng.standard_normal((4, 6)) * 3
    w2, b2 = rng.standard_normal(6), rng.standard_normal(6)
    g2 = rng.standard_normal(x2.shape)

    def ln(xx, ww, bb):
        return float((R.layer_norm_forward(xx, ww, bb, 1e-3)[0] * g2).sum())

    _, m2, s2 = R.layer_norm_forward(x2, w2, b2, 1e-3)
    dx, dw, db = R.layer_norm_backward(g2, x2, w2, m2, s2)
    np.testing.assert_allclose(dx, numgrad(lambda z: ln(z, w2, b2), x2), atol=1e-7)
    np.testing.assert_allclose(dw, numgrad(lambda z: ln(x2, z, b2), w2.copy()), atol=1e-7)
    np.testing.assert_allclose(db, numgrad(lambda z: ln(x2, w2, z), b2.copy()), atol=1e-7)

    v = np.concatenate([np.linspace(-6, 6, 13) + 0.01, rng.standard_normal(5)])
    gv = rng.standard_normal(v.shape)
    for approx in ("none", "tanh"):
        np.testing.assert_allclose(
            R.gelu_backward(v, gv, approx),
            numgrad(lambda z, a=approx: float((R.gelu(z, a) * gv).sum()), v.copy()), atol=1e-7)
    np.testing.assert_allclose(R.silu_backward(v, gv),
                               numgrad(lambda z: float((R.silu(z) * gv).sum()), v.copy()),
                               atol=1e-7)


F4 = np.zeros((2, 3, 4), np.float32)
V3 = np.ones(3, np.float32)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: K.batch_norm_train_forward(np.zeros(3, np.float32)), ValueError,
     "at least 2 dimensions"),
    (lambda: K.batch_norm_train_forward(np.zeros((0, 3), np.float32)), ValueError,
     "at least one value per channel"),
    (lambda: K.batch_norm_train_forward(F4.astype(np.int32)), TypeError, "floating"),
    (lambda: K.batch_norm_train_forward(F4, np.ones(4, np.float32)), ValueError,
     r"weight with shape \(3,\) for x of shape \(2, 3, 4\), got \(4,\)"),
    (lambda: K.batch_norm_train_forward(F4, None, np.ones(2, np.float32)), ValueError,
     r"bias with shape \(3,\)"),
    (lambda: K.batch_norm_train_forward(F4, eps=-1.0), ValueError, "eps >= 0"),
    (lambda: K.batch_norm_eval_forward(F4, V3, np.ones(2, np.float32)), ValueError,
     r"var with shape \(3,\)"),
    (lambda: K.batch_norm_backward(F4[:1], F4, None, V3, V3), ValueError,
     r"grad_out with x's shape"),
    (lambda: K.batch_norm_backward(F4, F4, None, V3, V3, grads=(True,)), ValueError,
     "three booleans"),
    (lambda: K.batch_norm_backward(F4, F4, None, V3, [1.0, 2.0, 3.0]), TypeError,
     "numpy.ndarray"),
    (lambda: K.batch_norm_train_forward(F4, activation="gelu"), ValueError,
     r"batch_norm_train_forward: expected activation in \('none', 'relu'\), got 'gelu'"),
    (lambda: K.batch_norm_eval_forward(F4, V3, V3, activation=None), ValueError,
     "expected activation in"),
    (lambda: K.batch_norm_backward(F4, F4, None, V3, V3, activation="Relu"), ValueError,
     "expected activation in"),
    (lambda: K.batch_norm_backward(F4, F4, None, V3, V3, bias=np.ones(4, np.float32),
                                   activation="relu"), ValueError,
     r"bias with shape \(3,\) for x of shape \(2, 3, 4\), got \(4,\)"),
    (lambda: K.layer_norm_forward(F4), ValueError, "2 dimensions"),
    (lambda: K.layer_norm_forward(np.zeros((2, 0), np.float32)), ValueError,
     "at least one column"),
    (lambda: K.layer_norm_forward(F4[0], np.ones(3, np.float32)), ValueError,
     r"weight with shape \(4,\)"),
    (lambda: K.layer_norm_backward(F4[0], F4[0], None, V3[:2], V3), ValueError,
     r"mean with shape \(3,\) for x of shape \(3, 4\), got \(2,\)"),
    (lambda: K.gelu(F4, "fast"), ValueError, "approximate"),
    (lambda: K.gelu(F4.astype(np.int64)), TypeError, "floating"),
    (lambda: K.gelu(F4, out=np.zeros((2, 3), np.float32)), ValueError, "out with shape"),
    (lambda: K.gelu_backward(F4, F4[0]), ValueError, "grad_out with x's shape"),
    (lambda: K.silu_backward(F4, F4[0]), ValueError, "grad_out with x's shape"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


X4 = np.ones((2, 3, 4, 4), np.float32)
X2 = np.ones((2, 3), np.float32)
V2 = np.ones(2, np.float32)


@pytest.mark.parametrize("call, match", [
    # the fuzzing reproducers: a None statistic reached the C kernel as a NULL pointer
    # (SIGSEGV), or failed in NumPy with an AttributeError (var)
    (lambda: K.batch_norm_eval_forward(X4, None, V3),
     r"^batch_norm_eval_forward: expected mean to be a numpy\.ndarray, got NoneType$"),
    (lambda: K.batch_norm_eval_forward(X4, V3, None),
     r"^batch_norm_eval_forward: expected var to be a numpy\.ndarray, got NoneType$"),
    (lambda: K.batch_norm_backward(X4, X4, None, None, None),
     r"^batch_norm_backward: expected mean to be a numpy\.ndarray, got NoneType$"),
    (lambda: K.batch_norm_backward(X4, X4, None, None, V3),
     r"^batch_norm_backward: expected mean to be a numpy\.ndarray, got NoneType$"),
    (lambda: K.batch_norm_backward(X4, X4, None, V3, None),
     r"^batch_norm_backward: expected invstd to be a numpy\.ndarray, got NoneType$"),
    (lambda: K.batch_norm_backward(X4, X4, V3, V3, None, bias=V3, activation="relu"),
     r"^batch_norm_backward: expected invstd to be a numpy\.ndarray, got NoneType$"),
    (lambda: K.layer_norm_backward(X2, X2, None, None, None),
     r"^layer_norm_backward: expected mean to be a numpy\.ndarray, got NoneType$"),
    (lambda: K.layer_norm_backward(X2, X2, None, None, V2),
     r"^layer_norm_backward: expected mean to be a numpy\.ndarray, got NoneType$"),
    (lambda: K.layer_norm_backward(X2, X2, V3, V2, None),
     r"^layer_norm_backward: expected invstd to be a numpy\.ndarray, got NoneType$"),
    # the others required arrays: x and grad_out
    (lambda: K.batch_norm_train_forward(None), "expected x to be a numpy.ndarray, got NoneType"),
    (lambda: K.batch_norm_eval_forward(None, V3, V3), "expected x to be a numpy.ndarray"),
    (lambda: K.batch_norm_backward(None, X4, None, V3, V3),
     "expected grad_out to be a numpy.ndarray, got NoneType"),
    (lambda: K.layer_norm_forward(None), "expected x to be a numpy.ndarray, got NoneType"),
    (lambda: K.layer_norm_backward(X2, None, None, V2, V2), "expected x to be a numpy.ndarray"),
    (lambda: K.gelu_backward(X2, None), "expected grad_out to be a numpy.ndarray"),
    (lambda: K.silu_backward(None, X2), "expected x to be a numpy.ndarray"),
    (lambda: K.sigmoid(None), "expected x to be a numpy.ndarray, got NoneType"),
])
def test_required_arrays_none(arch, call, match):
    """A required array given as None is a TypeError naming it, before any C code runs."""
    with pytest.raises(TypeError, match=match):
        call()


def test_optional_arrays_none(arch, rng):
    # weight and bias stay optional (None: 1 and 0), and match the reference
    x, g = _data(rng, (3, 4, 5)), _data(rng, (3, 4, 5))
    y, m, s = K.batch_norm_train_forward(x, None, None)
    _close((y, m, s), R.batch_norm_train_forward(x.astype(np.float64)), 2e-6, 2e-6)
    want = R.batch_norm_backward(*_f64(g, x, None, m, s))
    _close(K.batch_norm_backward(g, x, None, m, s, bias=None), want, 1e-5, 1e-5)
    rv = np.abs(_data(rng, 4)) + 0.5
    np.testing.assert_allclose(K.batch_norm_eval_forward(x, m, rv, None, None),
                               R.batch_norm_eval_forward(*_f64(x, m, rv)), rtol=2e-6,
                               atol=2e-6)
    x2, g2 = x[0], g[0]
    y, m, s = K.layer_norm_forward(x2, None, None)
    _close((y, m, s), R.layer_norm_forward(x2.astype(np.float64)), 2e-6, 2e-6)
    _close(K.layer_norm_backward(g2, x2, None, m, s),
           R.layer_norm_backward(*_f64(g2, x2, None, m, s)), 1e-5, 1e-5)


_EPS_CALLS = {
    "batch_norm_train_forward": lambda eps: K.batch_norm_train_forward(F4, eps=eps),
    "batch_norm_eval_forward": lambda eps: K.batch_norm_eval_forward(F4, V3, V3, eps=eps),
    "layer_norm_forward": lambda eps: K.layer_norm_forward(F4[0], eps=eps),
}


@pytest.mark.parametrize("fn", sorted(_EPS_CALLS))
@pytest.mark.parametrize("eps, exc, match", [
    ("1e-5", TypeError, r"expected eps to be a real number, got '1e-5' \(str\)"),
    (None, TypeError, r"expected eps to be a real number, got None \(NoneType\)"),
    (np.array([0.5]), TypeError,
     r"expected eps to be a real number, got array\(\[0\.5\]\) \(ndarray\)"),
    (np.array(0.5), TypeError, r"expected eps to be a real number, got array\(0\.5\)"),
    (True, TypeError, r"expected eps to be a real number, got True \(bool\)"),
    (1e-5j, TypeError, r"expected eps to be a real number, got 1e-05j \(complex\)"),
    (-1e-5, ValueError, r"expected eps >= 0, got -1e-05$"),
    (np.float32(-1.0), ValueError, r"expected eps >= 0, got .*-1\.0"),
    (float("nan"), ValueError, r"expected eps >= 0, got nan$"),
    (-math.inf, ValueError, r"expected eps >= 0, got -inf$"),
])
def test_bad_eps(fn, eps, exc, match):
    with pytest.raises(exc, match=f"^{fn}: {match}"):
        _EPS_CALLS[fn](eps)


@pytest.mark.parametrize("eps", [0, 1e-3, np.float32(1e-3), np.float64(0.5), np.int64(2),
                                 1e300, math.inf])
def test_eps_accepted(arch, rng, eps):
    # any real eps >= 0 (ints and NumPy scalars, inf and values past float32 included) is
    # accepted as before and matches the reference (1e300 and inf: invstd 0)
    x = _data(rng, (4, 3, 5), loc=1.0)
    _close(K.batch_norm_train_forward(x, eps=eps, return_var=True),
           R.batch_norm_train_forward(x.astype(np.float64), eps=float(eps), return_var=True),
           2e-6, 2e-6)
    m, v = _data(rng, 3), np.abs(_data(rng, 3))
    np.testing.assert_allclose(K.batch_norm_eval_forward(x, m, v, eps=eps),
                               R.batch_norm_eval_forward(*_f64(x, m, v), eps=float(eps)),
                               rtol=2e-6, atol=2e-6)
    _close(K.layer_norm_forward(x[0], eps=eps),
           R.layer_norm_forward(x[0].astype(np.float64), eps=float(eps)), 2e-6, 2e-6)


@pytest.mark.parametrize("grads, exc", [
    ("abc", TypeError), ("ttt", TypeError), (b"abc", TypeError), (1, TypeError),
    (None, TypeError), ((1, 0, 1), TypeError), ((True, False, "yes"), TypeError),
    ((True, None, False), TypeError), ((True, False), ValueError),
    ([True, False, True, False], ValueError),
])
def test_bad_grads(grads, exc):
    for call in (lambda: K.batch_norm_backward(F4, F4, None, V3, V3, grads=grads),
                 lambda: K.layer_norm_backward(F4[0], F4[0], None, V3, V3, grads=grads)):
        with pytest.raises(exc, match=r"_norm_backward: expected grads to be three booleans"):
            call()


def test_grads_accepted(arch, rng):
    # tuples and lists of bools, NumPy bools and a bool array are accepted
    x, g = _data(rng, (3, 4, 5)), _data(rng, (3, 4, 5))
    _, m, s = K.batch_norm_train_forward(x)
    full = K.batch_norm_backward(g, x, None, m, s)
    for grads in ([True, False, True], (np.True_, np.False_, np.True_),
                  np.array([True, False, True])):
        _close(K.batch_norm_backward(g, x, None, m, s, grads=grads),
               (full[0], None, full[2]), 0, 0)
    _, m, s = K.layer_norm_forward(x[0])
    full = K.layer_norm_backward(g[0], x[0], None, m, s)
    _close(K.layer_norm_backward(g[0], x[0], None, m, s, grads=[False, True, False]),
           (None, full[1], None), 0, 0)


@pytest.mark.parametrize("approximate, exc, match", [
    (None, TypeError,
     r"expected approximate to be a string in \('none', 'tanh'\), got None \(NoneType\)"),
    (np.array(["tanh"]), TypeError, r"expected approximate to be a string in .*\(ndarray\)"),
    (True, TypeError, r"expected approximate to be a string in .*got True \(bool\)"),
    ("Tanh", ValueError, r"expected approximate in \('none', 'tanh'\), got 'Tanh'"),
])
def test_bad_approximate(approximate, exc, match):
    with pytest.raises(exc, match="^gelu: " + match):
        K.gelu(F4, approximate)
    with pytest.raises(exc, match="^gelu_backward: " + match):
        K.gelu_backward(F4, F4, approximate)


# the elementwise maps with an ``out``: (kernel, reference), both called as f(x, out=...)
ELTWISE_OUT = {
    "sigmoid": (K.sigmoid, R.sigmoid),
    "silu": (K.silu, R.silu),
    "gelu": (K.gelu, R.gelu),
    "gelu_tanh": (lambda x, out=None: K.gelu(x, "tanh", out=out),
                  lambda x, out=None: R.gelu(x, "tanh", out=out)),
}


@pytest.mark.parametrize("name", sorted(ELTWISE_OUT))
def test_out_overlapping_x(arch, threads, rng, name):
    """``out`` that overlaps ``x`` other than exactly (the fuzzing reproducer:
    ``K.sigmoid(buf[:-1], out=buf[1:])``) gives the result of a separate ``out``."""
    f, ref = ELTWISE_OUT[name]
    for n in (1001, 70001):  # one task; several tasks on 2 threads
        buf0 = _data(rng, n + 3, scale=3.0)
        cases = [(slice(0, n), slice(1, n + 1)), (slice(1, n + 1), slice(0, n)),
                 (slice(0, n), slice(3, n + 3)), (slice(3, n + 3), slice(0, n))]
        for xs, os_ in cases:
            buf = buf0.copy()
            x = buf[xs].copy()
            want = f(x)
            np.testing.assert_allclose(want, ref(x.astype(np.float64)), rtol=2e-5, atol=1e-30)
            assert f(buf[xs], out=buf[os_]) is not None
            np.testing.assert_array_equal(buf[os_], want)
        # 2-D views of one buffer, rows shifted by one
        buf = buf0[: n - n % 7].copy().reshape(-1, 7)
        x = buf[:-1].copy()
        f(buf[:-1], out=buf[1:])
        np.testing.assert_array_equal(buf[1:], f(x))
        # an input that must be converted (reversed, float64) is a copy: no overlap left
        buf = buf0.copy()
        f(buf[::-1], out=buf)
        np.testing.assert_array_equal(buf, f(buf0[::-1].copy()))
        buf = buf0.astype(np.float64)
        out = buf.view(np.float32)[: n + 3]
        f(buf, out=out)
        np.testing.assert_array_equal(out, f(buf0))


@pytest.mark.parametrize("name", sorted(ELTWISE_OUT))
def test_out_exactly_in_place_is_not_copied(arch, rng, name):
    import tracemalloc

    f, _ = ELTWISE_OUT[name]
    x = _data(rng, 1 << 20, scale=3.0)  # 4 MiB
    want = f(x)
    tracemalloc.start()
    try:
        assert f(x, out=x) is x
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(x, want)
    assert peak < (1 << 20), peak  # no 4 MiB temporary


def test_zero_dim(arch, threads):
    """0-d input gives a 0-d result (it came back of shape (1,)); a 0-d ``out`` is accepted,
    in place too."""
    v64 = np.array([-3.5, 0.25, 2.0, -20.0, 0.0])
    g64 = np.array([0.5, -1.0, 2.0, 1.0, 3.0])
    for name, (f, ref) in sorted(ELTWISE_OUT.items()):
        for v in v64:
            x, want = np.array(v, np.float32), ref(np.array(v))
            y = f(x)
            assert y.shape == () and y.dtype == np.float32
            np.testing.assert_allclose(y, want, rtol=2e-5, atol=1e-30)
            np.testing.assert_allclose(f(np.array(v)), want, rtol=2e-5, atol=1e-30)  # float64
            out = np.array(7.0, np.float32)
            assert f(x, out=out) is out
            np.testing.assert_array_equal(out, y)
            assert f(x, out=x) is x
            np.testing.assert_array_equal(x, y)
            with pytest.raises(ValueError, match=r"expected out with shape \(\), got \(1,\)"):
                f(np.array(v, np.float32), out=np.zeros(1, np.float32))
    for v, gv in zip(v64, g64):
        x, g = np.array(v, np.float32), np.array(gv, np.float32)
        for got, want in (
                (K.gelu_backward(x, g), R.gelu_backward(np.array(v), np.array(gv))),
                (K.gelu_backward(x, g, "tanh"),
                 R.gelu_backward(np.array(v), np.array(gv), "tanh")),
                (K.silu_backward(x, g), R.silu_backward(np.array(v), np.array(gv)))):
            assert got.shape == () and got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-30)
    # a 0-d gradient is not a (1,) one, nor the other way round
    with pytest.raises(ValueError, match=r"expected grad_out with x's shape \(\), got \(1,\)"):
        K.silu_backward(np.array(1.0, np.float32), np.ones(1, np.float32))
    with pytest.raises(ValueError, match=r"expected grad_out with x's shape \(1,\), got \(\)"):
        K.gelu_backward(np.ones(1, np.float32), np.array(1.0, np.float32))
    # the normalisations name the real shape of a 0-d x or parameter
    with pytest.raises(ValueError, match=r"at least 2 dimensions \(N, C, \*\), got shape \(\)"):
        K.batch_norm_train_forward(np.array(1.0, np.float32))
    with pytest.raises(ValueError, match=r"expected weight with shape \(1,\) .* got \(\)"):
        K.batch_norm_train_forward(np.ones((2, 1), np.float32), np.array(1.0, np.float32))
    with pytest.raises(ValueError, match=r"expected mean with shape \(1,\) .* got \(\)"):
        K.layer_norm_backward(np.ones((1, 2), np.float32), np.ones((1, 2), np.float32), None,
                              np.array(0.0, np.float32), np.ones(1, np.float32))


def test_empty_inputs():
    x = np.zeros((0, 5), np.float32)
    y, m, s = K.layer_norm_forward(x)
    assert y.shape == (0, 5) and m.shape == (0,)
    dx, dw, db = K.layer_norm_backward(x, x, None, m, s)
    assert dx.shape == (0, 5) and (dw == 0).all() and (db == 0).all()
    assert K.gelu(np.zeros(0, np.float32)).shape == (0,)
    y, m, s = K.batch_norm_train_forward(np.zeros((2, 0, 3), np.float32))
    assert y.shape == (2, 0, 3) and m.shape == (0,)


@pytest.mark.parity
def test_parity_with_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for shape in ((4, 6, 5, 5), (9, 7), (1, 3, 33, 2)):
        c = shape[1]
        x, g = _data(rng, shape, 1.0, 2.0), _data(rng, shape)
        w, b = _data(rng, c), _data(rng, c)
        tx = torch.from_numpy(x).requires_grad_()
        tw, tb = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
        rm, rv = torch.zeros(c), torch.ones(c)
        ty = F.batch_norm(tx, rm, rv, tw, tb, training=True, eps=1e-5)
        ty.backward(torch.from_numpy(g))
        y, mean, invstd = K.batch_norm_train_forward(x, w, b, 1e-5)
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
        for got, want in zip(K.batch_norm_backward(g, x, w, mean, invstd),
                             (tx.grad, tw.grad, tb.grad)):
            np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-4)
    x, g = _data(rng, (10, 384), 0.5, 2.0), _data(rng, (10, 384))
    w, b = _data(rng, 384), _data(rng, 384)
    tx = torch.from_numpy(x).requires_grad_()
    tw, tb = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
    ty = F.layer_norm(tx, (384,), tw, tb, 1e-5)
    ty.backward(torch.from_numpy(g))
    y, mean, invstd = K.layer_norm_forward(x, w, b, 1e-5)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    for got, want in zip(K.layer_norm_backward(g, x, w, mean, invstd),
                         (tx.grad, tw.grad, tb.grad)):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-4)
    v = _data(rng, 5000, 0.0, 3.0)
    gv = _data(rng, 5000)
    for approx in ("none", "tanh"):
        tv = torch.from_numpy(v).requires_grad_()
        ty = F.gelu(tv, approximate=approx)
        ty.backward(torch.from_numpy(gv))
        np.testing.assert_allclose(K.gelu(v, approx), ty.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(K.gelu_backward(v, gv, approx), tv.grad.numpy(), rtol=1e-5,
                                   atol=1e-5)
    tv = torch.from_numpy(v)
    np.testing.assert_allclose(K.silu(v), F.silu(tv).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(K.sigmoid(v), torch.sigmoid(tv).numpy(), rtol=1e-5, atol=1e-7)
