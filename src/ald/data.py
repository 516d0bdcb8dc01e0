"""Datasets: sources registered by name, fixed splits, and (x, T_g(x), g) pairs.

A *source* turns raw files (or a seed, for generated data) into one ``.npz`` with uint8 images and
class labels for the train/val/test splits. A dataset in the config is a source plus a pair
recipe (e.g. a fixed white block). Pairs are made batch-wise from a seeded plan, so training pairs
are fresh every epoch and test pairs are the same in every run.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .groups import Group

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IdxFormatError(ValueError):
    """An IDX file is truncated, corrupt or not IDX at all."""


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a numpy array, checking its size."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:  # gzip raises these on truncated or corrupt streams
        raise IdxFormatError(f"{path}: cannot decompress ({exc}); the file is truncated or corrupt") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise IdxFormatError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxFormatError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IdxFormatError(
            f"{path}: IDX header announces shape {shape} ({expected} bytes) but the file holds "
            f"{len(raw) - header} bytes of data; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


# ----------------------------------------------------------------------------------------------
# Sources


def split_train_val(n: int, n_val: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def prepare_mnist(raw_dir: Path, n_val: int, split_seed: int) -> dict[str, np.ndarray]:
    raw_dir = Path(raw_dir)
    train_x = read_idx(raw_dir / "train-images-idx3-ubyte.gz")
    train_y = read_idx(raw_dir / "train-labels-idx1-ubyte.gz")
    test_x = read_idx(raw_dir / "t10k-images-idx3-ubyte.gz")
    test_y = read_idx(raw_dir / "t10k-labels-idx1-ubyte.gz")
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise IdxFormatError(f"{raw_dir}: image and label counts differ")
    tr, va = split_train_val(len(train_x), n_val, split_seed)
    return dict(
        train_x=train_x[tr], train_y=train_y[tr], val_x=train_x[va], val_y=train_y[va],
        test_x=test_x, test_y=test_y,
    )


# Seven-segment strokes in a unit box (x right, y down), and the segments of each digit.
SEGMENTS = {
    "a": ((0, 0), (1, 0)), "b": ((1, 0), (1, 0.5)), "c": ((1, 0.5), (1, 1)), "d": ((0, 1), (1, 1)),
    "e": ((0, 0.5), (0, 1)), "f": ((0, 0), (0, 0.5)), "g": ((0, 0.5), (1, 0.5)),
}
DIGIT_SEGMENTS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]


def render_glyphs(labels: np.ndarray, rng: np.random.Generator, size: int = 28) -> np.ndarray:
    """Digit-like seven-segment glyphs with random size, slant, offset and stroke width (uint8)."""
    n = len(labels)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    pix = np.stack([xx.ravel(), yy.ravel()], 1)  # (P, 2)
    width = rng.uniform(0.3, 0.5, n) * size
    height = rng.uniform(0.55, 0.7, n) * size
    slant = rng.uniform(-0.25, 0.25, n)
    cx = size / 2 + rng.uniform(-1.5, 1.5, n)
    cy = size / 2 + rng.uniform(-1.5, 1.5, n)
    stroke = rng.uniform(1.0, 1.8, n)
    images = np.zeros((n, size * size), np.float32)
    for name, ((x0, y0), (x1, y1)) in SEGMENTS.items():
        has = np.array([name in DIGIT_SEGMENTS[c] for c in labels])
        if not has.any():
            continue

        def place(u, v):
            px = cx + (u - 0.5) * width - slant * (v - 0.5) * height
            py = cy + (v - 0.5) * height
            return np.stack([px, py], 1)[has]

        a, b = place(x0, y0), place(x1, y1)  # (n', 2)
        ab = b - a
        t = ((pix[None] - a[:, None]) * ab[:, None]).sum(-1) / (ab**2).sum(-1)[:, None]
        closest = a[:, None] + np.clip(t, 0, 1)[..., None] * ab[:, None]
        dist = np.linalg.norm(pix[None] - closest, axis=-1)
        ink = np.clip(stroke[has, None] + 0.5 - dist, 0, 1)  # anti-aliased edge one pixel wide
        images[has] = np.maximum(images[has], ink)
    return (images.reshape(n, size, size) * 255).round().astype(np.uint8)


def prepare_glyphs(n_train: int, n_val: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in [("train", n_train), ("val", n_val), ("test", n_test)]:
        labels = rng.integers(0, 10, n).astype(np.uint8)
        out[f"{split}_x"], out[f"{split}_y"] = render_glyphs(labels, rng), labels
    return out


# The source registry: name -> function building the split arrays. Generated sources need no raw files.
SOURCES: dict[str, Callable[..., dict[str, np.ndarray]]] = {"mnist": prepare_mnist, "glyphs": prepare_glyphs}


def save_source(arrays: dict[str, np.ndarray], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def load_split(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as data:
        return data[f"{split}_x"], data[f"{split}_y"]


# ----------------------------------------------------------------------------------------------
# Pairs


BLOCK_SIZE = 7


@dataclass
class PairSet:
    """Images of one split with a fixed plan of group elements and block positions per item.

    ``batch(idx)`` returns x, T_g(x) in [-1, 1] (background -1) and g; a white block, when the
    dataset has one, sits at the same place in x and T_g(x) while the content rotates under it.
    """

    images: torch.Tensor  # uint8 (N, H, W)
    labels: torch.Tensor
    group: Group
    g: torch.Tensor
    block_pos: torch.Tensor | None  # (N, 2) top-left corners, or None

    @classmethod
    def plan(cls, images, labels, group: Group, block: bool, generator: torch.Generator) -> "PairSet":
        images = torch.as_tensor(np.asarray(images))
        n, h, w = images.shape
        g = group.sample(n, generator)
        pos = None
        if block:
            pos = torch.stack(
                [torch.randint(0, h - BLOCK_SIZE + 1, (n,), generator=generator),
                 torch.randint(0, w - BLOCK_SIZE + 1, (n,), generator=generator)], 1)
        return cls(images, torch.as_tensor(np.asarray(labels)), group, g, pos)

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, idx: torch.Tensor, device: torch.device | str = "cpu"):
        x = self.images[idx].to(device=device, dtype=torch.float32).unsqueeze(1) / 127.5 - 1.0
        g = self.g[idx]
        tx = self.group.act(g, x, fill=-1.0)
        if self.block_pos is not None:
            x, tx = add_block(x, self.block_pos[idx]), add_block(tx, self.block_pos[idx])
        return x, tx, g


def add_block(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Paint a white BLOCK_SIZE square at pos[i] = (row, col) on image x[i] (vectorised)."""
    h, w = x.shape[-2:]
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    r0, c0 = pos[:, 0].to(x.device), pos[:, 1].to(x.device)
    in_r = (rows[None] >= r0[:, None]) & (rows[None] < r0[:, None] + BLOCK_SIZE)
    in_c = (cols[None] >= c0[:, None]) & (cols[None] < c0[:, None] + BLOCK_SIZE)
    mask = (in_r[:, :, None] & in_c[:, None, :]).unsqueeze(1)
    return torch.where(mask, torch.ones_like(x), x)


def seeded_generator(*parts: int) -> torch.Generator:
    """A torch generator whose seed mixes several integers (seed, epoch, purpose) reproducibly."""
    seed = int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])
    return torch.Generator().manual_seed(seed)


PURPOSE = {"train": 1, "val": 2, "test": 3}


def pair_set(source_npz: Path, split: str, group: Group, block: bool, seed: int, epoch: int = 0) -> PairSet:
    """Pairs for ``split``: training plans depend on (seed, epoch); val/test on ``seed`` alone."""
    images, labels = load_split(source_npz, split)
    return PairSet.plan(images, labels, group, block, seeded_generator(seed, PURPOSE[split], epoch))
