"""Training with Adam, best-validation checkpointing, per-epoch history and resumable side checkpoints.

Everything random is derived from (seed, purpose, epoch), so a run resumed from its side checkpoint
after epoch k continues exactly as the uninterrupted run would (for a fixed thread count on CPU).
"""

from __future__ import annotations

import copy
import csv
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from .data import PairSet, load_split, pair_set, seeded_generator
from .groups import get_group
from .models import LOSS_TERMS, GroupActionModel, build_model
from .provenance import run_record

HISTORY_FIELDS = (
    ["epoch"]
    + [f"train_{t}" for t in (*LOSS_TERMS, "total")]
    + [f"val_{t}" for t in (*LOSS_TERMS, "total")]
    + ["n_variant", "seconds", "pairs_per_second"]
)


@dataclass
class TrainSpec:
    """Everything a training run depends on; it is written verbatim into the run record."""

    source_npz: str
    block: bool
    group: str
    model: dict
    seed: int
    epochs: int
    batch_size: int
    lr: float
    val_seed: int = 0
    threads: int = 1
    device: str = "auto"
    max_train_items: int | None = None  # reduced presets: use only the first N training images
    extra: dict = field(default_factory=dict)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def model_from_spec(spec: TrainSpec) -> GroupActionModel:
    torch.manual_seed(spec.seed)
    return build_model(spec.model, get_group(spec.group))


def atomic_save(obj, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def run_epoch(model, pairs: PairSet, batch_size: int, device, optimizer=None, order=None) -> dict[str, float]:
    """One pass over ``pairs``; trains when an optimizer is given. Returns mean loss terms."""
    training = optimizer is not None
    model.train(training)
    order = torch.arange(len(pairs)) if order is None else order
    sums = {t: 0.0 for t in (*LOSS_TERMS, "total")}
    with torch.set_grad_enabled(training):
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            x, tx, g = pairs.batch(idx, device)
            terms = model.loss_terms(x, tx, g)
            total = model.total_loss(terms)
            if training:
                optimizer.zero_grad(set_to_none=True)
                total.backward()
                optimizer.step()
            for name, value in (*terms.items(), ("total", total)):
                sums[name] += float(value.detach()) * len(idx)
    return {name: value / len(order) for name, value in sums.items()}


def train(spec: TrainSpec, out_dir: Path, resume_path: Path, log: Callable[[str], None] = print) -> dict:
    """Train, writing ``best.pt``, ``history.csv`` and ``run.json`` to ``out_dir``."""
    started = time.time()
    out_dir, resume_path = Path(out_dir), Path(resume_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(spec.threads)
    device = pick_device(spec.device)
    group = get_group(spec.group)
    model = model_from_spec(spec).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.lr)
    train_x, train_y = load_split(spec.source_npz, "train")
    if spec.max_train_items:
        train_x, train_y = train_x[: spec.max_train_items], train_y[: spec.max_train_items]
    val_pairs = pair_set(spec.source_npz, "val", group, spec.block, spec.val_seed)

    history, best_val, best, first_epoch = [], float("inf"), None, 1
    state = torch.load(resume_path, map_location=device, weights_only=True) if resume_path.exists() else None
    if state and not resumable(state, spec):
        log(f"ignoring {resume_path}: made with other settings or more epochs; starting over")
    elif state:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, best_val, best, first_epoch = state["history"], state["best_val"], state["best"], state["epoch"] + 1
        # Snakemake deletes the outputs of a failed or killed job: put them back as they were after epoch k.
        atomic_save(best, out_dir / "best.pt")
        write_history(history, out_dir / "history.csv")
        log(f"resumed from {resume_path} after epoch {state['epoch']} (best val {best_val:.6f})")
    log(f"training {spec.model['kind']} on {device} with {spec.threads} thread(s): "
        f"{len(train_x)} train pairs, {len(val_pairs)} val pairs, epochs {first_epoch}..{spec.epochs}")

    for epoch in range(first_epoch, spec.epochs + 1):
        tic = time.time()
        generator = seeded_generator(spec.seed, 1, epoch)
        pairs = PairSet.plan(train_x, train_y, group, spec.block, generator)
        order = torch.randperm(len(pairs), generator=generator)
        train_terms = run_epoch(model, pairs, spec.batch_size, device, optimizer, order)
        train_seconds = time.time() - tic
        val_terms = run_epoch(model, val_pairs, spec.batch_size, device)
        row = {"epoch": epoch, "n_variant": model.n_variant(), "seconds": round(time.time() - tic, 3),
               "pairs_per_second": round(len(pairs) / train_seconds, 1)}
        row.update({f"train_{k}": v for k, v in train_terms.items()})
        row.update({f"val_{k}": v for k, v in val_terms.items()})
        history.append(row)
        improved = val_terms["total"] < best_val
        if improved:
            best_val = val_terms["total"]
            best = {"model": copy.deepcopy(model.state_dict()), "epoch": epoch}
            atomic_save(best, out_dir / "best.pt")
        atomic_save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                     "history": history, "best_val": best_val, "best": best, "spec": spec_key(spec)}, resume_path)
        write_history(history, out_dir / "history.csv")
        log(f"epoch {epoch:3d} train {train_terms['total']:.5f} (recon {train_terms['recon']:.5f} "
            f"inv {train_terms['inv']:.5f} const {train_terms['const']:.5f}) val {val_terms['total']:.5f} "
            f"variant {row['n_variant']}/{model.mask_logits.numel()} {row['seconds']:.1f}s "
            f"{row['pairs_per_second']:.0f} pairs/s{' *best' if improved else ''}")

    record = run_record(spec.__dict__, started, spec.threads, device=str(device),
                        extra={"best_val_total": best_val, "epochs_run_this_job": spec.epochs - first_epoch + 1,
                               "resumed_after_epoch": first_epoch - 1,
                               # wall_seconds covers this job only; a resumed run's total is this sum
                               "epoch_seconds_total": round(sum(r["seconds"] for r in history), 2)})
    (out_dir / "run.json").write_text(json.dumps(record, indent=2))
    return record


def spec_key(spec: TrainSpec) -> dict:
    """What a side checkpoint must have been made with to be resumed: the spec, except its epoch count."""
    return {k: v for k, v in spec.__dict__.items() if k != "epochs"}


def resumable(state: dict, spec: TrainSpec) -> bool:
    """A side checkpoint is resumed only when continuing it equals an uninterrupted run of ``spec``."""
    return state.get("spec") == spec_key(spec) and "best" in state and state["epoch"] <= spec.epochs


def write_history(history: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(history)


def load_trained(checkpoint: Path, run_json: Path, device="cpu") -> GroupActionModel:
    """Rebuild a trained model from its run record and best checkpoint (weights only)."""
    spec = TrainSpec(**json.loads(Path(run_json).read_text())["parameters"])
    model = build_model(spec.model, get_group(spec.group))
    model.load_state_dict(torch.load(checkpoint, map_location=device, weights_only=True)["model"])
    return model.eval().to(device)
