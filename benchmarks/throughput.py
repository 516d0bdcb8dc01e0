"""Training throughput of the MNIST ALD model at batch 64: our batched pairs vs the authors' per-sample loop.

    python benchmarks/throughput.py [--mirror ../shared/data] [--threads 2] [--steps 150] [--repeats 3]

"authors" rotates each sample separately in a Dataset's __getitem__ and batches with a DataLoader,
as the released script does; "ours" plans g for the whole epoch and rotates a batch with at most
four rot90 calls (ald.pairs.PairSet). Both feed the identical training step; the script checks that
both make the same batches bit for bit. It prints pairs/s (median over repeats, interleaved), the
speed-up, and the achieved FLOP rate as a fraction of this machine's measured float32 matmul rate.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from ald.pairs import NoRecipe, PairSet, seeded_generator
from ald.sources.glyphs import prepare_glyphs
from ald.sources.mnist import prepare_mnist
from ald.groups import C4
from ald.models.ald import ALD

BATCH = 64


class PerSampleRotation(Dataset):
    """The authors' approach: one image, one rotation, per __getitem__ call."""

    def __init__(self, images: np.ndarray, ks: torch.Tensor):
        self.images, self.ks = images, ks

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i]).float() / 127.5 - 1.0  # (1, 28, 28)
        k = int(self.ks[i])
        return x, torch.rot90(x, k, dims=(1, 2)), k


def load_images(mirror: str | None, n: int) -> tuple[np.ndarray, str]:
    if mirror and (Path(mirror) / "mnist/train-images-idx3-ubyte.gz").exists():
        return prepare_mnist(Path(mirror) / "mnist", n_val=10000, split_seed=0)["train_x"][:n], "MNIST"
    return prepare_glyphs(n, 1, 1, seed=0)["train_x"], "generated glyphs (no MNIST mirror given)"


def training_step(model, optimizer):
    def step(x, tx, g):
        optimizer.zero_grad(set_to_none=True)
        loss = model.total_loss(model.loss_terms(x, tx, g))
        loss.backward()
        optimizer.step()
    return step


def time_loop(batches, step) -> float:
    """Pairs per second over an iterator of batches (the iterator's own work is included)."""
    tic, pairs = time.perf_counter(), 0
    for x, tx, g in batches:
        step(x, tx, g)
        pairs += len(x)
    return pairs / (time.perf_counter() - tic)


def ours_batches(pairs: PairSet, steps: int):
    order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(0))
    for s in range(steps):
        yield pairs.batch(order[s * BATCH : (s + 1) * BATCH])[:3]  # x, T_g(x), g


def authors_batches(dataset: PerSampleRotation, steps: int):
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0))
    for s, batch in enumerate(loader):
        if s == steps:
            break
        yield batch


def matmul_flops_per_second(threads: int, size: int = 1024, reps: int = 20) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    tic = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * size**3 * reps / (time.perf_counter() - tic)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", default=str(Path(__file__).resolve().parents[2] / "shared/data"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    images, what = load_images(args.mirror, args.steps * BATCH)
    pairs = PairSet.plan({"x": images, "y": np.zeros(len(images))}, C4(), NoRecipe(), seeded_generator(0, 1, 1))
    dataset = PerSampleRotation(images, pairs.g)

    # Same numerics: both paths produce the same (x, T_g(x)) for the same items and elements.
    idx = torch.arange(BATCH)
    x, tx, _, _ = pairs.batch(idx)
    reference = [dataset[i] for i in range(BATCH)]
    assert torch.equal(x, torch.stack([r[0] for r in reference])) and torch.equal(tx, torch.stack([r[1] for r in reference]))

    torch.manual_seed(0)
    model = ALD(C4())
    step = training_step(model, torch.optim.Adam(model.parameters(), lr=1e-3))
    with FlopCounterMode(display=False) as counter:
        step(*pairs.batch(idx)[:3])
    flops_per_pair = counter.get_total_flops() / BATCH
    for batch in ours_batches(pairs, 10):  # warm-up
        step(*batch)

    results = {"authors": [], "ours": []}
    for _ in range(args.repeats):  # interleaved, so drifts of a shared machine hit both alike
        results["authors"].append(time_loop(authors_batches(dataset, args.steps), step))
        results["ours"].append(time_loop(ours_batches(pairs, args.steps), step))
    peak = matmul_flops_per_second(args.threads)

    print(f"data: {what}; batch {BATCH}; {args.steps} steps x {args.repeats} repeats; threads {args.threads}; "
          f"torch {torch.__version__}")
    print(f"model: ALD (C4), {flops_per_pair / 1e6:.1f} MFLOP per training pair (forward + backward, counted)")
    print(f"machine: float32 matmul 1024^3 at {peak / 1e9:.1f} GFLOP/s")
    for name, values in results.items():
        rate = statistics.median(values)
        print(f"{name:8s} {rate:8.0f} pairs/s  (runs: {', '.join(f'{v:.0f}' for v in values)}; "
              f"{rate * flops_per_pair / peak:.1%} of matmul peak)")
    speedup = statistics.median(results["ours"]) / statistics.median(results["authors"])
    print(f"speed-up ours / authors: {speedup:.2f}x (target >= 1.5x); batches identical: yes")


if __name__ == "__main__":
    main()
