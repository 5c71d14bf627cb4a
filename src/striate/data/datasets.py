"""Datasets: IDX (MNIST, Fashion-MNIST, KMNIST), CIFAR-10/100 python batches, image folders,
in-memory arrays, and the embedded Fashion-MNIST sample.

Layout contract: every dataset holds its images as one **uint8 NCHW** array
(``images.shape == (N, C, H, W)``; grayscale has ``C == 1``) and its labels as an **int64**
array of shape ``(N,)``. NCHW is what the model consumes, so batching is a single gather
with no transpose; :class:`~striate.data.DataLoader` turns a uint8 batch into float32 scaled
to [0, 1]. :class:`ArrayDataset` also accepts float images (kept as float32, used as-is).

Where files are looked for (first hit wins), for dataset ``name``:

1. ``root`` when given (the ``--data DIR`` of the CLI): ``root`` itself, then ``root/name``
   (only these: an explicit directory never falls back to another one);
2. otherwise ``/usr/share/datasets/<name>`` (Debian's ``dataset-fashion-mnist`` package
   installs ``/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``),
   ``$STRIATE_DATA/<name>``, and the user cache ``$XDG_CACHE_HOME/striate/<name>``
   (default ``~/.cache/striate/<name>``).

With ``download=True`` missing files are fetched (checksummed, see
:mod:`striate.data.download`) into ``root/<name>`` or the user cache.
"""

from __future__ import annotations

import os
import reprlib
import struct
import tarfile
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.data._errors import DataFormatError
from striate.data._safe_pickle import safe_load
from striate.data.download import RESOURCES, download_dataset
from striate.data.idx import read_idx

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"]
KMNIST_CLASSES = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]

EMBEDDED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "embedded")


# --------------------------------------------------------------------------------------------
# Base classes
# --------------------------------------------------------------------------------------------
class Dataset:
    """Minimal dataset protocol: ``len(ds)`` and ``ds[i] -> (image, label)``.

    Subclasses that hold arrays also implement :meth:`arrays` so the loader can batch with one
    gather instead of a Python loop over samples.
    """

    classes: list[str]

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:  # pragma: no cover
        raise NotImplementedError


class ArrayDataset(Dataset):
    """A dataset over in-memory arrays (the TensorDataset of striate).

    Args:
        images: ``(N, C, H, W)`` (``layout="NCHW"``), ``(N, H, W, C)`` (``layout="NHWC"``) or
            ``(N, H, W)`` (grayscale). uint8 (0..255) or floating (kept as float32, used by
            the loader as-is, not rescaled).
        labels: ``(N,)`` non-negative integers.
        classes: class names; default ``["0", ..., str(max_label)]``.
        layout: "NCHW" or "NHWC" (ignored for 3-D input).
        hflip_safe: whether a horizontal flip keeps the class (False for digits/characters);
            read by :func:`~striate.data.augmentation_preset` callers.
        source: what the arrays came from, used in error messages.

    Shape:
        ``images``: (N, C, H, W) uint8 or float32, C-contiguous; ``labels``: (N,) int64.

    Raises:
        DataFormatError: counts differ, wrong dimensions, labels out of range.

    Example:
        >>> import numpy as np
        >>> ds = ArrayDataset(np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 2, 1]))
        >>> len(ds), ds.images.shape, ds.classes
        (4, (4, 1, 28, 28), ['0', '1', '2'])
    """

    def __init__(self, images: np.ndarray, labels: Sequence[int] | np.ndarray,
                 classes: Sequence[str] | None = None, layout: str = "NCHW",
                 hflip_safe: bool = True, source: str = "arrays") -> None:
        images = np.asarray(images)
        labels_arr = np.asarray(labels)
        if layout not in ("NCHW", "NHWC"):
            raise ValueError(f"ArrayDataset: layout must be 'NCHW' or 'NHWC', got {layout!r}")
        if images.ndim == 3:
            images = images[:, None, :, :]
        elif images.ndim == 4:
            if layout == "NHWC":
                images = images.transpose(0, 3, 1, 2)
        else:
            raise DataFormatError(f"{source}: expected images of shape (N, C, H, W), (N, H, W, C)"
                                  f" or (N, H, W), got shape {images.shape}")
        if images.dtype != np.uint8:
            if not np.issubdtype(images.dtype, np.floating):
                raise DataFormatError(f"{source}: expected uint8 or floating images, got dtype "
                                      f"{images.dtype}")
            images = images.astype(np.float32, copy=False)
        if labels_arr.ndim != 1:
            raise DataFormatError(f"{source}: expected labels of shape (N,), got shape "
                                  f"{labels_arr.shape}")
        if labels_arr.size and not np.issubdtype(labels_arr.dtype, np.integer):
            raise DataFormatError(f"{source}: expected integer labels, got dtype "
                                  f"{labels_arr.dtype}")
        if images.shape[0] != labels_arr.shape[0]:
            raise DataFormatError(f"{source}: images and labels counts differ: "
                                  f"{images.shape[0]} images, {labels_arr.shape[0]} labels")
        if labels_arr.size:  # checked before the int64 cast (uint64 >= 2**63 would wrap)
            if int(labels_arr.min()) < 0:
                raise DataFormatError(f"{source}: negative label {int(labels_arr.min())}")
            if int(labels_arr.max()) > np.iinfo(np.int64).max:
                raise DataFormatError(f"{source}: label {int(labels_arr.max())} out of the int64 "
                                      "range")
        labels_arr = labels_arr.astype(np.int64, copy=False)
        if classes is None:
            n_cls = int(labels_arr.max()) + 1 if labels_arr.size else 0
            classes = [str(i) for i in range(n_cls)]
        classes = [str(c) for c in classes]
        if labels_arr.size and labels_arr.max() >= len(classes):
            raise DataFormatError(f"{source}: label {int(labels_arr.max())} out of range for "
                                  f"{len(classes)} classes")
        self.images: np.ndarray = np.ascontiguousarray(images)
        self.labels: np.ndarray = np.ascontiguousarray(labels_arr)
        self.classes: list[str] = classes
        self.hflip_safe = bool(hflip_safe)
        self.source = source

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        """``(image (C, H, W), label)`` of sample ``index`` (negative indices allowed)."""
        n = len(self)
        i = int(index)
        if i < -n or i >= n:
            raise IndexError(f"index {index} out of range for dataset of length {n}")
        return self.images[i], int(self.labels[i])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole dataset as ``(images (N, C, H, W), labels (N,) int64)`` (no copy)."""
        return self.images, self.labels

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def mean_std(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Per-channel mean and std of the images on the [0, 1] scale (for normalisation)."""
        x = self.images
        scale = 1.0 / 255.0 if x.dtype == np.uint8 else 1.0
        n, c = x.shape[:2]
        flat = x.reshape(n, c, -1)
        mean = np.zeros(c)
        sq = np.zeros(c)
        for s in range(0, n, 4096):  # chunked: no float64 copy of the whole dataset
            blk = flat[s:s + 4096].astype(np.float64) * scale
            mean += blk.sum(axis=(0, 2))
            sq += (blk * blk).sum(axis=(0, 2))
        count = n * flat.shape[2]
        mean /= max(count, 1)
        std = np.sqrt(np.maximum(sq / max(count, 1) - mean * mean, 0.0))
        return tuple(float(v) for v in mean), tuple(float(v) for v in std)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n={len(self)}, image_shape={self.image_shape}, "
                f"classes={len(self.classes)}, source={self.source!r})")


# --------------------------------------------------------------------------------------------
# Search paths
# --------------------------------------------------------------------------------------------
def cache_dir() -> str:
    """The user cache directory, ``$XDG_CACHE_HOME/striate`` or ``~/.cache/striate``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "striate")


def search_dirs(name: str, root: str | os.PathLike | None = None,
                aliases: Sequence[str] = ()) -> list[str]:
    """The directories searched for dataset ``name``, in order (see module docstring)."""
    names = [name, *aliases]
    if root is not None:
        root = os.fspath(root)
        return [root] + [os.path.join(root, n) for n in names]
    dirs = [os.path.join("/usr/share/datasets", n) for n in names]
    env = os.environ.get("STRIATE_DATA")
    if env:
        dirs += [os.path.join(env, n) for n in names]
    dirs += [os.path.join(cache_dir(), n) for n in names]
    return dirs


def download_dir(name: str, root: str | os.PathLike | None) -> str:
    """Where ``download=True`` writes dataset ``name``."""
    return os.path.join(os.fspath(root), name) if root is not None else \
        os.path.join(cache_dir(), name)


def _find_file(directory: str, stem: str) -> str | None:
    for candidate in (stem + ".gz", stem):
        p = os.path.join(directory, candidate)
        if os.path.isfile(p):
            return p
    return None


# --------------------------------------------------------------------------------------------
# IDX datasets
# --------------------------------------------------------------------------------------------
def load_idx_pair(images_path: str, labels_path: str,
                  num_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check an IDX images file and its labels file.

    Returns:
        ``(images (N, 1, H, W) uint8, labels (N,) int64)``.

    Raises:
        DataFormatError: malformed file, wrong dtype/rank, counts differ, label out of range.
    """
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataFormatError(f"{images_path}: expected a uint8 IDX array of rank 3 (N, H, W), "
                              f"got {images.dtype} with dims {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFormatError(f"{labels_path}: expected a uint8 IDX array of rank 1 (N,), got "
                              f"{labels.dtype} with dims {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(f"images and labels counts differ: {images_path} has "
                              f"{images.shape[0]} images, {labels_path} has {labels.shape[0]} "
                              "labels")
    if num_classes is not None and labels.size and int(labels.max()) >= num_classes:
        raise DataFormatError(f"{labels_path}: label {int(labels.max())} out of range for "
                              f"{num_classes} classes")
    return images[:, None, :, :], labels.astype(np.int64)


class _IDXDataset(ArrayDataset):
    name = ""
    aliases: tuple[str, ...] = ()
    class_names: list[str] = []
    flip_ok = True

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, base_url: str | None = None) -> None:
        split = "train" if train else "t10k"
        stems = (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte")
        dirs = self._dirs(root)
        found = self._locate(dirs, stems)
        if found is None and download:
            target = download_dir(self.name, root)
            download_dataset(self.name, target, base_url=base_url,
                             files=[s + ".gz" for s in stems])
            found = self._locate([target], stems)
        if found is None:
            raise FileNotFoundError(
                f"{type(self).__name__}: files {stems[0]}[.gz] and {stems[1]}[.gz] not found in "
                f"any of {dirs}; pass root=DIR (--data DIR), set $STRIATE_DATA, or use "
                "download=True")
        images, labels = load_idx_pair(found[0], found[1], len(self.class_names))
        super().__init__(images, labels, self.class_names, hflip_safe=self.flip_ok,
                         source=os.path.dirname(found[0]))
        self.train = train
        self.files = found

    def _dirs(self, root: str | os.PathLike | None) -> list[str]:
        return search_dirs(self.name, root, self.aliases)

    @staticmethod
    def _locate(dirs: Sequence[str], stems: Sequence[str]) -> tuple[str, str] | None:
        for d in dirs:
            paths = [_find_file(d, s) for s in stems]
            if all(paths):
                return paths[0], paths[1]  # type: ignore[return-value]
        return None


class MNIST(_IDXDataset):
    """MNIST handwritten digits (60,000 train / 10,000 test, 1x28x28).

    Args:
        root: directory holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` (or a
            ``mnist`` sub-directory of it); None searches the default paths.
        train: training split when True, test split otherwise.
        download: fetch the official files (MD5-checked) when not found.
        base_url: URL base overriding the official mirrors.

    Raises:
        FileNotFoundError: no files found and ``download`` is False.
        DataFormatError: a file is corrupt (the message names it).
    """

    name = "mnist"
    aliases = ("MNIST/raw",)
    class_names = MNIST_CLASSES
    flip_ok = False


class FashionMNIST(_IDXDataset):
    """Fashion-MNIST (Zalando article images, 60,000 / 10,000, 1x28x28). See :class:`MNIST`."""

    name = "fashion-mnist"
    aliases = ("fashion_mnist", "FashionMNIST/raw")
    class_names = FASHION_MNIST_CLASSES
    flip_ok = True


class KMNIST(_IDXDataset):
    """Kuzushiji-MNIST (cursive Japanese characters, 60,000 / 10,000). See :class:`MNIST`."""

    name = "kmnist"
    aliases = ("KMNIST/raw",)
    class_names = KMNIST_CLASSES
    flip_ok = False


class EmbeddedFashionMNIST(_IDXDataset):
    """The Fashion-MNIST sample shipped inside the package: 10,000 train / 2,000 test images,
    1,000 / 200 per class, drawn with a fixed seed from the official files
    (``tools/make_embedded.py``). Read by the same IDX code as the full dataset, so the main
    job runs on a fresh install with no data.
    """

    name = "fashion-mnist-sample"
    class_names = FASHION_MNIST_CLASSES
    flip_ok = True

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, base_url: str | None = None) -> None:
        # ``root``/``download`` are accepted for a uniform signature and ignored: the files
        # ship inside the package.
        super().__init__(root=EMBEDDED_DIR, train=train)

    def _dirs(self, root: str | os.PathLike | None) -> list[str]:
        return [EMBEDDED_DIR]


# --------------------------------------------------------------------------------------------
# CIFAR
# --------------------------------------------------------------------------------------------
def _str_keys(d: Any, path: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise DataFormatError(f"{path}: expected a pickled dict, got {type(d).__name__}")
    return {(k.decode("latin1") if isinstance(k, bytes) else str(k)): v for k, v in d.items()}


def _load_pickle_file(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise DataFormatError(f"{path}: cannot read file ({e.strerror or e})") from e
    return _str_keys(safe_load(data, path), path)


def _names(value: Any, path: str, key: str) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise DataFormatError(f"{path}: '{key}' should be a list of names")
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in value]


def load_cifar_batch(path: str, label_key: str = "labels",
                     num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR python batch (restricted unpickling, no code execution).

    Returns:
        ``(images (N, 3, 32, 32) uint8, labels (N,) int64)``.

    Raises:
        DataFormatError: the file is not a valid batch (names the file and the problem).
    """
    d = _load_pickle_file(path)
    if "data" not in d or label_key not in d:
        raise DataFormatError(f"{path}: not a CIFAR batch: missing key "
                              f"{'data' if 'data' not in d else label_key!r} "
                              f"(keys: {sorted(d)})")
    data = d["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        desc = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                else type(data).__name__)
        raise DataFormatError(f"{path}: 'data' should be a uint8 array of shape (N, 3072), "
                              f"got {desc}")
    labels = _int_labels(d[label_key], path, label_key, num_classes)
    if labels.shape[0] != data.shape[0]:
        raise DataFormatError(f"{path}: images and labels counts differ: {data.shape[0]} images,"
                              f" {labels.size} labels")
    return data.reshape(-1, 3, 32, 32), labels


def _int_labels(value: Any, path: str, key: str, num_classes: int) -> np.ndarray:
    """``value`` (a list of ints or NumPy ints, or a 1-D integer array) as int64 labels in
    ``[0, num_classes)``. Floats and bools are refused, not truncated; the range is checked
    before the conversion, so huge values cannot overflow."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in "iu":
            raise DataFormatError(f"{path}: '{key}' should be a list of integers, got a "
                                  f"{value.dtype} array of shape {value.shape}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise DataFormatError(f"{path}: '{key}' should be a list of integers, got "
                                      f"{type(v).__name__} {reprlib.repr(v)} at index {i}")
    else:
        raise DataFormatError(f"{path}: '{key}' should be a list of integers, got "
                              f"{type(value).__name__}")
    if len(value):
        lo, hi = min(value), max(value)
        if lo < 0 or hi >= num_classes:
            raise DataFormatError(f"{path}: label out of range [0, {num_classes}) in '{key}': "
                                  f"min {lo}, max {hi}")
    return np.asarray(value, dtype=np.int64).reshape(-1)


def _safe_extract(archive: str, directory: str, top: str) -> None:
    """Extract the regular files under ``top/`` of a tar archive, refusing unsafe paths."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for m in tar.getmembers():
                parts = m.name.replace("\\", "/").split("/")
                if m.isdir() or not parts or parts[0] != top:
                    continue
                if not m.isfile() or ".." in parts or m.name.startswith("/"):
                    raise DataFormatError(f"{archive}: refusing unsafe archive member {m.name!r}")
                dest = os.path.join(directory, *parts)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                src = tar.extractfile(m)
                assert src is not None
                tmp = dest + ".part"
                with src, open(tmp, "wb") as out:
                    out.write(src.read())
                os.replace(tmp, dest)
    except (tarfile.TarError, EOFError, OSError) as e:
        if isinstance(e, DataFormatError):
            raise
        raise DataFormatError(f"{archive}: corrupt archive ({e})") from e


class CIFAR10(ArrayDataset):
    """CIFAR-10 from the official "python version" batches (50,000 / 10,000, 3x32x32).

    The batches are pickles; they are read by a restricted unpickler that rebuilds only
    dicts, lists, bytes and plain NumPy arrays and refuses every other global (no code from
    the file is executed; see :mod:`striate.data._safe_pickle`).

    Args:
        root: directory holding ``cifar-10-batches-py/`` (or that directory itself).
        train: ``data_batch_1..5`` when True, ``test_batch`` otherwise.
        download: fetch and extract ``cifar-10-python.tar.gz`` (MD5-checked) when missing.
        base_url: URL base overriding the official one.

    Raises:
        FileNotFoundError: no batches found and ``download`` is False.
        DataFormatError: a batch is corrupt or refused.
    """

    name = "cifar10"
    folder = "cifar-10-batches-py"
    archive = "cifar-10-python.tar.gz"
    train_files = [f"data_batch_{i}" for i in range(1, 6)]
    test_files = ["test_batch"]
    meta_file = "batches.meta"

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, base_url: str | None = None) -> None:
        files = self.train_files if train else self.test_files
        dirs = [p for d in search_dirs(self.name, root) for p in (d, os.path.join(d, self.folder))]
        directory = self._locate(dirs, files)
        if directory is None and download:
            target = download_dir(self.name, root)
            download_dataset(self.name, target, base_url=base_url)
            _safe_extract(os.path.join(target, self.archive), target, self.folder)
            directory = self._locate([os.path.join(target, self.folder)], files)
        if directory is None:
            raise FileNotFoundError(
                f"{type(self).__name__}: batches {files} not found in any of {dirs}; pass "
                "root=DIR (--data DIR), set $STRIATE_DATA, or use download=True")
        classes = self._classes(directory)
        parts = [self._read(os.path.join(directory, f), len(classes)) for f in files]
        images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        super().__init__(images, labels, classes, hflip_safe=True, source=directory)
        self.train = train

    @staticmethod
    def _locate(dirs: Sequence[str], files: Sequence[str]) -> str | None:
        for d in dirs:
            if all(os.path.isfile(os.path.join(d, f)) for f in files):
                return d
        return None

    def _classes(self, directory: str) -> list[str]:
        path = os.path.join(directory, self.meta_file)
        if not os.path.isfile(path):
            return list(CIFAR10_CLASSES)
        meta = _load_pickle_file(path)
        if "label_names" not in meta:
            raise DataFormatError(f"{path}: missing key 'label_names'")
        names = _names(meta["label_names"], path, "label_names")
        if len(names) != 10:
            raise DataFormatError(f"{path}: expected 10 label names, got {len(names)}")
        return names

    def _read(self, path: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
        return load_cifar_batch(path, "labels", num_classes)


class CIFAR100(CIFAR10):
    """CIFAR-100 python batches (``train`` / ``test`` and ``meta``), 100 fine or 20 coarse
    classes. See :class:`CIFAR10`.

    Args:
        label_type: "fine" (100 classes) or "coarse" (20 super-classes).
    """

    name = "cifar100"
    folder = "cifar-100-python"
    archive = "cifar-100-python.tar.gz"
    train_files = ["train"]
    test_files = ["test"]
    meta_file = "meta"

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, base_url: str | None = None,
                 label_type: str = "fine") -> None:
        if label_type not in ("fine", "coarse"):
            raise ValueError(f"CIFAR100: label_type must be 'fine' or 'coarse', got "
                             f"{label_type!r}")
        self.label_type = label_type
        super().__init__(root, train, download, base_url)

    def _classes(self, directory: str) -> list[str]:
        path = os.path.join(directory, self.meta_file)
        if not os.path.isfile(path):
            raise DataFormatError(f"{directory}: missing the class-name file {self.meta_file!r}")
        meta = _load_pickle_file(path)
        key = f"{self.label_type}_label_names"
        if key not in meta:
            raise DataFormatError(f"{path}: missing key {key!r}")
        names = _names(meta[key], path, key)
        expected = 100 if self.label_type == "fine" else 20
        if len(names) != expected:
            raise DataFormatError(f"{path}: expected {expected} names in {key!r}, got "
                                  f"{len(names)}")
        return names

    def _read(self, path: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
        return load_cifar_batch(path, f"{self.label_type}_labels", num_classes)


# --------------------------------------------------------------------------------------------
# Image folders
# --------------------------------------------------------------------------------------------
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


def _pil():
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - Pillow is installed in the test env
        raise ImportError("reading images needs Pillow: pip install 'striate[vision]'") from e
    return Image


#: PNG IHDR colour type -> samples per pixel.
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: Adam7 passes: (x0, y0, dx, dy).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))


def _check_png_complete(path: str, chunk: int = 1 << 20) -> None:
    """Raise DataFormatError unless the PNG's image data inflates to the size its header
    declares. Pillow fills the missing rows of a PNG whose zlib stream ends early with zeros
    (a 100-byte file can claim 12000x12000 pixels); this check streams the IDAT data through
    zlib, discarding the output ``chunk`` bytes at a time, before Pillow allocates anything.
    """
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return  # not a PNG after all: Pillow decides
        head = f.read(8 + 13)
        if len(head) < 21 or head[4:8] != b"IHDR":
            return
        w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", head[8:21])
        if color not in _PNG_SAMPLES:
            return  # invalid header: Pillow refuses it
        bits = depth * _PNG_SAMPLES[color]
        passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
        need = 0
        for x0, y0, dx, dy in passes:
            pw, ph = -(-max(w - x0, 0) // dx), -(-max(h - y0, 0) // dy)
            if pw and ph:
                need += ph * (1 + -(-pw * bits // 8))
        f.seek(8 + 8 + 13 + 4)
        z = zlib.decompressobj()
        got = 0
        while got < need:
            size_type = f.read(8)
            if len(size_type) < 8:
                break
            length, ctype = struct.unpack(">I4s", size_type)
            if ctype == b"IEND":
                break
            if ctype != b"IDAT":
                f.seek(length + 4, os.SEEK_CUR)
                continue
            data = f.read(length)
            f.seek(4, os.SEEK_CUR)  # CRC: Pillow checks it
            while data and got < need:
                try:
                    got += len(z.decompress(data, chunk))
                except zlib.error as e:
                    raise DataFormatError(f"{path}: corrupt PNG image data ({e})") from e
                data = z.unconsumed_tail
            if z.eof:
                break
    if got < need:
        raise DataFormatError(f"{path}: truncated PNG: {w}x{h} pixels need {need} bytes of "
                              f"image data, the file holds {got}")


def read_image(path: str | os.PathLike, mode: str = "RGB",
               size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an image file as training and ``striate predict`` both see it.

    The image is turned upright from its EXIF orientation (as viewers display camera
    photos); 16-bit grayscale (Pillow modes ``I;16*`` and ``I``, values 0..65535) is scaled
    to 8 bits (``round(v / 257)``, so 65535 -> 255) instead of being clipped; transparent
    images (an alpha channel, or a palette or colour key with transparency) are composited
    over **white**, the background they are usually drawn on; then the image is converted
    to ``mode`` and resized (bilinear) to ``size``.

    Args:
        path: the image file (any format Pillow reads).
        mode: "RGB" (3 channels) or "L" (grayscale).
        size: ``(H, W)`` to resize to; None keeps the file's size.

    Returns:
        uint8 array ``(H, W)`` for "L", ``(H, W, 3)`` for "RGB".

    Raises:
        DataFormatError: not a readable image, truncated (a PNG whose data ends before its
            last row is refused before decoding), or a decompression bomb (Pillow's
            limit); the message names the file.
    """
    Image = _pil()
    from PIL import ImageOps

    path = os.fspath(path)
    if mode not in ("RGB", "L"):
        raise ValueError(f"read_image: mode must be 'RGB' or 'L', got {mode!r}")
    try:
        with Image.open(path) as im:
            if im.format == "PNG":
                _check_png_complete(path)
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode == "I" or im.mode.startswith("I;16"):
                wide = np.asarray(im).astype(np.float64)
                im = Image.fromarray(np.rint(np.clip(wide, 0, 65535) / 257.0).astype(np.uint8),
                                     "L")
            if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
                im = im.convert("RGBA")
                im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im)
            im = im.convert(mode)
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            return np.asarray(im, dtype=np.uint8)
    except DataFormatError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise DataFormatError(f"{path}: unreadable image ({e})") from e


def _scan(directory: str, kind: str) -> list[str]:
    """Sorted names of the sub-folders (``kind`` "dir") or files ("file") of ``directory``,
    symlinks followed; a dangling symlink is skipped, one that cannot be resolved (a loop)
    is a DataFormatError naming it."""
    try:
        entries = list(os.scandir(directory))
    except OSError as e:
        raise DataFormatError(f"{directory}: cannot list folder ({e.strerror or e})") from e
    names = []
    for e in entries:
        try:
            ok = e.is_dir() if kind == "dir" else e.is_file()
        except OSError as err:
            raise DataFormatError(f"{e.path}: cannot examine folder entry "
                                  f"({err.strerror or err})") from err
        if ok:
            names.append(e.name)
    return sorted(names)


class ImageFolder(ArrayDataset):
    """Images in one sub-folder per class (``root/<class>/<image>``), loaded into memory.

    Classes are the sub-folder names sorted; files with an extension in ``extensions`` are
    read in sorted order by :func:`read_image` (as ``striate predict`` reads them: EXIF
    orientation, 16-bit scaling, transparency over white), converted to ``mode`` and resized
    (bilinear) to ``image_size``. Other files are ignored.

    Args:
        root: the folder.
        image_size: ``(H, W)`` or an int for square images; None keeps the size of the files
            (they must all have the same size).
        mode: "RGB" (3 channels) or "L" (grayscale, 1 channel).
        extensions: lower-case file suffixes accepted.
        classes: restrict/order the classes (default: all sub-folders, sorted).

    Raises:
        FileNotFoundError: ``root`` does not exist.
        DataFormatError: no class folders, an empty class folder, an unreadable or truncated
            image, a folder entry that cannot be examined (a symlink loop), or images of
            different sizes with ``image_size=None``.
    """

    def __init__(self, root: str | os.PathLike, image_size: int | tuple[int, int] | None = None,
                 mode: str = "RGB", extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 classes: Sequence[str] | None = None) -> None:
        _pil()
        root = os.fspath(root)
        if mode not in ("RGB", "L"):
            raise ValueError(f"ImageFolder: mode must be 'RGB' or 'L', got {mode!r}")
        if not os.path.isdir(root):
            raise FileNotFoundError(f"ImageFolder: {root} is not a directory")
        if classes is None:
            classes = _scan(root, "dir")
        if not classes:
            raise DataFormatError(f"{root}: no class sub-folders (expected root/<class>/<image>)")
        size = None
        if image_size is not None:
            size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
            if len(size) != 2 or min(size) <= 0:
                raise ValueError(f"ImageFolder: image_size must be a positive int or (H, W), "
                                 f"got {image_size!r}")
        exts = tuple(e.lower() for e in extensions)
        arrays: list[np.ndarray] = []
        labels: list[int] = []
        files: list[str] = []
        for label, cls in enumerate(classes):
            cdir = os.path.join(root, cls)
            if not os.path.isdir(cdir):
                raise DataFormatError(f"{cdir}: class folder missing")
            names = [n for n in _scan(cdir, "file") if n.lower().endswith(exts)]
            if not names:
                raise DataFormatError(f"{cdir}: empty class folder (no {'/'.join(exts)} files)")
            for n in names:
                path = os.path.join(cdir, n)
                arr = read_image(path, mode, size)  # type: ignore[arg-type]
                if arrays and arr.shape != arrays[0].shape:
                    raise DataFormatError(
                        f"{path}: image size {arr.shape[1]}x{arr.shape[0]} differs from "
                        f"{files[0]} ({arrays[0].shape[1]}x{arrays[0].shape[0]}); pass "
                        "image_size=(H, W) to resize")
                arrays.append(arr)
                labels.append(label)
                files.append(path)
        stack = np.stack(arrays)
        if stack.ndim == 3:
            stack = stack[:, None]
        else:
            stack = stack.transpose(0, 3, 1, 2)
        super().__init__(stack, np.asarray(labels, np.int64), list(classes), hflip_safe=True,
                         source=root)
        self.files = files


def load_folder(path: str | os.PathLike, train: bool = True, image_size: Any = None,
                mode: str = "RGB", test_fraction: float = 0.2, seed: int = 0) -> ArrayDataset:
    """An image-folder dataset split into train/test.

    When ``path/train`` and ``path/test`` exist they are the splits (classes taken from
    ``train``). Otherwise the whole folder is split per class with a seeded permutation,
    ``test_fraction`` of each class (at least one image when the class has two or more) going
    to the test split.
    """
    path = os.fspath(path)
    tr, te = os.path.join(path, "train"), os.path.join(path, "test")
    if os.path.isdir(tr) and os.path.isdir(te):
        classes = _scan(tr, "dir")
        return ImageFolder(tr if train else te, image_size, mode, classes=classes)
    full = ImageFolder(path, image_size, mode)
    rng = np.random.default_rng(seed)
    keep = []
    for c in range(len(full.classes)):
        idx = np.flatnonzero(full.labels == c)
        idx = idx[rng.permutation(idx.size)]
        n_test = int(round(test_fraction * idx.size))
        if idx.size >= 2:
            n_test = min(max(n_test, 1), idx.size - 1)
        keep.append(idx[n_test:] if train else idx[:n_test])
    sel = np.sort(np.concatenate(keep))
    return ArrayDataset(full.images[sel], full.labels[sel], full.classes, source=path)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------
_REGISTRY: dict[str, type] = {
    "mnist": MNIST,
    "fashion-mnist": FashionMNIST, "fashion_mnist": FashionMNIST, "fashionmnist": FashionMNIST,
    "kmnist": KMNIST,
    "cifar10": CIFAR10, "cifar-10": CIFAR10,
    "cifar100": CIFAR100, "cifar-100": CIFAR100,
    "embedded": EmbeddedFashionMNIST, "fashion-mnist-sample": EmbeddedFashionMNIST,
}


def dataset_names() -> list[str]:
    """Names accepted by :func:`load_dataset` (plus ``folder:<path>``)."""
    return sorted(_REGISTRY) + ["folder:<path>"]


def load_dataset(name: str, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, **kwargs: Any) -> ArrayDataset:
    """Load a dataset by name.

    Args:
        name: "mnist", "fashion-mnist", "kmnist", "cifar10", "cifar100", "embedded" (alias
            "fashion-mnist-sample": the Fashion-MNIST sample shipped in the package), or
            "folder:<path>" (an image folder; ``kwargs`` go to :func:`load_folder`, e.g.
            ``image_size=32, mode="L"``).
        root: data directory (the CLI's ``--data DIR``); None searches the default paths.
        train: training split when True.
        download: fetch missing official files (checksummed).
        **kwargs: extra arguments of the dataset class.

    Returns:
        An :class:`ArrayDataset` (uint8 NCHW images, int64 labels).

    Raises:
        ValueError: unknown name.
        FileNotFoundError: files not found (and not downloaded).
        DataFormatError: corrupt files.

    Example:
        >>> ds = load_dataset("embedded", train=False)
        >>> len(ds), ds.image_shape, ds.classes[0]
        (2000, (1, 28, 28), 'T-shirt/top')
    """
    if name.startswith("folder:"):
        path = name[len("folder:"):]
        if not path:
            raise ValueError("load_dataset: 'folder:' needs a path, e.g. 'folder:/data/pets'")
        return load_folder(path, train=train, **kwargs)
    key = name.lower()
    if key not in _REGISTRY:
        raise ValueError(f"load_dataset: unknown dataset {name!r}; known: "
                         f"{', '.join(dataset_names())}")
    return _REGISTRY[key](root=root, train=train, download=download, **kwargs)


def default_dataset(root: str | os.PathLike | None = None, train: bool = True
                    ) -> ArrayDataset:
    """Fashion-MNIST for the main job: the full dataset when its files are found (``root``,
    then the default search paths), otherwise the sample shipped in the package (so a fresh
    install with no data still runs). ``dataset.source`` tells which one was loaded.

    Raises:
        DataFormatError: the full files exist but are corrupt (never silently replaced by the
            sample).
    """
    try:
        return FashionMNIST(root=root, train=train)
    except FileNotFoundError:
        return EmbeddedFashionMNIST(train=train)


__all__ = [
    "ArrayDataset", "CIFAR10", "CIFAR100", "Dataset", "EmbeddedFashionMNIST", "FashionMNIST",
    "ImageFolder", "KMNIST", "MNIST", "RESOURCES", "cache_dir", "dataset_names", "default_dataset",
    "load_dataset", "load_folder", "load_idx_pair", "read_image", "search_dirs",
]
