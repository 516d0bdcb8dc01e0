import gzip
import shutil

import numpy as np
import pytest
import torch

from ald.groups import C4, SO2
from ald.pairs import Background, NoRecipe, Occluder, PairSet, pair_set, seeded_generator
from ald.sources import check_layout, load_split
from ald.sources.glyphs import prepare_glyphs
from ald.sources.mnist import IdxFormatError, prepare_mnist, read_idx
from conftest import require_mnist_mirror


def write_idx(path, array, compress=True):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)
    return data


def test_idx_roundtrip_gzip_and_raw(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx.gz", array)
    write_idx(tmp_path / "a.idx", array, compress=False)
    assert np.array_equal(read_idx(tmp_path / "a.idx.gz"), array)
    assert np.array_equal(read_idx(tmp_path / "a.idx"), array)


def test_idx_truncated_data_names_the_file(tmp_path):
    data = write_idx(tmp_path / "full.idx", np.zeros((5, 4, 4)), compress=False)
    (tmp_path / "cut.idx").write_bytes(data[:-7])
    with pytest.raises(IdxFormatError, match="cut.idx.*truncated"):
        read_idx(tmp_path / "cut.idx")


def test_idx_truncated_gzip_names_the_file(tmp_path):
    write_idx(tmp_path / "full.idx.gz", np.random.default_rng(0).integers(0, 255, (50, 28, 28)))
    raw = (tmp_path / "full.idx.gz").read_bytes()
    (tmp_path / "cut.idx.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IdxFormatError, match="cut.idx.gz"):
        read_idx(tmp_path / "cut.idx.gz")


def test_idx_corrupt_magic(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"\x12\x34\x56\x78" + bytes(100))
    with pytest.raises(IdxFormatError, match="bad.idx.*not an IDX file"):
        read_idx(tmp_path / "bad.idx")


def test_real_mnist_files_and_split():
    mirror = require_mnist_mirror()
    arrays = prepare_mnist(mirror, n_val=12000, split_seed=42)
    assert arrays["train_x"].shape == (48000, 1, 28, 28) and arrays["val_x"].shape == (12000, 1, 28, 28)
    assert arrays["test_x"].shape == (10000, 1, 28, 28) and set(np.unique(arrays["test_y"])) == set(range(10))
    again = prepare_mnist(mirror, n_val=12000, split_seed=42)
    assert np.array_equal(arrays["val_y"], again["val_y"])  # the split is seeded


def test_real_truncated_mnist_file_fails_with_its_name(tmp_path):
    mirror = require_mnist_mirror()
    for f in mirror.glob("*.gz"):
        shutil.copy(f, tmp_path / f.name)
    raw = (tmp_path / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(raw[:100_000])
    with pytest.raises(IdxFormatError, match="t10k-images-idx3-ubyte.gz"):
        prepare_mnist(tmp_path, n_val=100, split_seed=0)


def test_glyphs_have_ten_classes_and_ink():
    arrays = prepare_glyphs(n_train=200, n_val=20, n_test=20, seed=0)
    assert arrays["train_x"].shape == (200, 1, 28, 28) and arrays["train_x"].dtype == np.uint8
    assert set(np.unique(arrays["train_y"])) == set(range(10))
    ink = (arrays["train_x"] > 128).mean(axis=(1, 2, 3))
    assert (ink > 0.03).all() and (ink < 0.5).all()
    # classes differ on average (the probes of later issues need class information)
    means = np.stack([arrays["train_x"][arrays["train_y"] == c].mean(0) for c in range(10)])
    assert np.abs(means[8] - means[1]).mean() > 10


def test_block_sits_at_the_same_place_and_content_rotates(glyph_npz):
    pairs = pair_set(glyph_npz, "test", C4(), Occluder(size=7), seed=0)
    idx = torch.arange(16)
    x, tx, g, label = pairs.batch(idx)
    assert torch.equal(label, pairs.labels[:16])
    for i in range(16):
        r, c = pairs.draws["corner"][i].tolist()
        assert (x[i, 0, r : r + 7, c : c + 7] == 1).all()
        assert (tx[i, 0, r : r + 7, c : c + 7] == 1).all()
    plain = pair_set(glyph_npz, "test", C4(), NoRecipe(), seed=0)
    px, ptx, _, _ = plain.batch(idx)
    outside = x != 1
    assert torch.equal(x[outside], px[outside])  # under the block, x is the plain digit
    assert torch.equal(ptx, C4().act(g, px, fill=-1.0))


def test_pairs_are_seeded_and_fresh_per_epoch(glyph_npz):
    arrays = load_split(glyph_npz, "train")
    a = PairSet.plan(arrays, SO2(), Occluder(size=7), seeded_generator(42, 1, 1))
    b = PairSet.plan(arrays, SO2(), Occluder(size=7), seeded_generator(42, 1, 1))
    c = PairSet.plan(arrays, SO2(), Occluder(size=7), seeded_generator(42, 1, 2))
    assert torch.equal(a.g, b.g) and torch.equal(a.draws["corner"], b.draws["corner"])
    assert not torch.equal(a.g, c.g)
    test1 = pair_set(glyph_npz, "test", SO2(), Occluder(size=7), seed=0)
    test2 = pair_set(glyph_npz, "test", SO2(), Occluder(size=7), seed=0)
    assert torch.equal(test1.g, test2.g)
    x, tx, _, _ = test1.batch(torch.arange(8))
    assert x.min() >= -1 and x.max() <= 1 and tx.min() >= -1 - 1e-6 and tx.max() <= 1 + 1e-6


def test_occluder_is_a_cube_in_volumes():
    volumes = torch.full((3, 1, 10, 10, 10), -1.0)
    occluder = Occluder(size=4)
    draws = occluder.draw(3, (10, 10, 10), torch.Generator().manual_seed(0))
    out = occluder.apply(volumes, draws)
    assert draws["corner"].shape == (3, 3) and ((out == 1).sum(dim=(1, 2, 3, 4)) == 4**3).all()
    for i, (d, r, c) in enumerate(draws["corner"].tolist()):
        assert (out[i, 0, d : d + 4, r : r + 4, c : c + 4] == 1).all()


def test_background_is_shared_by_x_and_tx_and_content_stays_on_top(glyph_npz):
    pairs = pair_set(glyph_npz, "test", C4(), Background(low=-1.0, high=0.0), seed=0)
    plain = pair_set(glyph_npz, "test", C4(), NoRecipe(), seed=0)
    x, tx, g, _ = pairs.batch(torch.arange(8))
    px, ptx, _, _ = plain.batch(torch.arange(8))
    empty = (px == -1) & (ptx == -1)  # cells with no content in either image show the same background
    assert torch.equal(x[empty], tx[empty]) and x[empty].std() > 0.01
    assert torch.equal(x[px == 1], px[px == 1])  # full ink is opaque
    assert x.min() >= -1 and x.max() <= 1


def test_rendered_pairs_come_from_the_source(tmp_path):
    """A source that renders T_g(x) itself: the pairs use its images and elements, not the action."""
    from ald.sources import save_source

    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays.update({f"{split}_x": rng.random((6, 3, 8, 8), dtype=np.float32), f"{split}_y": np.arange(6),
                       f"{split}_tx": rng.random((6, 3, 8, 8), dtype=np.float32), f"{split}_g": rng.random(6) * 6})
    save_source(arrays, tmp_path / "rendered.npz")
    pairs = pair_set(tmp_path / "rendered.npz", "test", SO2(), NoRecipe(), seed=0)
    x, tx, g, _ = pairs.batch(torch.arange(6))
    assert torch.allclose(tx, torch.as_tensor(arrays["test_tx"]) * 2 - 1) and torch.allclose(g, torch.as_tensor(arrays["test_g"]))
    assert x.shape == (6, 3, 8, 8)


def test_old_single_channel_layout_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*delete it and rerun"):
        check_layout(np.zeros((5, 28, 28), np.uint8), "mnist train_x", spatial_dims=2)
