"""Every layer: gradcheck in float64 (parameters and input), forward/backward parity with
PyTorch for the same weights and inputs, hyperparameter validation, shapes."""

import numpy as np
import pytest

import striate
from striate import nn

# (id, factory taking the module namespace -- striate.nn or torch.nn --, input shape, mode)
LAYERS = [
    ("linear", lambda m: m.Linear(5, 3), (4, 5), "train"),
    ("linear_nobias_3d", lambda m: m.Linear(5, 3, bias=False), (2, 3, 5), "train"),
    ("conv", lambda m: m.Conv2d(3, 4, 3, padding=1), (2, 3, 5, 5), "train"),
    ("conv_strided_groups", lambda m: m.Conv2d(4, 6, 3, stride=2, padding=(1, 0),
                                               dilation=(1, 2), groups=2, bias=False),
     (2, 4, 7, 8), "train"),
    ("conv_same_dilated", lambda m: m.Conv2d(2, 3, 3, padding="same", dilation=2),
     (1, 2, 6, 5), "train"),
    ("conv_same_even_kernel", lambda m: m.Conv2d(2, 2, (2, 4), padding="same"),
     (1, 2, 5, 6), "train"),
    ("conv_depthwise_valid", lambda m: m.Conv2d(3, 3, 3, groups=3, padding="valid"),
     (2, 3, 5, 4), "train"),
    ("conv_1x1", lambda m: m.Conv2d(4, 2, 1), (2, 4, 3, 3), "train"),
    ("convT", lambda m: m.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
     (2, 3, 3, 4), "train"),
    ("convT_groups_dilation", lambda m: m.ConvTranspose2d(4, 4, 3, stride=2, groups=2,
                                                          dilation=2, bias=False),
     (1, 4, 3, 3), "train"),
    ("bn1d", lambda m: m.BatchNorm1d(4), (6, 4), "train"),
    ("bn1d_3d", lambda m: m.BatchNorm1d(3, momentum=None), (4, 3, 5), "train"),
    ("bn2d", lambda m: m.BatchNorm2d(3), (4, 3, 3, 3), "train"),
    ("bn2d_eval", lambda m: m.BatchNorm2d(3), (2, 3, 3, 3), "eval"),
    ("bn2d_noaffine", lambda m: m.BatchNorm2d(3, affine=False), (3, 3, 2, 2), "train"),
    ("bn2d_no_running", lambda m: m.BatchNorm2d(2, track_running_stats=False),
     (3, 2, 2, 2), "eval"),
    ("layernorm", lambda m: m.LayerNorm(5), (3, 5), "train"),
    ("layernorm_2d_nobias", lambda m: m.LayerNorm((3, 4), bias=False), (2, 3, 4), "train"),
    ("layernorm_noaffine", lambda m: m.LayerNorm(6, elementwise_affine=False), (4, 6), "train"),
    ("relu", lambda m: m.ReLU(), (3, 7), "train"),
    ("relu6", lambda m: m.ReLU6(), (3, 7), "train"),
    ("leaky_relu", lambda m: m.LeakyReLU(0.2), (3, 7), "train"),
    ("elu", lambda m: m.ELU(0.5), (3, 7), "train"),
    ("gelu", lambda m: m.GELU(), (3, 7), "train"),
    ("gelu_tanh", lambda m: m.GELU(approximate="tanh"), (3, 7), "train"),
    ("silu", lambda m: m.SiLU(), (3, 7), "train"),
    ("sigmoid", lambda m: m.Sigmoid(), (3, 7), "train"),
    ("tanh", lambda m: m.Tanh(), (3, 7), "train"),
    ("hardswish", lambda m: m.Hardswish(), (3, 7), "train"),
    ("hardsigmoid", lambda m: m.Hardsigmoid(), (3, 7), "train"),
    ("softmax", lambda m: m.Softmax(dim=1), (3, 7), "train"),
    ("log_softmax", lambda m: m.LogSoftmax(dim=-1), (2, 3, 4), "train"),
    ("maxpool", lambda m: m.MaxPool2d(2), (2, 3, 4, 6), "train"),
    ("maxpool_pad_stride", lambda m: m.MaxPool2d(3, stride=2, padding=1), (1, 2, 7, 6),
     "train"),
    ("maxpool_ceil_dil", lambda m: m.MaxPool2d(2, stride=2, dilation=2, ceil_mode=True),
     (1, 2, 7, 7), "train"),
    ("avgpool", lambda m: m.AvgPool2d(2), (2, 3, 4, 6), "train"),
    ("avgpool_pad_nocount", lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
     (1, 2, 7, 6), "train"),
    ("avgpool_ceil_div", lambda m: m.AvgPool2d(2, ceil_mode=True, divisor_override=3),
     (1, 2, 5, 5), "train"),
    ("adaptive_global", lambda m: m.AdaptiveAvgPool2d(1), (2, 3, 5, 4), "train"),
    ("adaptive_3x2", lambda m: m.AdaptiveAvgPool2d((3, 2)), (1, 2, 7, 5), "train"),
    ("adaptive_none", lambda m: m.AdaptiveAvgPool2d((None, 2)), (1, 2, 3, 5), "train"),
    ("flatten", lambda m: m.Flatten(), (2, 3, 2, 2), "train"),
    ("unflatten", lambda m: m.Unflatten(1, (2, 3)), (4, 6), "train"),
    ("identity", lambda m: m.Identity(), (2, 3), "train"),
    ("sequential", lambda m: m.Sequential(m.Conv2d(2, 3, 3, padding=1), m.BatchNorm2d(3),
                                          m.ReLU(), m.MaxPool2d(2), m.Flatten(),
                                          m.Linear(12, 4)), (2, 2, 4, 4), "train"),
    ("sequential_eval", lambda m: m.Sequential(m.Conv2d(2, 3, 3, padding=1), m.BatchNorm2d(3),
                                               m.ReLU(), m.Flatten()), (2, 2, 3, 3), "eval"),
    ("sequential_bn1d_relu", lambda m: m.Sequential(m.Linear(5, 4, bias=False),
                                                    m.BatchNorm1d(4), m.ReLU(),
                                                    m.Linear(4, 2)), (6, 5), "train"),
]

IDS = [entry[0] for entry in LAYERS]


def _input(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name, make, shape, mode", LAYERS, ids=IDS)
def test_gradcheck(name, make, shape, mode):
    striate.manual_seed(0)
    module = make(nn).double()
    module.train(mode == "train")
    x = striate.tensor(_input(shape, np.float64), requires_grad=True)
    params = list(module.parameters())
    assert striate.gradcheck(lambda x, *ps: module(x), (x, *params), atol=1e-6, rtol=1e-4)


@pytest.mark.parity
@pytest.mark.parametrize("name, make, shape, mode", LAYERS, ids=IDS)
def test_parity_with_torch(name, make, shape, mode):
    torch = pytest.importorskip("torch")
    striate.manual_seed(1)
    ours = make(nn)
    theirs = make(torch.nn)
    theirs_sd = theirs.state_dict()
    ours_sd = ours.state_dict()
    assert list(ours_sd) == list(theirs_sd)  # same names, same order
    for key, value in ours_sd.items():
        assert tuple(value.shape) == tuple(theirs_sd[key].shape), key
    # copy our weights into torch, then run both in the same mode, twice (running stats)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours_sd.items()})
    ours.train(mode == "train")
    theirs.train(mode == "train")
    for step in range(2):
        xa = _input(shape, np.float32, seed=step)
        x = striate.tensor(xa, requires_grad=True)
        tx = torch.tensor(xa, requires_grad=True)
        y, ty = ours(x), theirs(tx)
        ref = ty.detach().numpy()
        scale = max(1.0, float(np.abs(ref).max()))
        assert y.shape == tuple(ref.shape)
        np.testing.assert_allclose(y.data, ref, atol=1e-4 * scale, rtol=1e-4)
        g = _input(ref.shape, np.float32, seed=10 + step)
        for p in ours.parameters():
            p.grad = None
        y.backward(striate.tensor(g))
        theirs.zero_grad()
        ty.backward(torch.tensor(g))
        tref = tx.grad.numpy()
        np.testing.assert_allclose(x.grad.data, tref,
                                   atol=1e-4 * max(1.0, float(np.abs(tref).max())), rtol=1e-4)
        tparams = dict(theirs.named_parameters())
        for pname, p in ours.named_parameters():
            tg = tparams[pname].grad.numpy()
            np.testing.assert_allclose(p.grad.data, tg, rtol=1e-4,
                                       atol=1e-4 * max(1.0, float(np.abs(tg).max())),
                                       err_msg=pname)
    tsd = theirs.state_dict()
    for key, value in ours.state_dict().items():  # running statistics after two batches
        np.testing.assert_allclose(np.asarray(value, dtype=np.float64),
                                   tsd[key].numpy().astype(np.float64), rtol=1e-5, atol=1e-6,
                                   err_msg=key)
    assert repr(ours) == repr(theirs)


@pytest.mark.parity
def test_conv_transpose_output_size_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    xa = _input((1, 2, 4, 4), np.float32)
    y = ours(striate.tensor(xa), output_size=(8, 8))
    ty = theirs(torch.tensor(xa), output_size=[8, 8])
    np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        ours(striate.tensor(xa), output_size=(9, 9))


def test_maxpool_return_indices():
    x = striate.tensor(_input((1, 1, 4, 4), np.float32))
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    flat = x.data.reshape(-1)
    np.testing.assert_array_equal(flat[np.asarray(idx.data).reshape(-1)],
                                  out.data.reshape(-1))


def test_dropout_train_and_eval():
    striate.manual_seed(0)
    d = nn.Dropout(0.25)
    x = striate.ones(400, 500)
    y = d(x).data
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert d.eval() is d
    np.testing.assert_array_equal(d(x).data, x.data)
    striate.manual_seed(3)
    a = nn.Dropout(0.5).train()(x).data
    striate.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).data, a)
    # gradient: the same mask scales the gradient
    xg = striate.randn(6, 7, dtype=striate.float64, requires_grad=True)
    drop = nn.Dropout(0.3)

    def f(t):
        striate.manual_seed(5)
        return drop(t)

    assert striate.gradcheck(f, (xg,))


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [_input((8, 2), np.float32, seed=s) for s in range(3)]
    for b in batches:
        bn(striate.tensor(b))
    assert int(bn.num_batches_tracked.data) == 3
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.data,
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-5)
    bn.eval()
    bn(striate.tensor(batches[0]))
    assert int(bn.num_batches_tracked.data) == 3
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert list(nn.BatchNorm2d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]


@pytest.mark.parametrize("make, match", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), "out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(0, 3, 3), "in_channels must be a positive integer"),
    (lambda: nn.Conv2d(3, 3, 0), "kernel_size must be positive"),
    (lambda: nn.Conv2d(3, 3, 3, stride=2, padding="same"), "not supported for strided"),
    (lambda: nn.Conv2d(3, 3, 3, padding="full"), "Invalid padding string"),
    (lambda: nn.Conv2d(3, 3, 3, padding=-1), "padding must be non-negative"),
    (lambda: nn.Conv2d(3, 3, 3, padding_mode="reflect"), "padding_mode must be 'zeros'"),
    (lambda: nn.Conv2d(3, 3, (3, 3, 3)), "kernel_size must be an int or a pair"),
    (lambda: nn.ConvTranspose2d(3, 3, 3, stride=2, output_padding=2), "output_padding must"),
    (lambda: nn.Linear(-1, 3), "in_features must be a non-negative integer"),
    (lambda: nn.BatchNorm2d(0), "num_features must be a positive integer"),
    (lambda: nn.BatchNorm2d(3, momentum=1.5), "momentum must be in"),
    (lambda: nn.LayerNorm(0), "normalized_shape must be positive"),
    (lambda: nn.Dropout(1.5), "between 0 and 1"),
    (lambda: nn.GELU("fast"), "approximate must be"),
    (lambda: nn.MaxPool2d(0), "kernel_size must be int"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), "divisor_override"),
    (lambda: nn.AdaptiveAvgPool2d(0), "output_size must be positive"),
    (lambda: nn.CrossEntropyLoss(reduction="avg"), "reduction must be one of"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=2.0), "label_smoothing"),
])
def test_constructor_validation(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_batchnorm_input_checks():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input, got 2D"):
        nn.BatchNorm2d(3)(striate.randn(4, 3))
    with pytest.raises(ValueError, match=r"expected input with 3 channels"):
        nn.BatchNorm1d(3)(striate.randn(4, 5))


def test_conv_input_errors_name_the_problem():
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match="3 channels"):
        conv(striate.randn(2, 4, 8, 8))


def test_repr_of_layers():
    assert repr(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)) == (
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)")
    assert repr(nn.Linear(4, 2)) == "Linear(in_features=4, out_features=2, bias=True)"
    assert repr(nn.BatchNorm2d(4)) == ("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")
