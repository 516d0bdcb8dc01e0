"""Hostile input to the acquisition code: each case is built for real in tmp_path and must be refused with a
message that names the input, the problem and the fix, with nothing written outside the data folder and no
good file lost. The code under test is what ``python -m ald.cli fetch`` / ``prepare`` run."""

import dataclasses
import gzip
import hashlib
import io
import os
import struct
import tarfile
import zipfile

import numpy as np
import pytest

from ald import acquire
from ald.acquire import AcquisitionError, RemoteFile, check_sha256_lock, fetch, md5sum, sha256_lock, verify_official
from ald.cli import main
from ald.sources import prepare
from ald.sources import oasis
from ald.sources.adrenal import NpzFormatError
from ald.sources.mnist import MNIST_FILES, IdxFormatError, read_idx
from ald.sources.oasis import OASIS_FILES, OASIS_TAR, UnsafeArchiveError, VolumeFileError, read_volume
from conftest import SHARED_DATA, copy_of_mnist_mirror

nibabel = pytest.importorskip("nibabel")

CONTENT = b"hello mnist"
URL = "https://a.invalid/f.bin"


def quiet(line):
    pass


def spec_of(content=CONTENT, **fields):
    return RemoteFile("f.bin", hashlib.md5(content).hexdigest(), (URL,), **fields)


def files_under(path):
    return sorted(p.relative_to(path) for p in path.rglob("*"))


# 1. Mirror entries that are no file: reported in one line, and the fetch goes on

def make_directory(entry):
    entry.mkdir()


def make_broken_link(entry):
    entry.symlink_to(entry.parent / "gone")


def make_empty(entry):
    entry.write_bytes(b"")


def make_device_link(entry):
    entry.symlink_to("/dev/zero")  # copying it would never end


def make_fifo(entry):
    os.mkfifo(entry)  # reading it would block


def make_too_large(entry):
    entry.write_bytes(CONTENT * 100)


UNUSABLE = {  # kind -> (how the mirror entry is made, what the report must say)
    "directory": (make_directory, "a directory, not a file"),
    "broken-link": (make_broken_link, "a symbolic link to"),
    "empty": (make_empty, "empty (0 bytes)"),
    "device": (make_device_link, "not a regular file"),
    "fifo": (make_fifo, "not a regular file"),
    "too-large": (make_too_large, f"larger than the official file ({len(CONTENT)} bytes)"),
}


def unusable_line(message, entry):
    return next(line for line in message.splitlines() if f"mirror entry {entry}:" in line)


@pytest.mark.parametrize("kind", UNUSABLE)
def test_unusable_mirror_entry_is_one_line_naming_path_problem_and_fix(tmp_path, kind):
    make, problem = UNUSABLE[kind]
    (tmp_path / "mirror").mkdir()
    make(tmp_path / "mirror" / "f.bin")
    with pytest.raises(AcquisitionError) as info:
        fetch(spec_of(size=len(CONTENT)), tmp_path / "dest" / "f.bin", mirror=tmp_path / "mirror",
              allow_network=False, log=quiet)
    line = unusable_line(str(info.value), tmp_path / "mirror" / "f.bin")
    assert problem in line and "not used. Fix: replace it with the official f.bin" in line
    assert "network download disabled" in str(info.value)
    assert files_under(tmp_path / "dest") == []


def test_unreadable_mirror_entry_is_reported(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    (tmp_path / "mirror").mkdir()
    entry = tmp_path / "mirror" / "f.bin"
    entry.write_bytes(CONTENT)
    entry.chmod(0)
    with pytest.raises(AcquisitionError) as info:
        fetch(spec_of(), tmp_path / "dest" / "f.bin", mirror=tmp_path / "mirror", allow_network=False, log=quiet)
    assert "Permission denied" in unusable_line(str(info.value), entry)


def test_a_link_to_the_real_file_is_a_fine_mirror_entry(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "f.bin").write_bytes(CONTENT)
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "f.bin").symlink_to(tmp_path / "store" / "f.bin")
    out = fetch(spec_of(), tmp_path / "dest" / "f.bin", mirror=tmp_path / "mirror", allow_network=False, log=quiet)
    assert out.read_bytes() == CONTENT and not out.is_symlink()


def test_cli_reports_a_directory_in_the_mirror_and_fetches_the_other_files(tmp_path):
    mirror = copy_of_mnist_mirror(tmp_path)
    bad = mirror / "train-images-idx3-ubyte.gz"
    bad.unlink()
    bad.mkdir()
    with pytest.raises(AcquisitionError) as info:
        main(["fetch", "--retries", "1", "--source", "mnist", "--dest", str(tmp_path / "raw"),
              "--mirror", str(tmp_path / "mirror"), "--no-network"])
    assert "1 file(s) of source 'mnist' failed" in str(info.value)
    assert "a directory, not a file" in unusable_line(str(info.value), bad)
    for name, spec in MNIST_FILES.items():
        if name != bad.name:
            assert md5sum(tmp_path / "raw" / name) == spec.md5
    assert not (tmp_path / "raw" / bad.name).exists()


def test_unusable_mirror_entry_falls_back_to_the_official_url(tmp_path, monkeypatch):
    monkeypatch.setattr(acquire, "_download", lambda url, tmp, timeout, stop_at=None: tmp.write_bytes(CONTENT))
    (tmp_path / "mirror" / "f.bin").mkdir(parents=True)
    lines = []
    out = fetch(spec_of(), tmp_path / "dest" / "f.bin", mirror=tmp_path / "mirror", log=lines.append)
    assert out.read_bytes() == CONTENT
    assert any("a directory, not a file" in line for line in lines) and lines[-1].endswith(f"{URL}, md5 ok")


def test_bad_mirror_copy_keeps_the_good_file_and_the_partial_download(tmp_path):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "f.bin").write_bytes(b"tampered")
    dest = tmp_path / "dest" / "f.bin"
    dest.parent.mkdir()
    dest.write_bytes(CONTENT)
    partial = dest.with_name("f.bin.part")
    partial.write_bytes(CONTENT[:5])  # an interrupted download, to be resumed
    with pytest.raises(AcquisitionError, match="expected md5"):
        fetch(spec_of(), dest, mirror=tmp_path / "mirror", allow_network=False, log=quiet)
    assert dest.read_bytes() == CONTENT and partial.read_bytes() == CONTENT[:5]
    assert {p.name for p in dest.parent.iterdir()} == {"f.bin", "f.bin.part"}  # no mirror copy left behind


# 2 and 3. Tar members: a NUL in a PAX path, links, devices, escapes, sizes past the archive, bounds

def session(i):
    return f"OASIS_OAS1_{i:04d}_MR1"


def volume_bytes(tmp_path, volume):
    path = tmp_path / "scratch" / "v.nii.gz"
    path.parent.mkdir(exist_ok=True)
    nibabel.Nifti1Image(np.asarray(volume, dtype=np.float32), np.eye(4)).to_filename(path)
    return path.read_bytes()


def add(tar, member, data=b""):
    if member.isfile() and not member.size:
        member.size = len(data)
    tar.addfile(member, io.BytesIO(data) if member.isfile() else None)


def add_raw(tar, blocks):
    """Hand-written header and data blocks, written as they are: tarfile would not write a lying header."""
    tar.fileobj.write(blocks)
    tar.offset += len(blocks)


def good_sessions(tar, tmp_path, n=3):
    rng = np.random.default_rng(0)
    for i in range(1, n + 1):
        data = volume_bytes(tmp_path, rng.uniform(0, 1, (6, 8, 10)))
        add(tar, tarfile.TarInfo(f"neurite-oasis.v1.0/{session(i)}/aligned_norm.nii.gz"), data)


def hostile_tar(tmp_path, *extra, raw=None):
    """raw/neurite-oasis.v1.0.tar: three good sessions, then each of ``extra``: a TarInfo, (TarInfo, data) or
    raw blocks."""
    raw = raw or tmp_path / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    with tarfile.open(raw / OASIS_TAR, "w", format=tarfile.PAX_FORMAT) as tar:
        good_sessions(tar, tmp_path)
        for item in extra:
            if isinstance(item, bytes):
                add_raw(tar, item)
            else:
                add(tar, *(item if isinstance(item, tuple) else (item,)))
    return raw / OASIS_TAR


@pytest.fixture
def as_official(monkeypatch):
    """Makes a hand-made tar pass as the official file (its md5 in OASIS_FILES, its sha256 pinned, as a verified
    fetch leaves it), so that prepare reaches the member checks."""

    def pin(tar_path):
        spec = OASIS_FILES[OASIS_TAR]
        monkeypatch.setitem(OASIS_FILES, OASIS_TAR, dataclasses.replace(spec, md5=md5sum(tar_path)))
        check_sha256_lock(tar_path)
        return tar_path

    return pin


def run_prepare(raw):
    params = dict(accept_terms=True, size=4, n_val=1, n_test=1, split_seed=0, max_subjects=None)
    return prepare("oasis", params, raw)


def refused(tmp_path, tar_path):
    """prepare's UnsafeArchiveError, checked to have left everything outside and inside tmp_path as it was."""
    before_outside, before_inside = sorted(tmp_path.parent.iterdir()), files_under(tmp_path)
    with pytest.raises(UnsafeArchiveError) as info:
        run_prepare(tar_path.parent)
    assert sorted(tmp_path.parent.iterdir()) == before_outside and files_under(tmp_path) == before_inside
    assert str(tar_path) in str(info.value) and "\n" not in str(info.value)
    return str(info.value)


def test_nul_byte_in_a_pax_path_names_the_archive_and_the_member(tmp_path, as_official):
    member = tarfile.TarInfo("placeholder")
    member.pax_headers = {"path": f"neurite-oasis.v1.0/{session(4)}/aligned\0_norm.nii.gz"}
    tar_path = as_official(hostile_tar(tmp_path, (member, b"x")))
    message = refused(tmp_path, tar_path)
    assert repr(member.pax_headers["path"]) in message and "a NUL byte in its name" in message
    assert "fetch it again" in message


def link(name, target, kind=tarfile.SYMTYPE):
    member = tarfile.TarInfo(name)
    member.type, member.linkname = kind, target
    return member


def special(name, kind):
    member = tarfile.TarInfo(name)
    member.type = kind
    return member


INSIDE = f"neurite-oasis.v1.0/{session(1)}/aligned_norm.nii.gz"
REFUSED_MEMBERS = {  # the data filter allows the inside links; the official tar has no links at all
    "symlink-inside": (lambda: link(f"neurite-oasis.v1.0/{session(5)}/aligned_norm.nii.gz", f"../{session(1)}"),
                       "a link, device or pipe"),
    "hardlink-inside": (lambda: link("neurite-oasis.v1.0/copy", INSIDE, tarfile.LNKTYPE), "a link, device or pipe"),
    "fifo": (lambda: special("neurite-oasis.v1.0/pipe", tarfile.FIFOTYPE), "a link, device or pipe"),
    "block-device": (lambda: special("neurite-oasis.v1.0/sda", tarfile.BLKTYPE), "a link, device or pipe"),
    "escape": (lambda: tarfile.TarInfo(f"neurite-oasis.v1.0/../../{session(6)}/aligned_norm.nii.gz"), "outside"),
    "absolute": (lambda: tarfile.TarInfo(f"/tmp/{session(7)}/aligned_norm.nii.gz"), "an absolute path"),
}


@pytest.mark.parametrize("kind", REFUSED_MEMBERS)
def test_links_devices_and_escapes_are_refused_by_name(tmp_path, as_official, kind):
    make, problem = REFUSED_MEMBERS[kind]
    member = make()
    tar_path = as_official(hostile_tar(tmp_path, (member, b"x") if member.isfile() else member))
    message = refused(tmp_path, tar_path)
    assert f"refusing member {member.name!r}" in message and problem in message


def test_member_declaring_more_data_than_the_archive_holds_is_refused(tmp_path, as_official):
    member = tarfile.TarInfo(f"neurite-oasis.v1.0/{session(4)}/aligned_norm.nii.gz")
    member.size = 10**12
    tar_path = as_official(hostile_tar(tmp_path, member.tobuf(tarfile.GNU_FORMAT) + b"z" * 512))
    message = refused(tmp_path, tar_path)
    assert repr(member.name) in message and "declares 1000000000000 bytes, past the end" in message


def test_sparse_member_of_a_terabyte_exceeds_the_size_bound(tmp_path, as_official):
    member = tarfile.TarInfo("GNUSparseFile.0/aligned_norm.nii.gz")
    member.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": str(10**12),
                          "GNU.sparse.name": f"neurite-oasis.v1.0/{session(4)}/aligned_norm.nii.gz"}
    sparse_map = b"1\n0\n512\n".ljust(512, b"\0")
    member.size = len(sparse_map) + 512
    message = refused(tmp_path, as_official(hostile_tar(tmp_path, (member, sparse_map + b"x" * 512))))
    assert f"more than the limit of {oasis.MAX_TAR_BYTES}" in message and "reached at member" in message


BOUNDS = {"MAX_TAR_MEMBERS": (4, "at least 5 members, more than the limit of 4"),
          "MAX_TAR_BYTES": (1000, "bytes uncompressed, more than the limit of 1000")}


@pytest.mark.parametrize("bound", BOUNDS)
def test_archive_over_a_bound_is_refused_before_anything_is_written(tmp_path, as_official, monkeypatch, bound):
    limit, expected = BOUNDS[bound]
    extra = [(tarfile.TarInfo(f"neurite-oasis.v1.0/extra{i}.txt"), b"x" * 600) for i in range(3)]
    tar_path = as_official(hostile_tar(tmp_path, *extra))
    monkeypatch.setattr(oasis, bound, limit)
    message = refused(tmp_path, tar_path)
    assert expected in message
    assert not (tmp_path / "raw" / "extracted").exists()


def test_compressed_or_garbled_tar_names_the_archive(tmp_path, as_official):
    tar_path = hostile_tar(tmp_path)
    tar_path.write_bytes(gzip.compress(tar_path.read_bytes()))  # a tar.gz could balloon: only plain tars are read
    message = refused(tmp_path, as_official(tar_path))
    assert "cannot be read as an uncompressed tar" in message and "Fix: delete it and fetch it again" in message


def test_real_limits_keep_a_good_archive_and_earlier_extractions(tmp_path, as_official):
    raw = tmp_path / "raw"
    arrays = run_prepare(as_official(hostile_tar(tmp_path)).parent)
    assert sum(len(arrays[f"{s}_subjects"]) for s in ("train", "val", "test")) == 3
    kept = {p: p.read_bytes() for p in (raw / "extracted").rglob("*.nii.gz")}
    sha256_lock(raw / OASIS_TAR).unlink()  # as a refetch of a new copy would start
    member = tarfile.TarInfo(f"neurite-oasis.v1.0/{session(9)}/aligned_norm.nii.gz")
    member.pax_headers = {"path": member.name + "\0"}
    refused(tmp_path, as_official(hostile_tar(tmp_path, (member, b"x"))))
    assert {p: p.read_bytes() for p in (raw / "extracted").rglob("*.nii.gz")} == kept


# 4. NIfTI headers that ask for more than the file holds

def nifti(tmp_path, name, dims=(3, 2, 3, 4), datatype=None, vox_offset=None, extension=False, tail=b""):
    """A real nibabel-written 2x3x4 float32 NIfTI-1 file, its header then patched as given (little-endian)."""
    raw = bytearray(gzip.decompress(volume_bytes(tmp_path, np.zeros((2, 3, 4)))))
    raw[40:40 + 2 * len(dims)] = struct.pack(f"<{len(dims)}h", *dims)
    if datatype is not None:
        raw[70:74] = struct.pack("<hh", *datatype)
    if vox_offset is not None:
        raw[108:112] = struct.pack("<f", vox_offset)
    raw[348:352] = bytes([1 if extension else 0, 0, 0, 0])
    path = tmp_path / name
    path.write_bytes(gzip.compress(bytes(raw) + tail) if name.endswith(".gz") else bytes(raw) + tail)
    return path


HOSTILE_HEADERS = {  # a few hundred bytes each; nibabel alone would allocate what they declare
    "gigabytes-from-a-small-gz": (dict(dims=(3, 512, 512, 512)), "needs"),
    "more-than-an-uncompressed-file": (dict(dims=(3, 64, 64, 64)), "needs"),
    "too-many-voxels": (dict(dims=(3, 32767, 32767, 32767)), "more than MAX_VOXELS"),
    "negative-dimension": (dict(dims=(3, -2, 3, 4)), "dimension below 1"),
    "zero-dimension": (dict(dims=(3, 0, 3, 4)), "dimension below 1"),
    "complex-data": (dict(datatype=(1792, 128)), "not a plain number"),
    "huge-offset": (dict(vox_offset=1e12), "data offset"),
    "extensions-to-the-end": (dict(extension=True, vox_offset=0, tail=bytes(8 << 20)), "data offset"),  # gzip bomb
}


@pytest.mark.parametrize("kind", HOSTILE_HEADERS)
def test_hostile_nifti_header_is_refused_before_nibabel_reads(tmp_path, monkeypatch, kind):
    fields, problem = HOSTILE_HEADERS[kind]
    path = nifti(tmp_path, "aligned_norm.nii" if kind == "more-than-an-uncompressed-file" else "aligned_norm.nii.gz",
                 **fields)
    assert path.stat().st_size < 64 << 10

    def refuse_load(*args, **kwargs):
        raise AssertionError("nibabel.load reached: the header was not checked first")

    monkeypatch.setattr(nibabel, "load", refuse_load)
    with pytest.raises(VolumeFileError) as info:
        read_volume(path)
    assert str(path) in str(info.value) and problem in str(info.value) and "fetch the archive again" in str(info.value)


def test_prepare_skips_a_subject_whose_header_lies_and_names_it(tmp_path, as_official, capsys):
    bad = nifti(tmp_path, "bad.nii.gz", dims=(3, 512, 512, 512)).read_bytes()
    tar_path = as_official(hostile_tar(tmp_path, (tarfile.TarInfo(f"neurite-oasis.v1.0/{session(4)}/"
                                                                   "aligned_norm.nii.gz"), bad)))
    arrays = run_prepare(tar_path.parent)
    assert session(4) not in {s for split in ("train", "val", "test") for s in arrays[f"{split}_subjects"]}
    err = capsys.readouterr().err
    assert f"{session(4)}: unreadable aligned_norm.nii.gz" in err and "needs" in err


def test_the_real_test_scan_passes_the_header_check():
    scan = SHARED_DATA / "oasis" / "voxelmorph_test_vol.nii.gz"
    if not scan.exists():
        pytest.skip(f"the VoxelMorph test scan is not at {scan}")
    assert read_volume(scan).shape == (160, 192, 224)


# Other archives and compressed files: an .npz whose member lies, a gzip bomb in place of an IDX file

def test_npz_member_header_declaring_gigabytes_is_refused_before_loading(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (10**6, 64, 64, 64)})
    path = tmp_path / "adrenalmnist3d.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("train_images.npy", header.getvalue() + bytes(100))
    with pytest.raises(NpzFormatError) as info:
        prepare("adrenalmnist3d", {"size": 28}, tmp_path)
    message = str(info.value)
    assert str(path) in message and "'train_images.npy'" in message and "declares" in message
    assert "delete it and refetch" in message


def test_npz_with_too_many_members_is_refused(tmp_path, monkeypatch):
    from ald.sources import adrenal

    path = tmp_path / "adrenalmnist3d.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(5):
            archive.writestr(f"a{i}.npy", b"")
    monkeypatch.setattr(adrenal, "MAX_NPZ_MEMBERS", 4)
    with pytest.raises(NpzFormatError, match=r"adrenalmnist3d\.npz: 5 members, more than the limit of 4"):
        prepare("adrenalmnist3d", {"size": 28}, tmp_path)


def test_gzip_bomb_in_place_of_an_idx_file_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    from ald.sources import mnist

    monkeypatch.setattr(mnist, "MAX_IDX_BYTES", 1 << 20)  # a 64 MB bomb stands for one of many gigabytes
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(bytes([0, 0, 8, 1]) + (64 << 20).to_bytes(4, "big") + bytes(64 << 20))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(IdxFormatError, match=r"train-images-idx3-ubyte\.gz: more than MAX_IDX_BYTES.*refetch"):
        read_idx(path)


def test_idx_shape_whose_product_wraps_around_is_refused(tmp_path):
    dims = (2**32 - 1,) * 3  # np.prod would wrap; the exact product is far more than the file holds
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in dims) + bytes(16))
    with pytest.raises(IdxFormatError, match="announces shape"):
        read_idx(path)


# 5. The official md5 is always checked; the sha256 lock only adds a check

def test_prepare_checks_the_md5_even_when_a_lock_pins_the_tar(tmp_path):
    tar_path = hostile_tar(tmp_path)
    check_sha256_lock(tar_path)  # a lock that pins this (unofficial) tar, as if a verified fetch had written it
    lock = sha256_lock(tar_path).read_bytes()
    with pytest.raises(AcquisitionError, match=f"md5 {md5sum(tar_path)}, expected {OASIS_FILES[OASIS_TAR].md5}"):
        run_prepare(tar_path.parent)
    assert not (tmp_path / "raw" / "extracted").exists()
    assert tar_path.exists() and sha256_lock(tar_path).read_bytes() == lock  # nothing deleted


def test_verify_official_checks_the_md5_and_then_the_lock(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"tampered")
    check_sha256_lock(path)  # the lock matches the tampered copy
    with pytest.raises(AcquisitionError, match="not the official file"):
        verify_official(path, spec_of(lock_sha256=True))
    path.write_bytes(CONTENT)  # official md5, but not the copy the lock pins
    with pytest.raises(AcquisitionError, match="differs from"):
        verify_official(path, spec_of(lock_sha256=True))


def test_fetch_checks_the_md5_of_a_copy_that_matches_the_lock(tmp_path):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "f.bin").write_bytes(b"tampered")
    dest = tmp_path / "dest" / "f.bin"
    dest.parent.mkdir()
    sha256_lock(dest).write_text(f"{hashlib.sha256(b'tampered').hexdigest()}  f.bin\n")
    with pytest.raises(AcquisitionError, match="expected md5"):
        fetch(spec_of(lock_sha256=True), dest, mirror=tmp_path / "mirror", allow_network=False, log=quiet)
    assert not dest.exists()


def test_a_copy_refused_by_the_lock_leaves_the_file_in_place(tmp_path):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "f.bin").write_bytes(CONTENT)
    dest = tmp_path / "dest" / "f.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"the copy on disk")
    sha256_lock(dest).write_text(f"{'0' * 64}  f.bin\n")
    with pytest.raises(AcquisitionError, match=f"differs from {'0' * 64}"):
        fetch(spec_of(lock_sha256=True), dest, mirror=tmp_path / "mirror", allow_network=False, log=quiet)
    assert dest.read_bytes() == b"the copy on disk" and (tmp_path / "mirror" / "f.bin").read_bytes() == CONTENT
