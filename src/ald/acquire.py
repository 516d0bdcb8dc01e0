"""Getting official dataset files onto disk: checksummed downloads or copies from an offline mirror.

A file is only ever moved to its final path after its checksum matched, so a later run never
trusts a partial or corrupt file. A download in progress lives in ``<file>.part``; an interrupted one
is kept there and resumed (HTTP ``Range``) by the next attempt or run, or restarted where the server
does not resume.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class AcquisitionError(RuntimeError):
    """A dataset file could not be obtained or failed verification."""


DEADLINE_SECONDS = 600.0  # default for all network time one fetch (or one source's files, in `ald fetch`) may take


@dataclass(frozen=True)
class RemoteFile:
    name: str  # file name, also its path relative to the dataset folder of an offline mirror
    md5: str
    urls: tuple[str, ...]
    size: int | None = None
    deadline_seconds: float = DEADLINE_SECONDS  # network time bound; larger for files that take longer
    lock_sha256: bool = False  # record the sha256 of the first verified copy in <file>.sha256, check it later


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    return _hexdigest(path, hashlib.md5(), chunk)


def sha256sum(path: Path, chunk: int = 1 << 20) -> str:
    return _hexdigest(path, hashlib.sha256(), chunk)


def _hexdigest(path: Path, digest, chunk: int) -> str:
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_lock(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".sha256")


def check_sha256_lock(path: Path) -> str:
    """The sha256 of ``path``: recorded in its lock file the first time, refused if it differs later.

    For files whose provider publishes no checksum of its own: an md5 listed elsewhere verifies the
    first copy; the lock then pins exactly that copy. The lock reads like ``sha256sum`` output.
    """
    path, lock = Path(path), sha256_lock(path)
    actual = sha256sum(path)
    if not lock.exists():
        tmp = lock.with_name(lock.name + ".part")
        tmp.write_text(f"{actual}  {path.name}\n")
        os.replace(tmp, lock)
        return actual
    recorded = (lock.read_text().split() or [""])[0]
    if recorded != actual:
        raise AcquisitionError(
            f"{path}: sha256 {actual} differs from {recorded or '(nothing)'} recorded in {lock} when the "
            f"file was first verified; the file changed since. Fix: delete {path.name} and fetch it again; "
            f"delete the lock only if you verified the new copy yourself."
        )
    return actual


def _verify_then_move(tmp: Path, spec: RemoteFile, dest: Path, origin: str) -> None:
    actual = md5sum(tmp)
    if actual != spec.md5:
        tmp.unlink(missing_ok=True)
        raise AcquisitionError(
            f"checksum mismatch for {spec.name} from {origin}: expected md5 {spec.md5}, "
            f"got {actual}. The file was not kept; replace the source copy with the official file."
        )
    os.replace(tmp, dest)


def _download(url: str, tmp: Path, timeout: float, stop_at: float | None = None) -> None:
    """Save ``url`` to ``tmp``, resuming after the bytes ``tmp`` already holds where the server allows.

    A trickling transfer still stops at ``stop_at`` (time.monotonic); what arrived stays in ``tmp``.
    """
    have = tmp.stat().st_size if tmp.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if have and exc.code == 416:  # nothing after byte `have`: tmp is complete (the checksum decides)
            return
        raise
    with response:
        start = _first_byte(response)
        if start not in (0, have):  # not the range asked for: drop the partial so that the retry restarts
            tmp.unlink()
            raise http.client.HTTPException(f"asked {url} to resume at byte {have}, got a range from byte {start}")
        with open(tmp, "ab" if start else "wb") as out:  # 0: the whole file (the server does not resume)
            while block := response.read(1 << 20):
                if stop_at is not None and time.monotonic() > stop_at:
                    raise TimeoutError(f"time bound reached while reading {url}")
                out.write(block)
        if response.length:  # http.client ends a cut transfer silently; raise, so that it is resumed
            raise http.client.IncompleteRead(b"", response.length)


def _first_byte(response) -> int:
    """Where the body starts in the file: 0 for a whole file, else the start of its Content-Range (or -1)."""
    if response.status != 206:
        return 0
    start = response.headers.get("Content-Range", "").removeprefix("bytes ").split("-")[0]
    return int(start) if start.isdigit() else -1


# Errors worth retrying are caught too; _is_permanent tells the ones that will not heal in seconds.
_NETWORK_ERRORS = (OSError, http.client.HTTPException)  # URLError, HTTPError, TimeoutError are OSErrors
_PERMANENT_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH}


def _is_permanent(exc: BaseException) -> bool:
    """No DNS, connection refused, network unreachable, bad certificate or HTTP 4xx: retrying won't help."""
    if isinstance(exc, urllib.error.HTTPError):
        return 400 <= exc.code < 500 and exc.code not in (408, 429)
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (socket.gaierror, ConnectionRefusedError, ssl.SSLCertVerificationError)):
        return True
    return getattr(reason, "errno", None) in _PERMANENT_ERRNOS


def _print_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _download_with_retries(spec, tmp, dest, retries, timeout, deadline_seconds, errors, say) -> bool:
    """Try each URL up to ``retries`` times within ``deadline_seconds``; True once ``dest`` is verified.

    Appends one line per failed attempt (and why it stopped) to ``errors``.
    """
    stop_at = time.monotonic() + deadline_seconds
    urls = list(spec.urls)
    for attempt in range(1, retries + 1):
        for url in list(urls):
            remaining = stop_at - time.monotonic()
            if remaining <= 0:
                errors.append(f"stopped: the time bound of {deadline_seconds:g} s (deadline_seconds) reached")
                return False
            have = tmp.stat().st_size if tmp.exists() else 0
            say(f"trying {url} (attempt {attempt}/{retries})" + (f", resuming after {have} bytes" if have else ""))
            try:
                _download(url, tmp, min(timeout, remaining), stop_at)
            except _NETWORK_ERRORS as exc:  # what arrived stays in tmp for the next attempt or run
                errors.append(f"{url} (attempt {attempt}): {exc}")
                if _is_permanent(exc):
                    urls.remove(url)
                say(f"failed: {exc}" + (" (will not retry this URL)" if url not in urls else ""))
                continue
            _verify_then_move(tmp, spec, dest, url)
            say(f"downloaded from {url}, md5 ok")
            return True
        if not urls:
            errors.append("stopped at once: these errors do not heal by retrying (offline? DNS? firewall?)")
            return False
        pause = min(2**attempt, 10, stop_at - time.monotonic())
        if attempt < retries and pause > 0:
            say(f"waiting {pause:.0f} s before attempt {attempt + 1}/{retries}")
            time.sleep(pause)
    return False


def _failure_message(spec: RemoteFile, mirror: Path | None, errors: list[str]) -> str:
    where = f"the mirror {mirror} has no {spec.name}; " if mirror is not None else "no mirror is set; "
    tried = "\n  ".join(errors) if errors else "network download disabled"
    return (
        f"cannot obtain {spec.name} (md5 {spec.md5}): {where}official sources: "
        f"{', '.join(spec.urls)}.\n  {tried}\nFix: download it from one of those URLs into a folder "
        f"and set `data: mirror:` in the config (or --config data='{{mirror: DIR}}') to a directory "
        f"holding <source>/{spec.name}, e.g. ../shared/data."
    )


def fetch(
    spec: RemoteFile,
    dest: Path,
    mirror: Path | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    allow_network: bool = True,
    deadline_seconds: float | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Place ``spec`` at ``dest`` from the mirror (if given) or the official URLs, verified by md5.

    ``timeout`` bounds each network wait, ``deadline_seconds`` (default: the file's own bound) all
    network time of this call; an interrupted download is resumed from ``<dest>.part`` by a later call.
    Errors that will not heal (no DNS, connection refused, unreachable) are not retried.
    ``log`` gets one line per step (default: stderr).
    """
    label = f"{Path(dest).parent.name}/{spec.name}"  # e.g. mnist/train-images-idx3-ubyte.gz
    log = log or _print_stderr

    def say(message: str) -> None:
        log(f"{label}: {message}")

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    if mirror is not None:
        source = Path(mirror) / spec.name
        if source.exists():
            shutil.copyfile(source, tmp)
            _verify_then_move(tmp, spec, dest, str(source))
            say(f"copied from mirror {source}, md5 ok")
            return _locked(spec, dest, say)
        say(f"not in mirror {source}")
    errors: list[str] = []
    network = (retries, timeout, spec.deadline_seconds if deadline_seconds is None else deadline_seconds)
    if allow_network and _download_with_retries(spec, tmp, dest, *network, errors, say):
        return _locked(spec, dest, say)
    if tmp.exists():
        errors.append(f"kept {tmp.stat().st_size} bytes in {tmp}: a rerun resumes from there")
    raise AcquisitionError(_failure_message(spec, mirror, errors))


def _locked(spec: RemoteFile, dest: Path, say: Callable[[str], None]) -> Path:
    """``dest``, checked against (or first recorded in) its sha256 lock if ``spec`` asks for one."""
    if spec.lock_sha256:
        try:
            say(f"sha256 {check_sha256_lock(dest)}, as pinned in {sha256_lock(dest).name}")
        except AcquisitionError:
            dest.unlink()  # it passed md5 yet is not the copy first verified: keep neither guess
            raise
    return dest
