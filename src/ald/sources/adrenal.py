"""AdrenalMNIST3D: 3-D shape masks of adrenal glands, normal (0) or hyperplasia (1), with official splits.

From MedMNIST v2: J. Yang, R. Shi, D. Wei, Z. Liu, L. Zhao, B. Ke, H. Pfister and B. Ni, "MedMNIST v2 - A
large-scale lightweight benchmark for 2D and 3D biomedical image classification", Scientific Data 10, 41
(2023). The data is licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); cite the
paper above when using it. It is not meant for clinical use.

The official URLs and md5s come from medmnist's ``INFO`` table. Both sizes (28^3 and 64^3; the paper uses
64^3) are official files of the source; an offline mirror holds them as <mirror>/adrenalmnist3d/<name>.
"""

from __future__ import annotations

import importlib.util
import math
import runpy
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..acquire import RemoteFile, archive_bounds_problem
from .base import SPLITS, Source, register_source


def medmnist_info() -> dict:
    """medmnist's INFO table, read from medmnist/info.py alone.

    ``import medmnist`` runs the package's __init__, which imports torch and scikit-learn (seconds, on
    every import of ald.sources) and prints a warning when they are missing; info.py needs neither.
    """
    spec = importlib.util.find_spec("medmnist")
    if spec is None or spec.origin is None:
        raise ImportError(
            "AdrenalMNIST3D's official URLs and md5s come from medmnist's INFO table, but medmnist is not "
            "installed. Fix: pip install --no-deps medmnist==3.0.2 (make setup does this)."
        )
    return runpy.run_path(str(Path(spec.origin).with_name("info.py")))["INFO"]


ADRENAL_INFO = medmnist_info()["adrenalmnist3d"]
SPLIT_SIZES = ADRENAL_INFO["n_samples"]  # {"train": 1188, "val": 98, "test": 298}
FILE_NAMES = {28: "adrenalmnist3d.npz", 64: "adrenalmnist3d_64.npz"}
ADRENAL_FILES = {
    name: RemoteFile(name, ADRENAL_INFO[md5_key], (ADRENAL_INFO[url_key],))
    for name, url_key, md5_key in [(FILE_NAMES[28], "url", "MD5"), (FILE_NAMES[64], "url_64", "MD5_64")]
}
LABELS = (0, 1)

# Bounds checked before numpy reads anything. The official files hold 6 members each, 34,774,320 (28^3) and
# 415,238,448 (64^3) bytes uncompressed.
MAX_NPZ_MEMBERS = 64
MAX_NPZ_BYTES = 2 * 2**30
NPY_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}

# What np.load and reading a member raise on a truncated or corrupt archive.
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


class NpzFormatError(ValueError):
    """A MedMNIST .npz file is truncated, corrupt or does not hold the expected arrays."""


def _bad_file(path: Path, problem: str) -> NpzFormatError:
    return NpzFormatError(
        f"{path}: {problem}; the file is truncated, corrupt or not the official one. Fix: delete it and refetch it "
        f"(the workflow's fetch_adrenalmnist3d rule, which checks the official md5)."
    )


def read_npz(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of an .npz file; a missing key or an unreadable archive raises NpzFormatError."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found. Fix: fetch it first (the workflow's fetch rule does).")
    try:
        check_npz(path)
        with np.load(path) as data:
            held = sorted(data.files)
            arrays = {key: data[key] for key in keys if key in held}
    except NpzFormatError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise _bad_file(path, f"cannot read it as an .npz archive ({type(exc).__name__}: {exc})") from exc
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise _bad_file(path, f"missing array(s) {missing} (it holds {held})")
    return arrays


def check_npz(path: Path) -> None:
    """Refuse an .npz with too many or too large members, or one whose member asks numpy to allocate more
    than it holds, before numpy allocates anything (np.load sizes each array from its .npy header)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        total = sum(member.file_size for member in members)
        if problem := archive_bounds_problem(len(members), total, MAX_NPZ_MEMBERS, MAX_NPZ_BYTES):
            raise _bad_file(path, f"{problem} (MAX_NPZ_MEMBERS, MAX_NPZ_BYTES in {__name__}); nothing was loaded")
        for member in members:
            if problem := npy_member_problem(archive, member):
                raise _bad_file(path, f"member {member.filename!r}: {problem}; nothing was loaded")


def npy_member_problem(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str | None:
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):  # what numpy writes
        return f"compression method {member.compress_type}, not stored or deflated"
    if member.flag_bits & 0x1:
        return "it is encrypted"
    if not member.filename.endswith(".npy"):
        return None
    with archive.open(member) as handle:
        version = np.lib.format.read_magic(handle)
        if version not in NPY_READERS:
            return f".npy format version {version}, not 1.0 or 2.0"
        shape, _, dtype = NPY_READERS[version](handle)
        header_bytes = handle.tell()
    if dtype.hasobject:
        return "it holds Python objects, not numbers"
    declared = math.prod(shape) * dtype.itemsize
    if header_bytes + declared > member.file_size:
        return f"its header declares {dtype} {shape} ({declared} bytes) but the member holds {member.file_size}"
    return None


def check_split(path: Path, split: str, images: np.ndarray, labels: np.ndarray, size: int) -> None:
    n = SPLIT_SIZES[split]
    if images.shape != (n, size, size, size) or images.dtype != np.uint8:
        expected = (n, size, size, size)
        raise _bad_file(path, f"{split}_images is {images.dtype} {images.shape}, expected uint8 {expected}")
    if labels.shape not in ((n,), (n, 1)):
        raise _bad_file(path, f"{split}_labels has shape {labels.shape}, expected {(n, 1)}")
    if not np.isin(labels, LABELS).all():
        raise _bad_file(path, f"{split}_labels holds {np.unique(labels).tolist()}, expected only {list(LABELS)}")


def prepare_adrenal(raw_dir: Path, size: int) -> dict[str, np.ndarray]:
    """The official train/val/test splits at ``size``^3: x (N, 1, D, D, D) uint8, y (N,) uint8 in {0, 1}."""
    path = Path(raw_dir) / FILE_NAMES[size]
    arrays = read_npz(path, [f"{split}_{kind}" for split in SPLITS for kind in ("images", "labels")])
    out = {}
    for split in SPLITS:
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        check_split(path, split, images, labels, size)
        out[f"{split}_x"], out[f"{split}_y"] = images[:, None], labels.reshape(-1).astype(np.uint8)
    return out


register_source(Source(
    name="adrenalmnist3d", prepare=prepare_adrenal, spatial_dims=3, channels=1, files=ADRENAL_FILES,
    licence="CC BY 4.0 (MedMNIST v2, Yang et al. 2023); not for clinical use",
    params_schema={"type": "object", "additionalProperties": False,
                   "properties": {"size": {"type": "integer", "enum": sorted(FILE_NAMES), "default": 64}}},
))
