import os
from pathlib import Path

import pytest

from ald.sources import save_source
from ald.sources.glyphs import prepare_glyphs

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ALD_SHARED_DATA", REPO.parent / "shared" / "data"))
MNIST_MIRROR = SHARED_DATA / "mnist"


def require_mnist_mirror() -> Path:
    if not (MNIST_MIRROR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST files not found at {MNIST_MIRROR} (set ALD_SHARED_DATA to a mirror holding mnist/)")
    return MNIST_MIRROR


@pytest.fixture(scope="session")
def glyph_npz(tmp_path_factory):
    """A small generated dataset (digit-like glyphs with labels) shared by the tests."""
    path = tmp_path_factory.mktemp("glyphs") / "glyphs.npz"
    save_source(prepare_glyphs(n_train=256, n_val=64, n_test=64, seed=3), path)
    return path
