"""Your own data: a folder of images or of volumes, configured in the config file alone (docs/extending.md).

A folder holds one kind, read recursively (hidden files and notes beside the data, .txt .md .csv .json
.yaml, are skipped): images (.png, .jpg, .jpeg; grey or RGB, any sizes: each is made square and resized) or
volumes (.nii, .nii.gz via nibabel, .npy; 3-D, any shapes: each is made a cube and resized). Labels come from
the first subfolder under the folder (``labels: subfolders``), from a CSV (``labels: {csv: ...}``), or not at
all (``labels: none``: ``{split}_y`` is -1 and the probes leave the dataset out). The split is seeded.

Prepared arrays are uint8 (N, C, size, size[, size]) with ``{split}_y`` (int64 class index, or -1),
``{split}_files`` (each item's path under the folder, so every item can be traced) and ``classes`` (the class
name of each index). Every problem is one line naming the file (or key) and the fix: the ones a listing of
the folder shows (a folder that is not there, empty, of mixed kinds, labels that do not match the files, too
few items for the split) before any job runs (``folder_problems``), the ones only reading shows (an unreadable
file, mixed channel counts, a non-3-D volume) when the prepare job reads them.
"""

from __future__ import annotations

import copy
import csv
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from ..registry import fill_defaults
from .base import SPLITS, Source, fit_to_size, register_source
from .oasis import MAX_VOXELS, READ_ERRORS, load_nifti

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
VOLUME_SUFFIXES = (".nii", ".nii.gz", ".npy")
NOTE_SUFFIXES = (".txt", ".md", ".csv", ".json", ".yaml", ".yml")  # notes beside the data: skipped
KINDS = {"images": IMAGE_SUFFIXES, "volumes": VOLUME_SUFFIXES}
KEY = "sources.folder"
# Pillow modes with one channel; every other mode (RGB, RGBA, palette P, CMYK, YCbCr ...) is read as RGB.
GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
UNIT_DTYPES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0, np.dtype(bool): 1.0}

CSV_LABELS = {"type": "object", "additionalProperties": False, "required": ["csv"], "properties": {
    "csv": {"type": "string", "minLength": 1,
            "description": "the CSV file of labels; a relative path is relative to the folder (`path`)"},
    "file_column": {"type": "string", "default": "file",
                    "description": "the column naming each file, relative to the folder (e.g. a/img1.png)"},
    "label_column": {"type": "string", "default": "label", "description": "the column giving its class"},
}}
FRACTION = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
PARAMS_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["path"], "properties": {
    "path": {"type": "string", "minLength": 1,
             "description": "the folder of your images (.png, .jpg, .jpeg) or volumes (.nii, .nii.gz, .npy), "
                            "read recursively; one kind per folder"},
    "size": {"type": "integer", "minimum": 8, "maximum": 512, "multipleOf": 4, "default": 32,
             "description": "the side (a multiple of 4) of the square images, or cubic volumes, every item is "
                            "resized to"},
    "fit": {"enum": ["pad", "crop", "stretch"], "default": "pad",
            "description": "how an item becomes square (a cube) before resizing: pad (with black, centred, to "
                           "its longest side), crop (centred, to its shortest) or stretch"},
    "channels": {"type": ["integer", "null"], "enum": [None, 1, 3], "default": None,
                 "description": "null: as the files are (every file must have the same count); 1 or 3: every "
                                "image converted to grey (luma) or to RGB. Volumes have 1"},
    "intensity": {"default": "auto", "oneOf": [
        {"enum": ["auto", "dtype", "per_item"]},
        {"type": "object", "additionalProperties": False, "required": ["min", "max"],
         "properties": {"min": {"type": "number"}, "max": {"type": "number"}}}],
        "description": "how values become [0, 1]: dtype (8-bit / 255, 16-bit / 65535, floats must be in "
                       "[0, 1]), per_item (each item's min to 0, max to 1), {min: a, max: b} (a to 0, b to 1, "
                       "clipped), auto (images: dtype, volumes: per_item)"},
    "labels": {"default": "none", "oneOf": [{"enum": ["none", "subfolders"]}, CSV_LABELS],
               "description": "none (no class labels: the probes leave the dataset out), subfolders (the first "
                              "subfolder under the folder is the class) or {csv: file, file_column: file, "
                              "label_column: label}"},
    "split": {"type": "object", "additionalProperties": False, "default": {}, "properties": {
        "val": {**FRACTION, "default": 0.15, "description": "share of the items for validation (at least 1)"},
        "test": {**FRACTION, "default": 0.15, "description": "share of the items for test (at least 1)"},
        "seed": {"type": "integer", "minimum": 0, "maximum": 4294967295, "default": 42},
    }},
}}


class FolderError(ValueError):
    """A folder source's config entry or files have a problem: one line naming the file (or key) and the fix."""


@dataclass(frozen=True)
class Listing:
    root: Path
    kind: str  # images or volumes
    files: list[str]  # paths under root, '/'-separated, sorted
    labels: list[int] | None  # the class index of each file; None: unlabelled
    classes: list[str]  # the class name of each index


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def defaults(params: dict, schema: dict = PARAMS_SCHEMA) -> dict:
    """A copy of ``params`` with the schema's defaults filled in."""
    return fill_defaults(copy.deepcopy(params), schema)


def list_files(params: dict) -> tuple[Path, str, list[str]]:
    """The folder, its kind and its files (sorted); FolderError if it is missing, empty or of mixed kinds."""
    root = Path(params["path"]).expanduser()
    if not root.exists():
        raise FolderError(f"{KEY}.path: {root} does not exist. Fix: set it to the folder that holds your images "
                          f"or volumes")
    if not root.is_dir():
        raise FolderError(f"{KEY}.path: {root} is a file, not a folder. Fix: set it to the folder that holds it")
    found = {kind: [] for kind in KINDS}
    for relative in sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()):
        path, suffix = root / relative, suffix_of(root / relative)
        if any(part.startswith(".") for part in PurePosixPath(relative).parts) or suffix in NOTE_SUFFIXES:
            continue
        kind = next((k for k, suffixes in KINDS.items() if suffix in suffixes), None)
        if kind is None:
            raise FolderError(f"{KEY}: {path} is neither an image ({', '.join(IMAGE_SUFFIXES)}) nor a volume "
                              f"({', '.join(VOLUME_SUFFIXES)}). Fix: convert it to one of them, or move it out of "
                              f"{root}")
        found[kind].append(relative)
    if found["images"] and found["volumes"]:
        raise FolderError(f"{KEY}: {root} holds images (e.g. {root / found['images'][0]}) and volumes (e.g. "
                          f"{root / found['volumes'][0]}); a folder holds one kind. Fix: move one kind to a "
                          f"folder of its own")
    kind = "images" if found["images"] else "volumes"
    if not found[kind]:
        raise FolderError(f"{KEY}.path: {root} holds no image ({', '.join(IMAGE_SUFFIXES)}) and no volume "
                          f"({', '.join(VOLUME_SUFFIXES)}). Fix: put your files in it, or set path to the folder "
                          f"that holds them")
    return root, kind, found[kind]


def class_indices(names: list[str]) -> tuple[list[int], list[str]]:
    """Each name's index among the sorted class names (numeric order where every name is an integer)."""
    numeric = all(n.strip().lstrip("-").isdigit() for n in names)
    classes = sorted(set(names), key=lambda n: int(n) if numeric else n)
    index = {c: i for i, c in enumerate(classes)}
    return [index[n] for n in names], classes


def subfolder_labels(root: Path, files: list[str]) -> list[str]:
    loose = [f for f in files if len(PurePosixPath(f).parts) < 2]
    if loose:
        raise FolderError(f"{KEY}.labels: {root / loose[0]} is not in a class subfolder (labels: subfolders takes "
                          f"each file's class from the first subfolder under {root}). Fix: move it into its "
                          f"class's subfolder, or set labels: none")
    return [PurePosixPath(f).parts[0] for f in files]


def csv_labels(root: Path, kind: str, files: list[str], spec: dict) -> list[str]:
    """The class of each file from the CSV; FolderError if a row and the files disagree."""
    spec = defaults(spec, CSV_LABELS)
    table = Path(spec["csv"]).expanduser()
    table = table if table.is_absolute() else root / table
    if not table.is_file():
        raise FolderError(f"{KEY}.labels.csv: {table} does not exist. Fix: set it to your CSV of labels (a "
                          f"relative path is relative to {root})")
    with table.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        for key in ("file_column", "label_column"):
            if spec[key] not in columns:
                raise FolderError(f"{KEY}.labels.{key}: {table} has no column {spec[key]!r}; its columns: "
                                  f"{', '.join(columns) or 'none'}. Fix: set labels.{key} to one of them")
        rows = list(reader)
    named, wanted = {}, set(files)
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        name = (row[spec["file_column"]] or "").strip().replace("\\", "/")
        label = (row[spec["label_column"]] or "").strip()
        if not name:
            raise FolderError(f"{KEY}.labels: {table} line {line} names no file (column {spec['file_column']} is "
                              f"empty). Fix: fill it in, or remove the row")
        name = PurePosixPath(name).as_posix()
        if name in named:
            raise FolderError(f"{KEY}.labels: {table} line {line} names {name} again (first on line "
                              f"{named[name][0]}). Fix: keep one row per file")
        if name not in wanted:
            raise FolderError(f"{KEY}.labels: {table} line {line} names {root / name}, which is not one of the "
                              f"{len(files)} {kind} under {root}. Fix: correct the row (paths are relative to "
                              f"{root}) or remove it")
        if not label:
            raise FolderError(f"{KEY}.labels: {table} line {line} gives {root / name} no label. Fix: fill in its "
                              f"{spec['label_column']} column")
        named[name] = (line, label)
    if missing := [f for f in files if f not in named]:
        others = f" (nor are {len(missing) - 1} other files)" if len(missing) > 1 else ""
        raise FolderError(f"{KEY}.labels: {root / missing[0]} is not in {table} (column {spec['file_column']})"
                          f"{others}. Fix: add a row for each file, or move the file out of {root}")
    return [named[f][1] for f in files]


def listing(params: dict) -> Listing:
    """The files and labels of a folder source's entry; FolderError (one line) on the first problem."""
    params = defaults(params)
    root, kind, files = list_files(params)
    labels = params["labels"]
    if labels == "none":
        return Listing(root, kind, files, None, [])
    names = subfolder_labels(root, files) if labels == "subfolders" else csv_labels(root, kind, files, labels)
    indices, classes = class_indices(names)
    if len(classes) < 2:
        how = f"{root}'s subfolders" if labels == "subfolders" else str(labels["csv"])
        raise FolderError(f"{KEY}.labels: {how} give one class ({classes[0]}); the probes need two or more. Fix: "
                          f"add files of another class, or set labels: none")
    return Listing(root, kind, files, indices, classes)


def split_counts(n: int, split: dict, root: Path) -> tuple[int, int]:
    """Items for validation and for test: each share of n, rounded, at least 1; FolderError if none is left to train."""
    n_val, n_test = max(1, round(split["val"] * n)), max(1, round(split["test"] * n))
    if n - n_val - n_test < 1:
        raise FolderError(f"{KEY}.split: {root} holds {n} item(s), fewer than the split needs: {n_val} for "
                          f"validation and {n_test} for test leave {n - n_val - n_test} to train. Fix: add items "
                          f"(3 at the very least), or lower split.val and split.test")
    return n_val, n_test


def split_items(n: int, split: dict, root: Path) -> dict[str, np.ndarray]:
    """Seeded split of items 0..n-1 (in the listing's sorted order), each split in that order."""
    n_val, n_test = split_counts(n, split, root)
    order = np.random.default_rng(split["seed"]).permutation(n)
    parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    return {name: np.sort(parts[name]) for name in SPLITS}


def image_channels(path: Path) -> int:
    """The channel count of an image file, from its header (1 for grey modes, else 3)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return 1 if image.mode in GREY_MODES else 3
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise unreadable(path, "an image", exc) from exc


def unreadable(path: Path, what: str, exc: BaseException) -> FolderError:
    return FolderError(f"{KEY}: {path}: cannot read it as {what} ({type(exc).__name__}: {exc}). Fix: replace it "
                       f"with a readable file, or remove it")


def read_image(path: Path) -> np.ndarray:
    """(C, H, W) of an image file in its own data type: C = 1 (grey modes, alpha dropped) or 3 (any other)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("1", "LA", "La"):
                image = image.convert("L")
            elif image.mode not in GREY_MODES and image.mode != "RGB":
                image = image.convert("RGB")  # alpha dropped; palette, CMYK, YCbCr ... as RGB
            array = np.asarray(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise unreadable(path, "an image", exc) from exc
    return array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)


def read_volume(path: Path) -> np.ndarray:
    """(1, D, H, W) of a volume file (NIfTI or .npy) in its own data type (NIfTI: float32), its size checked first."""
    fix = "Fix: replace it with a readable 3-D volume, or remove it"
    if suffix_of(path) != ".npy":
        return load_nifti(path, fix)[None]
    try:
        volume = np.load(path, mmap_mode="r", allow_pickle=False)  # the header alone, until the data is used
    except READ_ERRORS as exc:
        raise unreadable(path, "a NumPy array", exc) from exc
    if volume.ndim != 3 or volume.dtype.kind not in "biuf":
        raise FolderError(f"{KEY}: {path} holds a {volume.dtype} array of shape {volume.shape}, not a 3-D volume "
                          f"(D, H, W) of numbers. Fix: save each volume as one 3-D array")
    if math.prod(volume.shape) > MAX_VOXELS:
        raise FolderError(f"{KEY}: {path} has {math.prod(volume.shape)} voxels, more than MAX_VOXELS = "
                          f"{MAX_VOXELS}. Fix: downsample it before")
    return np.array(volume)[None]


def to_unit(item: np.ndarray, mode, kind: str, path: Path) -> np.ndarray:
    """float32 values in [0, 1] by the ``intensity`` setting."""
    values = item.astype(np.float32)
    if not np.isfinite(values).all():
        raise FolderError(f"{KEY}: {path} holds NaN or infinite values. Fix: replace them, or remove the file")
    if mode == "auto":
        mode = "dtype" if kind == "images" else "per_item"
    if isinstance(mode, dict):
        return np.clip((values - mode["min"]) / (mode["max"] - mode["min"]), 0, 1)
    if mode == "per_item":
        low, high = float(values.min()), float(values.max())
        return (values - low) / (high - low) if high > low else np.zeros_like(values)
    if item.dtype in UNIT_DTYPES:
        return values / UNIT_DTYPES[item.dtype]
    low, high = float(values.min()), float(values.max())
    if item.dtype.kind == "f" and low >= 0 and high <= 1:
        return values
    raise FolderError(f"{KEY}.intensity: {path} holds {item.dtype} values in [{low:g}, {high:g}], which its data "
                      f"type does not map to [0, 1] (8-bit, 16-bit, or floats in [0, 1] do). Fix: set intensity: "
                      f"per_item, or intensity: {{min: ..., max: ...}} with the range of your data")


def to_channels(item: np.ndarray, channels: int) -> np.ndarray:
    """(C, ...) in [0, 1] to ``channels``: grey repeated to RGB, or RGB to luma (ITU-R 601-2, as Pillow's)."""
    if item.shape[0] == channels:
        return item
    if channels == 3:
        return np.repeat(item, 3, axis=0)
    return np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), item, axes=1)[None]


def folder_channels(params: dict) -> int:
    """The channel count of the prepared arrays: ``channels``, else the first file's (volumes: 1)."""
    params = defaults(params)
    root, kind, files = list_files(params)
    if kind == "volumes":
        return 1
    return params["channels"] or image_channels(root / files[0])


def folder_dims(params: dict) -> int:
    return 3 if list_files(defaults(params))[1] == "volumes" else 2


def folder_labelled(params: dict) -> bool:
    return defaults(params)["labels"] != "none"


def folder_problems(params: dict) -> list[str]:
    """What is wrong with a folder entry, from a listing of the folder and its first file (before any job runs)."""
    params = defaults(params)
    window = params["intensity"]
    if isinstance(window, dict) and not window["max"] > window["min"]:
        return [f"{KEY}.intensity: max {window['max']} is not above min {window['min']}. Fix: give the range "
                f"of your data, min below max"]
    if params["split"]["val"] + params["split"]["test"] >= 1:
        return [f"{KEY}.split: val {params['split']['val']} + test {params['split']['test']} leave nothing to "
                f"train. Fix: make their sum below 1"]
    try:
        found = listing(params)
        split_counts(len(found.files), params["split"], found.root)
        if found.kind == "volumes" and params["channels"] == 3:
            raise FolderError(f"{KEY}.channels: {found.root} holds volumes, which have one channel. Fix: set "
                              f"channels: 1, or leave it out")
        folder_channels(params)
    except FolderError as exc:
        return [str(exc)]
    return []


def folder_inputs(params: dict) -> list[str]:
    """The files a prepare reads (the items and a labels CSV): a change of any of them prepares the folder again."""
    found = listing(params)
    labels = defaults(params)["labels"]
    table = [] if not isinstance(labels, dict) else [Path(labels["csv"]).expanduser()]
    return [str(found.root / f) for f in found.files] + [str(t if t.is_absolute() else found.root / t) for t in table]


def prepare_folder(**params) -> dict[str, np.ndarray]:
    """uint8 (N, C, size, size[, size]) per split, ``{split}_y``, ``{split}_files`` and ``classes``."""
    params = defaults(params)
    if problems := folder_problems(params):
        raise FolderError(problems[0])
    found = listing(params)
    read = read_image if found.kind == "images" else read_volume
    channels, first = params["channels"], None
    items = []
    for name in found.files:
        path = found.root / name
        item = read(path)
        if channels is None and first is None:
            first = (path, item.shape[0])
        elif channels is None and item.shape[0] != first[1]:
            raise FolderError(f"{KEY}: {path} has {item.shape[0]} channel(s), but {first[0]} has {first[1]}; a "
                              f"folder holds one channel count. Fix: convert the files to one, or set channels: 1 "
                              f"(grey) or channels: 3 (RGB) to convert every image")
        unit = to_channels(to_unit(item, params["intensity"], found.kind, path), channels or item.shape[0])
        items.append(np.round(fit_to_size(unit, params["size"], params["fit"]) * 255).astype(np.uint8))
    labels = np.array(found.labels if found.labels is not None else [-1] * len(items), dtype=np.int64)
    names = np.array(found.files)
    arrays = {"classes": np.array(found.classes, dtype=str)}
    for split, index in split_items(len(items), params["split"], found.root).items():
        arrays[f"{split}_x"] = np.stack([items[i] for i in index])
        arrays[f"{split}_y"] = labels[index]
        arrays[f"{split}_files"] = names[index]
    return arrays


register_source(Source(
    name="folder", prepare=prepare_folder, spatial_dims=folder_dims, channels=folder_channels,
    labelled=folder_labelled, check_params=folder_problems, inputs=folder_inputs, image_size=32,
    params_schema=PARAMS_SCHEMA,
))
