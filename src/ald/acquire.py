"""Getting official dataset files onto disk: checksummed downloads or copies from an offline mirror.

A file is only ever moved to its final path after its checksum matched, so a later run never
trusts a partial or corrupt file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


class AcquisitionError(RuntimeError):
    """A dataset file could not be obtained or failed verification."""


@dataclass(frozen=True)
class RemoteFile:
    name: str  # file name, also its path relative to the dataset folder of an offline mirror
    md5: str
    urls: tuple[str, ...]
    size: int | None = None


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
# Files per source, by the folder name they have in an offline mirror (e.g. ../shared/data/mnist).
SOURCE_FILES = {"mnist": MNIST_FILES}


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _verify_then_move(tmp: Path, spec: RemoteFile, dest: Path, origin: str) -> None:
    actual = md5sum(tmp)
    if actual != spec.md5:
        tmp.unlink(missing_ok=True)
        raise AcquisitionError(
            f"checksum mismatch for {spec.name} from {origin}: expected md5 {spec.md5}, "
            f"got {actual}. The file was not kept; replace the source copy with the official file."
        )
    os.replace(tmp, dest)


def _download(url: str, tmp: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        shutil.copyfileobj(response, out)


def fetch(
    spec: RemoteFile,
    dest: Path,
    mirror: Path | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    allow_network: bool = True,
) -> Path:
    """Place ``spec`` at ``dest`` from the mirror (if given) or the official URLs, verified by md5."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    if mirror is not None:
        source = Path(mirror) / spec.name
        if source.exists():
            shutil.copyfile(source, tmp)
            _verify_then_move(tmp, spec, dest, str(source))
            return dest
    errors = []
    if allow_network:
        for attempt in range(1, retries + 1):
            for url in spec.urls:
                try:
                    _download(url, tmp, timeout)
                except (urllib.error.URLError, OSError, TimeoutError) as exc:
                    errors.append(f"{url} (attempt {attempt}): {exc}")
                    tmp.unlink(missing_ok=True)
                    continue
                _verify_then_move(tmp, spec, dest, url)
                return dest
            time.sleep(min(2**attempt, 10))
    where = f"the mirror {mirror} has no {spec.name}; " if mirror is not None else "no mirror is set; "
    tried = "\n  ".join(errors) if errors else "network download disabled"
    raise AcquisitionError(
        f"cannot obtain {spec.name} (md5 {spec.md5}): {where}official sources: "
        f"{', '.join(spec.urls)}.\n  {tried}\nFix: download it from one of those URLs into a folder "
        f"and set `data: mirror:` in the config (or --config data='{{mirror: DIR}}') to a directory "
        f"holding <source>/{spec.name}, e.g. ../shared/data."
    )

