"""Training throughput and peak memory of one 3-D ALD training job (AdrenalMNIST3D, the paper's 64^3).

    python benchmarks/volumes.py [--mirror ../shared/data] [--size 64] [--group O] [--batch 64] [--steps 5]

Runs the real training step (ALD's loss terms, backward, Adam) on volume pairs built by ald.pairs from
the real AdrenalMNIST3D file when the mirror has it, else on generated blobs of the same size. Prints
volume pairs/s (median over steps after a warm-up step), and the peak memory of the process: resident
set size on the CPU, and torch's peak allocation on a GPU when one is used.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ald.acquire import fetch
from ald.groups import get_group
from ald.models import build_model
from ald.pairs import NoRecipe, pair_set
from ald.sources import get_source, prepare, save_source


def volume_npz(mirror: str, size: int, folder: Path) -> tuple[Path, str]:
    """A prepared AdrenalMNIST3D file from the mirror, or generated blobs when the mirror lacks it."""
    source = get_source("adrenalmnist3d")
    raw = folder / "raw"
    try:
        for spec in source.files.values():
            fetch(spec, raw / spec.name, mirror=Path(mirror) / "adrenalmnist3d", allow_network=False, log=lambda _: None)
        arrays, what = prepare("adrenalmnist3d", {"size": size}, raw), f"AdrenalMNIST3D {size}^3"
    except Exception as exc:  # no mirror here: the same shapes from the generator
        arrays = prepare("blobs3d", {"size": size, "n_train": 256, "n_val": 8, "n_test": 8, "seed": 0})
        what = f"generated blobs {size}^3 (AdrenalMNIST3D not found: {exc.__class__.__name__})"
    save_source(arrays, folder / "volumes.npz")
    return folder / "volumes.npz", what


def peak_memory_gib(device: torch.device) -> str:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    if device.type == "cuda":
        return f"process peak RSS {rss:.2f} GiB; GPU peak allocated {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB"
    return f"process peak RSS {rss:.2f} GiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", default=str(Path(__file__).resolve().parents[2] / "shared/data"))
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--group", default="O")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    with tempfile.TemporaryDirectory() as tmp:
        npz, what = volume_npz(args.mirror, args.size, Path(tmp))
        group = get_group(args.group)
        pairs = pair_set(npz, "train", group, NoRecipe(), seed=0)
    torch.manual_seed(0)
    params = {"kind": "ald", "latent_rms_norm": not group.exact}
    model = build_model(params, group, in_channels=1, spatial_dims=3).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rates = []
    for step in range(args.steps + 1):  # step 0 warms up
        idx = torch.arange(step * args.batch, (step + 1) * args.batch) % len(pairs)
        tic = time.perf_counter()
        x, tx, g, _ = pairs.batch(idx, device)
        optimizer.zero_grad(set_to_none=True)
        model.total_loss(model.loss_terms(x, tx, g)).backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step:
            rates.append(args.batch / (time.perf_counter() - tic))
    print(f"data: {what}; group {args.group}; batch {args.batch}; device {device}; threads {args.threads}")
    print(f"ALD training: {statistics.median(rates):.1f} volume pairs/s (median of {args.steps} steps); "
          f"{len(pairs) / statistics.median(rates):.0f} s per epoch of {len(pairs)} pairs")
    print(f"peak memory: {peak_memory_gib(device)}")


if __name__ == "__main__":
    main()
