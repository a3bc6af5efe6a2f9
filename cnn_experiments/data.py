"""Datasets, loaded once into memory as float tensors: Fashion-MNIST (Debian's package) and CIFAR-10.

Fashion-MNIST: the four IDX .gz files of Debian's `dataset-fashion-mnist` (default folder
/usr/share/datasets/fashion-mnist, or --data-dir, or $FASHION_MNIST_DIR). Debian re-gzipped the files, so the
decoded arrays, not the .gz checksums, are verified (shapes, 10 balanced classes, first labels).
CIFAR-10: the standard python-pickle batches (data_batch_1..5, test_batch) at a path the user gives; it cannot
be downloaded here. These files are the dataset's own distribution format; the suite never writes pickle.
"""
from __future__ import annotations

import gzip
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {"train_x": "train-images-idx3-ubyte.gz", "train_y": "train-labels-idx1-ubyte.gz",
                 "test_x": "t10k-images-idx3-ubyte.gz", "test_y": "t10k-labels-idx1-ubyte.gz"}
FASHION_FIRST_TRAIN_LABELS = (9, 0, 0, 3, 0, 2, 7, 2, 5, 5)   # canonical decoded arrays (ENVIRONMENT.md)
FASHION_FIRST_TEST_LABELS = (9, 2, 1, 1, 6)


class DatasetError(RuntimeError):
    """The dataset is missing or not what it should be. The message says what to do."""


@dataclass(frozen=True)
class Dataset:
    name: str
    train_x: np.ndarray   # uint8 (N, C, H, W)
    train_y: np.ndarray   # int64 (N,)
    test_x: np.ndarray
    test_y: np.ndarray


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped): magic, dims, big-endian uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}; reinstall dataset-fashion-mnist") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DatasetError(f"{path} is truncated: {data.size} bytes of data for shape {dims}")
    return data.reshape(dims)


def fashion_mnist_dir(data_dir: str | Path | None = None) -> Path:
    return Path(data_dir or os.environ.get("FASHION_MNIST_DIR") or DEBIAN_DIR)


def load_fashion_mnist(data_dir: str | Path | None = None) -> Dataset:
    check_available("fashion_mnist", data_dir)
    folder = fashion_mnist_dir(data_dir)
    arrays = {key: read_idx(folder / name) for key, name in FASHION_FILES.items()}
    data = Dataset("fashion_mnist", arrays["train_x"][:, None], arrays["train_y"].astype(np.int64),
                   arrays["test_x"][:, None], arrays["test_y"].astype(np.int64))
    verify(data, n_train=60000, n_test=10000, first_train=FASHION_FIRST_TRAIN_LABELS,
           first_test=FASHION_FIRST_TEST_LABELS)
    return data


# What a CIFAR-10 python batch may reference: numpy arrays and dtypes (dicts, lists and bytes need no global).
SAFE_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                ("numpy", "ndarray"), ("numpy", "dtype")}


class SafeUnpickler(pickle.Unpickler):
    """Reads the CIFAR-10 batch format without executing anything: only SAFE_GLOBALS may be referenced."""

    def find_class(self, module: str, name: str):
        if (module, name) not in SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR-10 batch holds only numpy "
                                         "arrays, lists and bytes")
        return super().find_class(module, name)


MAX_CIFAR_BATCH_BYTES = 64 * 2 ** 20   # a CIFAR-10 python batch is 31 MB (10000 images of 3072 bytes)
MAX_CIFAR_IMAGES = 10 ** 5


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        if path.stat().st_size > MAX_CIFAR_BATCH_BYTES:
            raise DatasetError(f"{path} is larger than a CIFAR-10 python batch ({MAX_CIFAR_BATCH_BYTES >> 20} MB at "
                               "most)")
        with open(path, "rb") as handle:
            batch = SafeUnpickler(handle, encoding="bytes").load()  # user-supplied files: nothing is executed
        data, labels = batch[b"data"], batch[b"labels"]
        # the real batches hold a uint8 array and a list of ints: anything else (e.g. lists that share one
        # object many times, which would expand to gigabytes) is refused before it is converted
        if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072
                and data.shape[0] <= MAX_CIFAR_IMAGES):
            raise ValueError("data is not a uint8 array of shape (n, 3072)")
        if not (isinstance(labels, (list, np.ndarray)) and len(labels) == data.shape[0]
                and all(isinstance(v, (int, np.integer)) and 0 <= v <= 9 for v in labels)):
            raise ValueError("labels are not a list of integers 0..9, one per image")
        x = data.reshape(-1, 3, 32, 32)
        y = np.asarray(labels, dtype=np.int64)
    except pickle.UnpicklingError as exc:
        raise DatasetError(f"{path} is not a CIFAR-10 python batch ({exc}); expected the 'CIFAR-10 python "
                           "version' files data_batch_1..5 and test_batch") from None
    except (OSError, KeyError, ValueError, EOFError, TypeError, AttributeError, IndexError, OverflowError,
            RecursionError, MemoryError) as exc:
        raise DatasetError(f"{path} is not a CIFAR-10 python batch ({type(exc).__name__}: {str(exc)[:80]}); "
                           "expected the 'CIFAR-10 python version' files data_batch_1..5 and test_batch") from None
    return x, y


def load_cifar10(data_dir: str | Path | None) -> Dataset:
    """CIFAR-10 from its python-pickle batches (folder with data_batch_1..5 and test_batch)."""
    check_available("cifar10", data_dir)
    folder = Path(data_dir)
    names = [f"data_batch_{i}" for i in range(1, 6)]
    train = [_cifar_batch(folder / n) for n in names]
    test_x, test_y = _cifar_batch(folder / "test_batch")
    data = Dataset("cifar10", np.concatenate([t[0] for t in train]), np.concatenate([t[1] for t in train]),
                   test_x, test_y)
    verify(data)
    return data


def verify(data: Dataset, n_train: int | None = None, n_test: int | None = None, first_train=None,
           first_test=None) -> None:
    for split, x, y in (("train", data.train_x, data.train_y), ("test", data.test_x, data.test_y)):
        if x.ndim != 4 or x.shape[0] != y.shape[0] or x.shape[2] != x.shape[3]:
            raise DatasetError(f"{data.name} {split}: unexpected shapes {x.shape}, {y.shape}")
        if y.min() < 0 or y.max() > 9:
            raise DatasetError(f"{data.name} {split}: labels outside 0..9")
    if n_train is not None and (data.train_x.shape[0] != n_train or data.test_x.shape[0] != n_test):
        raise DatasetError(f"{data.name}: expected {n_train} + {n_test} images, found "
                           f"{data.train_x.shape[0]} + {data.test_x.shape[0]}")
    if n_train is not None and not np.all(np.bincount(data.train_y, minlength=10) == n_train // 10):
        raise DatasetError(f"{data.name}: the 10 classes are not balanced in the training set")
    if first_train is not None and tuple(data.train_y[:len(first_train)]) != tuple(first_train):
        raise DatasetError(f"{data.name}: first training labels differ from the canonical arrays")
    if first_test is not None and tuple(data.test_y[:len(first_test)]) != tuple(first_test):
        raise DatasetError(f"{data.name}: first test labels differ from the canonical arrays")


def check_available(name: str, data_dir: str | Path | None = None) -> None:
    """Raise DatasetError (saying what to do) unless the dataset's files are there; reads nothing else."""
    try:
        _check_files(name, data_dir)
    except OSError as exc:  # e.g. a path component too long for the file system
        raise DatasetError(f"data folder {str(data_dir)[:120]!r} cannot be read ({exc.strerror}); pass an existing "
                           "folder") from None


def _check_files(name: str, data_dir) -> None:
    if name == "fashion_mnist":
        folder = fashion_mnist_dir(data_dir)
        missing = [f for f in FASHION_FILES.values() if not (folder / f).is_file()]
        if missing:
            raise DatasetError(f"Fashion-MNIST not found in {folder} (missing {missing[0]}); install it with "
                               f"`apt-get install dataset-fashion-mnist` or pass --data-dir / set FASHION_MNIST_DIR")
    elif name == "cifar10":
        if data_dir is None:
            raise DatasetError("CIFAR-10 needs its folder: data_dir (--set EXPERIMENT.data_dir=... in reports.run, "
                               "--data-dir in the benches) pointing at 'cifar-10-batches-py' (it cannot be downloaded "
                               "here)")
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        if not all((Path(data_dir) / n).is_file() for n in names):
            raise DatasetError(f"CIFAR-10 batches not found in {data_dir}; expected data_batch_1..5 and test_batch")
    else:
        raise DatasetError(f"unknown dataset {name!r}; choose fashion_mnist or cifar10")


def load(name: str, data_dir: str | Path | None = None) -> Dataset:
    if name == "fashion_mnist":
        return load_fashion_mnist(data_dir)
    if name == "cifar10":
        return load_cifar10(data_dir)
    raise DatasetError(f"unknown dataset {name!r}; choose fashion_mnist or cifar10")


def input_files(name: str, data_dir: str | Path | None = None) -> list[Path]:
    """The files a dataset is read from: a user's CIFAR-10 batches (part of a result's key); Fashion-MNIST is
    checked against its canonical labels instead."""
    if name != "cifar10" or not data_dir:
        return []
    return [Path(data_dir) / n for n in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]]
