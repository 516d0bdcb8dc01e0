import shutil

import pytest

from ald.acquire import MNIST_FILES, AcquisitionError, RemoteFile, fetch, md5sum
from ald.cli import main
from conftest import require_mnist_mirror


def fake_spec(tmp_path, content=b"hello mnist"):
    (tmp_path / "mirror").mkdir(exist_ok=True)
    (tmp_path / "mirror" / "f.bin").write_bytes(content)
    return RemoteFile("f.bin", md5sum(tmp_path / "mirror" / "f.bin"), ("https://example.invalid/f.bin",))


def test_fetch_from_mirror_verifies(tmp_path):
    spec = fake_spec(tmp_path)
    out = fetch(spec, tmp_path / "dest" / "f.bin", mirror=tmp_path / "mirror", allow_network=False)
    assert out.read_bytes() == b"hello mnist"


def test_wrong_checksum_reports_both_and_keeps_nothing(tmp_path):
    spec = fake_spec(tmp_path)
    (tmp_path / "mirror" / "f.bin").write_bytes(b"tampered")
    with pytest.raises(AcquisitionError) as info:
        fetch(spec, tmp_path / "dest" / "f.bin", mirror=tmp_path / "mirror", allow_network=False)
    message = str(info.value)
    assert spec.md5 in message and md5sum(tmp_path / "mirror" / "f.bin") in message
    assert list((tmp_path / "dest").iterdir()) == []  # neither the file nor a .part is left


def test_missing_without_network_names_file_source_and_fix(tmp_path):
    spec = MNIST_FILES["t10k-labels-idx1-ubyte.gz"]
    with pytest.raises(AcquisitionError) as info:
        fetch(spec, tmp_path / spec.name, mirror=None, allow_network=False)
    message = str(info.value)
    assert spec.name in message and "ossci-datasets" in message and "mirror" in message


def test_cli_reports_every_missing_file(tmp_path, capsys):
    with pytest.raises(AcquisitionError) as info:
        main(["fetch", "--source", "mnist", "--dest", str(tmp_path), "--mirror", str(tmp_path / "none"), "--no-network"])
    for name in MNIST_FILES:
        assert name in str(info.value)


def test_real_mirror_copy_matches_official_md5(tmp_path):
    mirror = require_mnist_mirror()
    main(["fetch", "--source", "mnist", "--dest", str(tmp_path / "raw"), "--mirror", str(mirror.parent), "--no-network"])
    for name, spec in MNIST_FILES.items():
        assert md5sum(tmp_path / "raw" / name) == spec.md5


def test_real_corrupted_mirror_file_is_refused(tmp_path):
    mirror = require_mnist_mirror()
    bad = tmp_path / "mirror" / "mnist"
    bad.mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copy(mirror / name, bad / name)
    data = bytearray((bad / "t10k-labels-idx1-ubyte.gz").read_bytes())
    data[100] ^= 0xFF
    (bad / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(AcquisitionError, match="expected md5 ec29112dd5afa0611ce80d1b7f02629c"):
        main(["fetch", "--source", "mnist", "--dest", str(tmp_path / "raw"), "--mirror", str(tmp_path / "mirror"), "--no-network"])
    assert not (tmp_path / "raw" / "t10k-labels-idx1-ubyte.gz").exists()
