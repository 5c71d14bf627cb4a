"""Every striate.functional op through one checker: finite differences in float64 and, when
PyTorch is installed, forward values and gradients against torch.nn.functional."""

import numpy as np
import pytest

import striate
import striate.functional as F
from striate.testing import check_op

R = np.random.default_rng(11)


def rn(*shape, scale=1.0):
    return R.standard_normal(shape) * scale


def away(*shape, lo=0.05):
    """Standard normal values kept at least ``lo`` from 0 (ReLU-style kinks)."""
    v = R.standard_normal(shape)
    return np.where(np.abs(v) < lo, lo * np.sign(v + 1e-12) + v, v)


def tf():
    import torch.nn.functional as TF

    return TF


def torch():
    import torch as t

    return t


TGT = np.array([0, 3, 1, 3, 2])
TGT_IGN = np.array([0, -100, 1, 3, -100])
TGT_2D = R.integers(0, 3, (2, 4, 3))
PROB = R.dirichlet(np.ones(4), 5)
W4 = np.array([0.5, 1.0, 2.0, 1.5])
BIN_T = (R.random((4, 3)) > 0.5).astype(np.float64)

# (id, striate fn, torch fn, inputs, options for check_op)
CASES = [
    ("linear", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: tf().linear(x, w, b),
     [rn(5, 4), rn(3, 4), rn(3)], {}),
    ("linear_nd_nobias", lambda x, w: F.linear(x, w), lambda x, w: tf().linear(x, w),
     [rn(2, 5, 4), rn(3, 4)], {}),
    ("relu", F.relu, lambda x: tf().relu(x), [away(4, 5)], {}),
    ("relu6", F.relu6, lambda x: tf().relu6(x), [away(4, 5) * 4], {}),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda x: tf().leaky_relu(x, 0.1),
     [away(4, 5)], {}),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: tf().elu(x, 0.7), [away(4, 5)], {}),
    ("gelu", F.gelu, lambda x: tf().gelu(x), [rn(4, 5, scale=2)], {}),
    ("gelu_big", F.gelu, lambda x: tf().gelu(x), [np.linspace(-6, 6, 25)], {}),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: tf().gelu(x, approximate="tanh"), [rn(4, 5, scale=2)], {}),
    ("silu", F.silu, lambda x: tf().silu(x), [rn(4, 5, scale=2)], {}),
    ("sigmoid", F.sigmoid, lambda x: torch().sigmoid(x), [rn(4, 5, scale=3)], {}),
    ("tanh", F.tanh, lambda x: torch().tanh(x), [rn(4, 5, scale=2)], {}),
    ("hardswish", F.hardswish, lambda x: tf().hardswish(x), [away(4, 5) * 3], {}),
    ("hardsigmoid", F.hardsigmoid, lambda x: tf().hardsigmoid(x), [away(4, 5) * 3], {}),
    ("softplus", lambda x: F.softplus(x, 2.0), lambda x: tf().softplus(x, 2.0),
     [rn(4, 5, scale=3)], {}),
    ("mish", F.mish, lambda x: tf().mish(x), [rn(4, 5)], {}),
    ("softmax_last", lambda x: F.softmax(x, -1), lambda x: tf().softmax(x, -1),
     [rn(3, 5)], {}),
    ("softmax_dim1_4d", lambda x: F.softmax(x, 1), lambda x: tf().softmax(x, 1),
     [rn(2, 3, 2, 2)], {}),
    ("log_softmax_last", lambda x: F.log_softmax(x, 1), lambda x: tf().log_softmax(x, 1),
     [rn(4, 6, scale=3)], {}),
    ("log_softmax_dim0", lambda x: F.log_softmax(x, 0), lambda x: tf().log_softmax(x, 0),
     [rn(4, 3, 2)], {}),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
     lambda x, w, b: tf().layer_norm(x, (3, 4), w, b), [rn(2, 3, 4), rn(3, 4), rn(3, 4)], {}),
    ("layer_norm_plain", lambda x: F.layer_norm(x, 5), lambda x: tf().layer_norm(x, (5,)),
     [rn(3, 5)], {}),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
     lambda x, w, b: tf().group_norm(x, 2, w, b), [rn(2, 4, 3, 2), rn(4), rn(4)], {}),
    ("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     lambda x, w, b: tf().batch_norm(x, None, None, w, b, training=True),
     [rn(3, 4, 2, 2), rn(4), rn(4)], {}),
    ("batch_norm_train_2d", lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3),
     lambda x: tf().batch_norm(x, None, None, training=True, eps=1e-3), [rn(5, 3)], {}),
    ("batch_norm_eval", lambda x, w, b: F.batch_norm(
        x, np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0]), w, b, training=False),
     lambda x, w, b: tf().batch_norm(x, torch().tensor([0.1, -0.2, 0.3]),
                                     torch().tensor([1.5, 0.5, 2.0]), w, b, training=False),
     [rn(2, 3, 2, 2), rn(3), rn(3)], {}),
    # batch norm with the ReLU fused into its passes (activation="relu"): torch's relu(bn)
    ("batch_norm_relu_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True,
                                                           activation="relu"),
     lambda x, w, b: tf().relu(tf().batch_norm(x, None, None, w, b, training=True)),
     [rn(3, 4, 2, 2), rn(4), rn(4)], {}),
    ("batch_norm_relu_train_2d", lambda x: F.batch_norm(x, None, None, training=True,
                                                        activation="relu"),
     lambda x: tf().relu(tf().batch_norm(x, None, None, training=True)), [rn(5, 3)], {}),
    ("batch_norm_relu_eval", lambda x, w, b: F.batch_norm(
        x, np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0]), w, b, training=False,
        activation="relu"),
     lambda x, w, b: tf().relu(tf().batch_norm(
         x, torch().tensor([0.1, -0.2, 0.3]), torch().tensor([1.5, 0.5, 2.0]), w, b,
         training=False)),
     [rn(2, 3, 2, 2), rn(3), rn(3)], {}),
    ("cross_entropy", lambda x, t: F.cross_entropy(x, t),
     lambda x, t: tf().cross_entropy(x, t), [rn(5, 4), TGT], {}),
    ("cross_entropy_sum", lambda x, t: F.cross_entropy(x, t, reduction="sum"),
     lambda x, t: tf().cross_entropy(x, t, reduction="sum"), [rn(5, 4), TGT], {}),
    ("cross_entropy_none", lambda x, t: F.cross_entropy(x, t, reduction="none"),
     lambda x, t: tf().cross_entropy(x, t, reduction="none"), [rn(5, 4), TGT], {}),
    ("cross_entropy_weight", lambda x, t: F.cross_entropy(x, t, weight=W4),
     lambda x, t: tf().cross_entropy(x, t, weight=torch().tensor(W4, dtype=x.dtype)),
     [rn(5, 4), TGT], {}),
    ("cross_entropy_smoothing", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
     lambda x, t: tf().cross_entropy(x, t, label_smoothing=0.2), [rn(5, 4), TGT], {}),
    ("cross_entropy_all_options", lambda x, t: F.cross_entropy(
        x, t, weight=W4, label_smoothing=0.1, ignore_index=-100),
     lambda x, t: tf().cross_entropy(x, t, weight=torch().tensor(W4, dtype=x.dtype),
                                     label_smoothing=0.1, ignore_index=-100),
     [rn(5, 4), TGT_IGN], {}),
    ("cross_entropy_ignore_none", lambda x, t: F.cross_entropy(x, t, reduction="none"),
     lambda x, t: tf().cross_entropy(x, t, reduction="none"), [rn(5, 4), TGT_IGN], {}),
    ("cross_entropy_spatial", lambda x, t: F.cross_entropy(x, t),
     lambda x, t: tf().cross_entropy(x, t), [rn(2, 3, 4, 3), TGT_2D], {}),
    ("cross_entropy_probs", lambda x, t: F.cross_entropy(x, t),
     lambda x, t: tf().cross_entropy(x, t), [rn(5, 4), PROB], {"requires_grad": [True, False]}),
    ("cross_entropy_probs_grad_target", lambda x, t: F.cross_entropy(x, t, reduction="sum"),
     lambda x, t: tf().cross_entropy(x, t, reduction="sum"), [rn(5, 4), PROB], {}),
    ("cross_entropy_probs_opts", lambda x, t: F.cross_entropy(
        x, t, weight=W4, label_smoothing=0.3, reduction="none"),
     lambda x, t: tf().cross_entropy(x, t, weight=torch().tensor(W4, dtype=x.dtype),
                                     label_smoothing=0.3, reduction="none"),
     [rn(5, 4), PROB], {"requires_grad": [True, False]}),
    ("nll_loss", lambda x, t: F.nll_loss(x, t), lambda x, t: tf().nll_loss(x, t),
     [rn(5, 4), TGT], {}),
    ("nll_loss_weight_ignore", lambda x, t: F.nll_loss(x, t, weight=W4),
     lambda x, t: tf().nll_loss(x, t, weight=torch().tensor(W4, dtype=x.dtype)),
     [rn(5, 4), TGT_IGN], {}),
    ("mse_loss", F.mse_loss, lambda a, b: tf().mse_loss(a, b), [rn(4, 3), rn(4, 3)], {}),
    ("mse_loss_sum", lambda a, b: F.mse_loss(a, b, reduction="sum"),
     lambda a, b: tf().mse_loss(a, b, reduction="sum"), [rn(4, 3), rn(4, 3)], {}),
    ("l1_loss", F.l1_loss, lambda a, b: tf().l1_loss(a, b), [rn(4, 3), rn(4, 3)], {}),
    ("l1_loss_none", lambda a, b: F.l1_loss(a, b, reduction="none"),
     lambda a, b: tf().l1_loss(a, b, reduction="none"), [rn(4, 3), rn(4, 3)], {}),
    ("smooth_l1", lambda a, b: F.smooth_l1_loss(a, b, beta=0.5),
     lambda a, b: tf().smooth_l1_loss(a, b, beta=0.5), [rn(4, 3), rn(4, 3)], {}),
    ("huber", lambda a, b: F.huber_loss(a, b, delta=0.7),
     lambda a, b: tf().huber_loss(a, b, delta=0.7), [rn(4, 3), rn(4, 3)], {}),
    ("bce_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t),
     lambda x, t: tf().binary_cross_entropy_with_logits(x, t), [rn(4, 3, scale=3), BIN_T],
     {"requires_grad": [True, False]}),
    ("bce_logits_pos_weight", lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, weight=np.array([1.0, 2.0, 0.5]), pos_weight=np.array([3.0, 1.0, 0.2])),
     lambda x, t: tf().binary_cross_entropy_with_logits(
        x, t, weight=torch().tensor([1.0, 2.0, 0.5], dtype=x.dtype),
        pos_weight=torch().tensor([3.0, 1.0, 0.2], dtype=x.dtype)),
     [rn(4, 3, scale=3), R.random((4, 3))], {}),
    ("bce_logits_none", lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
     lambda x, t: tf().binary_cross_entropy_with_logits(x, t, reduction="none"),
     [rn(4, 3), R.random((4, 3))], {}),
    ("bce", lambda p, t: F.binary_cross_entropy(p, t),
     lambda p, t: tf().binary_cross_entropy(p, t), [R.uniform(0.05, 0.95, (4, 3)),
                                                    R.random((4, 3))], {}),
    ("kl_div", lambda x, t: F.kl_div(x, t, reduction="batchmean"),
     lambda x, t: tf().kl_div(x, t, reduction="batchmean"),
     [np.log(R.dirichlet(np.ones(4), 3)), R.dirichlet(np.ones(4), 3)],
     {"requires_grad": [True, False]}),
    ("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"),
     lambda x: tf().pad(x, (2, 1, 1, 2), mode="reflect"), [rn(1, 2, 4, 3)], {}),
    ("pad_replicate", lambda x: F.pad(x, (2, 1, 0, 3), mode="replicate"),
     lambda x: tf().pad(x, (2, 1, 0, 3), mode="replicate"), [rn(1, 2, 3, 3)], {}),
    ("pad_circular", lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"),
     lambda x: tf().pad(x, (1, 2, 2, 1), mode="circular"), [rn(1, 2, 3, 4)], {}),
    ("flatten", lambda x: F.flatten(x, 1) * 2, lambda x: torch().flatten(x, 1) * 2,
     [rn(2, 3, 2)], {}),
    ("dropout_eval", lambda x: F.dropout(x, 0.5, training=False),
     lambda x: tf().dropout(x, 0.5, training=False), [rn(3, 4)], {}),
]


@pytest.mark.parametrize("name,fn,tfn,inputs,opts", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, tfn, inputs, opts):
    check_op(fn, inputs, **opts)


@pytest.mark.parity
@pytest.mark.parametrize("name,fn,tfn,inputs,opts", CASES, ids=[c[0] for c in CASES])
def test_parity_with_torch(name, fn, tfn, inputs, opts):
    pytest.importorskip("torch")
    check_op(fn, inputs, tfn, gradcheck_=False, **opts)


def test_dropout_gradcheck_with_fixed_mask():
    check_op(lambda x: F.dropout(x, 0.3, generator=striate.Generator(5)), [rn(4, 5)])


# ---------------------------------------------------------------------------- conv / pool
def distinct(*shape):
    """Values whose pairwise gaps exceed the finite-difference step (max-pool ties)."""
    n = int(np.prod(shape))
    return (R.permutation(n) * 0.05 + R.uniform(0, 0.01, n)).reshape(shape) - n * 0.025


CONV_CASES = [
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b), lambda x, w, b: tf().conv2d(x, w, b),
     [rn(2, 3, 5, 5), rn(4, 3, 3, 3), rn(4)], {}),
    ("conv2d_stride_pad", lambda x, w: F.conv2d(x, w, stride=2, padding=1),
     lambda x, w: tf().conv2d(x, w, stride=2, padding=1), [rn(2, 2, 6, 5), rn(3, 2, 3, 3)], {}),
    ("conv2d_groups_dilation", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1),
                                                        padding=(2, 1), dilation=2, groups=2),
     lambda x, w, b: tf().conv2d(x, w, b, stride=(2, 1), padding=(2, 1), dilation=2, groups=2),
     [rn(1, 4, 7, 6), rn(6, 2, 3, 2), rn(6)], {}),
    ("conv2d_depthwise", lambda x, w: F.conv2d(x, w, padding=1, groups=3),
     lambda x, w: tf().conv2d(x, w, padding=1, groups=3), [rn(2, 3, 5, 4), rn(3, 1, 3, 3)], {}),
    ("conv2d_1x1", lambda x, w: F.conv2d(x, w), lambda x, w: tf().conv2d(x, w),
     [rn(2, 4, 3, 3), rn(5, 4, 1, 1)], {}),
    ("conv2d_same", lambda x, w: F.conv2d(x, w, padding="same"),
     lambda x, w: tf().conv2d(x, w, padding="same"), [rn(1, 2, 5, 5), rn(2, 2, 4, 3)], {}),
    ("conv2d_unbatched", lambda x, w: F.conv2d(x, w, padding=1),
     lambda x, w: tf().conv2d(x, w, padding=1), [rn(2, 4, 4), rn(3, 2, 3, 3)], {}),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                            output_padding=1),
     lambda x, w, b: tf().conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     [rn(2, 3, 3, 4), rn(3, 2, 3, 3), rn(2)], {}),
    ("conv_transpose2d_groups", lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), groups=2,
                                                                dilation=2),
     lambda x, w: tf().conv_transpose2d(x, w, stride=(1, 2), groups=2, dilation=2),
     [rn(1, 4, 3, 3), rn(4, 3, 2, 2)], {}),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: tf().max_pool2d(x, 2),
     [distinct(2, 2, 4, 6)], {}),
    ("max_pool2d_overlap_pad", lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True),
     lambda x: tf().max_pool2d(x, 3, 2, padding=1, ceil_mode=True), [distinct(1, 2, 5, 6)], {}),
    ("max_pool2d_dilation", lambda x: F.max_pool2d(x, 2, 1, dilation=2),
     lambda x: tf().max_pool2d(x, 2, 1, dilation=2), [distinct(1, 2, 5, 5)], {}),
    ("max_pool2d_indices", lambda x: F.max_pool2d(x, 2, return_indices=True),
     lambda x: tf().max_pool2d(x, 2, return_indices=True), [distinct(1, 2, 4, 4)], {}),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: tf().avg_pool2d(x, 2),
     [rn(2, 2, 4, 6)], {}),
    ("avg_pool2d_pad_ceil", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                   count_include_pad=False),
     lambda x: tf().avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     [rn(1, 2, 5, 6)], {}),
    ("avg_pool2d_divisor", lambda x: F.avg_pool2d(x, 2, 1, divisor_override=3),
     lambda x: tf().avg_pool2d(x, 2, 1, divisor_override=3), [rn(1, 2, 3, 4)], {}),
    ("adaptive_avg_1", lambda x: F.adaptive_avg_pool2d(x, 1),
     lambda x: tf().adaptive_avg_pool2d(x, 1), [rn(2, 3, 4, 5)], {}),
    ("adaptive_avg_divides", lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
     lambda x: tf().adaptive_avg_pool2d(x, (2, 3)), [rn(2, 3, 4, 6)], {}),
    ("adaptive_avg_uneven", lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
     lambda x: tf().adaptive_avg_pool2d(x, (3, 4)), [rn(1, 2, 5, 7)], {}),
    ("adaptive_max_uneven", lambda x: F.adaptive_max_pool2d(x, (2, 3)),
     lambda x: tf().adaptive_max_pool2d(x, (2, 3)), [distinct(1, 2, 5, 7)], {}),
]


@pytest.mark.parametrize("name,fn,tfn,inputs,opts", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_gradcheck_conv_pool(name, fn, tfn, inputs, opts):
    check_op(fn, inputs, **opts)


@pytest.mark.parity
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name,fn,tfn,inputs,opts", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_parity_conv_pool_with_torch(name, fn, tfn, inputs, opts):
    pytest.importorskip("torch")
    check_op(fn, inputs, tfn, gradcheck_=False, **opts)


SAMPLING_CASES = [
    ("interp_nearest_size", lambda x: F.interpolate(x, size=(5, 7)),
     lambda x: tf().interpolate(x, size=(5, 7)), [rn(1, 2, 3, 4)], {}),
    ("interp_nearest_scale", lambda x: F.interpolate(x, scale_factor=2),
     lambda x: tf().interpolate(x, scale_factor=2), [rn(1, 2, 3, 4)], {}),
    ("interp_bilinear", lambda x: F.interpolate(x, size=(5, 7), mode="bilinear"),
     lambda x: tf().interpolate(x, size=(5, 7), mode="bilinear"), [rn(2, 1, 3, 4)], {}),
    ("interp_bilinear_down", lambda x: F.interpolate(x, size=(2, 3), mode="bilinear"),
     lambda x: tf().interpolate(x, size=(2, 3), mode="bilinear"), [rn(1, 2, 5, 7)], {}),
    ("interp_bilinear_corners", lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear",
                                                        align_corners=True),
     lambda x: tf().interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
     [rn(1, 2, 4, 4)], {}),
    ("interp_bilinear_scale", lambda x: F.interpolate(x, scale_factor=(2.5, 1.7),
                                                      mode="bilinear"),
     lambda x: tf().interpolate(x, scale_factor=(2.5, 1.7), mode="bilinear"),
     [rn(1, 1, 3, 4)], {}),
    ("interp_linear_1d", lambda x: F.interpolate(x, size=7, mode="linear"),
     lambda x: tf().interpolate(x, size=7, mode="linear"), [rn(2, 2, 4)], {}),
    ("embedding", lambda w: F.embedding(np.array([[0, 2], [2, 3]]), w),
     lambda w: tf().embedding(torch().tensor([[0, 2], [2, 3]]), w), [rn(4, 3)], {}),
    ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b),
     lambda a, b: tf().cosine_similarity(a, b), [rn(3, 4), rn(3, 4)], {}),
]


@pytest.mark.parametrize("name,fn,tfn,inputs,opts", SAMPLING_CASES,
                         ids=[c[0] for c in SAMPLING_CASES])
def test_gradcheck_sampling(name, fn, tfn, inputs, opts):
    check_op(fn, inputs, **opts)


@pytest.mark.parity
@pytest.mark.parametrize("name,fn,tfn,inputs,opts", SAMPLING_CASES,
                         ids=[c[0] for c in SAMPLING_CASES])
def test_parity_sampling_with_torch(name, fn, tfn, inputs, opts):
    pytest.importorskip("torch")
    check_op(fn, inputs, tfn, gradcheck_=False, **opts)


def test_one_hot():
    assert F.one_hot(striate.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert F.one_hot(np.array([1])).shape == (1, 2)
    with pytest.raises(ValueError, match=r"one_hot: expected class indices in \[0, 2\)"):
        F.one_hot(np.array([2]), 2)


def test_embedding_padding_row_gets_no_gradient():
    w = striate.randn(4, 3, requires_grad=True)
    out = F.embedding(np.array([[0, 3], [3, 3]]), w, padding_idx=3)
    np.testing.assert_array_equal(out.numpy()[0, 1], w.numpy()[3])  # forward unchanged
    out.sum().backward()
    assert w.grad.tolist()[3] == [0.0, 0.0, 0.0] and w.grad.tolist()[0] == [1.0, 1.0, 1.0]


CAUSAL = np.tril(np.ones((3, 4), dtype=bool))
ATTN_CASES = [
    ("sdpa", lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
     lambda q, k, v: tf().scaled_dot_product_attention(q, k, v),
     [rn(2, 3, 5), rn(2, 4, 5), rn(2, 4, 6)], {}),
    ("sdpa_mask_scale", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, CAUSAL,
                                                                       scale=0.3),
     lambda q, k, v: tf().scaled_dot_product_attention(q, k, v, torch().tensor(CAUSAL),
                                                       scale=0.3),
     [rn(1, 2, 3, 5), rn(1, 2, 4, 5), rn(1, 2, 4, 2)], {}),
    ("sdpa_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     lambda q, k, v: tf().scaled_dot_product_attention(q, k, v, is_causal=True),
     [rn(2, 4, 3), rn(2, 4, 3), rn(2, 4, 3)], {}),
    ("logsigmoid", F.logsigmoid, lambda x: tf().logsigmoid(x), [rn(3, 4, scale=5)], {}),
]


@pytest.mark.parametrize("name,fn,tfn,inputs,opts", ATTN_CASES, ids=[c[0] for c in ATTN_CASES])
def test_gradcheck_attention(name, fn, tfn, inputs, opts):
    check_op(fn, inputs, **opts)


@pytest.mark.parity
@pytest.mark.parametrize("name,fn,tfn,inputs,opts", ATTN_CASES, ids=[c[0] for c in ATTN_CASES])
def test_parity_attention_with_torch(name, fn, tfn, inputs, opts):
    pytest.importorskip("torch")
    check_op(fn, inputs, tfn, gradcheck_=False, **opts)
