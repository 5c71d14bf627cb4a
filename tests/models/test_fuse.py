"""Conv + batch-norm folding for inference: same eval outputs, no batch norms left where each
follows a conv, the original model untouched."""

from __future__ import annotations

import numpy as np
import pytest

import striate
from striate.models import densenet, efficientnet, mobilenet, resnet, vgg
from striate.models.fuse import fuse_conv_bn


def _random_bn(model, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, striate.nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.data[...] = rng.normal(0, 0.1, c)
            m.running_var.data[...] = rng.uniform(0.5, 1.5, c)
            m.weight.data[...] = rng.uniform(0.5, 1.5, c)
            m.bias.data[...] = rng.normal(0, 0.1, c)


@pytest.mark.parametrize("factory,bn_left", [
    (resnet.resnet20, 0), (lambda **k: resnet.resnet20(shortcut="B", **k), 0),
    (mobilenet.mobilenet_v2, 0), (efficientnet.efficientnet_b0, 0), (vgg.vgg11_small, 0),
    # DenseNet: conv1 -> norm2 folds; the pre-activation norm1s, transitions and norm5 stay
    (lambda **k: densenet.densenet_bc(depth=10, **k), 6), (densenet.densenet121, 58 + 3 + 1),
])
def test_fused_model_matches_eval_outputs(factory, bn_left):
    striate.manual_seed(0)
    m = factory(num_classes=10, in_channels=3)
    _random_bn(m)
    m.eval()
    before = {k: np.array(v.data) for k, v in m.state_dict().items()}
    fused = fuse_conv_bn(m)
    assert sum(isinstance(q, striate.nn.BatchNorm2d) for q in fused.modules()) == bn_left
    x = striate.Tensor(np.random.default_rng(1).standard_normal((2, 3, 32, 32)).astype(
        np.float32))
    with striate.no_grad():
        a, b = m(x).data, fused(x).data
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4 * float(np.abs(a).max()))
    for k, v in m.state_dict().items():  # the original is untouched
        np.testing.assert_array_equal(v.data, before[k])
