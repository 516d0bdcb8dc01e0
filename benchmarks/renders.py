"""Rendering throughput of the airplanes source: meshes under SO(3) rotations, offscreen on the CPU (EGL).

    python benchmarks/renders.py [--mirror ../shared/data] [--size 64] [--rotations 100] [--repeats 3]

Renders every real ShapeNet mesh in <mirror>/shapenet_airplanes under the same seeded rotations (2x
supersampled, as the dataset does), then composites pairs over the real SWIMSEG skies in <mirror>/swimseg.
Prints mesh loading time, renders per second (median over repeats) and pairs per second.
Without the mirror it uses the demo's procedural airplanes and skies.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ald.sources.airplanes import MESH_GLOB, SKY_GLOB, load_meshes, load_skies, make_pairs, render_views
from ald.sources.toy_airplanes import toy_airplane, toy_sky


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", default=os.environ.get("ALD_SHARED_DATA", "../shared/data"))
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rotations", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=1000, help="pairs per object to composite")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    mesh_paths = sorted(Path(args.mirror).glob(f"shapenet_airplanes/{MESH_GLOB}"))
    sky_paths = sorted(Path(args.mirror).glob(f"swimseg/{SKY_GLOB}"))
    start = time.perf_counter()
    if mesh_paths and sky_paths:
        meshes, _, _ = load_meshes(mesh_paths)
        skies, what = load_skies(sky_paths), f"{len(mesh_paths)} real ShapeNet meshes, {len(sky_paths)} real SWIMSEG skies"
    else:
        rng = np.random.default_rng(0)
        meshes, skies = [toy_airplane(rng) for _ in range(5)], [toy_sky(256, rng) for _ in range(10)]
        what = f"5 procedural airplanes and 10 generated skies (no mirror at {args.mirror})"
    load_s = time.perf_counter() - start
    faces = sum(len(m.faces) for m in meshes)
    rotations = Rotation.random(args.rotations, random_state=0).as_matrix()
    n = len(meshes) * args.rotations
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        views = render_views(meshes, rotations, args.size)
        times.append(time.perf_counter() - start)
    render_s = statistics.median(times)
    start = time.perf_counter()
    make_pairs(views, rotations, skies, np.arange(len(meshes)), np.arange(len(skies)), args.pairs, np.random.default_rng(0))
    pair_s = time.perf_counter() - start
    print(f"data: {what} ({faces:,} faces in all); loading {load_s:.2f} s")
    print(f"render {args.size}x{args.size} (2x supersampled), {n} views: {render_s:.2f} s median of {args.repeats} "
          f"-> {n / render_s:.0f} renders/s ({1000 * render_s / n:.1f} ms each)")
    print(f"composite {len(meshes) * args.pairs} pairs over sky crops: {pair_s:.2f} s -> "
          f"{len(meshes) * args.pairs / pair_s:.0f} pairs/s")


if __name__ == "__main__":
    main()
