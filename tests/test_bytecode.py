"""The set-up step that writes the jobs' bytecode cache (ald bytecode), even where Python may not write one."""

import importlib
import sys
from importlib.util import cache_from_source
from pathlib import Path

from ald.bytecode import JOB_MODULES, cache_imported, imported_sources


def test_a_module_imported_without_a_cache_gets_one(tmp_path, monkeypatch):
    (tmp_path / "uncached_job_module.py").write_text("VALUE = 41 + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # as under PYTHONDONTWRITEBYTECODE=1
    module = importlib.import_module("uncached_job_module")
    target = Path(cache_from_source(module.__file__))
    assert not target.exists()
    written, _ = cache_imported()
    assert written >= 1 and target.exists()
    assert cache_imported()[0] == 0  # a second pass finds everything cached
    sys.modules.pop("uncached_job_module")


def test_imported_sources_are_existing_absolute_files():
    sources = imported_sources()
    assert sources and all(path.is_absolute() and path.is_file() and path.suffix == ".py" for path in sources)


def test_the_job_modules_exist():
    # a renamed module would otherwise drop out of the cache silently
    missing = [name for name in JOB_MODULES if importlib.util.find_spec(name) is None]
    assert not missing
