"""Checkpoint loading checks the format version and the metadata (a checkpoint may come from
anywhere): errors name the file and the field, sizes stay below sanity bounds."""

import math

import numpy as np
import pytest
from conftest import tiny_model

import striate
from striate.train import CheckpointError, Trainer, load_checkpoint, load_model, predict_files
from striate.train import checkpoint as ckpt


@pytest.fixture
def good(tmp_path):
    """A valid checkpoint of the 4-class tiny model (grayscale 8x8 inputs)."""
    model = tiny_model()
    tr = Trainer(model, striate.optim.SGD(model.parameters(), lr=0.1), class_names=["nw", "ne",
                 "sw", "se"], metadata={"normalization": {"mean": [0.3], "std": [0.2]},
                                         "input_shape": [1, 8, 8], "dataset": "synthetic"},
                 progress=False, verbose=False)
    return tr.save_checkpoint(tmp_path / "good.safetensors")


def _variant(good, name, update=(), drop=(), state_edit=None):
    """A copy of the ``good`` checkpoint with its metadata updated (``None`` values of nested
    dicts are written as given), keys dropped, and the state edited."""
    state = striate.load(good)
    meta = striate.load_metadata(good)
    meta.pop("striate_version")
    meta.update(dict(update))
    for k in drop:
        meta.pop(k)
    if state_edit is not None:
        state_edit(state)
    path = good.replace("good.safetensors", f"{name}.safetensors")
    striate.save(state, path, metadata=meta)
    return path


def test_good_checkpoint_loads(good):
    state, meta = load_checkpoint(good)
    assert meta["format_version"] == ckpt.FORMAT_VERSION and "model" in state
    model, _ = load_model(good)
    assert model.arch["config"]["num_classes"] == 4


def test_save_checkpoint_metadata_cannot_override_the_format(tmp_path):
    path = ckpt.save_checkpoint(tmp_path / "c.safetensors", {"model": {}},
                                {"format_version": 999, "format": "other"})
    meta = striate.load_metadata(path)
    assert meta["format"] == ckpt.FORMAT and meta["format_version"] == ckpt.FORMAT_VERSION


@pytest.mark.parametrize("version, needle", [
    (999, "format_version 999 is newer than this striate reads (1); it was written by "),
    ("banana", "format_version: expected one of 1, got 'banana'"),
    (0, "format_version: expected one of 1, got 0"),
    (True, "format_version: expected one of 1, got True"),
    (1.0, "format_version: expected one of 1, got 1.0"),
    (None, "format_version: expected one of 1, got None"),
])
def test_format_version_is_checked(good, version, needle):
    path = _variant(good, "v", drop=["format_version"]) if version is None else \
        _variant(good, "v", {"format_version": version})
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    assert str(e.value).startswith(f"checkpoint {path!r}: ") and needle in str(e.value)


BIG = 10 ** 9


@pytest.mark.parametrize("update, needle", [
    ({"normalization": {"mean": [0.5], "std": [0.0]}}, "normalization.std: expected values > 0"),
    ({"normalization": {"mean": [0.5], "std": [-1.0]}}, "normalization.std: expected values > 0"),
    ({"normalization": {"mean": [0.5], "std": [math.nan]}},
     "normalization.std: expected a list of finite numbers, got [nan]"),
    ({"normalization": {"mean": [math.inf], "std": [1.0]}}, "normalization.mean: expected a"),
    ({"normalization": {"mean": "0.5", "std": [1.0]}}, "normalization.mean: expected a list"),
    ({"normalization": {"mean": [0.1, 0.2], "std": [1.0]}},
     "normalization.mean: expected 1 or 1 values (one per channel of input_shape), got 2"),
    ({"normalization": [0.5, 0.2]}, "normalization: expected a dict with 'mean' and 'std'"),
    ({"class_names": "nw ne sw se"}, "class_names: expected a list of 1 to 1,000,000 strings"),
    ({"class_names": [1, 2, 3, 4]}, "class_names: expected a list of 1 to 1,000,000 strings"),
    ({"class_names": []}, "class_names: expected a list of 1 to 1,000,000 strings"),
    ({"input_shape": [28, 28]}, "input_shape: expected [channels, height, width], got [28, 28]"),
    ({"input_shape": [1, 8, 8.5]}, "input_shape: expected [channels, height, width]"),
    ({"input_shape": [1, 60000, 60000]}, ("input_shape: expected 1 to 1024 channels, sides "
                                          "of 1 to 16384 and at most 268,435,456 values")),
    ({"input_shape": [1024, 16384, 16384]}, "at most 268,435,456 values, got [1024, 16384"),
    ({"input_shape": [0, 8, 8]}, "input_shape: expected 1 to 1024 channels"),
    ({"input_shape": [3, 8, 8]}, "input_shape: 3 channels, but arch.config.in_channels is 1"),
    ({"arch": "small_cnn"}, "arch: expected a dict with 'name' and 'config', got 'small_cnn'"),
    ({"arch": {"name": 5, "config": {}}}, "arch.name: expected a model name, got 5"),
    ({"arch": {"name": "small_cnn", "config": [["num_classes", 4]]}},
     "arch.config: expected a dict of model options, got [['num_classes', 4]]"),
    ({"arch": {"name": "small_cnn", "config": {"num_classes": BIG}}},
     "arch.config.num_classes: expected an integer from 1 to 1,000,000, got 1000000000"),
    ({"arch": {"name": "small_cnn", "config": {"num_classes": "4"}}},
     "arch.config.num_classes: expected an integer from 1 to 1,000,000, got '4'"),
    ({"arch": {"name": "small_cnn", "config": {"in_channels": 5000}}},
     "arch.config.in_channels: expected an integer from 1 to 1,024, got 5000"),
    ({"arch": {"name": "small_cnn", "config": {"input_size": [8, 60000]}}},
     "arch.config.input_size: expected an integer from 1 to 16,384, got 60000"),
    ({"arch": {"name": "small_cnn", "config": {"input_size": 60000}}},
     "arch.config.input_size: expected an integer from 1 to 16,384, got 60000 (or a list of"),
    ({"arch": {"name": "vit_tiny", "config": {"image_size": BIG}}},
     "arch.config.image_size: expected an integer from 1 to 16,384"),
    ({"arch": {"name": "small_cnn", "config": {"name": "x"}}},
     "arch.config: 'name' is not a model option"),
    ({"epoch": -1}, "epoch: expected an integer >= 0, got -1"),
    ({"dataset": ["x"]}, "dataset: expected a data set name"),
    ({"run_config": [1]}, "run_config: expected a dict, got [1]"),
])
def test_bad_metadata_is_refused_naming_file_and_field(good, update, needle):
    path = _variant(good, "bad", update)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    msg = str(e.value)
    assert msg.startswith(f"checkpoint {path!r}: ") and needle in msg, msg


def test_not_a_training_checkpoint(good, tmp_path):
    path = str(tmp_path / "plain.safetensors")
    striate.save({"w": np.ones(2)}, path)
    with pytest.raises(CheckpointError, match="not a striate training checkpoint"):
        load_checkpoint(path)
    path = _variant(good, "nomodel", state_edit=lambda st: st.pop("model"))
    with pytest.raises(CheckpointError, match=r"not a striate training checkpoint \(no model"):
        load_checkpoint(path)


def test_load_model_checks_what_fits_the_model(good):
    def set_cfg(**kw):
        meta = striate.load_metadata(good)
        return {"arch": {"name": "small_cnn", "config": {**meta["arch"]["config"], **kw}}}

    path = _variant(good, "short", {"class_names": ["a"]})
    load_checkpoint(path)   # consistent on its own: the model decides how many classes
    with pytest.raises(CheckpointError, match=f"checkpoint {path!r}: class_names has 1 names, "
                                              "the model has 4 classes"):
        load_model(path)
    path = _variant(good, "unknown", set_cfg(colour="blue"))
    with pytest.raises(CheckpointError, match="cannot rebuild 'small_cnn' from arch.config "
                                              r"\(create\('small_cnn'\): unknown option"):
        load_model(path)
    path = _variant(good, "typed", set_cfg(widths="abc"))
    with pytest.raises(CheckpointError, match="cannot rebuild 'small_cnn' from arch.config"):
        load_model(path)
    path = _variant(good, "wider", set_cfg(hidden=32))
    with pytest.raises(CheckpointError, match="the weights do not fit the 'small_cnn' of "
                                              r"arch.config \(Error\(s\) in loading state_dict "
                                              "for SmallCNN: size mismatch for classifier") as e:
        load_model(path)
    assert "\n" not in str(e.value)

    def nan_weights(state):
        key = next(k for k, v in state["model"].items() if v.dtype.kind == "f")
        state["model"][key] = np.full_like(state["model"][key], np.nan)

    path = _variant(good, "nan", state_edit=nan_weights)
    with pytest.raises(CheckpointError, match="holds NaN or inf values"):
        load_model(path)


def test_predict_files_checks_channels(good, tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    img = tmp_path / "i.png"
    Image.new("L", (8, 8), 100).save(img)
    (top,) = predict_files(good, [img], topk=2)
    assert {n for n, _ in top} <= {"nw", "ne", "sw", "se"} and len(top) == 2
    assert all(np.isfinite(p) for _, p in top)

    from striate.models import create

    model = create("small_cnn", num_classes=4, in_channels=2, input_size=8, widths=[4, 8],
                   convs_per_stage=1, hidden=16)
    path = Trainer(model, metadata={"input_shape": [2, 8, 8]}, progress=False,
                   verbose=False).save_checkpoint(tmp_path / "two.safetensors")
    load_model(path)
    with pytest.raises(CheckpointError, match=f"checkpoint {path!r}: the model takes 2 "
                                              "channels .*grayscale or RGB"):
        predict_files(path, [img])
