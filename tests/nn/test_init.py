"""nn.init: bounds and moments of each initialiser, gains, seeding, errors; default layer
initialisations within PyTorch's bounds."""

import math

import numpy as np
import pytest

import striate
from striate import nn
from striate.nn import init


def test_uniform_normal_constant():
    striate.manual_seed(0)
    w = np.empty((200, 300), np.float32)
    init.uniform_(w, -2.0, 3.0)
    assert w.min() >= -2.0 and w.max() <= 3.0 and abs(w.mean() - 0.5) < 0.02
    init.normal_(w, 1.0, 2.0)
    assert abs(w.mean() - 1.0) < 0.02 and abs(w.std() - 2.0) < 0.02
    init.constant_(w, 0.25)
    assert (w == 0.25).all()
    t = striate.empty(3, 4)
    assert init.zeros_(t) is t and (t.data == 0).all()
    assert (init.ones_(t).data == 1).all()


def test_trunc_normal_stays_in_bounds():
    w = np.empty(100_000, np.float64)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-0.5, b=1.0)
    assert w.min() >= -0.5 and w.max() <= 1.0
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(w, a=1.0, b=0.0)


@pytest.mark.parametrize("shape", [(64, 32), (16, 8, 3, 3)])
def test_xavier_and_kaiming_moments(shape):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    w = np.empty(shape, np.float64)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    init.xavier_uniform_(w)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    init.xavier_normal_(w, gain=2.0)
    assert abs(w.std() - 2.0 * math.sqrt(2.0 / (fan_in + fan_out))) < 0.1 * w.std()
    init.kaiming_uniform_(w, a=math.sqrt(5))
    assert np.abs(w).max() <= 1.0 / math.sqrt(fan_in)
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(w).max() <= math.sqrt(2.0) * math.sqrt(3.0 / fan_out)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.std() - math.sqrt(2.0 / fan_in)) < 0.1 * w.std()


def test_orthogonal():
    for shape in [(6, 10), (10, 6), (4, 2, 3, 3)]:
        w = np.empty(shape, np.float64)
        init.orthogonal_(w, gain=2.0)
        flat = w.reshape(shape[0], -1)
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-10)


def test_calculate_gain_and_errors():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(np.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(np.empty((2, 2)), mode="fan_avg")
    with pytest.raises(TypeError, match="Tensor or a NumPy array"):
        init.zeros_([1, 2])


def test_seeded_by_manual_seed_and_private_generator():
    striate.manual_seed(123)
    a = nn.Linear(5, 4).weight.data.copy()
    striate.manual_seed(123)
    b = nn.Linear(5, 4).weight.data.copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = striate.Generator(7), striate.Generator(7)
    x, y = np.empty(10), np.empty(10)
    init.normal_(x, generator=g1)
    init.normal_(y, generator=g2)
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(50, 40), 50),
    (lambda: nn.Conv2d(6, 12, 3, groups=2), 27),
    (lambda: nn.ConvTranspose2d(8, 6, 4), 6 * 16),
])
def test_default_layer_init_within_torch_bounds(make, fan_in):
    m = make()
    bound = 1.0 / math.sqrt(fan_in)
    w, b = m.weight.data, m.bias.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(w.mean()) < 0.1 * bound
    # kaiming_uniform(a=sqrt(5)) gives a uniform law on (-bound, bound): variance bound^2 / 3
    assert abs(w.var() - bound ** 2 / 3) < 0.15 * bound ** 2 / 3
    assert np.abs(b).max() <= bound


@pytest.mark.parity
def test_default_init_bounds_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.Linear(30, 20), torch.nn.Linear(30, 20)),
                         (nn.Conv2d(4, 8, (3, 5), groups=2), torch.nn.Conv2d(4, 8, (3, 5),
                                                                            groups=2)),
                         (nn.ConvTranspose2d(4, 6, 3), torch.nn.ConvTranspose2d(4, 6, 3))]:
        for name in ("weight", "bias"):
            t = getattr(theirs, name).detach().numpy()
            o = getattr(ours, name).data
            assert o.shape == t.shape and o.dtype == t.dtype
            # same law: both maxima within the torch law's bound (computed by torch)
            tb = 1.0 / math.sqrt(torch.nn.init._calculate_fan_in_and_fan_out(
                theirs.weight)[0])
            assert np.abs(o).max() <= tb and np.abs(t).max() <= tb
    for name, param in [("linear", None), ("tanh", None), ("leaky_relu", 0.3), ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))
