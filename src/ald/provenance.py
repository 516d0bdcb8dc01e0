"""Run records: what made a result (parameters, seed, code version, packages, host, time)."""

from __future__ import annotations

import platform
import socket
import subprocess
import time
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "numpy", "scikit-image", "scikit-learn", "pandas", "matplotlib", "snakemake")


def git_commit(cwd: Path | None = None) -> str:
    """The checked-out commit, with '-dirty' when tracked files differ; 'unknown' outside git."""
    try:
        run = lambda *a: subprocess.run(a, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
        commit = run("git", "rev-parse", "HEAD")
        return commit + ("-dirty" if run("git", "status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_record(parameters: dict, started: float, threads: int, device: str = "cpu", extra: dict | None = None,
               commit: str | None = None) -> dict:
    """``commit``: the code version the run started with (taken at its start: the checkout may move on
    while a long run trains); now, if not given."""
    return {
        "parameters": parameters,
        "git_commit": commit or git_commit(Path(__file__).parent),
        "packages": package_versions(),
        "python": platform.python_version(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "device": device,
        "threads": threads,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_seconds": round(time.time() - started, 2),
        **(extra or {}),
    }
