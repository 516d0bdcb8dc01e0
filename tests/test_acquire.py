import errno
import hashlib
import socket
import urllib.error

import pytest

from ald import acquire
from ald.acquire import AcquisitionError, RemoteFile, fetch, md5sum
from ald.sources.mnist import MNIST_FILES
from ald.cli import main
from conftest import require_mnist_mirror, copy_of_mnist_mirror


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
        main(["fetch", "--retries", "1", "--source", "mnist", "--dest", str(tmp_path), "--mirror", str(tmp_path / "none"), "--no-network"])
    for name in MNIST_FILES:
        assert name in str(info.value)


def test_real_mirror_copy_matches_official_md5(tmp_path):
    mirror = require_mnist_mirror()
    main(["fetch", "--retries", "1", "--source", "mnist", "--dest", str(tmp_path / "raw"), "--mirror", str(mirror.parent), "--no-network"])
    for name, spec in MNIST_FILES.items():
        assert md5sum(tmp_path / "raw" / name) == spec.md5


def test_real_corrupted_mirror_file_is_refused(tmp_path):
    bad = copy_of_mnist_mirror(tmp_path)
    data = bytearray((bad / "t10k-labels-idx1-ubyte.gz").read_bytes())
    data[100] ^= 0xFF
    (bad / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(AcquisitionError, match="expected md5 ec29112dd5afa0611ce80d1b7f02629c"):
        main(["fetch", "--retries", "1", "--source", "mnist", "--dest", str(tmp_path / "raw"), "--mirror", str(tmp_path / "mirror"), "--no-network"])
    assert not (tmp_path / "raw" / "t10k-labels-idx1-ubyte.gz").exists()


# Network behaviour, offline: a fake ``_download`` and a fake clock (``sleep`` advances it, nothing waits).

URLS = ("https://a.invalid/f.bin", "https://b.invalid/f.bin")


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(acquire, "time", fake)
    return fake


def md5_of(data):
    return hashlib.md5(data).hexdigest()


def net_spec(content=b"hello mnist", urls=URLS):
    return RemoteFile("f.bin", md5_of(content), urls)


def fake_download(monkeypatch, outcomes, clock=None, seconds_per_call=0.0, content=b"hello mnist"):
    """Call n raises outcomes[n] unless it is None or missing; then it writes ``content``."""
    calls = []

    def download(url, tmp, timeout, stop_at=None):
        calls.append(url)
        if clock is not None:
            clock.now += seconds_per_call
        outcome = outcomes[len(calls) - 1] if len(calls) <= len(outcomes) else None
        if outcome is not None:
            raise outcome
        tmp.write_bytes(content)

    monkeypatch.setattr(acquire, "_download", download)
    return calls


@pytest.mark.parametrize(
    "error",
    [
        urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution")),
        urllib.error.URLError(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")),
        urllib.error.URLError(OSError(errno.ENETUNREACH, "Network is unreachable")),
        ConnectionRefusedError(),
        urllib.error.HTTPError(URLS[0], 404, "Not Found", {}, None),
    ],
    ids=["dns", "refused", "unreachable", "refused-bare", "http404"],
)
def test_permanent_error_fails_at_once_one_attempt_per_url_no_sleep(tmp_path, monkeypatch, clock, error):
    calls = fake_download(monkeypatch, [error] * 10)
    with pytest.raises(AcquisitionError) as info:
        fetch(net_spec(), tmp_path / "f.bin", retries=3, log=lambda line: None)
    assert calls == list(URLS)
    assert clock.sleeps == []
    message = str(info.value)
    assert all(url in message for url in URLS) and "data: mirror:" in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "error",
    [
        TimeoutError("timed out"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        urllib.error.HTTPError(URLS[0], 503, "Service Unavailable", {}, None),
    ],
    ids=["timeout", "reset", "http503"],
)
def test_transient_error_is_retried_with_back_off(tmp_path, monkeypatch, clock, error):
    calls = fake_download(monkeypatch, [error, error])  # round 1: both URLs fail; round 2: the first works
    out = fetch(net_spec(), tmp_path / "f.bin", retries=3, log=lambda line: None)
    assert out.read_bytes() == b"hello mnist"
    assert calls == [URLS[0], URLS[1], URLS[0]]
    assert len(clock.sleeps) == 1


def test_transient_errors_use_all_retries_without_a_final_sleep(tmp_path, monkeypatch, clock):
    calls = fake_download(monkeypatch, [TimeoutError("timed out")] * 10)
    with pytest.raises(AcquisitionError, match="attempt 3"):
        fetch(net_spec(urls=URLS[:1]), tmp_path / "f.bin", retries=3, log=lambda line: None)
    assert len(calls) == 3 and len(clock.sleeps) == 2


def test_permanent_failure_of_one_url_still_retries_the_other(tmp_path, monkeypatch, clock):
    dns = urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
    calls = fake_download(monkeypatch, [dns, TimeoutError("timed out")])
    fetch(net_spec(), tmp_path / "f.bin", retries=3, log=lambda line: None)
    assert calls == [URLS[0], URLS[1], URLS[1]]


def test_deadline_stops_retrying_and_says_so(tmp_path, monkeypatch, clock):
    calls = fake_download(monkeypatch, [TimeoutError("timed out")] * 10, clock=clock, seconds_per_call=100)
    with pytest.raises(AcquisitionError) as info:
        fetch(net_spec(), tmp_path / "f.bin", retries=5, deadline_seconds=150, log=lambda line: None)
    assert len(calls) == 2  # at t=0 and t=100; at t=200 the bound of 150 s is past
    message = str(info.value)
    assert "time bound of 150 s" in message and "data: mirror:" in message


def test_zero_deadline_makes_no_attempt(tmp_path, monkeypatch, clock):
    calls = fake_download(monkeypatch, [])
    with pytest.raises(AcquisitionError, match="time bound"):
        fetch(net_spec(), tmp_path / "f.bin", deadline_seconds=0, log=lambda line: None)
    assert calls == []


def test_per_request_timeout_never_exceeds_the_time_left(tmp_path, monkeypatch, clock):
    timeouts = []

    def download(url, tmp, timeout, stop_at=None):
        timeouts.append(timeout)
        tmp.write_bytes(b"x")

    monkeypatch.setattr(acquire, "_download", download)
    fetch(net_spec(b"x"), tmp_path / "f.bin", timeout=60, deadline_seconds=5, log=lambda line: None)
    assert timeouts == [5]


def test_downloaded_wrong_checksum_reports_both_and_keeps_nothing(tmp_path, monkeypatch, clock):
    fake_download(monkeypatch, [], content=b"tampered")
    spec = net_spec()
    with pytest.raises(AcquisitionError) as info:
        fetch(spec, tmp_path / "dest" / "f.bin", log=lambda line: None)
    message = str(info.value)
    assert f"expected md5 {spec.md5}" in message and md5_of(b"tampered") in message
    assert list((tmp_path / "dest").iterdir()) == []


def test_each_attempt_is_logged(tmp_path, monkeypatch, clock):
    fake_download(monkeypatch, [TimeoutError("timed out")])
    lines = []
    fetch(net_spec(), tmp_path / "f.bin", mirror=tmp_path / "empty", retries=3, log=lines.append)
    label = f"{tmp_path.name}/f.bin"  # the destination folder names the source (data/raw/<source>/)
    assert lines[0].startswith(f"{label}: not in mirror")
    assert f"{label}: trying {URLS[0]} (attempt 1/3)" in lines
    assert any("failed: timed out" in line for line in lines)
    assert lines[-1] == f"{label}: downloaded from {URLS[1]}, md5 ok"


def test_log_defaults_to_stderr_and_names_the_source(tmp_path, monkeypatch, capsys):
    spec = MNIST_FILES["t10k-labels-idx1-ubyte.gz"]
    monkeypatch.setattr(acquire, "md5sum", lambda path: spec.md5)  # no real MNIST bytes needed
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / spec.name).write_bytes(b"stand-in")
    fetch(spec, tmp_path / "mnist" / spec.name, mirror=tmp_path / "mirror", allow_network=False)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"mnist/{spec.name}: copied from mirror") and "md5 ok" in captured.err


# Resuming: a local HTTP server (with or without Range support) and the real download code

@pytest.fixture
def server(monkeypatch):
    """Serves ``state.content`` at ``state.url``; ``state.cut`` lists, per request, the bytes sent before
    the connection drops; ``state.requests`` records each request's Range header."""
    import http.server
    import threading
    from types import SimpleNamespace

    monkeypatch.setenv("no_proxy", "127.0.0.1")
    state = SimpleNamespace(content=bytes(range(256)) * 40, ranges=True, wrong_start=False, cut=[], requests=[])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked = self.headers.get("Range")
            state.requests.append(asked)
            size = len(state.content)
            start = int(asked.removeprefix("bytes=").rstrip("-")) if asked and state.ranges else 0
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            sent_from = start // 2 if state.wrong_start else start
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {sent_from}-{size - 1}/{size}")
            body = state.content[sent_from:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: state.cut.pop(0)] if state.cut else body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{httpd.server_port}/f.bin"
    state.spec = RemoteFile("f.bin", md5_of(state.content), (state.url,))
    yield state
    httpd.shutdown()
    httpd.server_close()


def part_of(dest):
    return dest.with_name(dest.name + ".part")


def test_partial_download_resumes_with_a_range_request(tmp_path, server):
    dest = tmp_path / "f.bin"
    part_of(dest).write_bytes(server.content[:1000])
    fetch(server.spec, dest, log=lambda line: None)
    assert server.requests == ["bytes=1000-"]
    assert dest.read_bytes() == server.content and not part_of(dest).exists()


def test_server_without_range_support_restarts_from_the_start(tmp_path, server):
    server.ranges = False
    dest = tmp_path / "f.bin"
    part_of(dest).write_bytes(b"stale bytes")
    fetch(server.spec, dest, log=lambda line: None)
    assert server.requests == ["bytes=11-"] and dest.read_bytes() == server.content


def test_cut_transfer_is_kept_and_resumed_by_the_retry(tmp_path, server, clock):
    server.cut = [3000]
    lines = []
    fetch(server.spec, tmp_path / "f.bin", retries=2, log=lines.append)
    assert server.requests == [None, "bytes=3000-"]
    assert (tmp_path / "f.bin").read_bytes() == server.content
    assert any("resuming after 3000 bytes" in line for line in lines)


def test_cut_transfer_is_kept_for_the_next_run(tmp_path, server, clock):
    server.cut = [3000]
    dest = tmp_path / "f.bin"
    with pytest.raises(AcquisitionError, match="IncompleteRead") as info:
        fetch(server.spec, dest, retries=1, log=lambda line: None)
    assert "kept 3000 bytes" in str(info.value) and "a rerun resumes" in str(info.value)
    assert part_of(dest).stat().st_size == 3000 and not dest.exists()
    fetch(server.spec, dest, retries=1, log=lambda line: None)
    assert server.requests == [None, "bytes=3000-"] and dest.read_bytes() == server.content


def test_complete_part_is_verified_when_the_server_has_nothing_after_it(tmp_path, server):
    dest = tmp_path / "f.bin"
    part_of(dest).write_bytes(server.content)
    fetch(server.spec, dest, log=lambda line: None)  # the server answers 416
    assert server.requests == [f"bytes={len(server.content)}-"] and dest.read_bytes() == server.content


def test_a_range_other_than_asked_drops_the_partial_and_restarts(tmp_path, server, clock):
    server.wrong_start = True
    dest = tmp_path / "f.bin"
    part_of(dest).write_bytes(server.content[:1000])
    fetch(server.spec, dest, retries=2, log=lambda line: None)
    assert server.requests == ["bytes=1000-", None] and dest.read_bytes() == server.content


# Per-file time bounds and sha256 locks

def test_a_file_declares_its_own_time_bound(tmp_path, monkeypatch, clock):
    calls = fake_download(monkeypatch, [TimeoutError("timed out")] * 10, clock=clock, seconds_per_call=100)
    spec = RemoteFile("f.bin", md5_of(b"hello mnist"), URLS, deadline_seconds=150)
    with pytest.raises(AcquisitionError, match="time bound of 150 s"):
        fetch(spec, tmp_path / "f.bin", retries=5, log=lambda line: None)
    assert len(calls) == 2


def test_cli_keeps_the_600_s_bound_for_mnist(tmp_path, monkeypatch):
    bounds = []
    monkeypatch.setattr(acquire, "fetch", lambda spec, dest, **kw: bounds.append(kw["deadline_seconds"]) or dest)
    main(["fetch", "--retries", "1", "--source", "mnist", "--dest", str(tmp_path), "--no-network"])
    assert len(bounds) == len(MNIST_FILES) and all(0 < b <= acquire.DEADLINE_SECONDS == 600 for b in bounds)


def locked_spec(tmp_path):
    spec = fake_spec(tmp_path)
    return RemoteFile(spec.name, spec.md5, spec.urls, lock_sha256=True)


def test_lock_records_the_sha256_of_the_first_verified_copy(tmp_path):
    spec, dest = locked_spec(tmp_path), tmp_path / "dest" / "f.bin"
    fetch(spec, dest, mirror=tmp_path / "mirror", allow_network=False, log=lambda line: None)
    sha256 = hashlib.sha256(b"hello mnist").hexdigest()
    assert (tmp_path / "dest" / "f.bin.sha256").read_text() == f"{sha256}  f.bin\n"
    fetch(spec, dest, mirror=tmp_path / "mirror", allow_network=False, log=lambda line: None)  # still matches
    assert dest.read_bytes() == b"hello mnist"


def test_copy_that_differs_from_the_lock_is_refused_and_not_kept(tmp_path):
    spec, dest = locked_spec(tmp_path), tmp_path / "dest" / "f.bin"
    dest.parent.mkdir()
    (tmp_path / "dest" / "f.bin.sha256").write_text(f"{'0' * 64}  f.bin\n")
    with pytest.raises(AcquisitionError) as info:
        fetch(spec, dest, mirror=tmp_path / "mirror", allow_network=False, log=lambda line: None)
    assert f"differs from {'0' * 64}" in str(info.value) and "f.bin.sha256" in str(info.value)
    assert not dest.exists()
