"""MNIST from its four official IDX files (read with numpy; no torchvision)."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

from ..acquire import RemoteFile
from .base import Source, register_source

# The official files; an offline mirror holds them as <mirror>/mnist/<name> (e.g. ../shared/data/mnist).
MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MNIST_FILES = {
    name: RemoteFile(name, md5, tuple(u + name for u in MNIST_URLS), size)
    for name, md5, size in [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542),
    ]
}

# Decompressed; the largest official file (train-images) is 47,040,016 bytes. Bounds what a gzip bomb can allocate.
MAX_IDX_BYTES = 256 * 2**20
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IdxFormatError(ValueError):
    """An IDX file is truncated, corrupt or not IDX at all."""


REFETCH = "Fix: delete it and refetch it (the workflow's fetch_mnist rule, which checks the official md5)."


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a numpy array, checking its size."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as exc:  # gzip raises these on truncated or corrupt streams
        raise IdxFormatError(f"{path}: cannot read or decompress ({exc}); the file is truncated or corrupt. "
                             f"{REFETCH}") from exc
    if len(raw) > MAX_IDX_BYTES:
        raise IdxFormatError(f"{path}: more than MAX_IDX_BYTES = {MAX_IDX_BYTES} bytes once decompressed; no "
                             f"official MNIST file is that large. {REFETCH}")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise IdxFormatError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()}). {REFETCH}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxFormatError(f"{path}: truncated IDX header. {REFETCH}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize  # exact: np.prod would wrap around at 2**63
    if len(raw) - header != expected:
        raise IdxFormatError(
            f"{path}: IDX header announces shape {shape} ({expected} bytes) but the file holds "
            f"{len(raw) - header} bytes of data; the file is truncated or corrupt. {REFETCH}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def split_train_val(n: int, n_val: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def prepare_mnist(raw_dir: Path, n_val: int, split_seed: int) -> dict[str, np.ndarray]:
    """48k train / 12k validation (seeded) from the official training set; the official 10k test set."""
    raw_dir = Path(raw_dir)
    train_x = read_idx(raw_dir / "train-images-idx3-ubyte.gz")[:, None]
    train_y = read_idx(raw_dir / "train-labels-idx1-ubyte.gz")
    test_x = read_idx(raw_dir / "t10k-images-idx3-ubyte.gz")[:, None]
    test_y = read_idx(raw_dir / "t10k-labels-idx1-ubyte.gz")
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise IdxFormatError(f"{raw_dir}: image and label counts differ")
    tr, va = split_train_val(len(train_x), n_val, split_seed)
    return dict(
        train_x=train_x[tr], train_y=train_y[tr], val_x=train_x[va], val_y=train_y[va],
        test_x=test_x, test_y=test_y,
    )


register_source(Source(
    name="mnist", prepare=prepare_mnist, spatial_dims=2, channels=1, files=MNIST_FILES,
    licence="CC BY-SA 3.0 (MNIST, LeCun, Cortes and Burges, as stated on its original page)",
    params_schema={"type": "object", "additionalProperties": False,
                   "properties": {"n_val": {"type": "integer", "minimum": 1, "default": 12000},
                                  "split_seed": {"type": "integer", "default": 42}}},
))
