"""Sources: raw files (or a seed, for generated data) turned into one ``.npz`` of fixed splits.

A prepared source holds ``{split}_x`` images of shape (N, C, *spatial) (uint8 in [0, 255], or float
in [0, 1]) and ``{split}_y`` class labels for the splits train, val and test. A source whose pairs
are made outside the group action (rendered pairs) also holds ``{split}_tx`` (T_g(x), same layout)
and ``{split}_g`` (the element that relates them).

Register a new source with ``register_source``: the config, the workflow's fetch and prepare rules
and config validation all follow the registry. A source whose layout depends on its config entry (the
``folder`` source: the user's images or volumes, grey or RGB, labelled or not) gives ``spatial_dims``,
``channels`` and ``labelled`` as functions of that entry; ``Source.configured(params)`` resolves them, and
everything that reads them (the plan's groups, parameter counts and probes; ``prepare``'s layout check)
reads the configured source.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Union

import numpy as np

from ..acquire import RemoteFile
from ..registry import Registry, fill_defaults

SPLITS = ("train", "val", "test")
PerParams = Union[int, bool, Callable[[dict], Union[int, bool]]]  # a value, or a function of the config entry


@dataclass(frozen=True)
class Source:
    """A registered source. ``spatial_dims``, ``channels`` and ``labelled`` are values, or functions of the
    source's config entry (defaults filled in) where the entry decides them; read them from
    ``configured(params)``, which resolves them."""

    name: str
    prepare: Callable[..., dict[str, np.ndarray]]  # keyword arguments: the config entry (+ raw_dir)
    spatial_dims: PerParams  # 2 for images, 3 for volumes
    channels: PerParams
    params_schema: dict  # JSON schema of the source's config entry
    files: dict[str, RemoteFile] = field(default_factory=dict)  # official files; none for generated data
    labelled: PerParams = True  # False: {split}_y holds -1 (no class label); the probes leave such a source out
    terms: str | None = None  # data use terms the config must accept (`accept_terms: true`) before a download
    rendered_group: str | None = None  # rendered pairs: the one group whose elements relate them (airplanes: SO3)
    user_folders: dict[str, str] = field(default_factory=dict)  # config key -> what the user must supply, and its terms
    check_params: Callable[[dict], list[str]] | None = None  # problems of a config entry, found before any job runs
    image_size: int = 28  # the side of its images when its config entry has no `size` (MNIST's 28)
    licence: str | None = None  # the data's licence, as its provider states it (model cards, docs/data.md)
    inputs: Callable[[dict], list[str]] | None = None  # the user's files its prepare reads: a change reruns it

    def configured(self, params: dict) -> "Source":
        """This source as a config entry makes it: ``spatial_dims``, ``channels`` and ``labelled`` resolved
        (from the entry, its defaults filled in, where they are functions of it)."""
        params = fill_defaults(copy.deepcopy(params), self.params_schema)
        resolve = lambda value: value(params) if callable(value) else value
        return replace(self, spatial_dims=resolve(self.spatial_dims), channels=resolve(self.channels),
                       labelled=resolve(self.labelled))


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
    layout = source.configured(params)
    for split in SPLITS:
        check_layout(arrays[f"{split}_x"], f"{name} {split}_x", layout.spatial_dims, layout.channels)
    return arrays


def check_layout(images: np.ndarray, what: str, spatial_dims: int | None = None, channels: int | None = None) -> None:
    dims = images.ndim - 2
    if dims not in (2, 3) or (spatial_dims is not None and dims != spatial_dims):
        want = {2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}.get(spatial_dims, "(N, C, H, W) or (N, C, D, H, W)")
        raise ValueError(
            f"{what}: images must be {want}, got shape {images.shape}. A prepared file of an older "
            "version stored (N, H, W): delete it and rerun its prepare rule."
        )
    if channels is not None and images.shape[1] != channels:
        raise ValueError(f"{what}: {images.shape[1]} channel(s), but the source says {channels} (shape "
                         f"{images.shape}). Fix: the source's prepare and its `channels` must agree")


def fit_to_size(item: np.ndarray, size: int, fit: str = "pad") -> np.ndarray:
    """(C, *spatial) float32 made square (a cube) and resized to ``size`` on every spatial axis.

    ``fit``: pad (zeros, centred, to the longest side: nothing is cut or stretched), crop (centred, to the
    shortest side) or stretch. Shrinking is area-averaged (anti-aliased), growing (bi/tri)linear; both keep
    values in [0, 1] in [0, 1].
    """
    import torch

    spatial = item.shape[1:]
    if fit == "pad":
        edge = max(spatial)
        item = np.pad(item, [(0, 0)] + [((edge - n) // 2, edge - n - (edge - n) // 2) for n in spatial])
    elif fit == "crop":
        edge = min(spatial)
        item = item[(slice(None), *(slice((n - edge) // 2, (n - edge) // 2 + edge) for n in spatial))]
    tensor = torch.from_numpy(np.ascontiguousarray(item, dtype=np.float32))[None]
    target = (size,) * len(spatial)
    if min(item.shape[1:]) >= size:
        return torch.nn.functional.interpolate(tensor, size=target, mode="area")[0].numpy()
    mode = {2: "bilinear", 3: "trilinear"}[len(spatial)]
    return torch.nn.functional.interpolate(tensor, size=target, mode=mode, align_corners=False)[0].numpy()


def save_source(arrays: dict[str, np.ndarray], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def load_split(path: Path, split: str) -> dict[str, np.ndarray]:
    """The arrays of one split, keyed without the split prefix: x, y and, for rendered pairs, tx and g. Arrays of
    names that trace each item to its file (oasis' ``{split}_subjects``, folder's ``{split}_files``) stay in the
    file: training moves every array it gets to the device, and only numbers go there."""
    with np.load(path) as data:
        arrays = {key.split("_", 1)[1]: data[key] for key in data.files if key.startswith(f"{split}_")}
    arrays = {key: value for key, value in arrays.items() if value.dtype.kind in "biuf"}
    check_layout(arrays["x"], f"{path} {split}_x")
    return arrays
