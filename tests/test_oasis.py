import io
import json
import tarfile
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from ald import acquire
from ald.acquire import AcquisitionError, check_sha256_lock, sha256_lock
from ald.cli import main
from ald.sources import TermsNotAccepted, check_terms, get_source, prepare
from ald.sources.oasis import (
    OASIS_FILES, OASIS_TAR, OasisDataError, UnsafeArchiveError, prepare_oasis, resample_cube, split_sessions,
)
from conftest import SHARED_DATA

nibabel = pytest.importorskip("nibabel")

# NOT an OASIS subject: VoxelMorph's example scan, of unknown cohort, in the same 160x192x224 space as
# neurite-OASIS aligned_norm. It stands in for a subject to test the pipeline; never report it as OASIS.
TEST_SCAN = SHARED_DATA / "oasis" / "voxelmorph_test_vol.nii.gz"


def session(i: int, visit: int = 1) -> str:
    return f"OASIS_OAS1_{i:04d}_MR{visit}"


def write_volume(path, volume) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nibabel.Nifti1Image(np.asarray(volume, dtype=np.float32), np.eye(4)).to_filename(path)


PACKED = set()  # tars pack() made: they stand in for the official file, whose md5 they cannot have


@pytest.fixture(scope="module", autouse=True)
def packed_tars_pass_the_md5():
    real = acquire.md5sum
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(acquire, "md5sum", lambda path, *args: OASIS_FILES[OASIS_TAR].md5 if Path(path) in PACKED
                      else real(path, *args))
        yield


def pack(tree, raw_dir, extra=()):
    """tree/ packed as raw_dir/neurite-oasis.v1.0.tar (plus hand-made ``extra`` members) and pinned,
    as a verified fetch leaves it."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    tar_path = raw_dir / OASIS_TAR
    with tarfile.open(tar_path, "w") as tar:
        for folder in sorted(tree.iterdir()):
            tar.add(folder, arcname=f"neurite-oasis.v1.0/{folder.name}")
        for member in extra:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    PACKED.add(tar_path)
    check_sha256_lock(tar_path)
    return tar_path


def small_sessions(tree, n, rng=np.random.default_rng(0)):
    for i in range(1, n + 1):
        write_volume(tree / session(i) / "aligned_norm.nii.gz", rng.uniform(0, 1, (6, 8, 10)))


def run_prepare(raw_dir, **overrides):
    params = dict(size=4, n_val=1, n_test=1, split_seed=0, max_subjects=None) | overrides
    return prepare_oasis(raw_dir, **params)


def files_under(path):
    return sorted(p.relative_to(path) for p in path.rglob("*"))


# The real scan, arranged as neurite-OASIS subjects

VARIANTS = {  # session number -> how the scan is changed, so that the subjects differ
    1: lambda v: v, 2: lambda v: v[::-1], 3: lambda v: v[:, ::-1], 4: lambda v: v[:, :, ::-1],
    5: lambda v: 0.8 * v, 6: lambda v: 0.9 * v[::-1],
}


@pytest.fixture(scope="module")
def real_scan_prepared(tmp_path_factory):
    if not TEST_SCAN.exists():
        pytest.skip(f"the VoxelMorph test scan is not at {TEST_SCAN} (set ALD_SHARED_DATA to a folder holding oasis/)")
    tmp = tmp_path_factory.mktemp("oasis_real")
    scan = np.asarray(nibabel.load(TEST_SCAN).dataobj, dtype=np.float32)
    for i, change in VARIANTS.items():
        write_volume(tmp / "tree" / session(i) / "aligned_norm.nii.gz", change(scan))
    pack(tmp / "tree", tmp / "raw")
    params = dict(accept_terms=True, size=16, n_val=1, n_test=2, split_seed=42, max_subjects=None)
    return tmp / "raw", prepare("oasis", params, tmp / "raw"), float(scan.mean())


def by_session(arrays):
    splits = ("train", "val", "test")
    return {s: x[0] for split in splits for s, x in zip(arrays[f"{split}_subjects"], arrays[f"{split}_x"])}


def test_real_scan_splits_by_subject_without_labels(real_scan_prepared):
    _, arrays, _ = real_scan_prepared
    assert {split: arrays[f"{split}_x"].shape for split in ("train", "val", "test")} == {
        "train": (3, 1, 16, 16, 16), "val": (1, 1, 16, 16, 16), "test": (2, 1, 16, 16, 16)}
    subjects = [set(arrays[f"{split}_subjects"]) for split in ("train", "val", "test")]
    assert set().union(*subjects) == {session(i) for i in VARIANTS} and sum(map(len, subjects)) == len(VARIANTS)
    for split in ("train", "val", "test"):
        assert arrays[f"{split}_x"].dtype == np.uint8 and (arrays[f"{split}_y"] == -1).all()


def test_real_scan_volumes_keep_their_subject_and_range(real_scan_prepared):
    _, arrays, scan_mean = real_scan_prepared
    volumes = {s: v.astype(float) / 255 for s, v in by_session(arrays).items()}
    original = volumes[session(1)]
    assert 0 <= original.min() and original.max() <= 1
    assert original.mean() == pytest.approx(scan_mean * 160 * 192 / 224**2, abs=1e-3)  # area averaging keeps the sum
    assert original[0].max() == 0 and original[:, 0].max() == 0  # the padding (and background) is black
    # padding is centred, so flipping the scan flips its volume; the scaling follows the subject
    np.testing.assert_allclose(volumes[session(2)], original[::-1], atol=1 / 255)
    np.testing.assert_allclose(volumes[session(4)], original[:, :, ::-1], atol=1 / 255)
    np.testing.assert_allclose(volumes[session(5)], 0.8 * original, atol=1 / 255)


def test_real_scan_extracts_only_the_volumes_into_raw(real_scan_prepared):
    raw_dir, _, _ = real_scan_prepared
    extracted = [p for p in files_under(raw_dir / "extracted") if p.suffix == ".gz"]
    assert [p.name for p in extracted] == ["aligned_norm.nii.gz"] * len(VARIANTS)
    assert {p.name for p in raw_dir.iterdir()} == {OASIS_TAR, OASIS_TAR + ".sha256", "extracted"}


# Synthetic subjects (small volumes): skipping, splitting, resampling

def test_missing_and_unreadable_volumes_are_skipped_and_named(tmp_path, capsys):
    small_sessions(tmp_path / "tree", 4)
    write_volume(tmp_path / "tree" / session(5) / "seg4.nii.gz", np.zeros((6, 8, 10)))  # no aligned_norm
    (tmp_path / "tree" / session(6)).mkdir()
    (tmp_path / "tree" / session(6) / "aligned_norm.nii.gz").write_bytes(b"not a nifti")
    write_volume(tmp_path / "tree" / session(7) / "aligned_norm.nii.gz", np.full((6, 8, 10), 3.0))  # not in [0, 1]
    arrays = run_prepare(pack(tmp_path / "tree", tmp_path / "raw").parent)
    assert sum(len(arrays[f"{s}_subjects"]) for s in ("train", "val", "test")) == 4
    err = capsys.readouterr().err
    assert "skipped 3 subject(s)" in err
    assert f"{session(5)}: no aligned_norm.nii.gz" in err and f"{session(6)}: unreadable" in err
    assert f"{session(7)}: unreadable" in err and "not [0, 1]" in err


def test_too_few_subjects_for_the_splits_is_fatal(tmp_path):
    small_sessions(tmp_path / "tree", 3)
    with pytest.raises(OasisDataError, match="3 readable subjects, fewer than n_val \\+ n_test \\+ 1 = 4"):
        run_prepare(pack(tmp_path / "tree", tmp_path / "raw").parent, n_val=2, n_test=1)


def test_max_subjects_takes_the_first_by_id(tmp_path):
    small_sessions(tmp_path / "tree", 6)
    arrays = run_prepare(pack(tmp_path / "tree", tmp_path / "raw").parent, max_subjects=4)
    used = {s for split in ("train", "val", "test") for s in arrays[f"{split}_subjects"]}
    assert used == {session(i) for i in range(1, 5)}


def test_sessions_of_one_subject_share_a_split_and_the_split_is_seeded():
    sessions = [session(i) for i in range(1, 11)] + [session(i, visit=2) for i in (1, 2, 3)]
    splits = split_sessions(sessions, n_val=2, n_test=3, seed=7)
    assert splits == split_sessions(list(reversed(sessions)), n_val=2, n_test=3, seed=7)
    for i in (1, 2, 3):
        assert [session(i) in s for s in splits.values()] == [session(i, 2) in s for s in splits.values()]
    assert sorted(sum(splits.values(), [])) == sorted(sessions)


def test_resample_pads_to_a_centred_cube_and_keeps_the_mean():
    volume = np.ones((4, 6, 8), dtype=np.float32)
    cube = resample_cube(volume, 4)  # padded to 8^3, averaged over 2^3 blocks
    # padding 2 | 1 | 0 voxels on each side of the three axes: per axis, the share of each block that is volume
    along = [np.array([0, 1, 1, 0]), np.array([0.5, 1, 1, 0.5]), np.ones(4)]
    np.testing.assert_array_equal(cube, np.einsum("i,j,k->ijk", *along))
    assert cube.sum() * 8 == volume.sum()


# Unsafe archives: refused, naming the member, with nothing written outside (or inside) the folder

def link(name, target):
    member = tarfile.TarInfo(name)
    member.type, member.linkname = tarfile.SYMTYPE, target
    return member


def device(name):
    member = tarfile.TarInfo(name)
    member.type, member.devmajor, member.devminor = tarfile.CHRTYPE, 1, 3
    return member


def regular(name):
    member = tarfile.TarInfo(name)
    member.size = 1
    return member


UNSAFE = {  # raw_dir is tmp_path/raw, so the extraction folder is tmp_path/raw/extracted
    "parent": lambda tmp_path: regular("../../../escape"),
    "absolute": lambda tmp_path: regular(str(tmp_path.parent / "absolute_escape")),
    "symlink": lambda tmp_path: link(f"{session(2)}/aligned_norm.nii.gz", "/etc"),
    "device": lambda tmp_path: device("dev_null"),
}


@pytest.mark.parametrize("kind", UNSAFE)
def test_unsafe_member_is_refused_by_name_and_nothing_is_written(tmp_path, kind):
    small_sessions(tmp_path / "tree", 3)
    bad = UNSAFE[kind](tmp_path)
    tar_path = pack(tmp_path / "tree", tmp_path / "raw", extra=[bad])
    before_outside, before_inside = sorted(tmp_path.parent.iterdir()), files_under(tmp_path)
    with pytest.raises(UnsafeArchiveError) as info:
        run_prepare(tar_path.parent)
    assert repr(bad.name) in str(info.value)
    assert sorted(tmp_path.parent.iterdir()) == before_outside
    assert files_under(tmp_path) == before_inside


# Checksums: the sha256 lock, and md5 for a copy that was never pinned

def test_a_tar_that_differs_from_its_lock_is_refused(tmp_path):
    small_sessions(tmp_path / "tree", 3)
    tar_path = pack(tmp_path / "tree", tmp_path / "raw")
    with open(tar_path, "ab") as handle:
        handle.write(b"\0" * 512)  # still a valid tar, but not the pinned copy
    with pytest.raises(AcquisitionError) as info:
        run_prepare(tar_path.parent)
    message = str(info.value)
    assert "differs from" in message and str(sha256_lock(tar_path)) in message and "fetch it again" in message
    assert not (tmp_path / "raw" / "extracted").exists()


def test_an_unpinned_tar_must_have_the_official_md5(tmp_path):
    small_sessions(tmp_path / "tree", 3)
    tar_path = pack(tmp_path / "tree", tmp_path / "raw")
    sha256_lock(tar_path).unlink()
    PACKED.discard(tar_path)  # a tar the md5 check sees as it is
    with pytest.raises(AcquisitionError, match="not the official file"):
        run_prepare(tar_path.parent)
    assert not sha256_lock(tar_path).exists()


# The agreement comes before any download

@pytest.fixture
def no_access(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network or mirror accessed before the terms were checked")

    monkeypatch.setattr(acquire, "fetch", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(acquire.shutil, "copyfile", refuse)


@pytest.mark.parametrize("params", [None, {}, {"accept_terms": False}, {"accept_terms": "yes"}])
def test_fetch_refuses_before_any_access_without_the_agreement(tmp_path, no_access, params):
    (tmp_path / "mirror" / "oasis").mkdir(parents=True)
    (tmp_path / "mirror" / "oasis" / OASIS_TAR).write_bytes(b"stand-in")
    argv = ["fetch", "--source", "oasis", "--dest", str(tmp_path / "raw"), "--mirror", str(tmp_path / "mirror"),
            "--retries", "1"] + ([] if params is None else ["--params", json.dumps(params)])
    with pytest.raises(TermsNotAccepted) as info:
        main(argv)
    with pytest.raises(TermsNotAccepted) as expected:
        check_terms("oasis", params or {})
    assert str(info.value) == str(expected.value) and "oasis-brains.org" in str(info.value)
    assert not (tmp_path / "raw").exists()


def test_fetch_with_the_agreement_uses_the_sources_own_time_bound(tmp_path, monkeypatch):
    bounds = []
    monkeypatch.setattr(acquire, "fetch", lambda spec, dest, **kw: bounds.append(kw["deadline_seconds"]) or dest)
    main(["fetch", "--source", "oasis", "--dest", str(tmp_path), "--retries", "1", "--no-network",
          "--params", json.dumps({"accept_terms": True, "size": 32})])
    assert len(bounds) == 1 and bounds[0] > 3600


def test_source_is_registered_unlabelled_and_gated():
    source = get_source("oasis")
    assert (source.spatial_dims, source.channels, source.labelled) == (3, 1, False)
    assert "http://oasis-brains.org/#access" in source.terms
    assert source.params_schema["properties"]["accept_terms"]["default"] is False
