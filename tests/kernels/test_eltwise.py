"""Elementwise / row-wise kernels vs the NumPy reference (every ISA path, 1 and 2 threads),
reference backward vs finite differences, thread invariance, bad input, PyTorch parity."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import numgrad, per_thread_count

from striate import kernels as K
from striate.backend import reference as R

ACT_SHAPES = [(1, 1), (3, 7), (2, 17), (1, 5, 1, 1), (2, 3, 5, 7), (4, 16, 13, 13),
              (2, 3, 4, 5, 6), (1, 2, 160, 130), (129, 1000)]
ROW_SHAPES = [(1, 1), (1, 2), (3, 7), (5, 16), (4, 17), (128, 10), (17, 1000), (2, 4099)]


def test_bias_act_matches_reference(arch, threads, rng):
    for shape in ACT_SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        b = rng.standard_normal(shape[1]).astype(np.float32)
        for bias in (None, b):
            for act in ("none", "relu"):
                y = K.bias_act(x, bias, act)
                np.testing.assert_allclose(y, R.bias_act(x, bias, act), rtol=1e-6, atol=1e-7)
                z = x.copy()
                assert K.bias_act(z, bias, act, out=z) is z  # in place
                np.testing.assert_array_equal(z, y)
    assert (K.bias_act(-np.ones((2, 3), np.float32), None, "relu") == 0).all()


def test_relu_nan_and_backward(arch, threads, rng):
    x = np.array([[np.nan, -1.0, 0.0, 2.0]], np.float32)
    y = K.bias_act(x, None, "relu")
    assert np.isnan(y[0, 0]) and y[0, 1:].tolist() == [0.0, 0.0, 2.0]
    g = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
    np.testing.assert_array_equal(K.relu_backward(g, y), R.relu_backward(g, y))
    for shape in ACT_SHAPES:
        gy = rng.standard_normal(shape).astype(np.float32)
        out = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)
        np.testing.assert_array_equal(K.relu_backward(gy, out), R.relu_backward(gy, out))


def test_softmax_family_matches_reference(arch, threads, rng):
    for shape in ROW_SHAPES:
        x = (rng.standard_normal(shape) * 5).astype(np.float32)
        y = K.softmax(x)
        np.testing.assert_allclose(y, R.softmax(x), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
        ly = K.log_softmax(x)
        np.testing.assert_allclose(ly, R.log_softmax(x), rtol=1e-5, atol=1e-5)
        g = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(K.softmax_backward(y, g), R.softmax_backward(y, g),
                                   rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(K.log_softmax_backward(ly, g), R.log_softmax_backward(ly, g),
                                   rtol=1e-4, atol=1e-5)
        t = rng.integers(0, shape[1], size=shape[0])
        loss, prob = K.softmax_cross_entropy(x, t)
        rl, rp = R.softmax_cross_entropy(x, t)
        np.testing.assert_allclose(loss, rl, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(prob, rp, rtol=1e-5, atol=1e-7)
        gl = rng.standard_normal(shape[0]).astype(np.float32)
        np.testing.assert_allclose(K.softmax_cross_entropy_backward(prob, t, gl),
                                   R.softmax_cross_entropy_backward(prob, t, gl), rtol=1e-5,
                                   atol=1e-6)


def test_softmax_extreme_values(arch):
    x = np.array([[1e4, -1e4, 0.0, -np.inf] + [3.0] * 13,
                  [-np.inf] * 16 + [-1e30]], np.float32)
    y = K.softmax(x)
    np.testing.assert_allclose(y, R.softmax(x), atol=1e-7)
    assert y[0, 3] == 0.0 and y[0, 0] == 1.0 and y[1, 16] == 1.0 and (y[1, :16] == 0).all()
    loss, _ = K.softmax_cross_entropy(x, np.array([1, 16]))
    np.testing.assert_allclose(loss, [2e4, 0.0], rtol=1e-6)
    assert np.isnan(K.softmax(np.array([[1.0, np.nan, 2.0]], np.float32))).all()


# Random123's published known answers for Philox4x32-10: (counter, key, output)
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
# sizes around the 8- and 16-lane vectors and the 64-element groups of the stream, and
# around the 16384-element parallel tasks
DROP_SIZES = [1, 5, 8, 9, 15, 16, 17, 63, 64, 65, 127, 1000, 16383, 16385, 70001]


@pytest.mark.parametrize("ctr, key, want", PHILOX_KAT)
def test_philox_known_answers(ctr, key, want):
    from striate._kernels import _C

    assert _C.philox4x32_10(ctr, key) == want
    assert tuple(int(w) for w in R.philox4x32_10(ctr, key)) == want


def test_dropout_matches_reference(arch, threads, rng):
    # the same keep mask as the NumPy twin (so on every ISA path and thread count), the
    # same values, in place too
    for n in DROP_SIZES:
        x = rng.standard_normal(n).astype(np.float32)
        for p in (0.0, 0.1, 0.5, 0.9, 1.0):
            seed = int(rng.integers(0, 2**63)) * 2 + 1
            y, keep = K.dropout(x, p, seed)
            yr, keep_r = R.dropout(x, p, seed)
            assert keep.dtype == np.uint8
            np.testing.assert_array_equal(keep, keep_r)
            np.testing.assert_allclose(y, yr, rtol=1e-6, atol=0)
            z = x.copy()
            assert K.dropout(z, p, seed, out=z)[0] is z
            np.testing.assert_array_equal(z, y)
            g = rng.standard_normal(n).astype(np.float32)
            gx = K.dropout_backward(g, keep, p)
            np.testing.assert_allclose(gx, R.dropout_backward(g, keep, p), rtol=1e-6)
            np.testing.assert_array_equal(gx, K.dropout_backward(g, keep.astype(bool), p))
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)  # any shape: flat order
    y, keep = K.dropout(x, 0.5, 42)
    np.testing.assert_array_equal(keep.reshape(-1), K.dropout(x.reshape(-1), 0.5, 42)[1])
    assert y.shape == keep.shape == x.shape


def test_dropout_statistics(arch):
    n = 1 << 20
    x = np.ones(n, np.float32)
    for p in (0.1, 0.5, 0.9):
        y, keep = K.dropout(x, p, 7)
        frac = keep.mean()
        assert abs(frac - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n), (p, frac)
        np.testing.assert_allclose(y[keep == 1], 1 / (1 - p), rtol=1e-6)
        assert (y[keep == 0] == 0).all()
    # other streams and neighbouring elements are uncorrelated
    a = K.dropout(x, 0.5, 7)[1].astype(np.float64) - 0.5
    b = K.dropout(x, 0.5, 8)[1].astype(np.float64) - 0.5
    c = K.dropout(x, 0.5, 7 + (1 << 32))[1].astype(np.float64) - 0.5
    for u, v in ((a, b), (a, c), (a[:-1], a[1:]), (a[:-16], a[16:]), (a[:-64], a[64:])):
        assert abs(float((u * v).mean()) * 4) < 5 / np.sqrt(u.size)
    # the 24 bits behind each decision are uniform: keep fractions at many thresholds
    for p in np.linspace(0.05, 0.95, 19):
        frac = K.dropout(x, float(p), 99)[1].mean()
        assert abs(frac - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n), (p, frac)


def test_dropout_c_entry_rejects_bad_p():
    # below the Python checks: the C entry points refuse p outside [0, 1] (NaN too) instead of
    # converting it to a threshold
    from striate._kernels import _C

    x = np.ones(70, np.float32)
    y, keep = np.empty_like(x), np.ones(70, np.uint8)
    for p in (float("nan"), 1.5, -0.1):
        with pytest.raises(RuntimeError, match="status 2"):
            _C.dropout(x, p, 1, y, keep)
        with pytest.raises(RuntimeError, match="status 2"):
            _C.dropout_backward(x, keep, p, y)


def test_dropout_special_values(arch):
    x = np.array([np.nan, np.inf, -np.inf, 1.0] * 16, np.float32)
    y, keep = K.dropout(x, 0.5, 3)
    kept, dropped = keep == 1, keep == 0
    assert kept.any() and dropped.any()
    assert np.isnan(y[dropped & ~np.isfinite(x)]).all()  # x * 0, as x * mask
    assert (y[dropped & np.isfinite(x)] == 0).all()
    np.testing.assert_array_equal(y[kept], x[kept] * 2)
    y1, keep1 = K.dropout(x, 1.0, 3)
    assert not keep1.any() and (y1[np.isfinite(x)] == 0).all()
    np.testing.assert_array_equal(K.dropout(x, 0.0, 3)[0], x)


ADAM_VARIANTS = [{}, {"weight_decay": 0.05}, {"weight_decay": 0.05, "decoupled": True},
                 {"maximize": True, "weight_decay": 0.01}, {"amsgrad": True},
                 {"amsgrad": True, "weight_decay": 0.05, "decoupled": True, "maximize": True}]


@pytest.mark.parametrize("variant", ADAM_VARIANTS)
def test_adam_step_matches_reference(threads, rng, variant):
    # against the float64 textbook formulas over several steps, on sizes around the
    # 16384-element parallel tasks; the NumPy optimizer path is checked bit for bit in
    # tests/optim
    hp = {"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8}
    kw = {k: v for k, v in variant.items() if k != "amsgrad"}
    for n in (1, 7, 16383, 16385, 40000):
        w = rng.standard_normal(n).astype(np.float32)
        state = [np.zeros(n, np.float32) for _ in range(3 if variant.get("amsgrad") else 2)]
        w64 = w.astype(np.float64)
        s64 = [s.astype(np.float64) for s in state]
        for t in range(1, 6):
            g = rng.standard_normal(n).astype(np.float32)
            K.adam_step(w, g, *state, **hp, step=t, **kw)
            R.adam_step(w64, g.astype(np.float64), *s64, **hp, step=t, **kw)
            np.testing.assert_allclose(w, w64, rtol=1e-5, atol=1e-6)
            for a, b in zip(state, s64):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_thread_invariance(arch, rng):
    x = rng.standard_normal((64, 1000)).astype(np.float32)
    a = rng.standard_normal((8, 32, 20, 20)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    t = rng.integers(0, 1000, size=64)

    def run():
        loss, prob = K.softmax_cross_entropy(x, t)
        return (loss, prob, K.log_softmax(x), K.bias_act(a, b, "relu"),
                K.softmax_backward(prob, x), K.log_softmax_backward(prob, x))

    for u, v in zip(*per_thread_count(run)):
        np.testing.assert_array_equal(u, v)


def test_reference_backward_finite_differences(rng):
    x = rng.standard_normal((3, 5))
    w = rng.standard_normal((3, 5))
    t = np.array([4, 0, 2])
    gl = rng.standard_normal(3)
    checks = [
        (R.softmax_backward(R.softmax(x), w), lambda z: float((R.softmax(z) * w).sum())),
        (R.log_softmax_backward(R.log_softmax(x), w),
         lambda z: float((R.log_softmax(z) * w).sum())),
        (R.softmax_cross_entropy_backward(R.softmax_cross_entropy(x, t)[1], t, gl),
         lambda z: float((R.softmax_cross_entropy(z, t)[0] * gl).sum())),
    ]
    for analytic, f in checks:
        np.testing.assert_allclose(analytic, numgrad(f, x), atol=1e-7)
    xr = rng.standard_normal((2, 3, 4))
    xr[np.abs(xr) < 1e-3] = 0.5  # keep away from the kink
    wr = rng.standard_normal(xr.shape)
    np.testing.assert_allclose(
        R.relu_backward(wr, R.bias_act(xr, None, "relu")),
        numgrad(lambda z: float((R.bias_act(z, None, "relu") * wr).sum()), xr), atol=1e-7)


F32 = np.zeros((2, 3), np.float32)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: K.bias_act(np.zeros(3, np.float32)), ValueError, "at least 2 dimensions"),
    (lambda: K.bias_act(np.zeros((2, 3), np.int32)), TypeError, "floating"),
    (lambda: K.bias_act(F32, np.zeros(4, np.float32)), ValueError, r"bias with shape \(3,\)"),
    (lambda: K.bias_act(F32, None, "gelu"), ValueError, "activation"),
    (lambda: K.bias_act(F32, out=np.zeros((3, 2), np.float32)), ValueError, "out with shape"),
    (lambda: K.bias_act(F32, out=np.zeros((2, 3))), TypeError, "float32"),
    (lambda: K.relu_backward(F32, np.zeros((3, 2), np.float32)), ValueError, "same shape"),
    (lambda: K.dropout(F32, 1.5, 0), ValueError,
     r"dropout: expected dropout probability p in \[0, 1\], got 1.5"),
    (lambda: K.dropout(F32, -0.1, 0), ValueError, "expected dropout probability p in"),
    (lambda: K.dropout(F32, 0.5, -1), ValueError, r"seed in \[0, 2\*\*64\), got -1"),
    (lambda: K.dropout(F32, 0.5, 2**64), ValueError, "seed in"),
    (lambda: K.dropout(F32, 0.5, "7"), TypeError, "seed to be an int, got str"),
    (lambda: K.dropout(F32.astype(np.int32), 0.5, 0), TypeError, "floating"),
    (lambda: K.dropout(F32, 0.5, 0, out=np.zeros((3, 2), np.float32)), ValueError,
     "out with shape"),
    (lambda: K.dropout_backward(F32, np.zeros((2, 3), np.float32), 0.5), TypeError,
     "keep with dtype uint8 or bool, got float32"),
    (lambda: K.dropout_backward(F32, np.zeros((3, 2), np.uint8), 0.5), ValueError,
     "same shape"),
    (lambda: K.dropout_backward(F32, np.zeros((2, 3), np.uint8), 2.0), ValueError,
     "expected dropout probability p in"),
    (lambda: K.dropout(F32, None, 0), TypeError, "dropout: expected p to be a real number"),
    (lambda: K.dropout(F32, "0.5", 0), TypeError, "expected p to be a real number, got '0.5'"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=0.1, beta1=0.9,
                         beta2=0.9, eps=1e-8, step=0), ValueError, "step >= 1, got 0"),
    (lambda: K.adam_step(F32.copy(), F32, np.zeros((3, 2), np.float32), F32.copy(), lr=0.1,
                         beta1=0.9, beta2=0.9, eps=1e-8, step=1), ValueError,
     r"exp_avg with shape \(2, 3\), got \(3, 2\)"),
    (lambda: K.adam_step(F32.copy(), F32[:, :2], F32.copy(), F32.copy(), lr=0.1, beta1=0.9,
                         beta2=0.9, eps=1e-8, step=1), ValueError, "same shape"),
    (lambda: K.adam_step(F32.astype(np.float64), F32, F32.copy(), F32.copy(), lr=0.1,
                         beta1=0.9, beta2=0.9, eps=1e-8, step=1), TypeError,
     "param with dtype float32, got float64"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), np.zeros((3, 2), np.float32).T, lr=0.1,
                         beta1=0.9, beta2=0.9, eps=1e-8, step=1), ValueError, "C-contiguous"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=0.1, beta1=1.0,
                         beta2=0.9, eps=1e-8, step=1), ValueError,
     r"beta1 in \[0, 1\), got 1.0"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=0.1, beta1=0.9,
                         beta2=1.5, eps=1e-8, step=1), ValueError, r"beta2 in \[0, 1\)"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=-0.1, beta1=0.9,
                         beta2=0.9, eps=1e-8, step=1), ValueError, "expected lr >= 0, got -0.1"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=np.inf, beta1=0.9,
                         beta2=0.9, eps=1e-8, step=1), ValueError, "expected lr to be finite"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=None, beta1=0.9,
                         beta2=0.9, eps=1e-8, step=1), TypeError,
     "expected lr to be a real number, got None"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=0.1, beta1=0.9,
                         beta2=0.9, eps="x", step=1), TypeError, "eps to be a real number"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=0.1, beta1=0.9,
                         beta2=0.9, eps=1e-8, step=1.0), TypeError,
     "expected step to be an int, got 1.0"),
    (lambda: K.adam_step(F32.copy(), F32, F32.copy(), F32.copy(), lr=0.1, beta1=0.9,
                         beta2=0.9, eps=1e-8, step=1, maximize="yes"), TypeError,
     "maximize to be a bool"),
    (lambda: K.softmax(np.zeros(3, np.float32)), ValueError, "2 dimensions"),
    (lambda: K.log_softmax(np.zeros((2, 3), np.int64)), TypeError, "floating"),
    (lambda: K.softmax_backward(F32, np.zeros((2, 4), np.float32)), ValueError, "same shape"),
    (lambda: K.softmax_cross_entropy(F32, np.array([0, 3])), ValueError, r"\[0, 3\).*got 3"),
    (lambda: K.softmax_cross_entropy(F32, np.array([-1, 0])), ValueError, "got -1"),
    (lambda: K.softmax_cross_entropy(F32, np.array([0.0, 1.0])), TypeError, "integer dtype"),
    (lambda: K.softmax_cross_entropy(F32, [0, 1]), TypeError, "numpy.ndarray"),
    (lambda: K.softmax_cross_entropy(F32, np.array([0, 1, 1])), ValueError, r"shape \(2,\)"),
    (lambda: K.softmax_cross_entropy_backward(F32, np.array([0, 1]), np.zeros(3, np.float32)),
     ValueError, r"grad_loss with shape \(2,\)"),
    (lambda: K.softmax_cross_entropy_backward(F32, np.array([0]), np.zeros(2, np.float32)),
     ValueError, r"target with shape \(2,\)"),
    (lambda: K.softmax_cross_entropy_backward(F32, np.array([0, 5]), np.zeros(2, np.float32)),
     ValueError, "got 5"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("pair", [("param", "exp_avg"), ("exp_avg", "exp_avg_sq"),
                                  ("param", "grad"), ("exp_avg_sq", "max_exp_avg_sq")])
def test_adam_step_refuses_arrays_sharing_memory(pair):
    """Each array is read and written in one pass, so one laid (even partly) over another
    would be read after being written: a ValueError naming both, nothing updated."""
    buf = np.arange(40, dtype=np.float32)
    arrays = {name: np.full(16, i + 1.0, np.float32) for i, name in
              enumerate(("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"))}
    arrays[pair[0]], arrays[pair[1]] = buf[:16], buf[8:24]
    before = {k: v.copy() for k, v in arrays.items()}
    with pytest.raises(ValueError, match=f"expected {pair[0]} and {pair[1]} in separate memory"):
        K.adam_step(arrays["param"], arrays["grad"], arrays["exp_avg"], arrays["exp_avg_sq"],
                    arrays["max_exp_avg_sq"], lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8, step=1)
    for k, v in arrays.items():
        np.testing.assert_array_equal(v, before[k])


def test_out_partly_over_the_input(arch, rng):
    """out laid over x (or bias) shifted by some elements: the result of the inputs as they
    were (through a temporary); exactly in place stays in place."""
    buf = rng.standard_normal(4 * 6 * 5 + 3).astype(np.float32)
    x, out = buf[:120].reshape(4, 6, 5), buf[3:123].reshape(4, 6, 5)
    bias = rng.standard_normal(6).astype(np.float32)
    want = R.bias_act(x.copy(), bias, "relu")
    assert K.bias_act(x, bias, "relu", out=out) is out
    np.testing.assert_allclose(out, want, rtol=1e-6)
    both = rng.standard_normal(2 * 6 + 6).astype(np.float32)  # out over the bias
    x2, bias2, out2 = both[:12].reshape(2, 6).copy(), both[12:], both[6:18].reshape(2, 6)
    want2 = R.bias_act(x2, bias2.copy(), "none")
    K.bias_act(x2, bias2, out=out2)
    np.testing.assert_allclose(out2, want2, rtol=1e-6)
    buf = rng.standard_normal(103).astype(np.float32)
    y_ref, keep_ref = R.dropout(buf[:100].copy(), 0.5, 7)
    y, keep = K.dropout(buf[:100], 0.5, 7, out=buf[3:])
    assert y is not None and np.shares_memory(y, buf)
    np.testing.assert_allclose(buf[3:], y_ref, rtol=1e-6)
    np.testing.assert_array_equal(keep, keep_ref)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    want = R.bias_act(x.copy(), None, "relu")
    assert K.bias_act(x, None, "relu", out=x) is x
    np.testing.assert_array_equal(x, want)


def test_zero_dimensional_arrays_keep_their_shape():
    x, g = np.array(-0.5, np.float32), np.array(2.0, np.float32)
    assert K.relu_backward(g, x).shape == ()
    y, keep = K.dropout(x, 0.0, 1)
    assert y.shape == () and keep.shape == () and y == x
    assert K.dropout_backward(g, keep, 0.0).shape == ()


def test_empty_and_unsigned_target():
    loss, prob = K.softmax_cross_entropy(np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    assert loss.shape == (0,) and prob.shape == (0, 4)
    loss, _ = K.softmax_cross_entropy(np.zeros((2, 4), np.float32), np.array([1, 3], np.uint8))
    np.testing.assert_allclose(loss, np.log(4.0), rtol=1e-6)


@pytest.mark.parity
def test_parity_with_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for n, c in ((1, 1), (128, 10), (7, 1000), (3, 33)):
        x = (rng.standard_normal((n, c)) * 4).astype(np.float32)
        t = rng.integers(0, c, size=n)
        tx = torch.from_numpy(x).requires_grad_()
        tl = F.cross_entropy(tx, torch.from_numpy(t), reduction="none")
        loss, prob = K.softmax_cross_entropy(x, t)
        np.testing.assert_allclose(loss, tl.detach().numpy(), rtol=1e-5, atol=1e-6)
        gl = rng.standard_normal(n).astype(np.float32)
        tl.backward(torch.from_numpy(gl))
        np.testing.assert_allclose(K.softmax_cross_entropy_backward(prob, t, gl),
                                   tx.grad.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(K.softmax(x), F.softmax(torch.from_numpy(x), 1).numpy(),
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(K.log_softmax(x),
                                   F.log_softmax(torch.from_numpy(x), 1).numpy(), rtol=1e-5,
                                   atol=1e-5)
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    want = F.relu(torch.from_numpy(x) + torch.from_numpy(b)[None, :, None, None]).numpy()
    np.testing.assert_allclose(K.bias_act(x, b, "relu"), want, rtol=1e-6)
