"""Metrics against hand-computed values."""

import numpy as np
import pytest

from striate.train.metrics import (
    MetricAccumulator,
    accuracy,
    confusion_matrix,
    per_class_accuracy,
    topk_correct,
)

LOGITS = np.array([
    [3.0, 1.0, 0.0, 2.0],   # true 0: rank 0
    [0.0, 1.0, 5.0, 2.0],   # true 1: ranks 2 -> 3, 1 ahead? order 2,3,1,0 -> rank 2
    [1.0, 1.0, 0.0, 0.0],   # true 1: tie with 0, class 0 first -> rank 1
    [0.0, 0.0, 0.0, 9.0],   # true 3: rank 0
    [4.0, 3.0, 2.0, 1.0],   # true 3: rank 3
])
TARGETS = np.array([0, 1, 1, 3, 3])


def test_topk_by_hand():
    assert topk_correct(LOGITS, TARGETS, 1).tolist() == [True, False, False, True, False]
    assert topk_correct(LOGITS, TARGETS, 2).tolist() == [True, False, True, True, False]
    assert topk_correct(LOGITS, TARGETS, 3).tolist() == [True, True, True, True, False]
    assert topk_correct(LOGITS, TARGETS, 4).all()
    assert topk_correct(LOGITS, TARGETS, 10).all()          # k clipped to C
    assert accuracy(LOGITS, TARGETS) == pytest.approx(2 / 5)
    assert accuracy(LOGITS, TARGETS, k=3) == pytest.approx(4 / 5)


def test_top1_agrees_with_argmax_on_ties():
    rng = np.random.default_rng(0)
    z = rng.integers(0, 3, size=(200, 5)).astype(np.float32)   # many ties
    y = rng.integers(0, 5, size=200)
    assert np.array_equal(topk_correct(z, y, 1), np.argmax(z, 1) == y)


def test_soft_targets_reduce_to_argmax():
    soft = np.eye(4)[TARGETS] * 0.7 + 0.075
    assert topk_correct(LOGITS, soft, 1).tolist() == [True, False, False, True, False]


def test_confusion_matrix_by_hand():
    preds = np.array([0, 2, 0, 3, 0])
    cm = confusion_matrix(preds, TARGETS, 4)
    expected = np.zeros((4, 4), np.int64)
    expected[0, 0] = 1
    expected[1, 2] = 1
    expected[1, 0] = 1
    expected[3, 3] = 1
    expected[3, 0] = 1
    assert np.array_equal(cm, expected)
    pca = per_class_accuracy(cm)
    assert pca[0] == 1.0 and pca[1] == 0.0 and pca[3] == 0.5 and np.isnan(pca[2])


def test_accumulator_matches_one_shot():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((103, 7))
    y = rng.integers(0, 7, 103)
    acc = MetricAccumulator(7, topk=(5,))
    for s in range(0, 103, 10):     # uneven batches, loss weighted by batch size
        acc.update(z[s:s + 10], y[s:s + 10], loss=float(s))
    r = acc.compute()
    assert r["n"] == 103
    assert r["accuracy"] == pytest.approx(accuracy(z, y))
    assert r["top5"] == pytest.approx(accuracy(z, y, 5))
    sizes = [min(10, 103 - s) for s in range(0, 103, 10)]
    assert r["loss"] == pytest.approx(sum(s * n for s, n in zip(range(0, 103, 10), sizes)) / 103)
    cm = np.asarray(r["confusion_matrix"])
    assert np.array_equal(cm, confusion_matrix(np.argmax(z, 1), y, 7))
    assert cm.sum() == 103


def test_doctest_example():
    acc = MetricAccumulator(num_classes=3)
    acc.update(np.array([[2., 1., 0.], [0., 1., 3.]]), np.array([0, 1]), loss=0.5)
    assert acc.compute()["accuracy"] == 0.5


@pytest.mark.parametrize("z, y, match", [
    (np.zeros((3, 4)), np.zeros(2, int), "expected 3 labels"),
    (np.zeros((3,)), np.zeros(3, int), r"expected shape \(N, C\)"),
    (np.zeros((2, 4)), np.array([0, 4]), r"labels must lie in \[0, 4\)"),
    (np.zeros((2, 4)), np.zeros((2, 3)), "soft targets with 4 columns"),
])
def test_bad_input(z, y, match):
    with pytest.raises(ValueError, match=match):
        accuracy(z, y)
