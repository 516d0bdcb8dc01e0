import os
import shutil
from pathlib import Path

import pytest

from ald.sources import save_source
from ald.sources.glyphs import prepare_glyphs

REPO = Path(__file__).resolve().parents[1]


def merge(base: dict, overlay: dict) -> None:
    """Snakemake's config merge: nested dicts merge, everything else replaces."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


SHARED_DATA = Path(os.environ.get("ALD_SHARED_DATA", REPO.parent / "shared" / "data"))
MNIST_MIRROR = SHARED_DATA / "mnist"
AIRPLANE_MESHES = SHARED_DATA / "shapenet_airplanes"  # 5 real ShapeNetCore v2 airplanes
SKIES = SHARED_DATA / "swimseg"  # 10 real SWIMSEG sky images


def require_renders() -> tuple[Path, Path]:
    """The real ShapeNet meshes and SWIMSEG skies, or a skip that says where they were looked for."""
    if not any(AIRPLANE_MESHES.glob("02691156/*/models/model_normalized.obj")) or not any(SKIES.glob("images/*.png")):
        pytest.skip(f"real ShapeNet airplanes / SWIMSEG skies not found under {SHARED_DATA} "
                    "(set ALD_SHARED_DATA to a folder holding shapenet_airplanes/ and swimseg/)")
    return AIRPLANE_MESHES, SKIES


def require_mnist_mirror() -> Path:
    if not (MNIST_MIRROR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST files not found at {MNIST_MIRROR} (set ALD_SHARED_DATA to a mirror holding mnist/)")
    return MNIST_MIRROR


def copy_of_mnist_mirror(dest: Path) -> Path:
    """A writable copy of the real MNIST mirror folder under ``dest`` (<dest>/mirror/mnist), to be spoiled by a test."""
    real = require_mnist_mirror()
    copy = dest / "mirror" / "mnist"
    copy.mkdir(parents=True)
    for path in real.glob("*-ubyte.gz"):
        shutil.copy(path, copy / path.name)
    return copy


@pytest.fixture(scope="session")
def glyph_npz(tmp_path_factory):
    """A small generated dataset (digit-like glyphs with labels) shared by the tests."""
    path = tmp_path_factory.mktemp("glyphs") / "glyphs.npz"
    save_source(prepare_glyphs(n_train=256, n_val=64, n_test=64, seed=3), path)
    return path
