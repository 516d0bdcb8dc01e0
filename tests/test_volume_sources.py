"""The 3-D sources: AdrenalMNIST3D from its official files (via an offline mirror) and the generated blobs3d."""

import numpy as np
import pytest
import torch

from ald.acquire import AcquisitionError, fetch
from ald.groups import C4
from ald.pairs import Occluder, pair_set
from ald.plan import fill_defaults, schema_problems
from ald.sources import get_source, prepare, save_source
from ald.sources.adrenal import FILE_NAMES, NpzFormatError, medmnist_info
from conftest import SHARED_DATA

ADRENAL_MIRROR = SHARED_DATA / "adrenalmnist3d"  # <mirror>/<source name>/<file name>
SPLIT_SIZES = {"train": 1188, "val": 98, "test": 298}
KEYS = [f"{split}_{kind}" for split in SPLIT_SIZES for kind in ("images", "labels")]


def require_adrenal_mirror():
    missing = [name for name in FILE_NAMES.values() if not (ADRENAL_MIRROR / name).exists()]
    if missing:
        pytest.skip(f"real AdrenalMNIST3D files {missing} not found in {ADRENAL_MIRROR} "
                    "(set ALD_SHARED_DATA to a mirror holding adrenalmnist3d/)")
    return ADRENAL_MIRROR


@pytest.fixture(scope="module")
def adrenal_raw(tmp_path_factory):
    """Both official files, fetched from the mirror as the workflow's fetch rule does (no network)."""
    mirror = require_adrenal_mirror()
    raw, log = tmp_path_factory.mktemp("raw") / "adrenalmnist3d", []
    for spec in get_source("adrenalmnist3d").files.values():
        fetch(spec, raw / spec.name, mirror=mirror, allow_network=False, log=log.append)
    assert all("copied from mirror" in line and "md5 ok" in line for line in log) and len(log) == 2
    return raw


def write_npz(path, arrays):
    with open(path, "wb") as handle:  # np.savez would append .npz to a name without it
        np.savez(handle, **arrays)
    return path


def small_adrenal_like(n=2, size=28, drop=()):
    arrays = {}
    for split in SPLIT_SIZES:
        arrays[f"{split}_images"] = np.zeros((n, size, size, size), np.uint8)
        arrays[f"{split}_labels"] = np.zeros((n, 1), np.uint8)
    return {k: v for k, v in arrays.items() if k not in drop}


# -- AdrenalMNIST3D


def test_adrenal_files_and_schema_follow_medmnist_info():
    info = medmnist_info()["adrenalmnist3d"]
    source = get_source("adrenalmnist3d")
    files = source.files
    assert set(files) == {"adrenalmnist3d.npz", "adrenalmnist3d_64.npz"}
    assert files["adrenalmnist3d.npz"].md5 == info["MD5"] == "bbd3c5a5576322bc4cdfea780653b1ce"
    assert files["adrenalmnist3d_64.npz"].md5 == info["MD5_64"] == "17721accfe9fb005146a47d33bc54b2f"
    assert files["adrenalmnist3d.npz"].urls == (info["url"],)
    assert files["adrenalmnist3d_64.npz"].urls == (info["url_64"],)
    assert info["n_samples"] == SPLIT_SIZES
    assert (source.spatial_dims, source.channels, source.labelled) == (3, 1, True)
    assert fill_defaults({}, source.params_schema) == {"size": 64}  # the paper's 64^3
    assert schema_problems({"size": 32}, source.params_schema) and schema_problems({"n_val": 3}, source.params_schema)


@pytest.mark.parametrize("size", [28, 64])
def test_real_adrenal_files_prepare_to_official_splits(adrenal_raw, size):
    arrays = prepare("adrenalmnist3d", {"size": size}, adrenal_raw)
    for split, n in SPLIT_SIZES.items():
        x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
        assert x.shape == (n, 1, size, size, size) and x.dtype == np.uint8
        assert y.shape == (n,) and y.dtype == np.uint8 and set(np.unique(y).tolist()) == {0, 1}
    assert set(np.unique(arrays["val_x"]).tolist()) == {0, 255}  # shape masks


def test_real_truncated_adrenal_file_names_the_file_and_the_fix(adrenal_raw, tmp_path):
    raw = (adrenal_raw / "adrenalmnist3d.npz").read_bytes()
    (tmp_path / "adrenalmnist3d.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(NpzFormatError, match=r"adrenalmnist3d\.npz: cannot read it as an \.npz.*delete it and refetch"):
        prepare("adrenalmnist3d", {"size": 28}, tmp_path)


def test_adrenal_file_missing_a_key_is_refused(tmp_path):
    write_npz(tmp_path / "adrenalmnist3d_64.npz", small_adrenal_like(size=64, drop=["test_labels"]))
    with pytest.raises(NpzFormatError, match=r"adrenalmnist3d_64\.npz: missing array\(s\) \['test_labels'\].*refetch"):
        prepare("adrenalmnist3d", {"size": 64}, tmp_path)


def test_adrenal_file_with_wrong_shapes_or_dtype_is_refused(tmp_path):
    write_npz(tmp_path / "adrenalmnist3d.npz", small_adrenal_like(n=2))
    with pytest.raises(NpzFormatError, match=r"train_images is uint8 \(2, 28, 28, 28\), expected uint8 \(1188, 28,"):
        prepare("adrenalmnist3d", {"size": 28}, tmp_path)
    arrays = small_adrenal_like(n=2) | {"train_images": np.zeros((1188, 28, 28, 28), np.float32)}
    write_npz(tmp_path / "adrenalmnist3d.npz", arrays)
    with pytest.raises(NpzFormatError, match=r"train_images is float32"):
        prepare("adrenalmnist3d", {"size": 28}, tmp_path)


def test_adrenal_file_absent_asks_to_fetch(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"adrenalmnist3d_64\.npz: not found.*fetch"):
        prepare("adrenalmnist3d", {"size": 64}, tmp_path)


def test_fetch_refuses_a_mirror_copy_with_the_wrong_checksum(tmp_path):
    mirror = tmp_path / "mirror" / "adrenalmnist3d"
    mirror.mkdir(parents=True)
    write_npz(mirror / "adrenalmnist3d.npz", small_adrenal_like())
    dest = tmp_path / "raw" / "adrenalmnist3d" / "adrenalmnist3d.npz"
    spec = get_source("adrenalmnist3d").files["adrenalmnist3d.npz"]
    with pytest.raises(AcquisitionError, match="checksum mismatch for adrenalmnist3d.npz.*not kept"):
        fetch(spec, dest, mirror=mirror, allow_network=False, log=lambda line: None)
    assert list(dest.parent.iterdir()) == []  # neither the file nor a .part copy stays


# -- blobs3d

BLOBS = {"size": 16, "n_train": 400, "n_val": 20, "n_test": 400, "seed": 0}


@pytest.fixture(scope="module")
def blobs():
    return prepare("blobs3d", BLOBS)


def test_blobs3d_registration_and_defaults():
    source = get_source("blobs3d")
    assert (source.spatial_dims, source.channels, source.files) == (3, 1, {})
    assert fill_defaults({"n_train": 1, "n_val": 1, "n_test": 1, "seed": 0}, source.params_schema)["size"] == 16


def test_blobs3d_shapes_labels_and_seed(blobs):
    for split in ("train", "val", "test"):
        n = BLOBS[f"n_{split}"]
        assert blobs[f"{split}_x"].shape == (n, 1, 16, 16, 16) and blobs[f"{split}_x"].dtype == np.uint8
        assert blobs[f"{split}_y"].shape == (n,)
    counts = np.bincount(blobs["train_y"], minlength=2)
    assert counts.sum() == 400 and counts.min() > 150  # balanced-ish
    again = prepare("blobs3d", BLOBS)
    assert all(np.array_equal(blobs[k], again[k]) for k in blobs)
    other = prepare("blobs3d", dict(BLOBS, n_train=10, n_val=1, n_test=1, seed=1))
    assert not np.array_equal(other["train_x"], blobs["train_x"][:10])
    assert prepare("blobs3d", dict(BLOBS, size=12, n_train=3, n_val=1, n_test=1))["train_x"].shape == (3, 1, 12, 12, 12)


def test_blobs3d_volumes_have_content_and_stay_in_the_grid(blobs):
    volumes = blobs["train_x"][:, 0]
    filled = (volumes > 128).mean(axis=(1, 2, 3))
    assert (filled > 0.01).all() and (filled < 0.15).all()
    centre = np.indices(volumes.shape[1:]).reshape(3, -1).T + 0.5 - 8
    outside_ball = np.linalg.norm(centre, axis=1) > 8  # what a rotation about the centre could cut off
    assert volumes.reshape(len(volumes), -1)[:, outside_ball].max() == 0


def test_blobs3d_rotations_are_visible(blobs):
    """A quarter or half turn (C4 on volumes turns the last two axes) changes every volume."""
    volumes = blobs["train_x"][:, 0].astype(np.float32)
    for k in (1, 2):
        change = np.abs(np.rot90(volumes, k, axes=(2, 3)) - volumes).mean(axis=(1, 2, 3))
        change /= volumes.mean(axis=(1, 2, 3))  # relative to the volume's content
        assert np.median(change) > 0.4 and change.min() > 0.05  # an egg along the axis barely changes


def test_blobs3d_classes_are_distinguishable(blobs):
    x, y = blobs["train_x"].reshape(400, -1).astype(np.float32), blobs["train_y"]
    centroids = np.stack([x[y == c].mean(0) for c in (0, 1)])
    test_x = blobs["test_x"].reshape(400, -1).astype(np.float32)
    predicted = ((test_x[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    assert (predicted == blobs["test_y"]).mean() > 0.7  # chance is about 0.5


def test_blobs3d_demo_pairs_with_a_fixed_occluding_cube(tmp_path):
    save_source(prepare("blobs3d", dict(BLOBS, n_train=8, n_val=8, n_test=8)), tmp_path / "blobs3d.npz")
    pairs = pair_set(tmp_path / "blobs3d.npz", "test", C4(spatial_dims=3), Occluder(size=4), seed=0)
    x, tx, g, label = pairs.batch(torch.arange(8))
    assert x.shape == tx.shape == (8, 1, 16, 16, 16) and label.tolist() == pairs.labels[:8].tolist()
    for i, (d, r, c) in enumerate(pairs.draws["corner"].tolist()):
        for image in (x[i, 0], tx[i, 0]):
            assert (image[d : d + 4, r : r + 4, c : c + 4] == 1).all()
