"""Sources: raw files (or a seed, for generated data) turned into one ``.npz`` of fixed splits.

A prepared source holds ``{split}_x`` images of shape (N, C, *spatial) (uint8 in [0, 255], or float
in [0, 1]) and ``{split}_y`` class labels for the splits train, val and test. A source whose pairs
are made outside the group action (rendered pairs) also holds ``{split}_tx`` (T_g(x), same layout)
and ``{split}_g`` (the element that relates them).

Register a new source with ``register_source``: the config, the workflow's fetch and prepare rules
and config validation all follow the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..acquire import RemoteFile
from ..registry import Registry

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Source:
    name: str
    prepare: Callable[..., dict[str, np.ndarray]]  # keyword arguments: the config entry (+ raw_dir)
    spatial_dims: int  # 2 for images, 3 for volumes
    channels: int
    params_schema: dict  # JSON schema of the source's config entry
    files: dict[str, RemoteFile] = field(default_factory=dict)  # official files; none for generated data
    labelled: bool = True  # False: {split}_y holds -1 (no class label); the probes leave such a source out
    terms: str | None = None  # data use terms the config must accept (`accept_terms: true`) before a download
    rendered_group: str | None = None  # rendered pairs: the one group whose elements relate them (airplanes: SO3)
    user_folders: dict[str, str] = field(default_factory=dict)  # config key -> what the user must supply, and its terms
    check_params: Callable[[dict], list[str]] | None = None  # problems of a config entry, found before any job runs
    image_size: int = 28  # the side of its images when its config entry has no `size` (MNIST's 28)


class TermsNotAccepted(ValueError):
    """A gated source's data use terms were not accepted, or its user-supplied folders not named, in the config."""


def check_terms(name: str, params: dict) -> None:
    """Refuse a gated source whose config entry does not say ``accept_terms: true``, or does not name a
    folder the user must supply."""
    source = get_source(name)
    if source.terms and params.get("accept_terms") is not True:
        raise TermsNotAccepted(
            f"sources.{name}.accept_terms: the {name} data comes under its own terms: {source.terms}. "
            f"Fix: read them, then set `sources: {{{name}: {{accept_terms: true}}}}` in your config."
        )
    for key, what in source.user_folders.items():
        if params.get(key) is None:
            raise TermsNotAccepted(
                f"sources.{name}.{key}: no folder given. It is the {what}. "
                f"Fix: set `sources: {{{name}: {{{key}: /path/to/it}}}}` in your config."
            )


SOURCES = Registry("source")


def register_source(source: Source) -> Source:
    return SOURCES.add(source.name, source)


get_source = SOURCES.lookup


def prepare(name: str, params: dict, raw_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Build a registered source's split arrays from its config entry (and raw files, if it has any)."""
    source = get_source(name)
    check_terms(name, params)
    params = {k: v for k, v in params.items() if k != "accept_terms"}
    kwargs = dict(params, raw_dir=Path(raw_dir)) if source.files else dict(params)
    arrays = source.prepare(**kwargs)
    for split in SPLITS:
        check_layout(arrays[f"{split}_x"], f"{name} {split}_x", source.spatial_dims)
    return arrays


def check_layout(images: np.ndarray, what: str, spatial_dims: int | None = None) -> None:
    dims = images.ndim - 2
    if dims not in (2, 3) or (spatial_dims is not None and dims != spatial_dims):
        want = {2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}.get(spatial_dims, "(N, C, H, W) or (N, C, D, H, W)")
        raise ValueError(
            f"{what}: images must be {want}, got shape {images.shape}. A prepared file of an older "
            "version stored (N, H, W): delete it and rerun its prepare rule."
        )


def save_source(arrays: dict[str, np.ndarray], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def load_split(path: Path, split: str) -> dict[str, np.ndarray]:
    """The arrays of one split, keyed without the split prefix: x, y and, for rendered pairs, tx and g."""
    with np.load(path) as data:
        arrays = {key.split("_", 1)[1]: data[key] for key in data.files if key.startswith(f"{split}_")}
    check_layout(arrays["x"], f"{path} {split}_x")
    return arrays


from . import adrenal, airplanes, glyphs, mnist, oasis, volumes  # noqa: E402,F401  (registers the built-in sources)
