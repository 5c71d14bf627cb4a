"""History files (JSON/CSV, atomic) and PNG plots."""

import csv
import json
import os

import numpy as np
import pytest

from striate.train import plots
from striate.train.history import History


def _hist():
    h = History()
    h.append({"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5, "val_loss": 0.9,
              "val_accuracy": 0.6, "lr": 1e-3})
    h.append({"epoch": 2, "train_loss": 0.5, "train_accuracy": 0.8, "val_loss": float("nan"),
              "val_accuracy": 0.7, "lr": 5e-4, "extra": [1, 2]})
    return h


def test_history_json_csv_roundtrip(tmp_path):
    h = _hist()
    pj, pc = h.save(tmp_path)
    with open(pj) as f:
        data = json.load(f)
    assert [r["epoch"] for r in data] == [1, 2]
    assert data[1]["val_loss"] is None            # NaN written as null, valid JSON
    assert data[1]["extra"] == [1, 2]
    with open(pc) as f:
        rows = list(csv.DictReader(f))
    assert [float(r["train_loss"]) for r in rows] == [1.0, 0.5]
    assert "extra" not in rows[0]                  # non-scalars only in JSON
    assert h["val_accuracy"] == [0.6, 0.7]
    assert History.load(pj)["lr"] == [1e-3, 5e-4]
    # no temporary files left behind
    assert sorted(os.listdir(tmp_path)) == ["history.csv", "history.json"]


def test_history_state_dict():
    h = _hist()
    h2 = History()
    h2.load_state_dict(h.state_dict())
    assert h2["epoch"] == [1, 2] and h2.last()["val_accuracy"] == 0.7


def _png_ok(path):
    assert path is not None and os.path.getsize(path) > 1000
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plots_written(tmp_path):
    pytest.importorskip("matplotlib")
    _png_ok(plots.plot_history(_hist(), tmp_path / "curves.png"))
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    _png_ok(plots.plot_confusion_matrix(cm, ["a", "b", "c"], tmp_path / "cm.png"))
    rng = np.random.default_rng(0)
    imgs = rng.standard_normal((7, 1, 28, 28)).astype(np.float32)
    _png_ok(plots.plot_misclassified(imgs, [0, 1, 2, 0, 1, 2, 0], [1, 2, 0, 1, 2, 0, 1],
                                     ["a", "b", "c"], tmp_path / "mis.png", mean=[0.3],
                                     std=[0.3]))
    rgb = rng.random((3, 3, 8, 8)).astype(np.float32)
    _png_ok(plots.plot_misclassified(rgb, [0, 1, 2], [1, 2, 0], None, tmp_path / "rgb.png"))
    _png_ok(plots.plot_misclassified(np.zeros((0, 1, 8, 8)), [], [], None, tmp_path / "e.png"))


def test_to_display_undoes_normalisation():
    x = np.full((2, 1, 4, 4), 0.25, np.float32)
    norm = (x - 0.5) / 0.2
    np.testing.assert_allclose(plots.to_display(norm, [0.5], [0.2]), 0.25, atol=1e-6)


def test_atomic_write_permissions_follow_umask(tmp_path):
    from striate.train._io import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "x.txt", "hi")
    finally:
        os.umask(old)
    assert (tmp_path / "x.txt").read_text() == "hi"
    assert os.stat(tmp_path / "x.txt").st_mode & 0o777 == 0o644


def test_plots_leave_pyplot_alone(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    before = matplotlib.get_backend()
    plots.plot_history(_hist(), tmp_path / "c.png")
    assert matplotlib.get_backend() == before
