"""Generated 3-D blobs: the offline demo's stand-in for AdrenalMNIST3D (no download, labels kept).

Each volume is an egg (an ellipsoid whose one end is blunter than the other) with random radii,
orientation and centre; label 1 adds a bump on one side, as an enlarged gland would have. The egg shape
and the bump make every volume asymmetric, so a rotation of it is visible.
"""

from __future__ import annotations

import numpy as np

from . import Source, register_source

N_CLASSES = 2  # 0: plain egg, 1: egg with a bump
VOXELS_PER_CHUNK = 1 << 22  # bounds the float32 temporaries of one rendering step (~50 MB each)


def random_rotations(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniformly random rotation matrices (n, 3, 3) from unit quaternions."""
    w, x, y, z = rng.standard_normal((4, n))
    norm = np.sqrt(w**2 + x**2 + y**2 + z**2)
    w, x, y, z = w / norm, x / norm, y / norm, z / norm
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], 1)


def draw_blobs(labels: np.ndarray, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """The random shape of each volume, in voxels; the body axes are the columns of ``rotation``."""
    n = len(labels)
    radii = rng.uniform(0.18, 0.25, (n, 3)) * size
    rotation = random_rotations(n, rng)
    centre = size / 2 + rng.uniform(-0.04, 0.04, (n, 3)) * size  # the volume stays inside the grid's ball
    return dict(
        radii=radii,
        blunt=rng.uniform(0.6, 0.75, n),  # the -x half is this much shorter than the +x half
        rotation=rotation,
        centre=centre,
        bump_centre=centre + radii[:, 1:2] * rotation[:, :, 1],  # on the surface, at the end of the y axis
        bump_radius=rng.uniform(0.14, 0.18, n) * size * (labels == 1),
    )


def render_blobs(shape: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Volumes (N, D, D, D) in [0, 1] with edges anti-aliased over about one voxel."""
    s = {key: value.astype(np.float32) for key, value in shape.items()}
    grid = np.stack(np.meshgrid(*[np.arange(size, dtype=np.float32) + 0.5] * 3, indexing="ij"), -1).reshape(-1, 3)
    x, y, z = np.moveaxis((grid[None] - s["centre"][:, None]) @ s["rotation"], -1, 0)  # body coordinates (n, P)
    rx, ry, rz = s["radii"][:, :, None].transpose(1, 0, 2)
    rx = np.where(x < 0, rx * s["blunt"][:, None], rx)
    level = np.sqrt((x / rx) ** 2 + (y / ry) ** 2 + (z / rz) ** 2)  # 1 on the surface
    body = np.clip((1 - level) * s["radii"].mean(1, keepdims=True) + 0.5, 0, 1)
    bump_distance = np.sqrt(((grid[None] - s["bump_centre"][:, None]) ** 2).sum(-1))
    radius = s["bump_radius"][:, None]
    bump = np.clip(radius + 0.5 - bump_distance, 0, 1) * (radius > 0)
    return np.maximum(body, bump).reshape(-1, size, size, size)


def make_blobs(labels: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """uint8 volumes (N, D, D, D) of the given labels, rendered a chunk at a time."""
    shape = draw_blobs(labels, rng, size)
    chunk = max(1, VOXELS_PER_CHUNK // size**3)
    parts = [render_blobs({key: value[i : i + chunk] for key, value in shape.items()}, size)
             for i in range(0, len(labels), chunk)]
    return (np.concatenate(parts) * 255).round().astype(np.uint8)


def prepare_blobs3d(size: int, n_train: int, n_val: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in [("train", n_train), ("val", n_val), ("test", n_test)]:
        labels = rng.integers(0, N_CLASSES, n).astype(np.uint8)
        out[f"{split}_x"], out[f"{split}_y"] = make_blobs(labels, rng, size)[:, None], labels
    return out


COUNT = {"type": "integer", "minimum": 1}
register_source(Source(
    name="blobs3d", prepare=prepare_blobs3d, spatial_dims=3, channels=1,
    params_schema={"type": "object", "additionalProperties": False, "required": ["n_train", "n_val", "n_test", "seed"],
                   "properties": {"size": {"type": "integer", "minimum": 8, "default": 16},
                                  "n_train": COUNT, "n_val": COUNT, "n_test": COUNT, "seed": {"type": "integer"}}},
))
