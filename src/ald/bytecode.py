"""Write the bytecode cache of the modules the workflow's jobs import, once, at set-up.

Every Snakemake job is a fresh Python process. Where the bytecode cache is missing (``pip install
--no-compile``) and Python may not write one (``PYTHONDONTWRITEBYTECODE``, set in many container images),
each job compiles torch, torch._dynamo and sympy from source again: on a 2-core CPU that took a training job
from about 5 s to 19 s. Python still reads a cache it did not write, so writing it here, for these modules
only, gives every later job the cached start-up.
"""

from __future__ import annotations

import importlib
import py_compile
import sys
from importlib.util import cache_from_source
from pathlib import Path

# What the CLI's commands import, directly or lazily, and the heavy libraries those pull in on first use.
JOB_MODULES = (
    "ald.training", "ald.analyses", "ald.acquire", "ald.sources", "ald.transform", "ald.probes", "ald.paper.tables",
    "ald.paper.figures", "ald.paper.claims", "ald.paper.summary", "ald.paper.docs",
    "torch", "torch._dynamo",  # torch.optim's first optimizer imports torch._dynamo (about 3 s to compile)
    "skimage.metrics", "scipy.spatial.transform", "nibabel", "PIL.Image", "pandas", "matplotlib.pyplot", "trimesh",
    "snakemake.cli", "snakemake.executors.local",
)
OPTIONAL_MODULES = ("pyrender",)  # needs the EGL libraries; the airplanes source renders with it


def imported_sources() -> list[Path]:
    """The .py files of every module imported so far (a few of torch's name a file that is not there)."""
    names = (getattr(module, "__file__", None) for module in list(sys.modules.values()))
    files = {Path(name) for name in names if isinstance(name, str) and name.endswith(".py")}
    return sorted(path for path in files if path.is_absolute() and path.is_file())


def write_job_bytecode() -> tuple[int, int]:
    """Import the jobs' modules and write each imported file's missing cache. Returns (written, already cached)."""
    from .paper.figures.lazy import headless

    headless()  # as the figure jobs import pyplot
    for name in JOB_MODULES:
        importlib.import_module(name)
    for name in OPTIONAL_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - no EGL: the jobs that render fail with their own clear error
            pass
    return cache_imported()


def cache_imported() -> tuple[int, int]:
    """Write the missing bytecode cache of every imported module's file. Returns (written, already cached)."""
    written = cached = 0
    for source in imported_sources():
        target = Path(cache_from_source(str(source)))
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            cached += 1
        else:
            try:
                written += py_compile.compile(str(source), cfile=str(target), doraise=False) is not None
            except OSError:  # a read-only install: its jobs compile as before
                pass
    return written, cached
