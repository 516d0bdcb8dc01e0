"""Training throughput at batch 64, side by side in one process: the authors' loop, ours in fp32, each
variant of the step, and ours as `ald.training` runs it; then concurrent jobs and the paper grid's projection.

    python benchmarks/throughput.py [--mirror ../shared/data] [--cases rmnist adrenal64] [--threads 2]
                                    [--steps 40] [--steps-3d 2] [--repeats 3] [--jobs 1 4 16] [--no-projection]

Cases: ALD on real Rotated MNIST (C4, 28x28) and on real AdrenalMNIST3D at the paper's 64^3 (O), from the
offline mirror (generated glyphs / blobs of the same shapes without it). Loops, each the same model, Adam
and batch 64:
  authors          a Dataset that rotates one image per __getitem__, batched by a DataLoader (the released script)
  ours fp32        pairs planned per epoch, <= 4 rot90 calls (24 permutations for O) per batch
  + channels_last  channels-last memory for images, latents and weights
  + one pass       one encoder call on [x; T_g(x)], the target half detached (split_action_losses(one_pass=True))
  + compile        torch.compile of the loss (compile time printed apart)
  + bf16           autocast bf16 (measured where the hardware has bf16 units; --emulated-bf16: on 2-D anyway)
  1 thread         ours fp32 on one thread (two one-thread jobs share the two cores: see the concurrent jobs)
  training loop    ald.training.run_epoch with its Compute: what a run does (upload once, sums on the device)
Each prints pairs/s (median over interleaved repeats), the speed-up over the authors' loop and the achieved
FLOP rate as a fraction of this machine's measured matmul rate for that precision. Then: N concurrent
training jobs (separate processes, as Snakemake runs them) and their aggregate pairs/s and peak memory,
and the wall time the paper grid (the train jobs of `snakemake -n --forceall all`) would take here.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from ald.groups import get_group
from ald.models import build_model, split_action_losses
from ald.pairs import NoRecipe, PairSet, seeded_generator
from ald.sources import load_split
from ald.sources.glyphs import prepare_glyphs
from ald.sources.mnist import prepare_mnist
from ald.compute import Compute, bf16_supported
from ald.training import run_epoch

sys.path.insert(0, str(Path(__file__).parent))
from volumes import volume_npz  # noqa: E402

BATCH = 64
REPO = Path(__file__).resolve().parents[1]
CASES = {"rmnist": ("C4", 2), "adrenal64": ("O", 3)}


class PerSampleRotation(Dataset):
    """The authors' approach: one image, one group element, per __getitem__ call."""

    def __init__(self, images: np.ndarray, group, g: torch.Tensor):
        self.images, self.group, self.g = images, group, g

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i]).float() / 127.5 - 1.0
        return x, self.group.act(self.g[i : i + 1], x[None], fill=-1.0)[0], self.g[i]


def case_images(case: str, mirror: Path, n: int, folder: Path) -> tuple[np.ndarray, str]:
    if case == "rmnist":
        if (mirror / "mnist/train-images-idx3-ubyte.gz").exists():
            return prepare_mnist(mirror / "mnist", n_val=10000, split_seed=0)["train_x"][:n], "real MNIST 28x28"
        return prepare_glyphs(n, 1, 1, seed=0)["train_x"], "generated glyphs 28x28 (no MNIST mirror)"
    npz, what = volume_npz(str(mirror), 64, folder)
    images = load_split(npz, "train")["x"]
    return images[np.arange(n) % len(images)], what


def loss_step(model, optimizer, compute: Compute, loss=None):
    """One training step on a batch: the loss under the compute's autocast, backward, Adam."""
    loss = loss or (lambda x, tx, g: model.loss_terms(x, tx, g))

    def step(x, tx, g):
        x, tx = compute.place(x), compute.place(tx)
        optimizer.zero_grad(set_to_none=True)
        with compute.autocast():
            terms = loss(x, tx, g)
        model.total_loss({k: v.float() for k, v in terms.items()}).backward()
        optimizer.step()
    return step


def ours_batches(pairs: PairSet, steps: int, device):
    order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(0))
    for s in range(steps):
        yield pairs.batch(order[s * BATCH : (s + 1) * BATCH], device)[:3]


def authors_batches(dataset: PerSampleRotation, steps: int, device):
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0))
    for s, (x, tx, g) in enumerate(loader):
        if s == steps:
            break
        yield x.to(device), tx.to(device), g


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


class Loop:
    """A named way to train: its batches, its step, its thread count and precision."""

    def __init__(self, name, run, threads, precision="fp32"):
        self.name, self.run, self.threads, self.precision, self.rates = name, run, threads, precision, []

    def time(self, steps: int, device) -> None:
        torch.set_num_threads(self.threads)
        synchronize(device)
        tic = time.perf_counter()
        self.run(steps)
        synchronize(device)
        self.rates.append(steps * BATCH / (time.perf_counter() - tic))


def make_model(group, dims, compute: Compute, channels_last: bool):
    torch.manual_seed(0)
    model = build_model({"kind": "ald", "latent_rms_norm": not group.exact}, group, in_channels=1, spatial_dims=dims,
                        image_size=28 if dims == 2 else 64)
    model = compute.model(model) if channels_last else model.to(compute.device)
    return model, model.optimizer(1e-3)


class Plain(Compute):
    """The fp32 step without channels-last memory: ours before the step was tuned."""

    def place(self, tensor):
        return tensor


def loops_for(case: str, images: np.ndarray, args, device) -> tuple[list[Loop], dict]:
    group_name, dims = CASES[case]
    group = get_group(group_name)
    pairs = PairSet.plan({"x": images, "y": np.zeros(len(images))}, group, NoRecipe(), seeded_generator(0, 1, 1))
    on_device = pairs.to(device)
    dataset = PerSampleRotation(images, group, pairs.g)
    x, tx, _, _ = pairs.batch(torch.arange(BATCH))
    ref = [dataset[i] for i in range(BATCH)]
    assert torch.equal(x, torch.stack([r[0] for r in ref])) and torch.equal(tx, torch.stack([r[1] for r in ref]))
    plain, fp32, bf16 = Plain(device, "fp32"), Compute(device, "fp32"), Compute(device, "bf16")
    info = {"flops": flops_per_pair(group, dims, pairs, device), "compile_seconds": None}

    def stepped(compute, channels_last, batches, loss=None):
        model, optimizer = make_model(group, dims, compute, channels_last)
        step = loss_step(model, optimizer, compute, loss and (lambda x, tx, g: loss(model, x, tx, g)))
        step(*next(iter(batches(1))))  # warm-up (and compilation)
        return lambda steps: [step(*b) for b in batches(steps)]

    ours = lambda steps: ours_batches(on_device, steps, device)
    authors = lambda steps: authors_batches(dataset, steps, device)
    one_pass = lambda model, x, tx, g: split_action_losses(model, x, tx, g, one_pass=True)[0]
    loops = [Loop("authors", stepped(plain, False, authors), args.threads),
             Loop("ours fp32", stepped(plain, False, ours), args.threads),
             Loop("+ channels_last", stepped(fp32, True, ours), args.threads),
             Loop("+ one pass", stepped(plain, False, ours, one_pass), args.threads)]
    if not args.no_compile:
        tic = time.perf_counter()
        compiled = torch.compile(lambda model, x, tx, g: model.loss_terms(x, tx, g))
        loops.append(Loop("+ channels_last + compile", stepped(fp32, True, ours, compiled), args.threads))
        info["compile_seconds"] = time.perf_counter() - tic
    if bf16_supported(device) or (args.emulated_bf16 and dims == 2):
        loops.append(Loop("+ channels_last + bf16", stepped(bf16, True, ours), args.threads, "bf16"))
    if args.threads > 1 and device.type == "cpu":
        loops.append(Loop("+ channels_last, 1 thread", stepped(fp32, True, ours), 1))
    loops.append(Loop("training loop (fp32)", training_loop(group, dims, on_device, fp32), args.threads))
    if bf16_supported(device):  # what `training.precision: bf16` runs
        loops.append(Loop("training loop (bf16)", training_loop(group, dims, on_device, bf16), args.threads, "bf16"))
    return loops, info


def training_loop(group, dims, pairs: PairSet, compute: Compute):
    """``ald.training.run_epoch`` over the first ``steps`` batches, as a training job runs it."""
    model, optimizer = make_model(group, dims, compute, channels_last=True)
    order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(0)).to(compute.device)
    run_epoch(model, pairs, BATCH, compute, optimizer, order[:BATCH])  # warm-up
    return lambda steps: run_epoch(model, pairs, BATCH, compute, optimizer, order[: steps * BATCH])


def flops_per_pair(group, dims, pairs: PairSet, device, kind: str = "ald") -> float:
    """FLOPs of one training pair (forward and backward), counted by torch on a batch of 4."""
    torch.manual_seed(0)
    model = build_model({"kind": kind}, group, in_channels=1, spatial_dims=dims, image_size=pairs.images.shape[-1])
    x, tx, g, _ = pairs.batch(torch.arange(4))
    with FlopCounterMode(display=False) as counter:
        model.total_loss(model.loss_terms(x, tx, g)).backward()
    return counter.get_total_flops() / 4


def matmul_rate(device, dtype, size: int = 1024, reps: int = 10) -> float:
    """FLOP/s of a size^3 matmul in ``dtype`` on ``device`` (median of 3)."""
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    rates = []
    for _ in range(3):
        synchronize(device)
        tic = time.perf_counter()
        for _ in range(reps):
            a @ b
        synchronize(device)
        rates.append(2 * size**3 * reps / (time.perf_counter() - tic))
    return statistics.median(rates)


def print_case(case: str, what: str, loops: list[Loop], info: dict, peaks: dict, steps: int, repeats: int) -> None:
    print(f"\n== {case}: ALD ({CASES[case][0]}) on {what}; batch {BATCH}; {steps} steps x {repeats} repeats, interleaved ==")
    print(f"counted: {info['flops'] / 1e6:.1f} MFLOP per training pair (forward + backward)")
    if info["compile_seconds"] is not None:
        print(f"torch.compile: {info['compile_seconds']:.1f} s to compile (paid once per training job)")
    authors = statistics.median(loops[0].rates)
    best = max(loops[1:], key=lambda loop: statistics.median(loop.rates))
    print(f"{'loop':28s} {'pairs/s':>9s} {'vs authors':>10s} {'of matmul':>10s}  threads  runs")
    for loop in loops:
        rate = statistics.median(loop.rates)
        print(f"{loop.name:28s} {rate:9.1f} {rate / authors:9.2f}x {rate * info['flops'] / peaks[loop.precision]:9.1%}"
              f"  {loop.threads:7d}  {', '.join(f'{r:.1f}' for r in loop.rates)}")
    print(f"best: {best.name}, {statistics.median(best.rates) / authors:.2f}x the authors' loop, "
          f"{statistics.median(best.rates) / statistics.median(loops[1].rates):.2f}x ours in fp32")


# -- concurrent jobs: separate processes, each timing the training loop ------------------------------------------

def worker(args) -> None:
    """One job of the concurrent measurement: prints its pairs/s and peak memory as JSON."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        images, _ = case_images(args.worker, Path(args.mirror), (args.steps + 1) * BATCH, Path(tmp))
    group_name, dims = CASES[args.worker]
    group = get_group(group_name)
    pairs = PairSet.plan({"x": images, "y": np.zeros(len(images))}, group, NoRecipe(), seeded_generator(0, 1, 1))
    loop = Loop("training loop", training_loop(group, dims, pairs.to(device), Compute.for_spec(device, args.precision)),
                args.threads)
    loop.time(args.steps, device)
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else 0
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's high-water mark
    rss = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print(json.dumps({"pairs_per_second": loop.rates[0], "gpu_peak_bytes": peak, "rss_bytes": rss}))


def concurrent(case: str, n_jobs: int, threads: int, args, device) -> dict:
    command = [sys.executable, __file__, "--worker", case, "--mirror", args.mirror, "--threads", str(threads),
               "--steps", str(args.steps if case == "rmnist" else args.steps_3d), "--device", str(device),
               "--precision", args.precision]
    jobs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(n_jobs)]
    results = [json.loads(job.communicate()[0].strip().splitlines()[-1]) for job in jobs]
    return {"aggregate": sum(r["pairs_per_second"] for r in results),
            "per_job": statistics.median(r["pairs_per_second"] for r in results),
            "gpu_peak_gib": max(r["gpu_peak_bytes"] for r in results) / 2**30,
            "rss_gib": max(r["rss_bytes"] for r in results) / 2**30}


# -- the paper grid's projection ---------------------------------------------------------------------------------

def grid_train_specs(extra: list[str]) -> list[dict]:
    """The TrainSpec of every train job of `snakemake -n -p --forceall all` (the paper grid: config.yaml)."""
    out = subprocess.run(["snakemake", "-n", "-p", "--forceall", "all", "--cores", "1", *extra], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    specs = []
    for line in out.splitlines():
        if "ald.cli train --spec" in line:
            words = shlex.split(line.split("ald.cli train", 1)[1])
            specs.append(json.loads(words[words.index("--spec") + 1]))
    return specs


KNOWN_LAYOUTS = {"mnist": (2, 28, 48000, 12000), "adrenalmnist3d": (3, 64, 1188, 98)}  # dims, side, train, val


def job_layout(spec: dict) -> tuple[int, int, int, int] | None:
    """(spatial dims, side, train pairs, val pairs) of a job: from its prepared file, else from the paper's sizes."""
    npz = REPO / spec["source_npz"]
    if npz.exists():
        train, val = (load_split(npz, split)["x"] for split in ("train", "val"))
        layout = (train.ndim - 2, train.shape[-1], len(train), len(val))
    else:
        layout = KNOWN_LAYOUTS.get(npz.stem)
    if layout is None:
        return None
    dims, side, n_train, n_val = layout
    return dims, side, min(n_train, spec["max_train_items"] or n_train), n_val


def project_grid(rates: dict[str, float], flops: dict[tuple, float], jobs_at_once: float, extra: list[str]) -> None:
    """Wall time of the grid's training: each job's epochs x (train pairs / rate + val pairs / (3 x rate)); the rate
    is the measured one of its dimensionality, scaled by its voxel count and by its model's counted FLOPs against
    ALD's; then over the measured speed-up of concurrent jobs."""
    specs = grid_train_specs(extra)
    cases = {CASES[case][1]: case for case in rates}
    sides = {"rmnist": 28, "adrenal64": 64}
    seconds, left_out = 0.0, 0
    for spec in specs:
        layout = job_layout(spec)
        if layout is None or layout[0] not in cases:
            left_out += 1
            continue
        dims, side, n_train, n_val = layout
        case = cases[dims]
        cost = flops.get((case, spec["model"]["kind"]), flops[(case, "ald")]) / flops[(case, "ald")]
        rate = rates[case] * (sides[case] / side) ** dims / cost
        seconds += spec["epochs"] * (n_train / rate + n_val / (3 * rate))
    print(f"\n== the paper grid: {len(specs)} train jobs of `snakemake -n --forceall all`{' ' + ' '.join(extra) if extra else ''} ==")
    print(f"training: {seconds / 3600:.2f} h of one job's time; {seconds / jobs_at_once / 3600:.2f} h "
          f"({seconds / jobs_at_once / 60:.0f} min) wall at the measured {jobs_at_once:.2f}x of concurrent jobs"
          + (f"; {left_out} jobs of datasets of unknown size (not prepared yet) are left out" if left_out else "")
          + ". Analyses (metrics, probes, checks) come on top.")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", default=str(REPO.parent / "shared/data"))
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40, help="steps per repeat, 2-D")
    parser.add_argument("--steps-3d", type=int, default=2, help="steps per repeat, 64^3 volumes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=None, help="concurrent jobs (default: 2 on a CPU, 1 4 16 on a GPU)")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--emulated-bf16", action="store_true", help="time bf16 on the 2-D case even without bf16 units (emulated: slow)")
    parser.add_argument("--no-projection", action="store_true")
    parser.add_argument("--grid-args", default="", help="extra snakemake arguments for the projection, e.g. a profile")
    parser.add_argument("--worker", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--device", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="fp32", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.set_num_threads(args.threads)
    peaks = {"fp32": matmul_rate(device, torch.float32), "bf16": matmul_rate(device, torch.bfloat16)}
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(" :\t")
    print(f"device: {device} ({name}); torch {torch.__version__}; threads {args.threads}; bf16 units: "
          f"{'yes' if bf16_supported(device) else 'no (bf16 is emulated: training.precision bf16 falls back to fp32)'}")
    print(f"matmul 1024^3: fp32 {peaks['fp32'] / 1e9:.1f} GFLOP/s, bf16 {peaks['bf16'] / 1e9:.1f} GFLOP/s")
    rates, flops = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases:
            steps = args.steps if case == "rmnist" else args.steps_3d
            images, what = case_images(case, Path(args.mirror), (steps + 1) * BATCH, Path(tmp))
            loops, info = loops_for(case, images, args, device)
            for _ in range(args.repeats):  # interleaved, so drifts of a shared machine hit every loop alike
                for loop in loops:
                    loop.time(steps, device)
            print_case(case, what, loops, info, peaks, steps, args.repeats)
            rates[case] = statistics.median(next(l for l in loops if l.name == "training loop (fp32)").rates)
            group = get_group(CASES[case][0])
            pairs = PairSet.plan({"x": images[:8], "y": np.zeros(8)}, group, NoRecipe(), seeded_generator(0))
            for kind in ("ald", "galr", "equivnr", "infogan_cr", "causalvae", "maganet"):
                flops[(case, kind)] = flops_per_pair(group, CASES[case][1], pairs, torch.device("cpu"), kind)
    jobs = args.jobs or ([1, 4, 16] if device.type == "cuda" else [2])
    threads_each = args.threads if device.type == "cuda" else max(1, args.threads // max(jobs))
    speedup = 1.0
    for case in args.cases:
        print(f"\n== concurrent training jobs, {case} ({threads_each} thread(s) each; separate processes) ==")
        for n in jobs:
            result = concurrent(case, n, threads_each, args, device)
            print(f"{n:3d} jobs: aggregate {result['aggregate']:9.1f} pairs/s, {result['per_job']:8.1f} per job, "
                  f"{result['aggregate'] / rates[case]:.2f}x one job; peak memory per job: RSS {result['rss_gib']:.2f} GiB"
                  + (f", GPU {result['gpu_peak_gib']:.2f} GiB" if device.type == "cuda" else ""))
            speedup = max(speedup, result["aggregate"] / rates[case]) if case == args.cases[0] else speedup
    if not args.no_projection:
        print("\nper job kind: " + "; ".join(f"{case} {kind} {flops[(case, kind)] / 1e6:.1f} MFLOP/pair"
                                             for case, kind in flops))
        project_grid(rates, flops, speedup, shlex.split(args.grid_args))


if __name__ == "__main__":
    main()
