"""Progress reporting: tqdm when asked (a TTY), plain lines otherwise, silence when disabled."""

import io

import pytest

from striate.train.progress import Progress


def test_plain_lines_off_a_tty():
    s = io.StringIO()
    p = Progress(10, "epoch 1", stream=s)
    for _ in range(10):
        p.update(32, 0.5, 0.75)
    p.close()
    lines = s.getvalue().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("epoch 1 batch 10/10 loss 0.5000 acc 0.7500")
    assert lines[0].endswith("img/s") and p.images == 320


def test_tqdm_bar_with_live_postfix():
    pytest.importorskip("tqdm")
    s = io.StringIO()
    p = Progress(4, "epoch 2", stream=s, use_tqdm=True)
    for _ in range(4):
        p.update(16, 0.25, 0.5)
    p._bar.refresh()          # tqdm redraws at most every 0.1 s on its own
    out = s.getvalue()
    p.close()
    assert "epoch 2" in out and "loss=0.2500" in out and "img/s" in out


def test_disabled_is_silent():
    s = io.StringIO()
    p = Progress(3, "x", enabled=False, stream=s)
    p.update(8, 1.0, None)
    p.close()
    assert s.getvalue() == "" and p.images_per_second >= 0
