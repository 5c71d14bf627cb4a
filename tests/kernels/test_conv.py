"""Convolution kernels vs the NumPy reference, on every ISA path and 1/2 threads; the
reference's backward vs finite differences; chunk and thread invariance; bad input."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from _helpers import numgrad, per_thread_count

import striate
from striate import kernels as K
from striate.backend import reference as R

# (N, Cin, H, W, Cout, kh, kw, stride, padding, dilation, groups)
NAMED = [
    (1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1),               # batch 1, prime size
    (3, 5, 11, 13, 7, 3, 3, 1, 1, 1, 1),             # odd batch, prime H/W, prime channels
    (2, 4, 9, 8, 6, 5, 5, 2, 2, 1, 1),               # 5x5, stride 2
    (2, 3, 13, 11, 5, 7, 7, 3, 3, 1, 1),             # 7x7, stride 3
    (2, 4, 10, 9, 5, 2, 3, 1, (1, 0, 2, 1), 1, 1),   # non-square kernel, asymmetric padding
    (2, 4, 12, 11, 6, 3, 3, 1, 2, 2, 1),             # dilation 2
    (2, 4, 11, 10, 6, 3, 2, 2, (1, 2), (2, 1), 2),   # groups 2, mixed stride/dilation
    (3, 6, 9, 9, 6, 3, 3, 1, 1, 1, 6),               # depthwise
    (2, 4, 10, 7, 12, 3, 3, 2, 1, 1, 4),             # depthwise, channel multiplier 3
    (2, 5, 8, 9, 10, 5, 3, 1, (2, 1), (1, 2), 5),    # depthwise, multiplier 2, dilated
    (3, 8, 7, 5, 17, 1, 1, 1, 0, 1, 1),              # 1x1 fast path, Cout 17
    (2, 8, 6, 6, 6, 1, 1, 1, 0, 1, 2),               # 1x1 fast path, grouped
    (2, 8, 7, 7, 5, 1, 1, 2, 0, 1, 1),               # 1x1 strided (im2col path)
    (2, 6, 5, 5, 3, 1, 1, 1, 1, 1, 1),               # 1x1 padded (im2col path)
    (2, 3, 5, 6, 4, 5, 6, 1, 0, 1, 1),               # kernel == input
    (2, 3, 4, 5, 4, 6, 7, 1, 1, 1, 1),               # kernel == padded input
    (1, 1, 28, 28, 33, 3, 3, 1, 1, 1, 1),            # first layer (Cin 1), Cout 33
    (3, 1, 28, 28, 16, 4, 4, 4, 0, 1, 1),            # patch embedding (Cin 1, stride = kernel)
    (2, 1, 13, 11, 5, 3, 3, 2, 1, 1, 1),             # Cin 1, strided: im2col, not depthwise
    (2, 70, 5, 4, 35, 3, 3, 1, 1, 1, 1),             # deep reduction, Cout 35
    (1, 2, 17, 3, 3, 3, 1, (2, 1), (1, 1, 0, 0), 1, 1),  # tall thin
    (3, 2, 23, 24, 3, 3, 3, 1, 1, 1, 1),             # >= 512 outputs per image (no batching)
    (2, 9, 12, 10, 17, 3, 3, 1, 1, 1, 1),            # partial 8-blocks, below the direct
                                                     # kernel's 256 positions: im2col
    (2, 16, 9, 11, 16, 3, 2, 1, (2, 0, 1, 1), (2, 1), 2),  # direct, grouped, dilated, asym.
    (3, 3, 13, 17, 10, 3, 3, 1, 1, 1, 1),            # RGB first layer
    (1, 8, 5, 40, 8, 5, 5, 1, (0, 0, 4, 0), 1, 1),   # direct: tall kernel, one-sided pad
    (1, 37, 5, 7, 19, 1, 1, 1, 0, 1, 1),             # 1x1 batched GEMMs: batch 1, odd sizes
    (5, 33, 3, 11, 29, 1, 1, 1, 0, 1, 1),            # 1x1: odd batch, HW 33
    (3, 12, 4, 5, 9, 1, 1, 1, 0, 1, 3),              # 1x1, 3 groups of 4 -> 3
    (4, 40, 6, 6, 70, 1, 1, 1, 0, 1, 1),             # 1x1: Cout over several 14-row tiles
    (1, 2, 6, 41, 3, 3, 3, (1, 2), (0, 0, 3, 2), (1, 2), 1),  # stride 2 dilated, 21 columns
    # the direct kernel in both directions (>= 256 positions, >= 8 outputs per block): 70
    # positions per image (AVX2 tail of 22, AVX-512 of 22), 9 and 12 channels (partial blocks)
    (4, 9, 7, 10, 12, 3, 3, 1, 1, 1, 1),
    # 5x3 dilated taps, uneven padding: 121 forward / 143 backward positions (AVX2 tails of 1
    # and 23, AVX-512 of 25 and 47)
    (3, 8, 11, 13, 16, 5, 3, 1, (2, 2, 1, 1), (1, 2), 1),
    (2, 3, 34, 35, 5, 3, 3, 2, 1, 1, 1),             # stride 2, rows of >= 16 outputs (vectors)
    (1, 2, 50, 52, 3, 3, 3, 3, (1, 0, 2, 1), 1, 1),  # stride 3, >= 16 outputs: gather/scatter
    (2, 3, 20, 33, 2, 5, 3, 1, (2, 1, 0, 3), (2, 1), 1),  # few outputs, dilated rows: GEMM
]
# the row kernels (stride 1, 3, 5 or 7 kernel rows, fewer than 8 outputs per group; forward and
# backward-data; the weight gradient for 3x3 with more than 4 input channels per group)
ROW_DIRECT = [
    (1, 2, 19, 70, 3, 3, 3, 1, 1, 1, 1),             # 70 columns: blocks of 4 vectors + rest
    (2, 2, 17, 40, 4, 3, 3, 1, (1, 1, 2, 2), (1, 2), 1),  # 3 rows, columns dilated
    (2, 6, 14, 18, 4, 3, 3, 1, 1, 1, 2),             # 2 groups of 3 -> 2
    (1, 1, 100, 9, 2, 3, 3, 1, 1, 1, 1),             # 100 rows: units of 48, 16-row blocks
    (2, 2, 2, 30, 3, 3, 3, 1, 1, 1, 1),              # 2 rows, kernel taller than the input
    (3, 3, 11, 25, 5, 3, 3, 1, (0, 2, 1, 0), 1, 1),  # 25 / 23 columns (AVX2: 3 vectors + 1)
    (2, 2, 9, 49, 1, 3, 5, 1, (1, 1, 2, 2), 1, 1),   # one output, 49 columns, 3x5
    (2, 2, 6, 5, 3, 3, 3, 1, 1, 1, 1),               # 5 columns (AVX-512 backward: GEMM)
    (2, 2, 13, 20, 1, 7, 7, 1, 3, 1, 1),             # 7x7 2 -> 1 (CBAM's spatial attention)
    (2, 3, 9, 31, 4, 5, 3, 1, (2, 1, 1, 0), (1, 2), 1),  # 5x3, columns dilated
    (1, 5, 6, 18, 2, 7, 5, 1, (3, 3, 2, 2), 1, 1),   # 7 rows over a 6-row input
    (1, 2, 12, 70, 3, 5, 5, 1, 2, 1, 1),             # 5x5, 70 columns
    (2, 9, 13, 35, 3, 3, 3, 1, (1, 0, 2, 1), (1, 2), 1),  # dW: 2-vector blocks + 3 columns
    (3, 10, 7, 6, 5, 3, 3, 1, 1, 1, 1),              # dW: 6 columns, 7 rows, a short block
    (2, 12, 9, 20, 4, 3, 3, 1, 1, 1, 2),             # dW: 2 groups of 6 -> 2
    (1, 5, 40, 17, 1, 3, 3, 1, 0, 1, 1),             # dW: unpadded, 38 rows, 15 columns
]
# the direct weight gradient for few input channels (stride 1, C/groups <= 4)
DIRECT_DW = [
    (9, 2, 6, 7, 5, 5, 5, 1, 2, 1, 1),               # 25 taps, 9 images, odd Cout
    (2, 4, 9, 10, 6, 3, 3, 1, 1, 1, 2),              # 2 groups of 2 channels
    (1, 3, 4, 37, 3, 1, 3, 1, (0, 0, 1, 1), (1, 2), 1),  # 1x3 dilated, batch 1
]
NAMED += ROW_DIRECT + DIRECT_DW
ROW_DIRECT = ROW_DIRECT + [NAMED[16]]
DIRECT_DW = [NAMED[16], NAMED[24]] + DIRECT_DW
# 1x1 whose dW sums the batch in 1 to 4 parts under the chunk budgets of the chunking test;
# stride 3 through vector gathers and scatters
CASE_1X1_PARTS = (4, 40, 6, 6, 70, 1, 1, 1, 0, 1, 1)
CASE_STRIDE3 = (1, 2, 50, 52, 3, 3, 3, 3, (1, 0, 2, 1), 1, 1)
assert CASE_1X1_PARTS in NAMED and CASE_STRIDE3 in NAMED


def _random_cases(count: int, seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        groups = int(rng.choice([1, 1, 2, 3]))
        cin = groups * int(rng.integers(1, 5))
        cout = groups * int(rng.integers(1, 5))
        kh, kw = int(rng.choice([1, 2, 3, 5])), int(rng.choice([1, 3, 4]))
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        dh, dw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        pad = tuple(int(v) for v in rng.integers(0, 3, size=4))
        h, w = int(rng.integers(1, 14)), int(rng.integers(1, 14))
        if (kh - 1) * dh + 1 > h + pad[0] + pad[1] or (kw - 1) * dw + 1 > w + pad[2] + pad[3]:
            continue
        n = int(rng.integers(1, 4))
        cases.append((n, cin, h, w, cout, kh, kw, (sh, sw), pad, (dh, dw), groups))
    return cases


CASES = NAMED + _random_cases(16, seed=2024)


def _ids(case):
    n, c, h, w, k, kh, kw, s, p, d, g = case
    return f"n{n}c{c}h{h}w{w}k{k}_{kh}x{kw}_s{s}p{p}d{d}g{g}".replace(" ", "")


@functools.cache
def _data(case):
    n, c, h, w, k, kh, kw, s, p, d, g = case
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.standard_normal((k, c // g, kh, kw)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    y_shape = K.conv2d_output_shape(x.shape, wt.shape, s, p, d, g)
    gy = rng.standard_normal(y_shape).astype(np.float32)
    ref = (R.conv2d(x, wt, b, s, p, d, g),
           R.conv2d_backward_data(gy, wt, x.shape, s, p, d, g),
           R.conv2d_backward_weight(gy, x, wt.shape, s, p, d, g),
           R.conv2d_backward_bias(gy))
    return x, wt, b, gy, ref


def _close(got, want, what):
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5 * scale, err_msg=what)


def _all(case, x, wt, b, gy):
    _, _, _, _, _, _, _, s, p, d, g = case
    return (K.conv2d(x, wt, b, s, p, d, g),
            K.conv2d_backward_data(gy, wt, x.shape, s, p, d, g),
            K.conv2d_backward_weight(gy, x, wt.shape, s, p, d, g),
            K.conv2d_backward_bias(gy))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_conv2d_vs_reference(case, arch, threads):
    x, wt, b, gy, ref = _data(case)
    got = _all(case, x, wt, b, gy)
    for name, a, r in zip(("forward", "backward_data", "backward_weight", "bias"), got, ref):
        assert a.dtype == np.float32 and a.shape == r.shape, name
        _close(a, r, f"{name} {case}")
    # no bias
    _close(K.conv2d(x, wt, None, *case[7:]), ref[0] - b[None, :, None, None], "no bias")


# (N, Cin, H, W, Cout/groups, kh, kw, stride, padding, output_padding, dilation, groups)
TRANSPOSED = [
    (2, 4, 5, 6, 3, 3, 3, 2, 1, 1, 1, 1),
    (1, 6, 4, 5, 2, 3, 2, 3, (1, 0), (2, 1), 1, 2),
    (2, 4, 5, 5, 1, 3, 3, 1, 0, 1, 2, 4),        # depthwise, output_padding < dilation
    (3, 3, 3, 4, 2, 2, 2, 2, 0, 0, 1, 1),
    (2, 5, 4, 3, 3, 4, 4, 2, (1, 2, 0, 1), 1, 1, 1),
    (2, 8, 3, 3, 4, 1, 1, 1, 0, 0, 1, 2),        # 1x1
]


@pytest.mark.parametrize("case", TRANSPOSED, ids=[str(i) for i in range(len(TRANSPOSED))])
def test_conv_transpose2d_vs_reference(case, arch, threads):
    n, cin, h, w, cog, kh, kw, s, p, op, d, g = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, cin, h, w)).astype(np.float32)
    wt = rng.standard_normal((cin, cog, kh, kw)).astype(np.float32)
    b = rng.standard_normal(cog * g).astype(np.float32)
    y = K.conv_transpose2d(x, wt, b, s, p, op, d, g)
    yr = R.conv_transpose2d(x, wt, b, s, p, op, d, g)
    assert y.shape == yr.shape
    _close(y, yr, "transposed forward")
    gy = rng.standard_normal(y.shape).astype(np.float32)
    dw = K.conv_transpose2d_backward_weight(gy, x, wt.shape, s, p, op, d, g)
    _close(dw, R.conv_transpose2d_backward_weight(gy, x, wt.shape, s, p, op, d, g),
           "transposed backward weight")
    # its input gradient is a plain conv2d of grad_out
    pads = K.conv2d_output_shape(gy.shape, wt.shape, s, p, d)  # validates
    assert pads[0] == n


@pytest.mark.parametrize("parity_case", [NAMED[4], NAMED[6], NAMED[8], TRANSPOSED[1]],
                         ids=["asym", "groups", "mult", "transposed"])
@pytest.mark.parity
def test_parity_with_torch(parity_case):
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    rng = np.random.default_rng(3)
    if len(parity_case) == 12:
        n, cin, h, w, cog, kh, kw, s, p, op, d, g = parity_case
        x = rng.standard_normal((n, cin, h, w)).astype(np.float32)
        wt = rng.standard_normal((cin, cog, kh, kw)).astype(np.float32)
        want = f.conv_transpose2d(torch.tensor(x), torch.tensor(wt), None, s, p, op, g, d)
        _close(K.conv_transpose2d(x, wt, None, s, p, op, d, g), want.numpy(), "torch")
        return
    x, wt, b, _gy, _ = _data(parity_case)
    s, p, d, g = parity_case[7:]
    tx = torch.tensor(x)
    if isinstance(p, tuple) and len(p) == 4:  # F.pad order is (left, right, top, bottom)
        tx = f.pad(tx, (p[2], p[3], p[0], p[1]))
        p = 0
    want = f.conv2d(tx, torch.tensor(wt), torch.tensor(b), s, p, d, g)
    _close(K.conv2d(x, wt, b, *parity_case[7:]), want.numpy(), "torch")


@pytest.mark.parametrize("case", [
    (1, 2, 4, 5, 3, 2, 3, (1, 2), (1, 0, 1, 2), (2, 1), 1),
    (2, 4, 5, 4, 4, 3, 3, 2, 1, 1, 2),
    (1, 2, 5, 5, 4, 3, 2, 1, 1, (1, 2), 2),
])
def test_reference_backward_finite_differences(case):
    n, c, h, w, k, kh, kw, s, p, d, g = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((k, c // g, kh, kw))
    gy = rng.standard_normal(R.conv2d_output_shape(x.shape, wt.shape, s, p, d))

    def loss():
        return float((R.conv2d(x, wt, None, s, p, d, g) * gy).sum())

    np.testing.assert_allclose(R.conv2d_backward_data(gy, wt, x.shape, s, p, d, g),
                               numgrad(lambda _: loss(), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(R.conv2d_backward_weight(gy, x, wt.shape, s, p, d, g),
                               numgrad(lambda _: loss(), wt), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(R.conv2d_backward_bias(gy), gy.sum((0, 2, 3)))


def test_reference_transposed_finite_differences():
    rng = np.random.default_rng(12)
    s, p, op, d, g = (2, 3), (1, 0, 0, 1), (1, 2), 1, 2
    x = rng.standard_normal((1, 4, 3, 2))
    wt = rng.standard_normal((4, 1, 3, 2))
    gy = rng.standard_normal(R.conv_transpose2d(x, wt, None, s, p, op, d, g).shape)

    def loss():
        return float((R.conv_transpose2d(x, wt, None, s, p, op, d, g) * gy).sum())

    np.testing.assert_allclose(R.conv_transpose2d_backward_weight(gy, x, wt.shape, s, p, op,
                                                                  d, g),
                               numgrad(lambda _: loss(), wt), rtol=1e-6, atol=1e-7)
    # the input gradient of a transposed conv is the conv2d of grad_out
    np.testing.assert_allclose(R.conv2d(gy, wt, None, s, p, d, g), numgrad(lambda _: loss(), x),
                               rtol=1e-6, atol=1e-7)


@pytest.fixture
def chunk_bytes():
    saved = K.conv_chunk_bytes()
    yield K.set_conv_chunk_bytes
    K.set_conv_chunk_bytes(saved)


@pytest.mark.parametrize("case", [NAMED[1], NAMED[3], NAMED[6], NAMED[16], NAMED[17], NAMED[19],
                                  CASE_1X1_PARTS, CASE_STRIDE3], ids=_ids)
def test_chunking_invariance(case, chunk_bytes, threads):
    x, wt, b, gy, _ = _data(case)
    want = _all(case, x, wt, b, gy)
    for budget in (1, 4096, 1 << 16):
        chunk_bytes(budget)
        got = _all(case, x, wt, b, gy)
        # tiles change only the order of float32 sums (col2im, the dW reduction)
        for name, a, r in zip(("forward", "backward_data", "backward_weight", "bias"), got,
                              want):
            _close(a, r, f"{name} budget={budget}")
    chunk_bytes(0)
    assert K.conv_chunk_bytes() == 8 << 20


@pytest.mark.parametrize("case", [NAMED[1], NAMED[7], NAMED[10], NAMED[16], CASE_1X1_PARTS,
                                  CASE_STRIDE3], ids=_ids)
def test_thread_invariance(case):
    x, wt, b, gy, _ = _data(case)
    one, two, two_again = per_thread_count(lambda: _all(case, x, wt, b, gy), (1, 2, 2))
    for a, c, c2 in zip(one, two, two_again):
        _close(c, a, "threads 1 vs 2")
        np.testing.assert_array_equal(c, c2)  # deterministic for a thread count


@pytest.mark.parametrize("case", DIRECT_DW, ids=_ids)
def test_direct_weight_gradient_thread_invariance(case):
    """Fixed batch parts summed in order: the same bits on 1 and 2 threads."""
    x, wt, _, gy, ref = _data(case)
    s, p, d, g = case[7:]

    def dw():
        return K.conv2d_backward_weight(gy, x, wt.shape, s, p, d, g)

    one, two = per_thread_count(dw, (1, 2))
    np.testing.assert_array_equal(one, two)
    _close(one, ref[2], "backward_weight")


@pytest.mark.parametrize("isa", [a for a in striate.available_archs() if a != "generic"])
@pytest.mark.parametrize("case", ROW_DIRECT, ids=_ids)
def test_row_kernel_thread_invariance(case, isa):
    """Each output of the row kernels (AVX-512, AVX2) is summed by one thread in a fixed
    order."""
    x, wt, b, gy, ref = _data(case)
    s, p, d, g = case[7:]

    def run():
        return (K.conv2d(x, wt, b, s, p, d, g),
                K.conv2d_backward_data(gy, wt, x.shape, s, p, d, g),
                K.conv2d_backward_weight(gy, x, wt.shape, s, p, d, g))

    saved = striate.get_arch()
    striate.set_arch(isa)
    try:
        one, two = per_thread_count(run, (1, 2))
    finally:
        striate.set_arch(saved)
    for a, c, r, name in zip(one, two, ref, ("forward", "backward_data", "backward_weight")):
        np.testing.assert_array_equal(a, c, err_msg=name)
        _close(a, r, name)


@pytest.mark.parametrize("n", [1, 3, 8])
def test_1x1_workload_shape(arch, n):
    """The 1x1 path on a workload-g-like layer (256 -> 64 channels, 16 x 16): vs the reference,
    and every result the same bits on 1 and 2 threads (dW summed over images in order)."""
    case = (n, 256, 16, 16, 64, 1, 1, 1, 0, 1, 1)
    x, wt, b, gy, ref = _data(case)
    one, two = per_thread_count(lambda: _all(case, x, wt, b, gy), (1, 2))
    for name, a, c, r in zip(("forward", "backward_data", "backward_weight", "bias"), one, two,
                             ref):
        _close(a, r, name)
        np.testing.assert_array_equal(c, a, err_msg=name)


@pytest.mark.parametrize("shape", [(16, 48, 33, 31), (5, 7, 1, 1), (3, 300, 2, 3)])
def test_bias_gradient_threads_and_float64(arch, shape):
    """Planes summed in memory order by whichever thread, then each channel's plane sums in
    image order: the same bits on 1 and 2 threads, and close to the float64 sum."""
    gy = np.random.default_rng(7).standard_normal(shape).astype(np.float32) + 0.5
    one, two = per_thread_count(lambda: K.conv2d_backward_bias(gy), (1, 2))
    np.testing.assert_array_equal(one, two)
    want = gy.astype(np.float64).sum((0, 2, 3))
    np.testing.assert_allclose(one, want, rtol=2e-6, atol=2e-6 * np.sqrt(gy[:, 0].size))


def test_noncontiguous_and_float64_inputs():
    x, wt, b, _gy, ref = _data(NAMED[1])
    xf = np.asfortranarray(x.astype(np.float64))
    _close(K.conv2d(xf, wt[:, :, ::-1, ::-1].copy()[:, :, ::-1, ::-1], b, 1, 1), ref[0], "nc")


def test_output_shape_helper():
    assert K.conv2d_output_shape((8, 3, 32, 32), (16, 3, 3, 3), 2, 1, 1) == (8, 16, 16, 16)
    assert K.conv2d_output_shape((1, 1, 5, 7), (2, 1, 3, 3), 1, (0, 1, 2, 0), 2) == (1, 2, 2, 5)
    assert R.conv2d_output_shape((1, 1, 5, 7), (2, 1, 3, 3), 1, (0, 1, 2, 0), 2) == (1, 2, 2, 5)


def _conv_by_taps(x, w, stride, pads, dil):
    """float64 conv2d summing only the taps that land inside the input: for paddings far too
    large for the reference, which pads the input explicitly."""
    n, _, h, wd = x.shape
    k, _, kh, kw = w.shape
    pt, pb, pl, pr = pads
    P = (h + pt + pb - dil[0] * (kh - 1) - 1) // stride[0] + 1
    Q = (wd + pl + pr - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, k, P, Q))
    for p, q, r, s in np.ndindex(P, Q, kh, kw):
        i, j = p * stride[0] - pt + r * dil[0], q * stride[1] - pl + s * dil[1]
        if 0 <= i < h and 0 <= j < wd:
            y[:, :, p, q] += x[:, :, i, j].astype(np.float64) @ w[:, :, r, s].T
    return y


@pytest.mark.parametrize("stride, pads, dil", [
    ((1, 2**30 - 9), (0, 0, 2**30 - 8, 1), (1, 1)),
    ((2**30 - 7, 2), (2**30 - 6, 1, 3, 0), (1, 1)),
    ((1, 2**30 - 4), (0, 0, 2**30 - 6, 1), (1, 1)),
    ((2**29, 1), (2**30 - 4, 0, 1, 1), (2**29 - 2, 1)),
], ids=["left", "top", "wide", "dilated"])
def test_paddings_at_the_extent_limit(arch, rng, stride, pads, dil):
    """Padded planes of up to MAX_EXTENT (2**30) rows or columns: the vector code's 32-bit
    lane arithmetic stays in range (past it the arguments are refused, see test_bad_input).
    Forward against the taps, both gradients by the adjoint identity
    <conv(x), g> = <x, dX(g)> = <w, dW(g, x)>."""
    x = rng.standard_normal((1, 2, 4, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    kw = {"stride": stride, "padding": pads, "dilation": dil}
    y = K.conv2d(x, w, **kw)
    want = _conv_by_taps(x, w, stride, pads, dil)
    assert abs(want).max() > 0.1  # some taps land inside
    np.testing.assert_allclose(y, want, atol=1e-5)
    g = rng.standard_normal(y.shape).astype(np.float32)
    dx = K.conv2d_backward_data(g, w, x.shape, **kw)
    dw = K.conv2d_backward_weight(g, x, w.shape, **kw)
    inner = float((want * g).sum())
    assert np.isclose(inner, float((x.astype(np.float64) * dx).sum()), atol=1e-4)
    assert np.isclose(inner, float((w.astype(np.float64) * dw).sum()), atol=1e-4)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_depthwise_weight_gradient_non_finite_input(arch, rng, value):
    """A NaN or infinite input element reaches exactly the taps that read it: the depthwise
    kernel's long loops also multiply the zero pitch columns of dy by input elements."""
    cases = [(1, 2, 5, 5, 1, 3, 2, 0, 1), (2, 3, 7, 6, 3, 2, 1, 1, 2), (1, 2, 9, 8, 2, 3, 1, 1, 1),
             (2, 4, 6, 7, 1, 4, 3, 2, 1)]
    for n, c, h, w, mult, k, s, p, d in cases:
        x = rng.standard_normal((n, c, h, w)).astype(np.float32)
        for pos in rng.choice(x.size, 3, replace=False):
            xv = x.copy()
            xv.flat[pos] = value
            y_shape = K.conv2d_output_shape(x.shape, (c * mult, 1, k, k), s, p, d, c)
            g = rng.standard_normal(y_shape).astype(np.float32)
            got = K.conv2d_backward_weight(g, xv, (c * mult, 1, k, k), s, p, d, c)
            want = R.conv2d_backward_weight(g, xv, (c * mult, 1, k, k), s, p, d, c)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_empty_batch():
    y = K.conv2d(np.zeros((0, 3, 5, 5), np.float32), np.ones((2, 3, 3, 3), np.float32))
    assert y.shape == (0, 2, 3, 3)
    dw = K.conv2d_backward_weight(np.zeros((0, 2, 3, 3), np.float32),
                                  np.zeros((0, 3, 5, 5), np.float32), (2, 3, 3, 3))
    assert dw.shape == (2, 3, 3, 3) and not dw.any()


X = np.zeros((8, 32, 28, 28), np.float32)
W = np.zeros((128, 64, 3, 3), np.float32)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: K.conv2d(X, W), ValueError,
     (r"conv2d: expected input with 64 channels \(groups=1, weight shape \(128, 64, 3, 3\)\), "
      r"got input shape \(8, 32, 28, 28\)")),
    (lambda: K.conv2d(X[0], W), ValueError, "input with 4 dimensions"),
    (lambda: K.conv2d(X, W[:, :16], groups=3), ValueError, "divisible by groups=3"),
    (lambda: K.conv2d(X, W[:, :16], groups=0), ValueError, "groups"),
    (lambda: K.conv2d(X, W[:, :32], padding=-1), ValueError, r"padding in \[0, 1073741824\]"),
    (lambda: K.conv2d(X, W[:, :32], padding=(1, 2, 3)), ValueError, "padding"),
    (lambda: K.conv2d(X, W[:, :32], stride=0), ValueError, r"stride in \[1, 1073741824\]"),
    (lambda: K.conv2d(X, W[:, :32], dilation=(1, 0)), ValueError, r"dilation in \[1, "),
    # past the 32-bit lanes of the vector code: refused, never a crash or a wrong answer
    (lambda: K.conv2d(X, W[:, :32], padding=(0, 0, 2**31, 0)), ValueError,
     r"padding in \[0, 1073741824\], got \(0, 0, 2147483648, 0\)"),
    (lambda: K.conv2d(X, W[:, :32], stride=2**64), ValueError, "stride in"),
    (lambda: K.conv2d(X, W[:, :32], dilation=2**63), ValueError, "dilation in"),
    (lambda: K.conv2d(X, W[:, :32], padding=(0, 0, 2**30, 0)), ValueError,
     r"padded input of at most 1073741824 rows and columns, got \(28, 1073741852\)"),
    (lambda: K.conv_transpose2d(X[:, :, :2, :2], np.zeros((32, 4, 3, 3), np.float32),
                                stride=2**30), ValueError, "padded output of at most"),
    (lambda: K.conv2d_backward_weight(np.zeros((8, 128, 26, 26), np.float32), X,
                                      (128, 32, 3, 3), stride=2**31), ValueError, "stride in"),
    # ints only: int() would parse a str or truncate a float silently
    (lambda: K.conv2d(X, W[:, :32], stride="12"), TypeError,
     "expected stride to be an int or a pair of ints, got '12'"),
    (lambda: K.conv2d(X, W[:, :32], stride=(1.7, 1.7)), TypeError, r"got \(1.7, 1.7\)"),
    (lambda: K.conv2d(X, W[:, :32], dilation=True), TypeError, "dilation"),
    (lambda: K.conv2d(X, W[:, :32], padding="same"), TypeError,
     "expected padding to be an int, .* got 'same'"),
    (lambda: K.conv2d_backward_data(np.zeros((8, 128, 26, 26), np.float32), W[:, :32],
                                    (8, 32, 28.0, 28)), TypeError,
     r"expected input_shape to be a sequence of 4 ints \(N, C, H, W\), got \(8, 32, 28.0"),
    (lambda: K.conv2d_output_shape("abcd", (1, 1, 1, 1)), TypeError, "input_shape"),
    (lambda: K.conv2d(X[:, :, :2], W[:, :32]), ValueError,
     r"kernel size \(dilated\) \(3, 3\) is larger than the padded input \(2, 28\)"),
    (lambda: K.conv2d(X, W[:, :32], dilation=14), ValueError, "larger than the padded input"),
    (lambda: K.conv2d(X, W[:, :32], np.zeros(127, np.float32)), ValueError,
     r"bias with shape \(128,\)"),
    (lambda: K.conv2d(X.astype(np.int32), W[:, :32]), TypeError, "floating dtype"),
    (lambda: K.conv2d(X.tolist(), W[:, :32]), TypeError, "numpy.ndarray"),
    (lambda: K.conv2d_backward_data(np.zeros((8, 128, 27, 28), np.float32), W[:, :32],
                                    X.shape, padding=1), ValueError,
     r"grad_out with shape \(8, 128, 28, 28\)"),
    (lambda: K.conv2d_backward_weight(np.zeros((8, 128, 26, 26), np.float32), X,
                                      (128, 32, 3)), ValueError, "weight_shape"),
    (lambda: K.conv2d_backward_bias(np.zeros((3, 4), np.float32)), ValueError, "4 dimensions"),
    (lambda: K.conv_transpose2d(X, np.zeros((32, 4, 3, 3), np.float32), stride=2,
                                output_padding=2), ValueError, "output_padding smaller"),
    (lambda: K.conv_transpose2d(X, np.zeros((16, 4, 3, 3), np.float32)), ValueError,
     "expected input with 16 channels"),
    (lambda: K.conv_transpose2d(X, np.zeros((32, 4, 3, 3), np.float32), groups=3),
     ValueError, "divisible by groups=3"),
    (lambda: K.conv_transpose2d(X[:, :, :1, :1], np.zeros((32, 4, 1, 1), np.float32),
                                padding=1), ValueError, "not positive"),
    (lambda: K.set_conv_chunk_bytes(-1), ValueError, "set_conv_chunk_bytes"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
