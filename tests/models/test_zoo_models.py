"""Every zoo model: forward/backward shapes for 1- and 3-channel inputs at the sizes it takes,
clear errors for sizes it cannot take, registry entries and the architectural options."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate.models import (
    attention,
    densenet,
    efficientnet,
    mobilenet,
    resnet,
    vgg,  # noqa: F401  (registers the VGG models)
    vit,
)
from striate.models.registry import create, list_models

ZOO = [
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet18_small", "resnet20", "resnet56",
    "se_resnet18_small", "cbam_resnet18_small", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "vgg11_small",
    "vgg16_small", "densenet121", "densenet_bc", "efficientnet_b0", "efficientnet_b1",
    "efficientnet_b2", "efficientnet_b3", "mobilenet_v2", "vit_tiny", "vit_tiny_32",
]


def test_all_registered():
    names = set(list_models())
    assert set(ZOO) <= names, sorted(set(ZOO) - names)


def _fwd_bwd(model, x: np.ndarray, num_classes: int) -> None:
    xt = striate.Tensor(x, requires_grad=True)
    out = model(xt)
    assert out.shape == (x.shape[0], num_classes)
    assert np.isfinite(out.data).all()
    out.sum().backward()
    assert xt.grad is not None and xt.grad.shape == x.shape
    assert np.isfinite(xt.grad.data).all()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, missing[:5]


# (name, cfg, sizes, backward?): 1-channel inputs run at the first size, 3-channel inputs at
# the last (28x28 Fashion-MNIST-like and 32x32 CIFAR-like where the model takes both); the
# heavy ImageNet-layout models run forward only (their backward is covered by the parity
# tests).  ImageNet-layout VGG (a 103M-parameter classifier) is built once, in the parity test.
SHAPE_CASES = [
    ("resnet18_small", {}, (28, 32), True),
    ("resnet20", {}, (28, 32), True),
    ("resnet20", {"shortcut": "B"}, (32,), True),
    ("resnet56", {}, (28,), True),
    ("se_resnet18_small", {}, (28, 32), True),
    ("cbam_resnet18_small", {}, (28,), True),
    ("vgg11_small", {}, (28, 32), True),
    ("vgg16_small", {}, (32,), False),
    ("densenet_bc", {"depth": 22}, (28, 32), True),
    ("mobilenet_v2", {}, (28, 32), True),
    ("efficientnet_b0", {}, (28, 32), True),
    ("efficientnet_b1", {}, (32,), False),
    ("vit_tiny", {}, (28,), True),
    ("vit_tiny_32", {}, (32,), True),
    ("resnet18", {}, (28, 32), True),
    ("resnet34", {}, (32,), False),
    ("resnet50", {}, (32,), False),
    ("densenet121", {}, (32,), False),
]


@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("name,cfg,sizes,backward", SHAPE_CASES,
                         ids=[f"{c[0]}{'-' + str(c[1]) if c[1] else ''}" for c in SHAPE_CASES])
def test_forward_backward_shapes(name, cfg, sizes, backward, in_channels):
    striate.manual_seed(0)
    model = create(name, num_classes=7, in_channels=in_channels, **cfg)
    rng = np.random.default_rng(0)
    s = sizes[0] if in_channels == 1 else sizes[-1]
    x = rng.standard_normal((2, in_channels, s, s)).astype(np.float32)
    if backward:
        model.train()
        _fwd_bwd(model, x, 7)
    else:
        model.eval()
        with striate.no_grad():
            out = model(striate.Tensor(x))
        assert out.shape == (2, 7) and np.isfinite(out.data).all()


@pytest.mark.parametrize("name,size,match", [
    ("vit_tiny", 32, (r"vit_tiny: expected 28x28 input \(image_size=28\), got 32x32: the "
                      r"learned position embeddings fix the number of patches")),
    ("vit_tiny_32", 28, r"vit_tiny: expected 32x32 input \(image_size=32\), got 28x28"),
    ("densenet121", 28, r"densenet121: input 28x28 is too small, expected at least 29x29"),
    ("vgg11_small", 8, (r"vgg11_small: input 8x8 is too small, expected at least 16x16: 4 "
                        r"2x2 max-pools halve it 4 times")),
    ("resnet20", 0, r"resnet20: input 0x0 is too small, expected at least 1x1"),
])
def test_input_size_errors(name, size, match):
    model = create(name, in_channels=1)
    with pytest.raises(ValueError, match=match):
        model(striate.zeros(1, 1, size, size))


def test_channel_and_rank_errors():
    model = create("resnet20", in_channels=1)
    with pytest.raises(ValueError, match=r"resnet20: expected 1 input channels \(in_channels=1\)"
                                         r", got input shape \(2, 3, 32, 32\)"):
        model(striate.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, H, W\), got shape "
                                         r"\(3, 32, 32\)"):
        model(striate.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="depth must be 6n \\+ 2"):
        resnet._cifar_resnet("resnet21", 21, 10, 3, {})
    with pytest.raises(ValueError, match="depth must be 6n \\+ 4"):
        densenet.densenet_bc(depth=99)
    with pytest.raises(ValueError, match="divisible by patch_size"):
        vit.vit_tiny(image_size=30)
    with pytest.raises(ValueError, match=r"resnet20: unknown option\(s\) depth, widht; it takes "
                                         r"zero_init_residual, shortcut, attention, reduction"):
        create("resnet20", widht=3, depth=2)
    for name in ("vgg11_small", "densenet121", "densenet_bc", "efficientnet_b0",
                 "mobilenet_v2", "vit_tiny"):
        with pytest.raises(ValueError, match=f"{name}: unknown option\\(s\\) bogus"):
            create(name, bogus=1)


def _count(model) -> int:
    return sum(int(np.prod(p.shape)) for p in model.parameters())


def test_parameter_counts_match_the_papers():
    # torchvision / paper figures at 1000 (ImageNet) or 10 (CIFAR) classes
    assert _count(resnet.resnet18(num_classes=1000)) == 11_689_512
    assert _count(resnet.resnet50(num_classes=1000)) == 25_557_032
    assert _count(resnet.resnet20(num_classes=10)) == 269_722  # option A: 0.27M
    assert _count(resnet.resnet56(num_classes=10)) == 853_018  # 0.85M
    assert _count(mobilenet.mobilenet_v2(num_classes=1000)) == 3_504_872
    assert _count(efficientnet.efficientnet_b0(num_classes=1000)) == 5_288_548
    assert _count(densenet.densenet121(num_classes=1000)) == 7_978_856
    bc = _count(densenet.densenet_bc(num_classes=10))
    assert abs(bc - 0.8e6) < 0.05e6, bc  # paper: 0.8M


def test_efficientnet_compound_scaling():
    d, w, r = efficientnet.compound_coefficients(2)
    assert (round(d, 2), round(w, 2), r) == (1.44, 1.21, 296)
    b3 = efficientnet.efficientnet_b3(num_classes=1000)
    # torchvision: 12,233,232 parameters for B3, 9,109,994 for B2, 7,794,184 for B1
    assert _count(b3) == 12_233_232
    assert _count(efficientnet.efficientnet_b2(num_classes=1000)) == 9_109_994
    assert _count(efficientnet.efficientnet_b1(num_classes=1000)) == 7_794_184
    # stage depths of B3: ceil(1.4 * n)
    assert [len(b3.features[i]) for i in range(1, 8)] == [2, 3, 3, 5, 5, 6, 2]


def test_zero_init_residual_and_shortcut_options():
    m = resnet.resnet18_small(zero_init_residual=True)
    for blk in m.layer1:
        assert np.all(blk.bn2.weight.data == 0)
    rb = resnet.resnet20(shortcut="B")
    ra = resnet.resnet20()
    assert "layer2.0.downsample.0.weight" in dict(rb.named_parameters())
    assert not any("downsample" in n for n, _ in ra.named_parameters())
    with pytest.raises(ValueError, match="shortcut must be 'A' or 'B'"):
        resnet.resnet20(shortcut="C")
    # with zero-init residuals, an option-A block at init is relu(shortcut)
    b = resnet.resnet20(zero_init_residual=True).layer2[0].eval()
    x = striate.Tensor(np.random.default_rng(0).standard_normal((1, 16, 8, 8)).astype(
        np.float32))
    with striate.no_grad():
        y = b(x).data
    expect = np.zeros((1, 32, 4, 4), np.float32)
    expect[:, 8:24] = np.maximum(x.data[:, :, ::2, ::2], 0)
    np.testing.assert_allclose(y, expect, atol=1e-6)


def test_se_and_cbam_resnets_name_their_attention_blocks():
    names = dict(resnet.se_resnet18_small().named_parameters())
    assert names["layer1.0.se.fc1.weight"].shape == (4, 64, 1, 1)
    assert names["layer4.1.se.fc2.weight"].shape == (512, 32, 1, 1)
    plain = {n for n, _ in resnet.resnet18_small().named_parameters()}
    assert {n for n in names if ".se." not in n} == plain
    cb = dict(resnet.cbam_resnet18_small().named_parameters())
    assert cb["layer2.1.cbam.channel_attention.mlp.0.weight"].shape == (8, 128, 1, 1)
    assert cb["layer3.0.cbam.spatial_attention.conv.weight"].shape == (1, 2, 7, 7)
    se50 = resnet.resnet50(attention="se")
    assert dict(se50.named_parameters())["layer1.0.se.fc1.weight"].shape == (16, 256, 1, 1)
    with pytest.raises(ValueError, match="attention must be None, 'se' or 'cbam', got 'x'"):
        resnet.resnet18_small(attention="x")


def test_densenet_block_uses_one_buffer():
    m = densenet.densenet_bc(depth=22, in_channels=1).eval()
    block = m.features.denseblock1
    x = striate.Tensor(np.random.default_rng(0).standard_normal((2, 24, 8, 8)).astype(
        np.float32))
    with striate.no_grad():
        y = block(x)
    assert y.shape == (2, 24 + 3 * 12, 8, 8)
    assert y.data.base is not None and y.data.base.shape == (2, 60, 8, 8)
    # equals the concatenation semantics
    feats = [x.data]
    with striate.no_grad():
        for i in range(3):
            inp = striate.Tensor(np.concatenate(feats, 1))
            feats.append(getattr(block, f"denselayer{i + 1}")(inp).data)
    np.testing.assert_allclose(y.data, np.concatenate(feats, 1), rtol=1e-5, atol=1e-6)


def test_densenet_training_step_copies_no_block_features(monkeypatch):
    """A training step copies no dense block's features: batch norm reads the buffer's view
    in place (forward and backward); only each layer's own k-channel gradient slice is made
    contiguous, once, for its convolution (O(L) per block, not O(L^2))."""
    m = densenet.densenet_bc(depth=40, in_channels=1, num_classes=10)
    x = striate.Tensor(np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32))
    copied = {"fwd": 0, "bwd": 0}
    phase = ["fwd"]
    real = np.ascontiguousarray

    def counting(a, *args, **kw):
        r = real(a, *args, **kw)
        if isinstance(a, np.ndarray) and not np.shares_memory(r, a):
            copied[phase[0]] += r.size
        return r

    monkeypatch.setattr(np, "ascontiguousarray", counting)
    loss = striate.functional.cross_entropy(m(x), striate.tensor(np.arange(4)))
    phase[0] = "bwd"
    loss.backward()
    assert copied["fwd"] == 0
    per_block = (40 - 4) // 6  # dense layers in each of the three blocks (28, 14, 7 px)
    grad_slices = sum(per_block * 4 * 12 * hw * hw for hw in (28, 14, 7))  # one per layer
    assert copied["bwd"] <= grad_slices


def test_cbam_and_se_blocks(rng):
    x64 = striate.Tensor(rng.standard_normal((2, 8, 5, 5)), requires_grad=True)
    cb = attention.CBAM(8, reduction=4, kernel_size=3).double()
    se = attention.SqueezeExcitation(8, 2).double()
    assert cb(x64).shape == (2, 8, 5, 5) and se(x64).shape == (2, 8, 5, 5)
    assert striate.gradcheck(lambda t: cb(t), (x64,), rtol=1e-3, atol=1e-6)
    assert striate.gradcheck(lambda t: se(t), (x64,), rtol=1e-3, atol=1e-6)
    names = sorted(n for n, _ in cb.named_parameters())
    assert names == ["channel_attention.mlp.0.weight", "channel_attention.mlp.2.weight",
                     "spatial_attention.conv.weight"]


def test_tiny_densenet_gradcheck_through_the_shared_buffer():
    """Finite differences through whole dense blocks (train-mode batch norm, float64): every
    forward writes into a fresh block buffer, and the sliced gradients add up correctly."""
    striate.manual_seed(0)
    m = densenet.densenet_bc(depth=10, growth_rate=2, in_channels=1, num_classes=3).double()
    x = striate.Tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)),
                       requires_grad=True)
    assert striate.gradcheck(lambda t: m(t), (x,), rtol=1e-4, atol=1e-7)
