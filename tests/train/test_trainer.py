"""Trainer: learning, determinism, exact resume, checkpoints, callbacks, history files."""

import json
import os

import numpy as np
import pytest
from conftest import tiny_model

import striate
from striate.train import (
    Callback,
    EarlyStopping,
    LRLogger,
    ModelCheckpoint,
    Trainer,
    load_checkpoint,
    load_model,
)
from striate.train.trainer import to_tensor


def _trainer(model, epochs_planned=3, out_dir=None, callbacks=(), lr=0.01):
    opt = striate.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    sched = striate.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs_planned * 8)
    return Trainer(model, opt, scheduler=sched, scheduler_interval="batch",
                   callbacks=list(callbacks), class_names=["nw", "ne", "sw", "se"],
                   metadata={"normalization": {"mean": [0.3], "std": [0.2]},
                             "input_shape": [1, 8, 8]},
                   out_dir=out_dir, progress=False, verbose=False)


def _weights(model):
    return {k: np.array(getattr(v, "data", v)) for k, v in model.state_dict().items()}


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_learns(tiny_data):
    tl, vl, _ = tiny_data
    tr = _trainer(tiny_model(), epochs_planned=4, lr=0.05)
    hist = tr.fit(tl, vl, epochs=4)
    losses = hist["train_loss"]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert hist["val_accuracy"][-1] > 0.6          # chance is 0.25
    res = tr.evaluate(vl)
    assert res["n"] == 128 and res["accuracy"] == pytest.approx(hist["val_accuracy"][-1])
    assert np.asarray(res["confusion_matrix"]).sum() == 128
    assert len(res["per_class_accuracy"]) == 4 and res["top5"] == 1.0


def test_seeded_runs_are_bit_identical(tiny_data, threads):
    tl, vl, _ = tiny_data
    w = []
    for _ in range(2):
        tl.set_epoch(0)
        tr = _trainer(tiny_model(seed=5))
        tr.fit(tl, vl, epochs=2)
        w.append(_weights(tr.model))
    _same(w[0], w[1])


class _Interrupt(Callback):
    """Simulates a crash right after epoch ``at`` was checkpointed."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == self.at:
            raise KeyboardInterrupt


def test_exact_resume(tiny_data, tmp_path):
    tl, vl, _ = tiny_data
    full = _trainer(tiny_model(seed=1), out_dir=tmp_path / "a")
    full.fit(tl, vl, epochs=3)

    tl.set_epoch(0)
    cut = _trainer(tiny_model(seed=1), out_dir=tmp_path / "b")
    cut.callbacks.append(_Interrupt(2))    # after ModelCheckpoint wrote last.safetensors
    with pytest.raises(KeyboardInterrupt):
        cut.fit(tl, vl, epochs=3)
    # a fresh process: different init, different global RNG and loader positions
    striate.manual_seed(999)
    np.random.seed(123)
    tl.set_epoch(7)
    resumed = _trainer(tiny_model(seed=42), out_dir=tmp_path / "b")
    meta = resumed.resume(tmp_path / "b" / "last.safetensors")
    assert meta["epoch"] == 2 and resumed.epoch == 2
    resumed.fit(tl, vl, epochs=3)
    _same(_weights(full.model), _weights(resumed.model))
    for a, b in zip(full.history, resumed.history):
        assert a["train_loss"] == b["train_loss"] and a["val_accuracy"] == b["val_accuracy"]
    sa = full.optimizer.state_dict()["state"]
    sb = resumed.optimizer.state_dict()["state"]
    for k in sa:
        assert np.array_equal(sa[k]["momentum_buffer"], sb[k]["momentum_buffer"])
    assert full.scheduler.last_epoch == resumed.scheduler.last_epoch


def test_checkpoint_contents_and_reload(tiny_data, tmp_path):
    tl, vl, _ = tiny_data
    tr = _trainer(tiny_model(), out_dir=tmp_path)
    tr.fit(tl, vl, epochs=2)
    assert {"best.safetensors", "last.safetensors", "history.json",
            "history.csv"} <= set(os.listdir(tmp_path))
    state, meta = load_checkpoint(tmp_path / "last.safetensors")
    assert meta["arch"]["name"] == "small_cnn"
    assert meta["arch"]["config"]["num_classes"] == 4
    assert meta["class_names"] == ["nw", "ne", "sw", "se"]
    assert meta["normalization"] == {"mean": [0.3], "std": [0.2]}
    assert meta["input_shape"] == [1, 8, 8] and meta["epoch"] == 2
    assert {"model", "optimizer", "scheduler", "trainer", "rng"} <= set(state)
    _same(state["model"], _weights(tr.model))
    model, _meta2 = load_model(tmp_path / "last.safetensors")
    x = next(iter(vl))[0]
    tr.model.eval()
    with striate.no_grad():
        np.testing.assert_array_equal(model(to_tensor(x)).data, tr.model(to_tensor(x)).data)
    hist = json.loads((tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in hist] == [1, 2]
    assert (tmp_path / "history.csv").read_text().splitlines()[0].startswith("epoch,")


def test_callbacks(tiny_data, tmp_path):
    tl, vl, _ = tiny_data

    class Recorder(Callback):
        def __init__(self):
            self.events = []

        def on_train_begin(self, trainer):
            self.events.append("begin")

        def on_epoch_begin(self, trainer, epoch):
            self.events.append(f"e{epoch}")

        def on_batch_end(self, trainer, batch, logs):
            assert np.isfinite(logs["loss"])

        def on_epoch_end(self, trainer, epoch, logs):
            self.events.append(f"/e{epoch}")

        def on_train_end(self, trainer):
            self.events.append("end")

    rec, lrlog = Recorder(), LRLogger(per_batch=True)
    # val_loss "improves" only while it drops by more than 10: stops after patience 1
    stop = EarlyStopping("val_loss", patience=1, min_delta=10.0)
    ck = ModelCheckpoint(tmp_path, monitor="val_accuracy")
    tr = _trainer(tiny_model(), callbacks=[rec, lrlog, stop, ck])
    tr.fit(tl, vl, epochs=6)
    assert tr.epoch == 3 and stop.stopped_epoch == 3
    assert rec.events == ["begin", "e1", "/e1", "e2", "/e2", "e3", "/e3", "end"]
    assert len(lrlog.batch_lrs) == 3 * len(tl)
    assert lrlog.batch_lrs[0] < 0.01 and lrlog.batch_lrs == sorted(lrlog.batch_lrs)[::-1]
    assert tr.history["lr"][0] == pytest.approx(lrlog.batch_lrs[len(tl) - 2])
    assert tr.history["lr_max"][1] == pytest.approx(lrlog.batch_lrs[len(tl)])
    assert os.path.exists(ck.best_path) and os.path.exists(ck.last_path)
    assert ck.best == max(tr.history["val_accuracy"])


def test_soft_targets_loss_matches_hard():
    from striate.train.trainer import default_loss

    rng = np.random.default_rng(0)
    z = to_tensor(rng.standard_normal((6, 4)).astype(np.float32))
    y = np.array([0, 3, 1, 2, 2, 0])
    hard = default_loss(z, to_tensor(y)).item()
    soft = default_loss(z, to_tensor(np.eye(4, dtype=np.float32)[y])).item()
    assert soft == pytest.approx(hard, rel=1e-5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_loss_is_a_clear_error(tiny_data):
    from striate.train import TrainingError

    tl, vl, _ = tiny_data
    tr = _trainer(tiny_model(), lr=1e30)
    with pytest.raises(TrainingError, match="loss became"):
        tr.fit(tl, vl, epochs=2)


def test_metadata_inferred_from_loader(tiny_data, tmp_path):
    """Without explicit metadata the checkpoint still records what predict needs."""
    tl, vl, (mean, std) = tiny_data
    model = tiny_model()
    tr = Trainer(model, striate.optim.Adam(model.parameters()), out_dir=tmp_path,
                 progress=False, verbose=False)
    tr.fit(tl, vl, epochs=1)
    _, meta = load_checkpoint(tmp_path / "last.safetensors")
    assert meta["class_names"] == ["nw", "ne", "sw", "se"]
    assert meta["input_shape"] == [1, 8, 8]
    np.testing.assert_allclose(meta["normalization"]["mean"], mean, rtol=1e-6)
    np.testing.assert_allclose(meta["normalization"]["std"], std, rtol=1e-6)


class _PlainLoader:
    """A loader without state_dict: its shuffling lives in a NumPy generator, which the
    Trainer finds and checkpoints by itself."""

    def __init__(self, x, y, seed):
        self.x, self.y = x, y
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.y) // 32

    def __iter__(self):
        p = self.rng.permutation(len(self.y))
        for b in range(len(self)):
            i = p[b * 32:(b + 1) * 32]
            yield self.x[i], self.y[i]


def test_exact_resume_with_a_plain_loader(tiny_data, tmp_path):
    from conftest import synthetic

    ds = synthetic(128, 0)
    x = ((ds.images.astype(np.float32) / 255.0) - 0.4) / 0.3
    _, vl, _ = tiny_data
    full = _trainer(tiny_model(seed=1))
    full.fit(_PlainLoader(x, ds.labels, 5), vl, epochs=3)
    cut = _trainer(tiny_model(seed=1), out_dir=tmp_path)
    cut.callbacks.append(_Interrupt(1))
    with pytest.raises(KeyboardInterrupt):
        cut.fit(_PlainLoader(x, ds.labels, 5), vl, epochs=3)
    resumed = _trainer(tiny_model(seed=7))
    resumed.resume(tmp_path / "last.safetensors")
    resumed.fit(_PlainLoader(x, ds.labels, 99), vl, epochs=3)   # its RNG state is restored
    _same(_weights(full.model), _weights(resumed.model))


def test_grad_clip_and_max_batches(tiny_data):
    tl, vl, _ = tiny_data
    model = tiny_model()
    opt = striate.optim.SGD(model.parameters(), lr=0.05)
    tr = Trainer(model, opt, grad_clip=0.5, max_batches=3, progress=False, verbose=False)
    tr.fit(tl, vl, epochs=2)
    assert tr.global_step == 6
    r = tr.history.last()
    assert np.isfinite(r["train_loss"]) and r["images_per_second"] > 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # NumPy's overflow in the optimizer
def test_weights_that_become_nan_in_the_last_step_stop_the_run(tiny_data, tmp_path):
    """Each batch's loss is computed before its step: a step that makes the weights NaN at
    the end of an epoch went unnoticed, the run 'succeeded' with a NaN model."""
    from striate.train import TrainingError

    tl, vl, _ = tiny_data
    model = tiny_model()
    tr = Trainer(model, striate.optim.SGD(model.parameters(), lr=1e308), max_batches=1,
                 out_dir=tmp_path, progress=False, verbose=False)
    with pytest.raises(TrainingError, match=r"parameter '.*' became NaN or inf at epoch 1 "
                                            r"\(learning rate \[1e\+308\]\)"):
        tr.fit(tl, vl, epochs=2)
    assert tr.epoch == 0 and not len(tr.history)
    assert not (tmp_path / "last.safetensors").exists()


def test_non_finite_validation_loss_stops_the_run(tiny_data, tmp_path):
    from striate.train import TrainingError
    from striate.train.trainer import default_loss

    tl, vl, _ = tiny_data
    model = tiny_model()

    def loss(out, y):   # finite in training, NaN in evaluation (outputs that overflow)
        return default_loss(out, y) * (1.0 if model.training else float("nan"))

    tr = Trainer(model, striate.optim.SGD(model.parameters(), lr=0.01), loss_fn=loss,
                 max_batches=1, out_dir=tmp_path, progress=False, verbose=False)
    with pytest.raises(TrainingError, match="validation loss became nan at epoch 1"):
        tr.fit(tl, vl, epochs=1)
    assert not (tmp_path / "last.safetensors").exists()
