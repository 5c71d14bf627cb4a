"""Image-folder datasets (Pillow) and in-memory arrays."""

import numpy as np
import pytest

from striate.data import ArrayDataset, DataFormatError, ImageFolder, load_dataset, load_folder

try:
    from PIL import Image
except ImportError:  # Pillow is optional ([vision]); only the folder tests need it
    Image = None
needs_pil = pytest.mark.skipif(Image is None, reason="Pillow not installed")


def _make_folder(root, classes=("cat", "ant", "bee"), n=3, size=(10, 12), seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for ci, cls in enumerate(classes):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = rng.integers(0, 256, (size[0], size[1], 3), dtype=np.uint8)
            ext = ("png", "bmp", "png")[i % 3]
            Image.fromarray(a).save(root / cls / f"img{i}.{ext}")
            arrays[(cls, i)] = a
    (root / "ant" / "notes.txt").write_text("not an image")
    return arrays


@needs_pil
def test_folder_rgb_lossless_values_and_sorted_classes(tmp_path):
    arrays = _make_folder(tmp_path)
    ds = ImageFolder(tmp_path, mode="RGB")
    assert ds.classes == ["ant", "bee", "cat"]
    assert ds.images.shape == (9, 3, 10, 12) and ds.images.dtype == np.uint8
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    # PNG/BMP are lossless: NCHW image equals the HWC source transposed.
    np.testing.assert_array_equal(ds.images[0], arrays[("ant", 0)].transpose(2, 0, 1))
    np.testing.assert_array_equal(ds.images[7], arrays[("cat", 1)].transpose(2, 0, 1))


@needs_pil
def test_folder_gray_resize_and_jpeg(tmp_path):
    _make_folder(tmp_path)
    Image.fromarray(np.full((20, 20, 3), 200, np.uint8)).save(tmp_path / "bee" / "z.jpg")
    ds = ImageFolder(tmp_path, image_size=8, mode="L")
    assert ds.images.shape == (10, 1, 8, 8)
    k = [f.endswith("z.jpg") for f in ds.files].index(True)
    assert k == 6 and ds.labels[k] == 1
    assert abs(int(ds.images[k].mean()) - 200) <= 2  # the flat JPEG, resized
    ds2 = ImageFolder(tmp_path, image_size=(6, 4))
    assert ds2.images.shape == (10, 3, 6, 4)


@needs_pil
def test_folder_errors(tmp_path):
    _make_folder(tmp_path)
    with pytest.raises(DataFormatError, match="differs from"):
        Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "bee" / "small.png")
        ImageFolder(tmp_path)
    (tmp_path / "bee" / "small.png").unlink()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="empty.*empty class folder"):
        ImageFolder(tmp_path)
    (tmp_path / "empty").rmdir()
    (tmp_path / "cat" / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(DataFormatError, match="broken.png: unreadable image"):
        ImageFolder(tmp_path)
    with pytest.raises(DataFormatError, match="no class sub-folders"):
        (tmp_path / "flat").mkdir()
        ImageFolder(tmp_path / "flat")
    with pytest.raises(FileNotFoundError):
        ImageFolder(tmp_path / "missing")


@needs_pil
def test_load_folder_splits(tmp_path):
    _make_folder(tmp_path / "all", n=5)
    tr = load_dataset(f"folder:{tmp_path / 'all'}", train=True, image_size=8)
    te = load_folder(tmp_path / "all", train=False, image_size=8)
    assert len(tr) + len(te) == 15 and np.bincount(te.labels).tolist() == [1, 1, 1]
    both = {x.tobytes() for x in tr.images} | {x.tobytes() for x in te.images}
    assert len(both) == 15  # disjoint and complete
    _make_folder(tmp_path / "split" / "train", n=2)
    _make_folder(tmp_path / "split" / "test", n=1, seed=1)
    te = load_folder(tmp_path / "split", train=False)
    assert len(te) == 3 and te.classes == ["ant", "bee", "cat"]


def test_array_dataset_layouts_and_errors():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)
    ds = ArrayDataset(x, [1, 0], layout="NHWC", classes=["a", "b"])
    np.testing.assert_array_equal(ds.images, x.transpose(0, 3, 1, 2))
    assert ds.images.flags.c_contiguous and ds.image_shape == (3, 4, 5)
    f = ArrayDataset(np.zeros((3, 1, 2, 2), np.float64), np.array([0, 1, 2]))
    assert f.images.dtype == np.float32 and f.classes == ["0", "1", "2"]
    assert ds[-1][1] == 0
    with pytest.raises(IndexError):
        ds[2]
    with pytest.raises(DataFormatError, match="counts differ: 2 images, 3 labels"):
        ArrayDataset(x, [0, 1, 1], layout="NHWC")
    with pytest.raises(DataFormatError, match="label 2 out of range for 2 classes"):
        ArrayDataset(x, [0, 2], classes=["a", "b"], layout="NHWC")
    with pytest.raises(DataFormatError, match="negative label"):
        ArrayDataset(x, [0, -1], layout="NHWC")
    with pytest.raises(DataFormatError, match="shape"):
        ArrayDataset(np.zeros((2, 3)), [0, 1])
    with pytest.raises(DataFormatError, match="integer labels"):
        ArrayDataset(x, [0.5, 1.0], layout="NHWC")
