"""Generated digit-like glyphs: the offline demo's stand-in for MNIST (no download, labels kept)."""

from __future__ import annotations

import numpy as np

from . import Source, register_source

# Seven-segment strokes in a unit box (x right, y down), and the segments of each digit.
SEGMENTS = {
    "a": ((0, 0), (1, 0)), "b": ((1, 0), (1, 0.5)), "c": ((1, 0.5), (1, 1)), "d": ((0, 1), (1, 1)),
    "e": ((0, 0.5), (0, 1)), "f": ((0, 0), (0, 0.5)), "g": ((0, 0.5), (1, 0.5)),
}
DIGIT_SEGMENTS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]


def render_glyphs(labels: np.ndarray, rng: np.random.Generator, size: int = 28) -> np.ndarray:
    """Digit-like seven-segment glyphs with random size, slant, offset and stroke width (uint8 (N, H, W))."""
    n = len(labels)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    pix = np.stack([xx.ravel(), yy.ravel()], 1)  # (P, 2)
    width = rng.uniform(0.3, 0.5, n) * size
    height = rng.uniform(0.55, 0.7, n) * size
    slant = rng.uniform(-0.25, 0.25, n)
    cx = size / 2 + rng.uniform(-1.5, 1.5, n)
    cy = size / 2 + rng.uniform(-1.5, 1.5, n)
    stroke = rng.uniform(1.0, 1.8, n)
    images = np.zeros((n, size * size), np.float32)
    for name, ((x0, y0), (x1, y1)) in SEGMENTS.items():
        has = np.array([name in DIGIT_SEGMENTS[c] for c in labels])
        if not has.any():
            continue

        def place(u, v):
            px = cx + (u - 0.5) * width - slant * (v - 0.5) * height
            py = cy + (v - 0.5) * height
            return np.stack([px, py], 1)[has]

        a, b = place(x0, y0), place(x1, y1)  # (n', 2)
        ab = b - a
        t = ((pix[None] - a[:, None]) * ab[:, None]).sum(-1) / (ab**2).sum(-1)[:, None]
        closest = a[:, None] + np.clip(t, 0, 1)[..., None] * ab[:, None]
        dist = np.linalg.norm(pix[None] - closest, axis=-1)
        ink = np.clip(stroke[has, None] + 0.5 - dist, 0, 1)  # anti-aliased edge one pixel wide
        images[has] = np.maximum(images[has], ink)
    return (images.reshape(n, size, size) * 255).round().astype(np.uint8)


def prepare_glyphs(n_train: int, n_val: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in [("train", n_train), ("val", n_val), ("test", n_test)]:
        labels = rng.integers(0, 10, n).astype(np.uint8)
        out[f"{split}_x"], out[f"{split}_y"] = render_glyphs(labels, rng)[:, None], labels
    return out


COUNT = {"type": "integer", "minimum": 1}
register_source(Source(
    name="glyphs", prepare=prepare_glyphs, spatial_dims=2, channels=1,
    params_schema={"type": "object", "additionalProperties": False, "required": ["n_train", "n_val", "n_test", "seed"],
                   "properties": {"n_train": COUNT, "n_val": COUNT, "n_test": COUNT, "seed": {"type": "integer"}}},
))
