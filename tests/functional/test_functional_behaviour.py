"""striate.functional beyond values and gradients: running statistics, dropout statistics and
seeding, dtypes, and argument validation messages."""

import math

import numpy as np
import pytest

import striate
import striate.functional as F


def t(*shape, seed=0, dtype=np.float32, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return striate.Tensor(a, requires_grad=requires_grad)


# ---------------------------------------------------------------------------- batch norm
def test_batch_norm_updates_running_stats_with_unbiased_variance():
    x = t(8, 3, 4, 4)
    rm, rv = striate.zeros(3), striate.ones(3)
    F.batch_norm(x, rm, rv, training=True, momentum=0.1)
    xs = x.numpy()
    mean = xs.mean(axis=(0, 2, 3))
    var_unbiased = xs.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(rm.numpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), 0.9 + 0.1 * var_unbiased, rtol=1e-5)
    assert rm.dtype == np.float32 and rv.dtype == np.float32


@pytest.mark.parity
def test_batch_norm_running_stats_match_torch():
    torch = pytest.importorskip("torch")
    x = t(6, 4, 3, 3, seed=2)
    rm, rv = striate.zeros(4), striate.ones(4)
    trm, trv = torch.zeros(4), torch.ones(4)
    for momentum in (0.1, 0.5):
        F.batch_norm(x, rm, rv, training=True, momentum=momentum)
        torch.nn.functional.batch_norm(torch.tensor(x.numpy()), trm, trv, training=True,
                                       momentum=momentum)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_norm_eval_uses_running_stats():
    x = t(4, 2, 3)
    y = F.batch_norm(x, np.array([1.0, -1.0], np.float32), np.array([4.0, 1.0], np.float32),
                     training=False, eps=0.0)
    np.testing.assert_allclose(y.numpy()[:, 0], (x.numpy()[:, 0] - 1.0) / 2.0, rtol=1e-6)
    np.testing.assert_allclose(y.numpy()[:, 1], x.numpy()[:, 1] + 1.0, rtol=1e-6)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="expected running_mean with shape \\(3,\\)"):
        F.batch_norm(t(2, 3), striate.zeros(4), striate.ones(3), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(t(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="evaluation mode"):
        F.batch_norm(t(2, 3), None, None, training=False)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm(t(3), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected activation in \('none', "
                                         r"'relu'\), got 'gelu'"):
        F.batch_norm(t(2, 3), None, None, training=True, activation="gelu")


# ---------------------------------------------------------------------------- dropout
def test_dropout_statistics_and_scaling():
    striate.manual_seed(0)
    x = striate.ones(200, 500)
    y = F.dropout(x, 0.3)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7, rtol=1e-6)
    assert y.dtype == np.float32


def test_dropout_seeded_reproducible_and_eval_identity():
    x = t(10, 10)
    striate.manual_seed(4)
    a = F.dropout(x, 0.5).numpy()
    striate.manual_seed(4)
    b = F.dropout(x, 0.5).numpy()
    assert np.array_equal(a, b)
    assert F.dropout(x, 0.5, training=False) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)


def test_dropout_gradient_uses_same_mask():
    x = t(6, 7, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, y.numpy() != 0)


def test_dropout_same_mask_for_every_dtype_and_in_place():
    # float32 runs the compiled kernel, float64 the NumPy formula: one stream, the same mask
    x = np.random.default_rng(0).standard_normal((33, 65))
    striate.manual_seed(9)
    y32 = F.dropout(striate.tensor(x.astype(np.float32)), 0.3).numpy()
    striate.manual_seed(9)
    y64 = F.dropout(striate.tensor(x), 0.3).numpy()
    assert y64.dtype == np.float64
    np.testing.assert_array_equal(y32 != 0, y64 != 0)
    np.testing.assert_allclose(y32, y64, rtol=1e-6)
    striate.manual_seed(9)
    z = striate.tensor(x.astype(np.float32))
    with striate.no_grad():
        assert F.dropout(z, 0.3, inplace=True) is z
    np.testing.assert_array_equal(z.numpy(), y32)
    # the gradient is the upstream gradient through the same mask and scale
    striate.manual_seed(9)
    xt = striate.tensor(x.astype(np.float32), requires_grad=True)
    y = F.dropout(xt, 0.3)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    y.backward(striate.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), g * (y32 != 0) / np.float32(0.7), rtol=1e-6)
    # a strided view takes the kernel too
    striate.manual_seed(9)
    v = F.dropout(striate.tensor(x.astype(np.float32).T), 0.3).numpy()
    striate.manual_seed(9)
    w = F.dropout(striate.tensor(np.ascontiguousarray(x.astype(np.float32).T)), 0.3).numpy()
    np.testing.assert_array_equal(v, w)


def test_dropout2d_zeroes_whole_channels():
    striate.manual_seed(1)
    y = F.dropout2d(striate.ones(4, 16, 3, 3), 0.5).numpy()
    per_channel = y.reshape(4, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel != 0).all(-1))


def test_dropout_bad_p():
    with pytest.raises(ValueError, match="dropout: expected dropout probability p in \\[0, 1\\], "
                                         "got 1.5"):
        F.dropout(t(2), 1.5)


# ---------------------------------------------------------------------------- losses
def test_cross_entropy_known_value_and_unbatched():
    logits = striate.zeros(2, 4)
    assert math.isclose(F.cross_entropy(logits, striate.tensor([0, 3])).item(), math.log(4),
                        rel_tol=1e-6)
    one = F.cross_entropy(striate.tensor([1.0, 2.0, 3.0]), striate.tensor(2))
    assert one.shape == ()
    assert math.isclose(one.item(), math.log(np.exp([1, 2, 3]).sum()) - 3, rel_tol=1e-6)


def test_cross_entropy_index_and_onehot_probabilities_agree():
    x = t(6, 5, requires_grad=True)
    y = np.array([0, 4, 2, 2, 1, 3])
    a = F.cross_entropy(x, y, label_smoothing=0.1)
    onehot = np.eye(5, dtype=np.float32)[y]
    b = F.cross_entropy(x, onehot, label_smoothing=0.1)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-6)


def test_cross_entropy_all_ignored_gives_nan_like_torch():
    x = t(3, 4, requires_grad=True)
    loss = F.cross_entropy(x, np.array([-100, -100, -100]))
    assert math.isnan(loss.item())


def test_cross_entropy_errors():
    x = t(4, 3)
    with pytest.raises(ValueError, match=r"cross_entropy: expected target values in \[0, 3\) "
                                         r"for 3 classes \(or ignore_index=-100\), got 3"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"expected target with shape \(4,\)"):
        F.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="probability target with the shape of input"):
        F.cross_entropy(x, np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"expected weight with shape \(3,\)"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), weight=np.ones(2))
    with pytest.raises(TypeError, match="integer dtype .* or a floating dtype"):
        F.cross_entropy(x, np.array([True, False, True, True]))


def test_loss_errors():
    with pytest.raises(ValueError, match="mse_loss: expected target broadcastable"):
        F.mse_loss(t(3, 4), t(2, 4))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: expected target "
                                         "with the shape of input"):
        F.binary_cross_entropy_with_logits(t(3), t(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: expected input values in "
                                         r"\[0, 1\]"):
        F.binary_cross_entropy(t(3), striate.zeros(3))
    with pytest.raises(TypeError, match="nll_loss: expected target with an integer dtype"):
        F.nll_loss(t(3, 2), t(3))


def test_losses_keep_float32():
    x = t(4, 3, requires_grad=True)
    for loss in (F.cross_entropy(x, np.array([0, 1, 2, 0])), F.mse_loss(x, t(4, 3, seed=1)),
                 F.l1_loss(x, t(4, 3, seed=1)), F.nll_loss(F.log_softmax(x, 1), [0, 1, 2, 0]),
                 F.binary_cross_entropy_with_logits(x, striate.ones(4, 3)),
                 F.cross_entropy(x, np.array([0, 1, 2, 0]), weight=np.ones(3),
                                 label_smoothing=0.1)):
        assert loss.dtype == np.float32, loss
        loss.backward()
        assert x.grad.dtype == np.float32


# ---------------------------------------------------------------------------- conv / pool / misc
def test_conv2d_errors_name_arguments():
    with pytest.raises(ValueError, match=r"conv2d: expected input with 64 channels \(groups=1, "
                                         r"weight shape \(128, 64, 3, 3\)\), got input shape "
                                         r"\(8, 32, 28, 28\)"):
        F.conv2d(striate.zeros(8, 32, 28, 28), striate.zeros(128, 64, 3, 3))
    with pytest.raises(ValueError, match="divisible by groups=3"):
        F.conv2d(striate.zeros(1, 6, 5, 5), striate.zeros(4, 2, 3, 3), groups=3)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(striate.zeros(1, 1, 2, 2), striate.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"expected bias with shape \(4,\)"):
        F.conv2d(striate.zeros(1, 2, 5, 5), striate.zeros(4, 2, 3, 3), striate.zeros(3))
    with pytest.raises(ValueError, match=r"expected stride in \[1, "):
        F.conv2d(striate.zeros(1, 2, 5, 5), striate.zeros(4, 2, 3, 3), stride=0)
    with pytest.raises(TypeError, match="same floating dtype"):
        F.conv2d(striate.zeros(1, 2, 5, 5), striate.zeros(4, 2, 3, 3, dtype=striate.float64))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(striate.zeros(1, 2, 5, 5), striate.zeros(4, 2, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="output_padding smaller than stride"):
        F.conv_transpose2d(striate.zeros(1, 2, 3, 3), striate.zeros(2, 2, 3, 3),
                           output_padding=1)


def test_pool_errors_and_indices():
    with pytest.raises(ValueError, match="max_pool2d: expected input with 4 dimensions"):
        F.max_pool2d(striate.zeros(2, 4), 2)
    with pytest.raises(ValueError, match="padding at most half"):
        F.avg_pool2d(striate.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="output_size >= 1"):
        F.adaptive_avg_pool2d(striate.zeros(1, 1, 4, 4), 0)
    x = striate.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.dtype == np.int64 and idx.tolist() == [[[[5, 7], [13, 15]]]]
    assert y.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]


def test_conv_runs_on_kernels_for_float32_and_reference_for_float64():
    x32, w32 = t(2, 3, 6, 6), t(4, 3, 3, 3, seed=1)
    y32 = F.conv2d(x32, w32, padding=1)
    y64 = F.conv2d(x32.double(), w32.double(), padding=1)
    assert y32.dtype == np.float32 and y64.dtype == np.float64
    np.testing.assert_allclose(y32.numpy(), y64.numpy(), rtol=1e-4, atol=1e-4)


def test_linear_and_layer_norm_errors():
    with pytest.raises(ValueError, match=r"linear: expected input with 4 features in its last "
                                         r"dimension \(weight shape \(3, 4\)\), got input "
                                         r"shape \(2, 5\)"):
        F.linear(striate.zeros(2, 5), striate.zeros(3, 4))
    with pytest.raises(ValueError, match=r"expected bias with shape \(3,\)"):
        F.linear(striate.zeros(2, 4), striate.zeros(3, 4), striate.zeros(4))
    with pytest.raises(ValueError, match="layer_norm: expected input whose trailing dimensions"):
        F.layer_norm(striate.zeros(2, 5), (4,))
    with pytest.raises(ValueError, match="gelu: expected approximate"):
        F.gelu(striate.zeros(2), approximate="fast")
    with pytest.raises(IndexError, match="softmax: dim 2 out of range"):
        F.softmax(striate.zeros(2, 3), 2)
    with pytest.raises(ValueError, match="pad: expected pad with an even number"):
        F.pad(striate.zeros(2, 3), (1,))
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(striate.zeros(1, 2, 3), (3, 0), mode="reflect")


def test_erf_accuracy():
    xs = np.linspace(-5, 5, 101)
    exact = np.array([math.erf(v) for v in xs])
    np.testing.assert_allclose(F.erf(striate.Tensor(xs)).numpy(), exact, atol=1e-14)
    np.testing.assert_allclose(F.erf(striate.Tensor(xs.astype(np.float32))).numpy(), exact,
                               atol=3e-7)


def test_relu_inplace_without_graph():
    x = striate.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]


def test_relu_kernel_path_matches_numpy_path():
    x = t(4, 8, 16, 16, requires_grad=True)  # above the kernel threshold
    y = F.relu(x)
    np.testing.assert_array_equal(y.numpy(), np.maximum(x.numpy(), 0))
    g = t(4, 8, 16, 16, seed=3)
    y.backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), g.numpy() * (x.numpy() > 0))


def test_attention_float32_kernels_match_float64():
    # float32 runs the softmax (and its gradient) on the compiled row kernels, float64 on
    # NumPy; with a mask and dropout (the same mask for both dtypes from the same seed)
    rng = np.random.default_rng(3)
    qkv = [rng.standard_normal((2, 3, 5, 4)) for _ in range(3)]
    mask = np.tril(np.ones((5, 5), dtype=bool))
    g = rng.standard_normal((2, 3, 5, 4))
    out = {}
    for dt in (np.float32, np.float64):
        ts = [striate.tensor(a.astype(dt), requires_grad=True) for a in qkv]
        striate.manual_seed(11)
        y = F.scaled_dot_product_attention(*ts, attn_mask=mask, dropout_p=0.2)
        y.backward(striate.tensor(g.astype(dt)))
        out[dt] = [y.numpy()] + [t.grad.numpy() for t in ts]
    for a, b in zip(out[np.float32], out[np.float64]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_mask_dropouts_draw_the_kernel_stream():
    # dropout2d, attention and stochastic-depth masks (through _keep_mask) are the compiled
    # kernel's decisions, the same as the NumPy/CuPy twin of the stream
    from striate.functional._linear import _keep_mask
    from striate.random import dropout_keep

    for shape, p in (((4, 16, 1, 1), 0.5), ((2, 3, 7, 9), 0.2), ((130,), 1.0)):
        g1, g2 = striate.Generator(5), striate.Generator(5)
        mask = _keep_mask(shape, p, np.dtype(np.float64), g1, np)
        seed = int(g2.rng.integers(0, 2**64, dtype=np.uint64))
        keep = dropout_keep(shape, p, seed)
        np.testing.assert_array_equal(mask != 0, keep)
        if p < 1:
            np.testing.assert_allclose(mask[keep], 1 / (1 - p))
