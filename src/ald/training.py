"""Training with Adam, best-validation checkpointing, per-epoch history and resumable side checkpoints,
and ``load_run``: the one way evaluation, probes and figures get a trained model back.

Everything random is derived from (seed, purpose, epoch), so a run resumed from its side checkpoint
after epoch k continues exactly as the uninterrupted run would (for a fixed thread count on CPU).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .compute import Compute, device_name, pick_device
from .groups import Group, get_group
from .models import GroupActionModel, build_model
from .pairs import PairRecipe, PairSet, build_recipe, pair_set, seeded_generator
from .metrics import tensor_model_range_psnr
from .provenance import code_version, git_state, run_record, timestamp
from .sources import load_split


@dataclass
class TrainSpec:
    """Everything a training run depends on; it is written verbatim into the run record."""

    source_npz: str
    recipe: dict  # pair recipe config entry, e.g. {"kind": "occluder", "size": 7}
    group: str
    model: dict  # model config entry, e.g. {"kind": "ald", "tau": 0.5, ...}
    seed: int
    epochs: int
    batch_size: int
    lr: float
    val_seed: int
    threads: int
    device: str  # "auto": cuda when visible, else cpu
    max_train_items: int | None  # reduced presets: use only the first N training images
    precision: str = "fp32"  # "bf16" where the hardware has bf16 matrix units, else fp32; runs before the setting: fp32
    source: dict | None = None  # the source and its settings, e.g. {"name": "adrenalmnist3d", "size": 64}; older runs: None

    @classmethod
    def from_record(cls, run_json: Path) -> "TrainSpec":
        parameters = json.loads(Path(run_json).read_text())["parameters"]
        unknown = set(parameters) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"{run_json}: run record has fields {sorted(unknown)} that this version does not know "
                             "(written by an older version); retrain the run (snakemake --forcerun train ...)")
        return cls(**parameters)


def data_layout(images: np.ndarray) -> dict[str, int]:
    """``in_channels``, ``spatial_dims`` and ``image_size`` of (N, C, *spatial) images, for ``build_model``."""
    return {"in_channels": int(images.shape[1]), "spatial_dims": images.ndim - 2, "image_size": int(images.shape[-1])}


def atomic_save(obj, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def run_epoch(model, pairs: PairSet, batch_size: int, compute: Compute, optimizer=None, order=None,
              psnr_items: int = 0) -> dict[str, float]:
    """One pass over ``pairs``; trains when an optimizer is given. Returns mean loss terms and total, and
    without an optimizer the mean PSNR of the first ``psnr_items`` pairs' predictions (``psnr``), taken from
    the same forward pass. Sums stay on the device and are read once, at the end."""
    training = optimizer is not None
    model.train(training)
    order = torch.arange(len(pairs), device=pairs.images.device) if order is None else order
    names = (*model.loss_names, "total")
    sums = torch.zeros(len(names), dtype=torch.float64, device=compute.device)
    psnr_sum = torch.zeros((), dtype=torch.float64, device=compute.device)
    with torch.set_grad_enabled(training):
        for start in range(0, len(order), batch_size):
            x, tx, g, _ = pairs.batch(order[start : start + batch_size], compute.device)
            x, tx = compute.place(x), compute.place(tx)
            with compute.autocast():
                terms, prediction = model.step_terms(x, tx, g, with_prediction=start < psnr_items)
            terms = {name: value.float() for name, value in terms.items()}
            total = model.total_loss(terms)
            if training:
                optimizer.zero_grad(set_to_none=True)
                total.backward()
                optimizer.step()
            sums += torch.stack([*terms.values(), total]).detach().to(torch.float64) * len(x)
            if prediction is not None and start < psnr_items:
                psnr_sum += tensor_model_range_psnr(prediction[: psnr_items - start].detach(), tx[: psnr_items - start]).sum()
    means = dict(zip(names, (sums / len(order)).tolist()))
    return {**means, "psnr": float(psnr_sum) / min(psnr_items, len(order))} if psnr_items else means


VAL_PSNR_ITEMS = 2000  # validation pairs whose mean PSNR the history records (a fifth of an epoch's val pass)


@torch.no_grad()
def predict_pairs(model, pairs: PairSet, n_items: int | None = None, batch_size: int = 500, device="cpu"):
    """Predictions and targets of the first ``n_items`` pairs (all by default), (N, C, *spatial) in [-1, 1]."""
    n = min(n_items or len(pairs), len(pairs))
    pairs = pairs.to(device)  # uploaded once, batches made there
    preds, targets = [], []
    for start in range(0, n, batch_size):
        x, tx, g, _ = pairs.batch(torch.arange(start, min(start + batch_size, n)), device)
        preds.append(model.predict(x, g).cpu().numpy())
        targets.append(tx.cpu().numpy())
    return np.concatenate(preds), np.concatenate(targets)


@dataclass
class Session:
    """What one training job works with: the model and optimiser, and its data."""

    spec: TrainSpec
    compute: Compute
    group: Group
    recipe: PairRecipe
    model: GroupActionModel
    optimizer: torch.optim.Optimizer
    train_arrays: dict[str, torch.Tensor]  # on the device, uploaded once
    val_pairs: PairSet  # on the device

    @property
    def device(self) -> torch.device:
        return self.compute.device


@dataclass
class Progress:
    """Where training stands; saved in the side checkpoint after every epoch."""

    history: list[dict] = field(default_factory=list)
    best_val: float = float("inf")
    best: dict | None = None
    last_epoch: int = 0
    jobs: list[dict] = field(default_factory=list)  # each job that trained epochs of this run: who, where, which


def set_up(spec: TrainSpec) -> Session:
    torch.set_num_threads(spec.threads)
    compute = Compute.for_spec(pick_device(spec.device), spec.precision)
    group, recipe = get_group(spec.group), build_recipe(spec.recipe)
    train_arrays = load_split(spec.source_npz, "train")
    if spec.max_train_items:
        train_arrays = {key: value[: spec.max_train_items] for key, value in train_arrays.items()}
    torch.manual_seed(spec.seed)
    model = compute.model(build_model(spec.model, group, **data_layout(train_arrays["x"])))
    optimizer = model.optimizer(spec.lr)
    val_pairs = pair_set(spec.source_npz, "val", group, recipe, spec.val_seed).to(compute.device)
    require_pairs(spec.source_npz, {"train": len(train_arrays["x"]), "val": len(val_pairs)})
    train_arrays = {key: torch.as_tensor(value).to(compute.device) for key, value in train_arrays.items()}
    return Session(spec, compute, group, recipe, model, optimizer, train_arrays, val_pairs)


def require_pairs(source_npz: str, counts: dict[str, int]) -> None:
    """Refuse a source whose train or val split is empty: its epoch means would divide by zero."""
    if empty := [split for split, n in counts.items() if n == 0]:
        raise ValueError(f"{source_npz}: the {' and '.join(empty)} split holds no pairs "
                         f"({', '.join(f'{split} {n}' for split, n in counts.items())}); training needs some in each. "
                         "Fix: prepare the source with more data (e.g. more objects), then delete this file and rerun "
                         "its prepare rule")


def resume(session: Session, resume_path: Path, out_dir: Path, log: Callable[[str], None]) -> Progress:
    """Progress from the side checkpoint when it continues this exact spec; a fresh start otherwise."""
    if not resume_path.exists():
        return Progress()
    state = torch.load(resume_path, map_location=session.device, weights_only=True)
    if not resumable(state, session.spec):
        log(f"ignoring {resume_path}: made with other settings or more epochs; starting over")
        return Progress()
    session.model.load_state_dict(state["model"])
    session.optimizer.load_state_dict(state["optimizer"])
    jobs = state.get("jobs") or [{"first_epoch": 1, "last_epoch": state["epoch"], "recorded": False}]  # older checkpoints
    progress = Progress(state["history"], state["best_val"], state["best"], state["epoch"], jobs)
    # Snakemake deletes the outputs of a failed or killed job: put them back as they were after epoch k.
    atomic_save(progress.best, out_dir / "best.pt")
    write_history(progress.history, out_dir / "history.csv")
    log(f"resumed from {resume_path} after epoch {progress.last_epoch} (best val {progress.best_val:.6f})")
    return progress


def train_epoch(session: Session, epoch: int) -> dict:
    """Train one epoch on fresh pairs, validate, and return the history row."""
    tic = time.time()
    # Models that sample (VAEs, GANs) draw from torch's global stream: seeding it per epoch keeps a resumed
    # run equal to an uninterrupted one.
    torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=seeded_generator(session.spec.seed, 4, epoch))))
    generator = seeded_generator(session.spec.seed, 1, epoch)
    pairs = PairSet.plan(session.train_arrays, session.group, session.recipe, generator)
    order = torch.randperm(len(pairs), generator=generator).to(session.device)
    model, compute = session.model, session.compute
    train_terms = run_epoch(model, pairs, session.spec.batch_size, compute, session.optimizer, order)
    train_seconds = time.time() - tic
    val_terms = run_epoch(model, session.val_pairs, session.spec.batch_size, compute, psnr_items=VAL_PSNR_ITEMS)
    val_psnr = val_terms.pop("psnr")
    return {
        "epoch": epoch,
        **{f"train_{k}": v for k, v in train_terms.items()},
        **{f"val_{k}": v for k, v in val_terms.items()},
        "val_psnr": val_psnr,
        **model.diagnostics(),
        "seconds": round(time.time() - tic, 3),
        "pairs_per_second": round(len(pairs) / train_seconds, 1),
    }


def checkpoint(session: Session, progress: Progress, row: dict, out_dir: Path, resume_path: Path) -> bool:
    """Record the epoch: best checkpoint if validation improved, side checkpoint, history. True if improved."""
    progress.history.append(row)
    progress.last_epoch = progress.jobs[-1]["last_epoch"] = row["epoch"]
    score = session.model.selection_score(row)
    improved = score < progress.best_val
    if improved:
        progress.best_val = score
        progress.best = {"model": copy.deepcopy(session.model.state_dict()), "epoch": row["epoch"]}
        atomic_save(progress.best, out_dir / "best.pt")
    atomic_save({"model": session.model.state_dict(), "optimizer": session.optimizer.state_dict(),
                 "epoch": row["epoch"], "history": progress.history, "best_val": progress.best_val,
                 "best": progress.best, "spec": spec_key(session.spec), "jobs": progress.jobs}, resume_path)
    write_history(progress.history, out_dir / "history.csv")
    return improved


def epoch_line(row: dict, model: GroupActionModel, improved: bool) -> str:
    terms = " ".join(f"{name} {row[f'train_{name}']:.5f}" for name in model.loss_names)
    diagnostics = " ".join(f"{name}={row[name]}" for name in model.diagnostics())
    return (f"epoch {row['epoch']:3d} train {row['train_total']:.5f} ({terms}) val {row['val_total']:.5f} ({row['val_psnr']:.2f} dB) "
            f"{diagnostics} {row['seconds']:.1f}s {row['pairs_per_second']:.0f} pairs/s{' *best' if improved else ''}")


def train(spec: TrainSpec, out_dir: Path, resume_path: Path, log: Callable[[str], None] = print) -> dict:
    """Train, writing ``best.pt``, ``history.csv`` and ``run.json`` to ``out_dir``."""
    started, code = time.time(), git_state(Path(__file__).parent)
    out_dir, resume_path = Path(out_dir), Path(resume_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    session = set_up(spec)
    progress = resume(session, resume_path, out_dir, log)
    n_parameters = sum(p.numel() for p in session.model.parameters())
    log(f"training {spec.model['kind']} ({n_parameters} parameters) on {session.device} in {session.compute.precision} "
        f"(asked: {spec.precision}) with {spec.threads} "
        f"thread(s): {len(session.train_arrays['x'])} train pairs, {len(session.val_pairs)} val pairs, "
        f"epochs {progress.last_epoch + 1}..{spec.epochs}")
    first_epoch = progress.last_epoch + 1
    progress.jobs.append(job_entry(spec, started, code, session.compute, first_epoch))
    for epoch in range(first_epoch, spec.epochs + 1):
        row = train_epoch(session, epoch)
        improved = checkpoint(session, progress, row, out_dir, resume_path)
        log(epoch_line(row, session.model, improved))
        if row.get("collapsed"):  # a GAN's diagnostic (models/infogan_cr.py)
            log(f"warning: epoch {epoch}: the generator has collapsed (its images' spread is under a tenth of the real "
                "images'); if this epoch's checkpoint is kept, the tables mark its cells †")
    record = run_record(spec.__dict__, started, spec.threads, device=str(session.device), code=code,
                        extra={**best_of_run(session.model, progress), "device_name": progress.jobs[-1]["device_name"],
                               "precision": session.compute.precision,
                               "n_parameters": n_parameters,
                               "epochs_run_this_job": spec.epochs - first_epoch + 1,
                               "resumed_after_epoch": first_epoch - 1,
                               "jobs": progress.jobs,
                               # wall_seconds covers this job only; a resumed run's total is this sum
                               "epoch_seconds_total": round(sum(r["seconds"] for r in progress.history), 2)})
    (out_dir / "run.json").write_text(json.dumps(record, indent=2))
    return record


def best_of_run(model: GroupActionModel, progress: Progress) -> dict:
    """What the run record says of the kept checkpoint: the column that chose it and its value there."""
    direction, column = model.selected_by
    best = next(row for row in progress.history if row["epoch"] == progress.best["epoch"])
    return {f"best_{column}": best[column], "checkpoint_selected_by": f"{direction} {column}"}


def job_entry(spec: TrainSpec, started: float, code: dict, compute: Compute, first_epoch: int) -> dict:
    """What the run record says of one training job: its epochs, the epoch count it aimed at (a run continued
    by a longer preset shows both), its code version, host, device and the precision it used."""
    return {"first_epoch": first_epoch, "last_epoch": first_epoch - 1, "target_epochs": spec.epochs, "recorded": True,
            "started": timestamp(started), "host": socket.gethostname(), "device": str(compute.device),
            "device_name": device_name(compute.device), "precision": compute.precision, "git_commit": code_version(code),
            "code_diff_sha256": code["code_diff_sha256"]}


def spec_key(spec: TrainSpec) -> dict:
    """What a side checkpoint must have been made with to be resumed: the spec, except its epoch count."""
    return {k: v for k, v in spec.__dict__.items() if k != "epochs"}


def resumable(state: dict, spec: TrainSpec) -> bool:
    """A side checkpoint is resumed only when continuing it equals an uninterrupted run of ``spec``."""
    return state.get("spec") == spec_key(spec) and "best" in state and state["epoch"] <= spec.epochs


def write_history(history: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]) if history else ["epoch"])
        writer.writeheader()
        writer.writerows(history)


@dataclass
class TrainedRun:
    """A trained model with what made it: its spec, group and pair recipe, and its best epoch."""

    model: GroupActionModel
    spec: TrainSpec
    group: Group
    recipe: PairRecipe
    checkpoint_epoch: int
    record: dict
    record_path: Path | None = None  # None: a run built in memory (tests)
    layout: dict | None = None  # in_channels, spatial_dims, image_size of what the model takes

    def pairs(self, split: str, seed: int) -> PairSet:
        """The fixed, seeded pairs of a split of the run's own dataset (test pairs: ``evaluation.test_seed``)."""
        return pair_set(self.spec.source_npz, split, self.group, self.recipe, seed)

    def provenance(self) -> dict:
        """What an analysis of this run records of it: the run record's path and sha256, and what made the run."""
        r, path = self.record, self.record_path
        return {"record": str(path), "record_sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path else None,
                "git_commit": r["git_commit"], "host": r["host"], "device": r["device"],
                "precision": r.get("precision", "fp32"),  # runs before the setting trained in fp32
                "wall_seconds": r["wall_seconds"], "parameters": r["parameters"]}


def run_layout(spec: TrainSpec) -> dict[str, int]:
    """What the run's model takes: read off its prepared data when that is here, else from its source's
    registry entry and settings, so that a released checkpoint loads without its data."""
    if Path(spec.source_npz).exists() or spec.source is None:
        if not Path(spec.source_npz).exists():
            raise FileNotFoundError(f"{spec.source_npz}: the run's prepared data is missing, and its record is too old "
                                    f"to name its source. Fix: prepare it first (`snakemake {spec.source_npz}`)")
        return data_layout(load_split(spec.source_npz, "val")["x"])
    from .sources import get_source

    source = get_source(spec.source["name"])
    return {"in_channels": source.channels, "spatial_dims": source.spatial_dims,
            "image_size": int(spec.source.get("size", source.image_size))}


def load_run(run_dir: Path, device: str | torch.device = "cpu") -> TrainedRun:
    """Rebuild a trained model from ``run_dir``'s run record and best checkpoint (weights only)."""
    run_dir = Path(run_dir)
    spec = TrainSpec.from_record(run_dir / "run.json")
    group = get_group(spec.group)
    layout = run_layout(spec)
    model = build_model(spec.model, group, **layout)
    best = torch.load(run_dir / "best.pt", map_location=device, weights_only=True)
    model.load_state_dict(best["model"])
    record = json.loads((run_dir / "run.json").read_text())
    return TrainedRun(model.eval().to(device), spec, group, build_recipe(spec.recipe), int(best["epoch"]), record,
                      run_dir / "run.json", layout)
