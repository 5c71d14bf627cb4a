"""lenet5, small_cnn, workload_cnn: shapes, options, registry behaviour, PyTorch parity of
the benchmark network."""

import numpy as np
import pytest

import striate
from striate.models import create, get_spec, list_models, register_model
from striate.train.trainer import to_tensor


def _out(model, shape):
    model.eval()
    with striate.no_grad():
        return model(to_tensor(np.zeros(shape, np.float32))).shape


@pytest.mark.parametrize("name, cfg, shape, classes", [
    ("lenet5", {}, (2, 1, 28, 28), 10),
    ("lenet5", {"input_size": 32}, (2, 3, 32, 32), 7),
    ("lenet5", {"activation": "tanh", "pool": "avg"}, (1, 1, 28, 28), 10),
    ("small_cnn", {}, (2, 1, 28, 28), 10),
    ("small_cnn", {"input_size": 32, "widths": [8, 16, 32], "convs_per_stage": 2},
     (2, 3, 32, 32), 100),
    ("workload_cnn", {}, (3, 1, 28, 28), 10),
])
def test_output_shapes(name, cfg, shape, classes):
    m = create(name, num_classes=classes, in_channels=shape[1], **cfg)
    assert tuple(_out(m, shape)) == (shape[0], classes)
    assert m.arch["name"] == name and m.arch["config"]["num_classes"] == classes


def test_lenet5_padding_keeps_the_classic_feature_map():
    m28 = create("lenet5")
    m32 = create("lenet5", input_size=32)
    assert m28.classifier[1].weight.shape == m32.classifier[1].weight.shape == (120, 400)


def test_registry_errors_and_listing():
    assert {"lenet5", "small_cnn", "workload_cnn"} <= set(list_models())
    with pytest.raises(ValueError, match="unknown model 'small_cn'.*did you mean 'small_cnn'"):
        get_spec("small_cn")
    with pytest.raises(ValueError, match="unknown option"):
        create("lenet5", depth=3)
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        create("lenet5", num_classes=0)
    with pytest.raises(ValueError, match="too small"):
        create("small_cnn", input_size=3)
    with pytest.raises(ValueError, match="already registered"):
        register_model("lenet5")(lambda num_classes=10, in_channels=1: None)


@pytest.mark.parity
def test_workload_cnn_matches_torch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    striate.manual_seed(0)
    m = create("workload_cnn")
    t = tnn.Sequential(
        tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(3136, 128), tnn.ReLU(), tnn.Linear(128, 10))
    ours = [v for v in m.state_dict().values()]
    theirs = list(t.state_dict().values())
    assert [tuple(np.shape(getattr(v, "data", v))) for v in ours] == \
        [tuple(v.shape) for v in theirs]
    with torch.no_grad():
        for p, v in zip(t.parameters(), ours):
            p.copy_(torch.from_numpy(np.array(getattr(v, "data", v))))
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    with striate.no_grad():
        got = m(to_tensor(x)).data
    want = t(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
