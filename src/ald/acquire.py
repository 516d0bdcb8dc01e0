"""Getting official dataset files onto disk: checksummed downloads or copies from an offline mirror.

A file is only ever moved to its final path after its checksum matched, so a later run never
trusts a partial or corrupt file.
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


@dataclass(frozen=True)
class RemoteFile:
    name: str  # file name, also its path relative to the dataset folder of an offline mirror
    md5: str
    urls: tuple[str, ...]
    size: int | None = None




DEADLINE_SECONDS = 600.0  # all network time one fetch (or one source's files, in `ald fetch`) may take


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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
    """Save ``url`` to ``tmp``; a trickling transfer still stops at ``stop_at`` (time.monotonic)."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        while block := response.read(1 << 20):
            if stop_at is not None and time.monotonic() > stop_at:
                raise TimeoutError(f"time bound reached while reading {url}")
            out.write(block)


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
            say(f"trying {url} (attempt {attempt}/{retries})")
            try:
                _download(url, tmp, min(timeout, remaining), stop_at)
            except _NETWORK_ERRORS as exc:
                tmp.unlink(missing_ok=True)
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
    deadline_seconds: float = DEADLINE_SECONDS,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Place ``spec`` at ``dest`` from the mirror (if given) or the official URLs, verified by md5.

    ``timeout`` bounds each network wait, ``deadline_seconds`` all network time of this call.
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
            return dest
        say(f"not in mirror {source}")
    errors: list[str] = []
    network = (retries, timeout, deadline_seconds)
    if allow_network and _download_with_retries(spec, tmp, dest, *network, errors, say):
        return dest
    raise AcquisitionError(_failure_message(spec, mirror, errors))
