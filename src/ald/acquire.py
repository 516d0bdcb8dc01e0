"""Getting official dataset files onto disk: checksummed downloads or copies from an offline mirror.

A file is only ever moved to its final path after its checksum matched, so a later run never
trusts a partial or corrupt file. A download in progress lives in ``<file>.part``; an interrupted one
is kept there and resumed (HTTP ``Range``) by the next attempt or run, or restarted where the server
does not resume. A mirror copy is made in ``<file>.mirror.part``, so it never overwrites such a partial download.
The official md5 is checked every time; a sha256 lock (``<file>.sha256``) only adds a check.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import socket
import ssl
import stat
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


def _recorded_sha256(lock: Path) -> str | None:
    """The sha256 a lock file pins ("" if it holds nothing), or None where there is no lock."""
    try:
        return (lock.read_text().split() or [""])[0]
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AcquisitionError(f"{lock}: cannot read this sha256 lock ({exc}). Fix: remove it if it is not the "
                               "lock file a fetch wrote, then fetch the file again.") from exc


def _record_sha256(lock: Path, sha256: str, name: str) -> None:
    tmp = lock.with_name(lock.name + ".part")
    tmp.write_text(f"{sha256}  {name}\n")
    os.replace(tmp, lock)


def check_sha256_lock(path: Path) -> str:
    """The sha256 of ``path``: recorded in its lock file the first time, refused if it differs later.

    For files whose provider publishes no checksum of its own: an md5 listed elsewhere verifies the
    first copy; the lock then pins exactly that copy. The lock reads like ``sha256sum`` output.
    """
    path, lock = Path(path), sha256_lock(path)
    actual = sha256sum(path)
    recorded = _recorded_sha256(lock)
    if recorded is None:
        _record_sha256(lock, actual, path.name)
    elif recorded != actual:
        raise AcquisitionError(
            f"{path}: sha256 {actual} differs from {recorded or '(nothing)'} recorded in {lock} when the "
            f"file was first verified; the file changed since. Fix: delete {path.name} and fetch it again; "
            f"delete the lock only if you verified the new copy yourself."
        )
    return actual


def verify_official(path: Path, spec: RemoteFile) -> str | None:
    """Refuse ``path`` unless its md5 is the official one; then check (or first record) its sha256 lock, if
    ``spec`` asks for one. The lock is an extra check, never a substitute for the md5. The sha256, or None."""
    path = Path(path)
    try:
        actual = md5sum(path)
    except OSError as exc:
        raise AcquisitionError(f"{path}: cannot be read ({exc.strerror or exc}). Fix: run its fetch rule "
                               "(python -m ald.cli fetch), which places the verified official file there.") from exc
    if actual != spec.md5:
        raise AcquisitionError(f"{path}: md5 {actual}, expected {spec.md5}: not the official file. "
                               "Fix: delete it and run the fetch rule.")
    return check_sha256_lock(path) if spec.lock_sha256 else None


def _verify_then_move(tmp: Path, spec: RemoteFile, dest: Path, origin: str) -> str | None:
    """Move ``tmp`` to ``dest`` once its md5 is the official one and, for a locked file, its sha256 is the one
    pinned for ``dest`` (recorded now if none is). A refused copy is deleted; ``dest`` stays as it was.
    Returns the sha256 of a locked file, else None."""
    actual = md5sum(tmp)
    if actual != spec.md5:
        tmp.unlink(missing_ok=True)
        raise AcquisitionError(
            f"checksum mismatch for {spec.name} from {origin}: expected md5 {spec.md5}, "
            f"got {actual}. The file was not kept; replace the source copy with the official file."
        )
    if not spec.lock_sha256:
        os.replace(tmp, dest)
        return None
    lock, sha256 = sha256_lock(dest), sha256sum(tmp)
    recorded = _recorded_sha256(lock)
    if recorded not in (None, sha256):
        tmp.unlink(missing_ok=True)
        raise AcquisitionError(
            f"{spec.name} from {origin}: sha256 {sha256} differs from {recorded or '(nothing)'} recorded in {lock} "
            f"when the file was first verified; the copy was not kept. Fix: use the copy first verified, or "
            f"delete the lock only if you verified this copy yourself."
        )
    os.replace(tmp, dest)
    if recorded is None:
        _record_sha256(lock, sha256, dest.name)
    return sha256


def _checked(spec: RemoteFile, sha256: str | None) -> str:
    return f"md5 ok, sha256 {sha256} as pinned in {spec.name}.sha256" if sha256 else "md5 ok"


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
            sha256 = _verify_then_move(tmp, spec, dest, url)
            say(f"downloaded from {url}, {_checked(spec, sha256)}")
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
    where = f"the mirror {mirror} has no usable {spec.name}; " if mirror is not None else "no mirror is set; "
    return (
        f"cannot obtain {spec.name} (md5 {spec.md5}): {where}official sources: "
        f"{', '.join(spec.urls)}.\n  " + "\n  ".join(errors) + "\nFix: download it from one of those URLs into a "
        f"folder and set `data: mirror:` in the config (or --config data='{{mirror: DIR}}') to a directory "
        f"holding <source>/{spec.name}, e.g. ../shared/data."
    )


def _mirror_problem(source: Path, spec: RemoteFile) -> str | None:
    """Why the mirror entry ``source`` (present, perhaps only as a link) cannot be a copy of ``spec``, or None."""
    try:
        info = source.stat()  # follows links: a link to the real file is a fine mirror entry
    except FileNotFoundError:
        return f"a symbolic link to {os.readlink(source)}, which does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(info.st_mode):
        return "a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a device, pipe or socket)"  # copying /dev/zero would never end
    if info.st_size == 0:
        return "empty (0 bytes)"
    if spec.size is not None and info.st_size > spec.size:  # smaller is left to the md5: it names both sums
        return f"{info.st_size} bytes, larger than the official file ({spec.size} bytes)"
    return None


def _unusable(source: Path, spec: RemoteFile, problem: str) -> AcquisitionError:
    return AcquisitionError(f"mirror entry {source}: {problem}; not used. Fix: replace it with the official "
                            f"{spec.name} (md5 {spec.md5}) or remove it from the mirror.")


def _copy_from_mirror(spec: RemoteFile, source: Path, dest: Path, errors: list[str], say) -> bool:
    """True once ``dest`` is the verified mirror copy; an unusable mirror entry is logged and added to ``errors``."""
    if not os.path.lexists(source):
        say(f"not in mirror {source}")
        return False
    tmp = dest.with_name(dest.name + ".mirror.part")  # not <dest>.part: that may hold a download to resume
    try:
        if problem := _mirror_problem(source, spec):
            raise _unusable(source, spec, problem)
        try:
            shutil.copyfile(source, tmp)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _unusable(source, spec, f"copying it to {tmp} failed ({exc.strerror or exc})") from exc
        sha256 = _verify_then_move(tmp, spec, dest, str(source))
    except AcquisitionError as exc:
        errors.append(str(exc))
        say(str(exc))
        return False
    say(f"copied from mirror {source}, {_checked(spec, sha256)}")
    return True


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

    A mirror entry that is unusable (a folder, a broken link, unreadable, empty, the wrong checksum) is
    reported and the official URLs are tried next. ``timeout`` bounds each network wait, ``deadline_seconds``
    (default: the file's own bound) all network time of this call; an interrupted download is resumed from
    ``<dest>.part`` by a later call. Errors that will not heal (no DNS, connection refused, unreachable) are
    not retried. ``log`` gets one line per step (default: stderr).
    """
    label = f"{Path(dest).parent.name}/{spec.name}"  # e.g. mnist/train-images-idx3-ubyte.gz
    log = log or _print_stderr

    def say(message: str) -> None:
        log(f"{label}: {message}")

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    if mirror is not None and _copy_from_mirror(spec, Path(mirror) / spec.name, dest, errors, say):
        return dest
    tmp = dest.with_name(dest.name + ".part")
    network = (retries, timeout, spec.deadline_seconds if deadline_seconds is None else deadline_seconds)
    if allow_network and _download_with_retries(spec, tmp, dest, *network, errors, say):
        return dest
    if not allow_network:
        errors.append("network download disabled")
    if tmp.exists():
        errors.append(f"kept {tmp.stat().st_size} bytes in {tmp}: a rerun resumes from there")
    raise AcquisitionError(_failure_message(spec, mirror, errors))


def archive_bounds_problem(members: int, total_bytes: int, max_members: int, max_bytes: int) -> str | None:
    """Why an archive of ``members`` members holding ``total_bytes`` (uncompressed) is too large, or None."""
    if members > max_members:
        return f"{members} members, more than the limit of {max_members}"
    if total_bytes > max_bytes:
        return f"{total_bytes} bytes uncompressed, more than the limit of {max_bytes}"
    return None
