"""Image-folder datasets (Pillow) and in-memory arrays."""

import os
import struct
import warnings
import zlib

import numpy as np
import pytest

from striate.data import (
    ArrayDataset,
    DataFormatError,
    ImageFolder,
    load_dataset,
    load_folder,
    read_image,
)
from striate.train.inference import load_images

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


def _png(path, w, h, raw, color=0, depth=8, interlace=0):
    """A PNG with the given IHDR fields and ``raw`` (filtered scanlines) as its zlib data."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                     chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


@needs_pil
def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    # fuzz2 #9: I;16 values 30000 and 60000 both became 255 (an all-white image).
    v = np.array([[0, 257, 30000, 60000, 65535]], np.uint16)
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        Image.fromarray(v).save(tmp_path / cls / "x.png")
    assert Image.open(tmp_path / "a" / "x.png").mode == "I;16"
    want = [0, 1, 117, 233, 255]  # round(v / 257)
    assert ImageFolder(tmp_path, mode="L").images[0, 0, 0].tolist() == want
    rgb = ImageFolder(tmp_path, mode="RGB").images[0, :, 0]
    assert rgb.tolist() == [want] * 3
    # Mode "I" (how older Pillow opens 16-bit PNGs) is read on the same 0..65535 scale.
    Image.fromarray(v.astype(np.int32)).save(tmp_path / "i.tif")
    assert Image.open(tmp_path / "i.tif").mode == "I"
    assert read_image(tmp_path / "i.tif", "L")[0].tolist() == want


@needs_pil
def test_transparency_same_in_training_and_predict(tmp_path):
    # fuzz2 #9: ImageFolder dropped alpha ((10, 20, 30, 0) stayed (10, 20, 30)) while
    # predict composited over white. Both now use read_image: over white.
    (tmp_path / "a").mkdir()
    rgba = np.array([[[10, 20, 30, 0], [0, 0, 0, 255], [0, 0, 0, 128], [200, 100, 50, 255]]],
                    np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a" / "1.png")
    pal = Image.fromarray(np.array([[0, 1, 1, 0]], np.uint8), "P")
    pal.putpalette([10, 20, 30, 90, 80, 70])
    pal.save(tmp_path / "a" / "2.png", transparency=0)
    Image.fromarray(np.array([[[40, 0], [40, 255], [40, 51], [0, 255]]], np.uint8),
                    "LA").save(tmp_path / "a" / "3.png")
    ds = ImageFolder(tmp_path, mode="RGB")
    np.testing.assert_array_equal(ds.images[0, :, 0].T, [[255, 255, 255], [0, 0, 0],
                                                         [127, 127, 127], [200, 100, 50]])
    np.testing.assert_array_equal(ds.images[1, :, 0].T, [[255] * 3, [90, 80, 70],
                                                         [90, 80, 70], [255] * 3])
    np.testing.assert_array_equal(ds.images[2, :, 0].T, [[255] * 3, [40] * 3, [212] * 3, [0] * 3])
    gray = ImageFolder(tmp_path, mode="L")
    assert gray.images[0, 0, 0].tolist()[:3] == [255, 0, 127]  # transparent is white in L too
    # predict's reader: exactly the training values / 255, also when resizing.
    for mode, c in (("RGB", 3), ("L", 1)):
        for size in (None, (3, 5)):
            ref = ImageFolder(tmp_path, mode=mode, image_size=size).images
            got = load_images(ImageFolder(tmp_path, mode=mode).files,
                              (c, *(size or ref.shape[2:])))
            np.testing.assert_array_equal(got, ref / np.float32(255.0))


@needs_pil
def test_exif_orientation_applied_in_training_too(tmp_path):
    (tmp_path / "a").mkdir()
    a = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(a).save(tmp_path / "a" / "1.png", exif=exif)
    ds = ImageFolder(tmp_path)
    assert ds.images.shape == (1, 3, 3, 2)
    np.testing.assert_array_equal(ds.images[0].transpose(1, 2, 0), np.rot90(a, k=-1))


@needs_pil
def test_truncated_png_claiming_huge_size_is_refused_before_decoding(tmp_path, monkeypatch):
    # fuzz2 #9: 12000x12000 claimed, 4 rows held (a ~150-byte file): Pillow filled the rest
    # with zeros (1.4 GB RSS). Refused now, before Pillow decodes (allocates) anything.
    (tmp_path / "a").mkdir()
    path = _png(tmp_path / "a" / "t.png", 12000, 12000, (b"\x00" + b"\xc8" * 12000) * 4)
    assert path.stat().st_size < 200
    from PIL import ImageFile

    def no_decoding(self):
        raise AssertionError("decoded a truncated image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with pytest.raises(DataFormatError, match=rf"{path}: truncated PNG: 12000x12000 pixels "
                                                  r"need 144012000 bytes of image data, the "
                                                  r"file holds 48004"):
            ImageFolder(tmp_path, mode="L")


@needs_pil
@pytest.mark.parametrize("color,depth,samples", [(0, 8, 1), (2, 8, 3), (0, 16, 1), (2, 16, 3),
                                                 (0, 1, 1), (3, 4, 1), (6, 8, 4)])
@pytest.mark.parametrize("interlace", [0, 1])
def test_png_completeness_check_exact_size(tmp_path, color, depth, samples, interlace):
    w, h = 13, 7
    if interlace:
        rows = []
        for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                               (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
            pw, ph = -(-max(w - x0, 0) // dx), -(-max(h - y0, 0) // dy)
            if pw and ph:
                rows += [1 + -(-pw * samples * depth // 8)] * ph
    else:
        rows = [1 + -(-w * samples * depth // 8)] * h
    raw = bytes(sum(rows))
    ok = _png(tmp_path / "ok.png", w, h, raw, color, depth, interlace)
    if color == 3:  # a palette is required
        data = ok.read_bytes()
        plte = struct.pack(">I", 48) + b"PLTE" + bytes(48)
        plte += struct.pack(">I", zlib.crc32(plte[4:]))
        ok.write_bytes(data[:33] + plte + data[33:])
    img = read_image(ok, "L")
    assert img.shape == (h, w)
    short = _png(tmp_path / "short.png", w, h, raw[:-1], color, depth, interlace)
    if color == 3:
        data = short.read_bytes()
        short.write_bytes(data[:33] + plte + data[33:])
    with pytest.raises(DataFormatError, match=rf"truncated PNG: 13x7 pixels need {len(raw)} "
                                              rf"bytes of image data, the file holds "
                                              rf"{len(raw) - 1}"):
        read_image(short, "L")


@needs_pil
def test_predict_reader_names_a_decompression_bomb(tmp_path):
    # fuzz2 #13: predict let DecompressionBombError through without the file name.
    bomb = _png(tmp_path / "bomb.png", 100000, 100000, b"\x00" * 1000)
    with pytest.raises(DataFormatError, match=rf"{bomb}: unreadable image \(Image size"):
        load_images([bomb], (1, 8, 8))


@needs_pil
def test_symlink_loops_are_data_format_errors(tmp_path):
    # fuzz2 #13: a symlink loop as a class folder raised a bare OSError (ELOOP).
    _make_folder(tmp_path)
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    with pytest.raises(DataFormatError, match=rf"{loop}: cannot examine folder entry "
                                              r"\(Too many levels of symbolic links\)"):
        ImageFolder(tmp_path)
    loop.unlink()
    floop = tmp_path / "bee" / "x.png"
    os.symlink(floop, floop)
    with pytest.raises(DataFormatError, match=rf"{floop}: cannot examine folder entry"):
        load_folder(tmp_path)
    floop.unlink()
    os.symlink(tmp_path / "nowhere.png", floop)  # dangling: skipped like any non-file
    assert len(ImageFolder(tmp_path)) == 9
