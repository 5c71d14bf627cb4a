"""The zoo's own differentiable ops: finite-difference gradchecks, semantics and errors."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate.functional import scaled_dot_product_attention
from striate.functional._zoo_ops import (
    channel_pool,
    dense_concat,
    global_max_pool2d,
    pad_shortcut,
    prepend_class_token,
    stochastic_depth,
)


def t64(rng, *shape, grad=True):
    return striate.Tensor(rng.standard_normal(shape), requires_grad=grad)


# ----------------------------------------------------------------------------- dense_concat
def test_dense_concat_gradcheck(rng):
    x = t64(rng, 2, 3, 3, 2)
    a = t64(rng, 2, 2, 3, 2)
    b = t64(rng, 2, 2, 3, 2)

    def fn(x, a, b):
        buf = np.empty((2, 7, 3, 2))
        f = dense_concat(x, a * 1.5, buf)
        g = dense_concat(f, b, buf)
        return g * 2.0, f  # the earlier view stays valid after later writes

    assert striate.gradcheck(fn, (x, a, b))


def test_dense_concat_is_a_view_of_the_buffer_and_copies_each_piece_once(rng):
    x = striate.Tensor(rng.standard_normal((2, 4, 5, 5)).astype(np.float32))
    pieces = [striate.Tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32))
              for _ in range(3)]
    buf = np.full((2, 13, 5, 5), np.nan, np.float32)
    f = x
    for p in pieces:
        f = dense_concat(f, p, buf)
        assert np.shares_memory(f.data, buf)
    expect = np.concatenate([x.data] + [p.data for p in pieces], axis=1)
    np.testing.assert_array_equal(f.data, expect)
    np.testing.assert_array_equal(buf, expect)


def test_dense_concat_backward_matches_concatenation(rng):
    xs = [t64(rng, 2, c, 3, 3) for c in (3, 2, 2)]
    buf = np.empty((2, 7, 3, 3))
    f = dense_concat(dense_concat(xs[0], xs[1], buf), xs[2], buf)
    g = rng.standard_normal(f.shape)
    f.backward(g)
    np.testing.assert_array_equal(xs[0].grad.data, g[:, :3])
    np.testing.assert_array_equal(xs[1].grad.data, g[:, 3:5])
    np.testing.assert_array_equal(xs[2].grad.data, g[:, 5:])


def test_dense_concat_errors(rng):
    x = t64(rng, 2, 3, 4, 4)
    with pytest.raises(ValueError, match="buffer has 4 channels, needs at least 3 \\+ 2"):
        dense_concat(x, t64(rng, 2, 2, 4, 4), np.empty((2, 4, 4, 4)))
    with pytest.raises(ValueError, match="must agree in batch and spatial size"):
        dense_concat(x, t64(rng, 2, 2, 5, 4), np.empty((2, 8, 4, 4)))
    with pytest.raises(ValueError, match="dtypes differ"):
        dense_concat(x, t64(rng, 2, 2, 4, 4), np.empty((2, 8, 4, 4), np.float32))


# ----------------------------------------------------------------------------- pad_shortcut
@pytest.mark.parametrize("shape,planes,stride", [((2, 3, 5, 4), 6, 2), ((1, 2, 4, 4), 5, 1),
                                                 ((2, 4, 3, 3), 4, 2)])
def test_pad_shortcut_gradcheck_and_values(rng, shape, planes, stride):
    x = t64(rng, *shape)
    assert striate.gradcheck(lambda t: pad_shortcut(t, planes, stride), (x,))
    y = pad_shortcut(x, planes, stride).data
    lo = (planes - shape[1]) // 2
    sub = x.data[:, :, ::stride, ::stride]
    np.testing.assert_array_equal(y[:, lo:lo + shape[1]], sub)
    assert np.all(y[:, :lo] == 0) and np.all(y[:, lo + shape[1]:] == 0)


def test_pad_shortcut_errors(rng):
    with pytest.raises(ValueError, match="planes \\(2\\) must be >= input channels \\(3\\)"):
        pad_shortcut(t64(rng, 1, 3, 4, 4), 2, 2)
    with pytest.raises(ValueError, match="expected \\(N, C, H, W\\) input"):
        pad_shortcut(t64(rng, 3, 4, 4), 6, 2)


# ----------------------------------------------------------------------------- stochastic depth
def test_stochastic_depth_row_mode_drops_whole_samples():
    g = striate.Generator(3)
    x = striate.Tensor(np.ones((400, 3, 2, 2)), requires_grad=True)
    y = stochastic_depth(x, 0.25, "row", training=True, generator=g)
    per_sample = y.data.reshape(400, -1)
    assert np.all((per_sample == 0) | np.isclose(per_sample, 1 / 0.75))
    assert np.all(per_sample.min(1) == per_sample.max(1))  # whole rows
    kept = (per_sample[:, 0] > 0).mean()
    assert 0.65 < kept < 0.85
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, y.data)


def test_stochastic_depth_gradcheck_batch_mode_and_eval(rng):
    x = t64(rng, 3, 2, 2)
    assert striate.gradcheck(
        lambda t: stochastic_depth(t, 0.5, "row", True, striate.Generator(1)), (x,))
    assert stochastic_depth(x, 0.5, "row", training=False) is x
    y = stochastic_depth(x, 0.5, "batch", True, striate.Generator(2)).data
    assert np.allclose(y, 0) or np.allclose(y, 2 * x.data)
    from striate.nn.stochastic_depth import StochasticDepth

    m = StochasticDepth(0.3).eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        StochasticDepth(1.5)
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row'"):
        stochastic_depth(x, 0.1, "col")


# ----------------------------------------------------------------------------- CBAM pools
def test_channel_pool_and_global_max_pool_gradcheck(rng):
    x = t64(rng, 2, 4, 3, 3)
    assert striate.gradcheck(channel_pool, (x,))
    assert striate.gradcheck(global_max_pool2d, (x,))
    np.testing.assert_allclose(channel_pool(x).data[:, 0], x.data.mean(1))
    np.testing.assert_allclose(channel_pool(x).data[:, 1], x.data.max(1))
    np.testing.assert_allclose(global_max_pool2d(x).data[..., 0, 0], x.data.max((2, 3)))


# ----------------------------------------------------------------------------- class token
def test_prepend_class_token_gradcheck(rng):
    x, tok = t64(rng, 3, 4, 5), t64(rng, 1, 1, 5)
    assert striate.gradcheck(prepend_class_token, (x, tok))
    y = prepend_class_token(x, tok).data
    np.testing.assert_array_equal(y[:, 0], np.broadcast_to(tok.data[0], (3, 5)))
    with pytest.raises(ValueError, match="token \\(1, 1, E\\)"):
        prepend_class_token(x, t64(rng, 1, 1, 4))


# ----------------------------------------------------------------------------- attention
def _sdpa_numpy(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = s + mask
    s = np.exp(s - s.max(-1, keepdims=True))
    return (s / s.sum(-1, keepdims=True)) @ v


def test_sdpa_values_and_gradcheck(rng):
    q, k, v = t64(rng, 2, 3, 4, 5), t64(rng, 2, 3, 6, 5), t64(rng, 2, 3, 6, 2)
    mask = np.triu(np.full((4, 6), -np.inf), 3)
    np.testing.assert_allclose(scaled_dot_product_attention(q, k, v, mask).data,
                               _sdpa_numpy(q.data, k.data, v.data, mask), rtol=1e-12)
    assert striate.gradcheck(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask),
                             (q, k, v))
    assert striate.gradcheck(
        lambda a, b, c: scaled_dot_product_attention(
            a, b, c, dropout_p=0.3, generator=striate.Generator(5)), (q, k, v))


def test_sdpa_errors(rng):
    q = t64(rng, 2, 4, 5)
    with pytest.raises(ValueError, match="expected query \\(..., L, E\\), key"):
        scaled_dot_product_attention(q, t64(rng, 2, 4, 3), t64(rng, 2, 4, 5))
    with pytest.raises(ValueError, match="does not broadcast"):
        scaled_dot_product_attention(q, q, q, attn_mask=np.zeros((3, 4)))
