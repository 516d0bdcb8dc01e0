"""Apply a trained run to a picture or volume of your own: T_g(x) for a group element given as you think of
it, or the latent swap of two inputs. `ald transform` is the command; `transform_file` the library call.

Inputs and outputs: PNG or JPEG (grayscale or RGB), `.npy` (C, *spatial) or (*spatial), NIfTI (`.nii`,
`.nii.gz`). The input is resized to the run's image size and scaled to the model's range; the output is
written in the input's format, at the input's size and in its intensity range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .groups import O, Group
from .pairs import to_model_range
from .training import TrainedRun

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class Loaded:
    """An input on [0, 1], (C, *spatial) float32, with what it takes to write an output like it."""

    array: np.ndarray
    kind: str  # "image", "npy" or "nifti"
    low: float = 0.0  # the intensity range that [0, 1] maps back to
    high: float = 1.0
    squeeze: bool = False  # an .npy or NIfTI without a channel axis
    mode: str = "L"  # a PNG's or JPEG's mode
    nifti: object = None  # the NIfTI image, for its affine and header


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def unit_range(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Values on [0, 1] as they are; any other range min-max scaled (and the range kept to restore it)."""
    values = values.astype(np.float32)
    low, high = float(values.min()), float(values.max())
    if low >= 0.0 and high <= 1.0:
        return values, 0.0, 1.0
    if high == low:
        raise ValueError(f"the input is constant ({low}): there is nothing to transform")
    return (values - low) / (high - low), low, high


def read_input(path: Path, spatial_dims: int) -> Loaded:
    path, suffix = Path(path), suffix_of(Path(path))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if suffix in IMAGE_SUFFIXES:
        from PIL import Image

        with Image.open(path) as image:
            mode = "RGB" if image.mode not in ("L", "I;16", "I", "F", "1") else "L"
            pixels = np.asarray(image.convert(mode), dtype=np.float32) / 255.0
        array = pixels[None] if mode == "L" else pixels.transpose(2, 0, 1)
        return Loaded(array, "image", mode=mode)
    if suffix == ".npy":
        raw = np.load(path, allow_pickle=False)
        squeeze = raw.ndim == spatial_dims
        scaled, low, high = unit_range(raw[None] if squeeze else raw)
        return Loaded(scaled, "npy", low, high, squeeze)
    if suffix in (".nii", ".nii.gz"):
        import nibabel

        volume = nibabel.load(str(path))
        data = np.squeeze(np.asarray(volume.dataobj, dtype=np.float32))
        scaled, low, high = unit_range(data[None])
        return Loaded(scaled, "nifti", low, high, True, nifti=volume)
    raise ValueError(f"{path}: unknown format {suffix!r}; use PNG, JPEG, .npy, .nii or .nii.gz")


def write_output(loaded: Loaded, array: np.ndarray, path: Path) -> None:
    """``array`` (C, *spatial) on [0, 1], at the input's size, written as the input was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    restored = array * (loaded.high - loaded.low) + loaded.low
    if loaded.kind == "image":
        from PIL import Image

        pixels = np.round(np.clip(array, 0, 1) * 255).astype(np.uint8)
        Image.fromarray(pixels[0] if loaded.mode == "L" else pixels.transpose(1, 2, 0), loaded.mode).save(path)
    elif loaded.kind == "npy":
        np.save(path, restored[0] if loaded.squeeze else restored)
    else:
        import nibabel

        nibabel.save(nibabel.Nifti1Image(restored[0], loaded.nifti.affine, loaded.nifti.header), str(path))


def model_input(run: TrainedRun, loaded: Loaded, name: str) -> torch.Tensor:
    """The input as the model takes it: (1, C, *size) on [-1, 1], resized to the run's image size."""
    layout = run.layout
    array = loaded.array
    if array.ndim - 1 != layout["spatial_dims"]:
        raise ValueError(f"{name}: a {array.ndim - 1}-D input, but the run's model takes {layout['spatial_dims']}-D "
                         f"inputs of {layout['in_channels']} channel(s)")
    if array.shape[0] != layout["in_channels"]:
        raise ValueError(f"{name}: {array.shape[0]} channel(s), but the run's model takes {layout['in_channels']}; "
                         "convert it first (e.g. to grayscale)")
    x = torch.from_numpy(np.ascontiguousarray(array))[None]
    size = (layout["image_size"],) * layout["spatial_dims"]
    if tuple(x.shape[2:]) != size:
        x = F.interpolate(x, size=size, mode="bilinear" if len(size) == 2 else "trilinear", align_corners=False)
    return to_model_range(x.clamp(0, 1))


def resized_back(y: torch.Tensor, loaded: Loaded) -> np.ndarray:
    """A model output (1, C, *size) on [-1, 1] as (C, *the input's size) on [0, 1]."""
    shape = loaded.array.shape[1:]
    if tuple(y.shape[2:]) != shape:
        y = F.interpolate(y, size=shape, mode="bilinear" if len(shape) == 2 else "trilinear", align_corners=False)
    return ((y[0].double().cpu().numpy() + 1.0) / 2.0).clip(0.0, 1.0)


def quarter_turns(angle: float, group: str) -> int:
    turns = angle / 90.0
    if abs(turns - round(turns)) > 1e-9:
        raise ValueError(f"group {group} has only quarter turns: {angle:g} degrees is not a multiple of 90")
    return int(round(turns)) % 4


def axis_angle_matrix(axis: list[float], angle: float) -> torch.Tensor:
    """The rotation by ``angle`` degrees about ``axis``, given in the volume's (depth, row, column) axes."""
    from scipy.spatial.transform import Rotation

    axis = np.asarray(axis, dtype=np.float64)
    if axis.shape != (3,) or not np.linalg.norm(axis):
        raise ValueError(f"axis {axis.tolist()}: give three numbers (depth, row, column), not all zero")
    return torch.from_numpy(Rotation.from_rotvec(axis / np.linalg.norm(axis) * math.radians(angle)).as_matrix())


def group_element(group: Group, angle: float | None = None, axis: list[float] | None = None,
                  euler: list[float] | None = None, cube_index: int | None = None) -> torch.Tensor:
    """One element of ``group`` (a batch of one) from what a user writes:
    C4: an angle in degrees, a multiple of 90; SO2: any angle in degrees; SO3: an axis and an angle, or Euler
    angles (degrees, intrinsic z-y-x about depth, row, column); O: a cube-rotation index 0-23, or an axis and
    an angle that is a quarter turn."""
    name = group.name
    given = {k for k, v in dict(angle=angle, axis=axis, euler=euler, cube_index=cube_index).items() if v is not None}
    allowed = {"C4": ({"angle"},), "SO2": ({"angle"},), "SO3": ({"axis", "angle"}, {"euler"}),
               "O": ({"cube_index"}, {"axis", "angle"})}.get(name)
    if allowed is None:
        raise ValueError(f"group {name}: no way to write its elements here")
    if given not in allowed:
        ways = " or ".join("+".join(f"--{k.replace('_', '-')}" for k in sorted(a)) for a in allowed)
        raise ValueError(f"group {name} takes {ways}; got {', '.join(sorted(given)) or 'nothing'}")
    if name == "C4":
        return torch.tensor([quarter_turns(angle, name)])
    if name == "SO2":
        return torch.tensor([math.radians(angle)], dtype=torch.float64)
    if name == "O":
        if cube_index is not None:
            if not 0 <= cube_index < 24:
                raise ValueError(f"cube index {cube_index}: the cube group O has 24 elements, 0 to 23")
            return torch.tensor([cube_index])
        quarter_turns(angle, name)
        return O.index(axis_angle_matrix(axis, angle)[None])
    if euler is not None:
        from scipy.spatial.transform import Rotation

        if len(euler) != 3:
            raise ValueError(f"euler {euler}: give three angles in degrees")
        return torch.from_numpy(Rotation.from_euler("ZYX", euler, degrees=True).as_matrix())[None]
    return axis_angle_matrix(axis, angle)[None]


@torch.no_grad()
def transformed(run: TrainedRun, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """The prediction of T_g(x) for model inputs x (n, C, *size) on [-1, 1]."""
    device = next(run.model.parameters()).device
    return run.model.predict(x.to(device), g.to(device))


@torch.no_grad()
def swapped(run: TrainedRun, x_variant: torch.Tensor, x_invariant: torch.Tensor) -> torch.Tensor:
    """The decoding of z_v of the first input with z_i of the second."""
    device = next(run.model.parameters()).device
    z_v, _ = run.model.split(run.model.encode(x_variant.to(device)))
    _, z_i = run.model.split(run.model.encode(x_invariant.to(device)))
    return run.model.decode(z_v + z_i)


def transform_file(run: TrainedRun, source: Path, out: Path, element: dict | None = None,
                   swap_with: Path | None = None) -> Path:
    """Write T_g(source) (``element``: the keywords of ``group_element``), or the decoding of source's z_v
    with ``swap_with``'s z_i, to ``out`` in the source's format, size and intensity range."""
    if (element is None) == (swap_with is None):
        raise ValueError("give either a group element or a second input to swap with, not both")
    if str(suffix_of(Path(out))) != str(suffix_of(Path(source))):
        raise ValueError(f"{out}: write the output in the input's format ({suffix_of(Path(source))})")
    dims = run.layout["spatial_dims"]
    loaded = read_input(source, dims)
    x = model_input(run, loaded, str(source))
    if swap_with is not None:
        y = swapped(run, x, model_input(run, read_input(swap_with, dims), str(swap_with)))
    else:
        y = transformed(run, x, group_element(run.group, **element))
    write_output(loaded, resized_back(y.float(), loaded), out)
    return Path(out)
