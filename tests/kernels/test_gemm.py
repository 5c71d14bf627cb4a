"""striate.kernels.gemm (packed, blocked SGEMM) against the float64 NumPy reference.

Every test runs on each ISA path this CPU has (`arch`) and, where threads matter, with 1 and
2 threads (`threads`).  Shapes cover 0, 1, small primes, the register tile +-1 of the path in
use and sizes beyond its cache blocks (MC, KC, NC)."""

import itertools

import numpy as np
import pytest
from _helpers import per_thread_count

from striate._kernels import _C
from striate._runtime import ARCH_NAMES
from striate.backend import reference as ref
from striate.kernels import gemm

TRANS = list(itertools.product([False, True], [False, True]))


def _info(arch: str) -> dict:
    return _C.sgemm_info(ARCH_NAMES.index(arch))


def _operands(rng, m, n, k, ta, tb):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    return a, b


def _check(got, want, k):
    # float32 accumulation over k terms of O(1) products: error grows ~ k * eps.
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6 * (k + 1))


def _run(rng, m, n, k, ta, tb, alpha=1.0, beta=0.0, c0=None):
    a, b = _operands(rng, m, n, k, ta, tb)
    if c0 is None:
        out = None
        want = ref.gemm(a, b, trans_a=ta, trans_b=tb, alpha=alpha)
        got = gemm(a, b, trans_a=ta, trans_b=tb, alpha=alpha)
    else:
        want = ref.gemm(a, b, c0.copy(), trans_a=ta, trans_b=tb, alpha=alpha, beta=beta)
        out = c0.copy()
        got = gemm(a, b, out, trans_a=ta, trans_b=tb, alpha=alpha, beta=beta)
        assert got is out
    assert got.shape == (m, n) and got.dtype == np.float32
    _check(got, want, k)


def test_info_reports_tile_and_blocks(arch):
    info = _info(arch)
    assert info["kernel"].startswith(f"sgemm_{arch}_")
    assert info["kernel"].endswith(f"_{info['mr']}x{info['nr']}")
    assert info["mc"] % info["mr"] == 0 and info["nc"] % info["nr"] == 0
    assert info["kc"] > 0


def test_grid_around_tiles(arch, threads, rng):
    """M x N over tile edges and primes, several K, the four transpose combos in rotation."""
    info = _info(arch)
    mr, nr = info["mr"], info["nr"]
    sizes = sorted({0, 1, 2, 3, mr - 1, mr, mr + 1, nr - 1, nr, nr + 1, 17, 31, 64, 127, 257})
    ks = [0, 1, 3, mr + 1, 17, 257]
    for idx, (m, n, k) in enumerate(itertools.product(sizes, sizes, ks)):
        if m * n * max(k, 1) > 257 * 257 * 17:  # keep the largest cubes out of the sweep
            continue
        ta, tb = TRANS[idx % 4]
        _run(rng, m, n, k, ta, tb)


def test_every_row_and_column_remainder(arch, rng):
    """Every M % MR (edge kernels) and every N % NR (masked columns), both narrow and wide N."""
    info = _info(arch)
    mr, nr = info["mr"], info["nr"]
    for i, m in enumerate(range(1, 2 * max(mr, 24) + 2)):
        _run(rng, m, 37, 19, *TRANS[i % 4])
        _run(rng, m, 16, 23, *TRANS[(i + 1) % 4])
    for i, n in enumerate(range(1, 2 * nr + 2)):
        _run(rng, 29, n, 21, *TRANS[i % 4])


@pytest.mark.parametrize("ta,tb", TRANS)
def test_beyond_cache_blocks(arch, threads, rng, ta, tb):
    """Sizes past MC, KC and NC: several blocks in every loop, partial blocks at the end."""
    info = _info(arch)
    mc, kc, nc = info["mc"], info["kc"], info["nc"]
    _run(rng, mc + 5, 2 * info["nr"] + 3, 2 * kc + 3, ta, tb)
    _run(rng, 2 * mc + 1, 37, kc + 1, ta, tb, alpha=0.5, beta=2.0,
         c0=rng.standard_normal((2 * mc + 1, 37)).astype(np.float32))
    _run(rng, 9, nc + 7, 20, ta, tb)


@pytest.mark.parametrize("n", [1, 5, 15, 16])
def test_narrow_n(arch, threads, rng, n):
    """N <= 16 takes the narrow-tile path (tall-skinny products such as conv512x4608x16)."""
    for m, k in [(1, 1), (23, 7), (24, 600), (25, 1100), (517, 613)]:
        for ta, tb in TRANS:
            _run(rng, m, n, k, ta, tb)


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (-0.5, 0.25), (2.0, 0.0), (0.0, 0.5),
                                        (0.0, 0.0), (1.0, -1.0)])
def test_alpha_beta(arch, threads, rng, alpha, beta):
    shapes = [(7, 9, 5), (33, 65, 300), (300, 40, 70), (50, 3, 600), (100, 16, 700)]
    for (m, n, k), (ta, tb) in zip(shapes, TRANS + TRANS):
        c0 = rng.standard_normal((m, n)).astype(np.float32)
        _run(rng, m, n, k, ta, tb, alpha=alpha, beta=beta, c0=c0)


@pytest.mark.parametrize("k", [0, 1, 300])
def test_beta_zero_ignores_nan_in_out(arch, threads, rng, k):
    for m, n in [(5, 7), (130, 70), (40, 16)]:
        a, b = _operands(rng, m, n, k, False, False)
        out = np.full((m, n), np.nan, dtype=np.float32)
        gemm(a, b, out, beta=0.0)
        assert np.isfinite(out).all()
        _check(out, ref.gemm(a, b), k)


def test_k_zero_scales_out(arch, rng):
    c0 = rng.standard_normal((6, 40)).astype(np.float32)
    out = c0.copy()
    gemm(np.empty((6, 0), np.float32), np.empty((0, 40), np.float32), out, beta=0.5)
    np.testing.assert_array_equal(out, np.float32(0.5) * c0)
    got = gemm(np.empty((6, 0), np.float32), np.empty((0, 40), np.float32))
    np.testing.assert_array_equal(got, np.zeros((6, 40), np.float32))


@pytest.mark.parametrize("m,n,k", [(513, 300, 700), (64, 1024, 576), (512, 16, 4608),
                                   (128, 256, 1152), (97, 1031, 37)])
def test_thread_count_invariance(arch, rng, m, n, k):
    """Every C element is summed in the same order on any thread count: results identical."""
    a, b = _operands(rng, m, n, k, False, False)
    outs = per_thread_count(lambda: gemm(a, b), (1, 2, 3))
    serial = np.empty((m, n), np.float32)
    _C.sgemm(False, False, 1.0, a, b, 0.0, serial, serial=True)
    for o in outs[1:] + [serial]:
        np.testing.assert_array_equal(o, outs[0])
    _check(outs[0], ref.gemm(a, b), k)


def test_non_contiguous_and_float64_inputs(arch, rng):
    a = rng.standard_normal((40, 2 * 33)).astype(np.float32)[:, ::2]   # strided columns
    b = rng.standard_normal((29, 33)).astype(np.float32).T               # transposed view
    want = ref.gemm(a, b)
    _check(gemm(a, b), want, 33)
    _check(gemm(a.astype(np.float64), b.astype(np.float64)), want, 33)
    _check(gemm(np.asfortranarray(a), b.T, trans_b=True), want, 33)


def test_matches_numpy_matmul_large(arch, threads, rng):
    a = rng.standard_normal((300, 520)).astype(np.float32)
    b = rng.standard_normal((520, 270)).astype(np.float32)
    _check(gemm(a, b), (a.astype(np.float64) @ b.astype(np.float64)), 520)


def test_out_errors(rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((5, 6)).astype(np.float32)
    with pytest.raises(ValueError, match=r"expected out with shape \(4, 6\), got \(6, 4\)"):
        gemm(a, b, np.empty((6, 4), np.float32))
    with pytest.raises(TypeError, match="expected out with dtype float32, got float64"):
        gemm(a, b, np.empty((4, 6), np.float64))
    with pytest.raises(ValueError, match="expected out to be C-contiguous"):
        gemm(a, b, np.empty((6, 4), np.float32).T)
    with pytest.raises(TypeError, match="expected out to be a numpy.ndarray, got list"):
        gemm(a, b, [[0.0] * 6] * 4)
    ro = np.empty((4, 6), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="expected out to be writeable"):
        gemm(a, b, ro)


def test_bad_inputs(rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((5, 6)).astype(np.float32)
    with pytest.raises(ValueError, match=r"expected a with 2 dimensions, got shape \(20,\)"):
        gemm(a.ravel(), b)
    with pytest.raises(ValueError, match=r"expected b with 2 dimensions, got shape \(1, 5, 6\)"):
        gemm(a, b[None])
    with pytest.raises(ValueError, match=r"inner dimensions differ: op\(a\) has shape \(4, 5\)"):
        gemm(a, b.T)
    with pytest.raises(ValueError, match=r"op\(b\) has shape \(6, 5\).*trans_b=True"):
        gemm(a, b, trans_b=True)
    with pytest.raises(TypeError, match="expected a with a floating dtype.*got dtype int64"):
        gemm(np.ones((4, 5), np.int64), b)
    with pytest.raises(TypeError, match="expected b to be a numpy.ndarray, got list"):
        gemm(a, b.tolist())
    with pytest.raises(TypeError, match="expected alpha to be a real number, got 'x'"):
        gemm(a, b, alpha="x")
    with pytest.raises(TypeError, match="expected beta to be a real number, got None"):
        gemm(a, b, out=np.zeros((4, 6), np.float32), beta=None)
    with pytest.raises(ValueError, match=r"expected alpha finite in float32 .* got 1e\+40"):
        gemm(a, b, alpha=1e40)
    with pytest.raises(TypeError, match="expected trans_b to be a bool, got 'no'"):
        gemm(a, b, trans_b="no")


def test_alpha_and_beta_zero_do_not_read_their_operands(arch):
    a = np.full((3, 4), np.nan, np.float32)
    b = np.full((4, 5), np.inf, np.float32)
    out = np.full((3, 5), np.nan, np.float32)
    for fn in (gemm, ref.gemm):
        np.testing.assert_array_equal(fn(a, b, out.copy(), alpha=0.0, beta=0.0), 0.0)
        np.testing.assert_array_equal(fn(a, b, np.ones((3, 5), np.float32), alpha=0.0,
                                         beta=2.0), 2.0)


@pytest.mark.parametrize("which", ["a", "b", "window"])
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_out_sharing_memory_with_an_operand(arch, threads, rng, which, beta):
    """out laid over a, over b, or over a window of b: the product of the operands as they
    were before the call (the kernel reads them while writing out)."""
    n = 67
    a = rng.standard_normal((n, n)).astype(np.float32)
    buf = rng.standard_normal(n * n + n).astype(np.float32)
    b = buf[:n * n].reshape(n, n)
    out = {"a": a, "b": b, "window": buf[n:].reshape(n, n)}[which]
    want = ref.gemm(a.copy(), b.copy(), out.copy(), trans_b=True, alpha=0.75, beta=beta)
    gemm(a, b, out, trans_b=True, alpha=0.75, beta=beta)
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("m,n,k", [(13, 31, 9), (29, 33, 40), (517, 16, 300), (5, 7, 3)])
def test_writes_stay_inside_out(arch, threads, rng, m, n, k):
    """out is a window of a larger buffer whose guard cells must stay untouched (NaN)."""
    pad = 64
    buf = np.full(m * n + 2 * pad, np.nan, dtype=np.float32)
    out = buf[pad:pad + m * n].reshape(m, n)
    out[...] = 1.0
    a, b = _operands(rng, m, n, k, False, True)
    gemm(a, b, out, beta=0.5, trans_b=True)
    assert np.isnan(buf[:pad]).all() and np.isnan(buf[pad + m * n:]).all()
    _check(out, ref.gemm(a, b, np.ones((m, n), np.float32), trans_b=True, beta=0.5), k)


# ---- batched products (st_sgemm_batch) -------------------------------------------------------

BATCH_SHAPES = [(1, 1, 1, 1), (17, 33, 29, 3), (64, 256, 256, 3), (70, 45, 300, 5),
                (13, 515, 9, 2), (257, 64, 200, 4), (5, 16, 40, 7),
                (600, 8, 1000, 2)]  # last: A too big to keep packed (packed per product)


def _batch_operands(rng, m, n, k, b, ta, tb, shared_a):
    a = rng.standard_normal((1 if shared_a else b,) + ((k, m) if ta else (m, k)))
    bm = rng.standard_normal((b,) + ((n, k) if tb else (k, n)))
    return a.astype(np.float32), bm.astype(np.float32)


def _op(x, t):
    return np.swapaxes(x, -1, -2) if t else x


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("shared_a", [True, False])
def test_batch_independent(arch, threads, rng, ta, tb, shape, shared_a):
    """c[i] = op(a_i) @ op(b_i): vs NumPy, and identical to the serial sgemm of each product."""
    m, n, k, nb = shape
    a, b = _batch_operands(rng, m, n, k, nb, ta, tb, shared_a)
    c0 = rng.standard_normal((nb, m, n)).astype(np.float32)
    c = c0.copy()
    _C.sgemm_batch(ta, tb, 0.5, a, b, 2.0, c)
    want = 0.5 * (_op(a.astype(np.float64), ta) @ _op(b.astype(np.float64), tb)) + 2.0 * c0
    _check(c, want, k)
    for i in range(nb):
        one = c0[i].copy()
        _C.sgemm(ta, tb, 0.5, a[0 if shared_a else i], b[i], 2.0, one, serial=True)
        np.testing.assert_array_equal(c[i], one)


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_batch_sum(arch, rng, ta, tb, shape):
    """c = sum_i op(a_i) @ op(b_i) (+ beta c): vs NumPy, same bits on 1, 2 and 3 threads and
    serial, and equal to chained sgemm calls with beta = 1."""
    m, n, k, nb = shape
    a, b = _batch_operands(rng, m, n, k, nb, ta, tb, False)
    c0 = rng.standard_normal((1, m, n)).astype(np.float32)

    def run(serial=False):
        c = c0.copy()
        _C.sgemm_batch(ta, tb, 1.0, a, b, -1.0, c, serial=serial)
        return c

    outs = per_thread_count(run, (1, 2, 3)) + [run(serial=True)]
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    want = (_op(a.astype(np.float64), ta) @ _op(b.astype(np.float64), tb)).sum(0) - c0[0]
    _check(outs[0][0], want, k * nb)
    chained = c0[0].copy()
    for i in range(nb):
        _C.sgemm(ta, tb, 1.0, a[i], b[i], -1.0 if i == 0 else 1.0, chained, serial=True)
    np.testing.assert_array_equal(outs[0][0], chained)


def test_batch_edge_cases(arch, threads, rng):
    a, b = _batch_operands(rng, 5, 6, 0, 3, False, False, False)
    c = np.full((3, 5, 6), 2.0, np.float32)
    _C.sgemm_batch(False, False, 1.0, a, b, 0.5, c)  # K == 0: C scaled
    np.testing.assert_array_equal(c, np.ones((3, 5, 6), np.float32))
    a, b = _batch_operands(rng, 5, 6, 7, 3, False, False, True)
    c = np.full((3, 5, 6), np.nan, np.float32)
    _C.sgemm_batch(False, False, 1.0, a, b, 0.0, c)  # beta == 0 ignores NaN in C
    _check(c, a.astype(np.float64) @ b, 7)


# ---- one row or one column (the matrix-vector path) -------------------------------------------

GEMV_SHAPES = [(1, 1, 1), (1, 17, 1), (1, 5, 3), (1, 100, 127), (1, 33, 1024), (1, 7, 1025),
               (1, 4100, 64), (1, 300, 2100), (3, 40, 1), (4, 16, 1), (5, 15, 1), (129, 4100, 1),
               (2051, 9, 1)]


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("shape", GEMV_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_gemv_shapes(arch, threads, rng, ta, tb, shape):
    """M == 1 or N == 1 (dot and axpy forms, strided vector operands) vs NumPy, with alpha
    and beta, and beta == 0 ignoring NaN in C."""
    m, k, n = shape
    a, b = _operands(rng, m, n, k, ta, tb)
    c0 = rng.standard_normal((m, n)).astype(np.float32)
    got = gemm(a, b, c0.copy(), trans_a=ta, trans_b=tb, alpha=0.5, beta=-2.0)
    _check(got, ref.gemm(a, b, c0, trans_a=ta, trans_b=tb, alpha=0.5, beta=-2.0), k)
    nan = np.full((m, n), np.nan, np.float32)
    got = gemm(a, b, nan, trans_a=ta, trans_b=tb)
    _check(got, ref.gemm(a, b, trans_a=ta, trans_b=tb), k)


@pytest.mark.parametrize("shape", [(1, 3000, 5000), (6001, 700, 1)], ids=["row", "column"])
def test_gemv_threads_bit_identical(rng, shape):
    """Threads split outputs, never K: 1, 2 and 3 threads give the same bits."""
    m, k, n = shape
    a, b = _operands(rng, m, n, k, False, False)
    outs = per_thread_count(lambda: gemm(a, b), (1, 2, 3))
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    _check(outs[0], ref.gemm(a, b), k)


@pytest.mark.parametrize("ta,tb", TRANS)
@pytest.mark.parametrize("m,k,n", [(1, 37, 50), (45, 37, 1), (1, 33, 1)])
def test_gemv_strided_operands(arch, threads, rng, ta, tb, m, k, n):
    """Operands that are columns (or rows) of wider matrices, as C callers pass them: the
    vector operand is read with its stride."""
    pad = 3
    a_rows, a_cols = (k, m) if ta else (m, k)
    b_rows, b_cols = (n, k) if tb else (k, n)
    a_full = rng.standard_normal((a_rows, a_cols + pad)).astype(np.float32)
    b_full = rng.standard_normal((b_rows, b_cols + pad)).astype(np.float32)
    c_full = np.full((m, n + pad), 7.0, np.float32)
    _C.sgemm_ld(ta, tb, m, n, k, 1.5, a_full.ravel(), a_cols + pad, b_full.ravel(), b_cols + pad,
                0.0, c_full.ravel(), n + pad)
    a, b = a_full[:, :a_cols], b_full[:, :b_cols]
    _check(c_full[:, :n], 1.5 * ref.gemm(np.ascontiguousarray(a), np.ascontiguousarray(b),
                                         trans_a=ta, trans_b=tb), k)
    assert (c_full[:, n:] == 7.0).all()  # nothing outside C's columns is written
