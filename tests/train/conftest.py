"""A tiny synthetic data set (4 classes: a bright quadrant in 8x8 noise) and model helpers."""

import numpy as np
import pytest


def synthetic(n: int = 256, seed: int = 0, size: int = 8):
    from striate.data import ArrayDataset

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 90, (n, 1, size, size)).astype(np.uint8)
    h = size // 2
    for k in range(4):
        r, c = divmod(k, 2)
        sel = y == k
        x[sel, :, r * h:(r + 1) * h, c * h:(c + 1) * h] += 120
    return ArrayDataset(x, y, classes=["nw", "ne", "sw", "se"])


@pytest.fixture
def tiny_data():
    from striate.data import DataLoader

    train, test = synthetic(256, 0), synthetic(128, 1)
    mean, std = train.mean_std()
    tl = DataLoader(train, batch_size=32, shuffle=True, seed=3, mean=mean, std=std,
                    num_workers=0)
    vl = DataLoader(test, batch_size=64, mean=mean, std=std, num_workers=0)
    return tl, vl, (mean, std)


def tiny_model(seed: int = 0):
    import striate
    from striate.models import create

    striate.manual_seed(seed)
    return create("small_cnn", num_classes=4, in_channels=1, input_size=8, widths=[4, 8],
                  convs_per_stage=1, hidden=16, dropout=0.2)
