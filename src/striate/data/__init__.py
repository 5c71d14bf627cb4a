"""Datasets, loading and augmentation (NumPy only; Pillow for image folders).

- datasets: :func:`load_dataset`, :class:`ArrayDataset`, :class:`MNIST`,
  :class:`FashionMNIST`, :class:`KMNIST`, :class:`CIFAR10`, :class:`CIFAR100`,
  :class:`ImageFolder`, :class:`EmbeddedFashionMNIST` (a sample shipped in the package).
  Images are uint8 NCHW, labels int64.
- :class:`DataLoader`: seeded shuffling, background prefetch, float32 NCHW batches.
- :mod:`striate.data.transforms`: batch-level vectorised augmentation.
"""

from striate.data._errors import DataFormatError, DownloadError
from striate.data.datasets import (
    CIFAR10,
    CIFAR100,
    KMNIST,
    MNIST,
    ArrayDataset,
    Dataset,
    EmbeddedFashionMNIST,
    FashionMNIST,
    ImageFolder,
    cache_dir,
    dataset_names,
    default_dataset,
    load_dataset,
    load_folder,
    read_image,
    search_dirs,
)
from striate.data import transforms
from striate.data.download import download_dataset, download_file
from striate.data.idx import read_idx, write_idx
from striate.data.loader import DataLoader
from striate.data.transforms import augmentation_preset

__all__ = [
    "ArrayDataset", "CIFAR10", "CIFAR100", "DataFormatError", "DataLoader", "Dataset",
    "DownloadError", "EmbeddedFashionMNIST", "FashionMNIST", "ImageFolder", "KMNIST", "MNIST",
    "augmentation_preset", "cache_dir", "dataset_names", "default_dataset", "download_dataset",
    "download_file", "load_dataset", "load_folder", "read_idx", "read_image", "search_dirs",
    "transforms", "write_idx",
]
