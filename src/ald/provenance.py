"""Run records: what made a result (parameters, seed, code version, packages, host, time)."""

from __future__ import annotations

import hashlib
import platform
import socket
import subprocess
import time
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "numpy", "scikit-image", "scikit-learn", "pandas", "matplotlib", "snakemake")


CODE_PATHS = (":/src", ":/workflow", ":/Snakefile", ":/config.yaml", ":/profiles", ":/pyproject.toml", ":/constraints.txt")


def git(cwd: Path | None, *args: str) -> str:
    return subprocess.run(("git", *args), cwd=cwd, capture_output=True, text=True, check=True).stdout


def git_state(cwd: Path | None = None) -> dict:
    """The checked-out commit and how the code differs from it: the files changed (tracked, or new and
    not ignored) under the code paths, and a sha256 of that difference; results/ and data/ do not count."""
    try:
        commit = git(cwd, "rev-parse", "HEAD").strip()
        diff = git(cwd, "diff", "HEAD", "--binary", "--", *CODE_PATHS)
        changed = git(cwd, "diff", "HEAD", "--name-only", "--", *CODE_PATHS).split()
        new = git(cwd, "ls-files", "--others", "--exclude-standard", "--full-name", "--", *CODE_PATHS).split()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "code_changed_files": [], "code_diff_sha256": None}
    digest = hashlib.sha256(diff.encode())
    top = Path(git(cwd, "rev-parse", "--show-toplevel").strip())
    for name in sorted(new):
        digest.update(name.encode() + (top / name).read_bytes())
    files = sorted(changed + new)
    return {"commit": commit, "code_changed_files": files, "code_diff_sha256": digest.hexdigest() if files else None}


def code_version(state: dict) -> str:
    """The commit, with '-dirty' when the code differed from it."""
    return state["commit"] + ("-dirty" if state["code_changed_files"] else "")


def timestamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_record(parameters: dict, started: float, threads: int, device: str = "cpu", extra: dict | None = None,
               code: dict | None = None) -> dict:
    """``code``: the ``git_state`` the run started with (taken at its start: the checkout may move on
    while a long run trains); now, if not given."""
    code = code or git_state(Path(__file__).parent)
    return {
        "parameters": parameters,
        "git_commit": code_version(code),
        "code_changed_files": code["code_changed_files"],
        "code_diff_sha256": code["code_diff_sha256"],
        "packages": package_versions(),
        "python": platform.python_version(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "device": device,
        "threads": threads,
        "started": timestamp(started),
        "wall_seconds": round(time.time() - started, 2),
        **(extra or {}),
    }
