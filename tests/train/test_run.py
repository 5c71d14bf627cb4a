"""striate.train.fit: the run directory, resume through the saved RunConfig, augmentation."""

import json

import numpy as np
import pytest

from striate.train import RunConfig, fit, load_checkpoint

SMALL = {"dataset": "embedded", "model": "lenet5", "limit_train": 256, "limit_test": 100, "batch_size": 64,
             "num_workers": 0}


def _weights(path):
    return load_checkpoint(path)[0]["model"]


def test_fit_resume_equals_uninterrupted(tmp_path):
    a = fit(RunConfig(epochs=2, schedule="none", augment="standard", out_dir=str(tmp_path / "a"),
                      **SMALL),
            progress=False, verbose=False, plots=False)
    fit(RunConfig(epochs=1, schedule="none", augment="standard", out_dir=str(tmp_path / "b"),
                  **SMALL),
        progress=False, verbose=False, plots=False)
    b = fit(resume=str(tmp_path / "b" / "last.safetensors"), epochs=2, progress=False,
            verbose=False, plots=False)
    assert b.trainer.epoch == 2 and b.out_dir == str(tmp_path / "b")
    wa, wb = _weights(tmp_path / "a" / "last.safetensors"), _weights(tmp_path / "b" /
                                                                    "last.safetensors")
    for k in wa:
        assert np.array_equal(wa[k], wb[k]), k
    assert a.test_accuracy == b.test_accuracy
    hist = json.loads((tmp_path / "b" / "history.json").read_text())
    assert [r["epoch"] for r in hist] == [1, 2]


def test_resume_cannot_stretch_onecycle(tmp_path):
    fit(RunConfig(epochs=1, out_dir=str(tmp_path), **SMALL), progress=False, verbose=False,
        plots=False)
    with pytest.raises(ValueError, match="cannot be stretched"):
        fit(resume=str(tmp_path / "last.safetensors"), epochs=3)


def test_fit_with_augmentation_and_mixing(tmp_path):
    r = fit(RunConfig(epochs=1, augment="standard", mixup=0.2, cutmix=1.0, label_smoothing=0.1,
                      optimizer="adamw", schedule="cosine", val_split=0.25,
                      out_dir=str(tmp_path), **SMALL), progress=False, verbose=False,
            plots=False)
    h = r.trainer.history.last()
    assert np.isfinite(h["train_loss"]) and 0 <= h["val_accuracy"] <= 1
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["test"]["n"] == 100
    _, meta = load_checkpoint(tmp_path / "last.safetensors")
    assert meta["run_config"]["mixup"] == 0.2 and meta["dataset"] == "embedded"
    assert meta["input_shape"] == [1, 28, 28] and len(meta["normalization"]["mean"]) == 1


@pytest.mark.parametrize("bad, match", [
    ({"optimizer": "lion"}, "optimizer must be one of"),
    ({"schedule": "poly"}, "schedule must be one of"),
    ({"batch_size": 0}, "batch_size"),
    # NaN/inf and out-of-range values are refused before any data is loaded
    ({"lr": float("inf")}, r"lr: expected a finite number > 0, got inf"),
    ({"lr": float("nan")}, r"lr: expected a finite number > 0, got nan"),
    ({"lr": "0.1"}, r"lr: expected a finite number > 0, got '0.1'"),
    ({"weight_decay": float("inf")}, "weight_decay: expected a finite number >= 0"),
    ({"momentum": float("inf")}, r"momentum: expected a number in \[0, 1\), got inf"),
    ({"momentum": 1.0}, r"momentum: expected a number in \[0, 1\), got 1.0"),
    ({"mixup": float("inf")}, r"mixup: expected a number in \[0, 1000\], got inf"),
    ({"cutmix": 1e308}, r"cutmix: expected a number in \[0, 1000\]"),
    ({"label_smoothing": float("nan")}, "label_smoothing: expected a number in"),
    ({"epochs": 1.5}, "epochs: expected an integer >= 0, got 1.5"),
    ({"seed": True}, "seed: expected an integer >= 0, got True"),
    ({"threads": 10 ** 6}, "threads: expected None or an integer from 1 to 1024"),
    ({"num_workers": -1}, "num_workers: expected an integer from 0 to 1024"),
    ({"model_cfg": {"num_classes": 5}}, "model_cfg: num_classes cannot be set"),
    ({"model_cfg": {"in_channels": 3, "dropout": 0.1}}, "model_cfg: in_channels cannot be"),
])
def test_bad_config(bad, match):
    with pytest.raises(ValueError, match=match):
        RunConfig(dataset="embedded", **bad).resolved()


def test_resume_checks_the_saved_run_config(tmp_path):
    import striate
    from striate.train import CheckpointError

    fit(RunConfig(epochs=1, schedule="none", out_dir=str(tmp_path), max_batches=1, **SMALL),
        progress=False, verbose=False, plots=False)
    src = str(tmp_path / "last.safetensors")
    meta = striate.load_metadata(src)
    meta.pop("striate_version")
    for name, update, needle in (("lr", {"lr": "banana"}, "lr: expected a finite number > 0"),
                                 ("mom", {"momentum": 5.0}, "momentum: expected a number in")):
        path = str(tmp_path / f"{name}.safetensors")
        striate.save(striate.load(src), path,
                     metadata={**meta, "run_config": {**meta["run_config"], **update}})
        with pytest.raises(CheckpointError) as e:
            fit(resume=path, progress=False, verbose=False, plots=False)
        assert str(e.value).startswith(f"checkpoint {path!r}: run_config: {needle}"), e.value
