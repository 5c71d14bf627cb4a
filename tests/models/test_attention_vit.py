"""Multi-head attention and the ViT against PyTorch (torch.nn.MultiheadAttention and a
re-implementation of torchvision's VisionTransformer)."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate.models import vit
from striate.nn.attention import MultiheadAttention

torch = pytest.importorskip("torch")


def _load_from_torch(sm, tm) -> None:
    sm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()},
                       strict=True)


@pytest.mark.parity
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("self_attn", [True, False])
def test_multihead_attention_matches_torch(batch_first, self_attn):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(12, 3, batch_first=batch_first)
    sm = MultiheadAttention(12, 3, batch_first=batch_first)
    assert [(k, tuple(v.shape)) for k, v in sm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    _load_from_torch(sm, tm)
    rng = np.random.default_rng(0)
    shape_q = (2, 5, 12) if batch_first else (5, 2, 12)
    shape_k = (2, 7, 12) if batch_first else (7, 2, 12)
    q = rng.standard_normal(shape_q).astype(np.float32)
    k = q if self_attn else rng.standard_normal(shape_k).astype(np.float32)
    v = q if self_attn else rng.standard_normal(shape_k).astype(np.float32)
    mask = None if self_attn else np.triu(np.ones((5, 7), bool), 4)
    kpm = None if self_attn else np.array([[False] * 6 + [True], [False] * 7])
    for need_weights in (False, True):
        tq = torch.from_numpy(q.copy()).requires_grad_(True)
        tk, tv_ = (tq, tq) if self_attn else (torch.from_numpy(k), torch.from_numpy(v))
        t_out, t_w = tm(tq, tk, tv_, need_weights=need_weights,
                        attn_mask=None if mask is None else torch.from_numpy(mask),
                        key_padding_mask=None if kpm is None else torch.from_numpy(kpm))
        g = rng.standard_normal(t_out.shape).astype(np.float32)
        t_out.backward(torch.from_numpy(g))
        sq = striate.Tensor(q.copy(), requires_grad=True)
        sk, sv = (sq, sq) if self_attn else (striate.Tensor(k), striate.Tensor(v))
        s_out, s_w = sm(sq, sk, sv, need_weights=need_weights, attn_mask=mask,
                        key_padding_mask=kpm)
        s_out.backward(g)
        np.testing.assert_allclose(s_out.data, t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(sq.grad.data, tq.grad.numpy(), rtol=1e-4, atol=1e-5)
        if need_weights:
            np.testing.assert_allclose(s_w.data, t_w.detach().numpy(), rtol=1e-4, atol=1e-6)
        else:
            assert s_w is None


def test_multihead_attention_gradcheck_and_errors(rng):
    m = MultiheadAttention(6, 2, batch_first=True).double()
    x = striate.Tensor(rng.standard_normal((2, 3, 6)), requires_grad=True)
    assert striate.gradcheck(lambda t: m(t, t, t, need_weights=False)[0], (x,))
    with pytest.raises(ValueError, match=r"embed_dim \(6\) must be divisible by num_heads "
                                         r"\(4\)"):
        MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match=r"expected query \(N, L, 6\)"):
        m(striate.zeros(2, 3, 5), striate.zeros(2, 3, 5), striate.zeros(2, 3, 5))


@pytest.mark.parity
@pytest.mark.parametrize("image_size", [28, 32])
def test_vit_matches_torchvision_definition(image_size, tvref):
    ref = tvref
    torch.manual_seed(0)
    tm = ref.VisionTransformer(image_size, 4, num_layers=2, num_heads=4, hidden_dim=32,
                               mlp_dim=64, num_classes=10, in_channels=1)
    sm = vit.vit_tiny(num_classes=10, in_channels=1, image_size=image_size, num_layers=2,
                      hidden_dim=32, mlp_dim=64)
    assert [(k, tuple(v.shape)) for k, v in sm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    with torch.no_grad():  # torchvision zero-inits the head; make the output informative
        tm.heads.head.weight.normal_()
        tm.class_token.normal_()
    _load_from_torch(sm, tm)
    x = np.random.default_rng(0).standard_normal((2, 1, image_size, image_size)).astype(
        np.float32)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    t_out = tm(xt)
    t_out.sum().backward()
    xs = striate.Tensor(x.copy(), requires_grad=True)
    s_out = sm(xs)
    s_out.sum().backward()
    np.testing.assert_allclose(s_out.data, t_out.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xs.grad.data, xt.grad.numpy(), rtol=1e-3, atol=1e-5)
    names = dict(sm.named_parameters())
    assert "encoder.layers.encoder_layer_1.self_attention.in_proj_weight" in names
    assert "encoder.layers.encoder_layer_0.mlp.3.bias" in names
