"""Evaluation of a trained model on the fixed, seeded test pairs of its dataset."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from .metrics import per_item_metrics, to_unit_range
from .training import TrainedRun, load_run, pick_device


@torch.no_grad()
def predict_test_pairs(model, pairs, batch_size: int = 500, device="cpu") -> tuple[np.ndarray, np.ndarray]:
    """Predictions and targets, (N, C, *spatial) in the model's [-1, 1]."""
    preds, targets = [], []
    for start in range(0, len(pairs), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(pairs)))
        x, tx, g, _ = pairs.batch(idx, device)
        preds.append(model.predict(x, g).cpu().numpy())
        targets.append(tx.cpu().numpy())
    return np.concatenate(preds), np.concatenate(targets)


def evaluate_run(run: TrainedRun, test_seed: int, device) -> dict:
    """Mean and per-item spread of PSNR, SSIM and RMSE over the run's test pairs."""
    pairs = run.pairs("test", test_seed)
    pred, target = predict_test_pairs(run.model, pairs, device=device)
    items = per_item_metrics(to_unit_range(pred), to_unit_range(target))
    diagnostics = run.model.diagnostics()
    return {
        "n_test_pairs": len(pairs),
        "test_seed": test_seed,
        **{name: float(values.mean()) for name, values in items.items()},
        **{f"{name}_item_std": float(values.std()) for name, values in items.items()},
        "n_variant_channels": diagnostics["n_variant"],
        "diagnostics": diagnostics,
        "checkpoint_epoch": run.checkpoint_epoch,
    }


def evaluate(run_dir: Path, test_seed: int, out_json: Path, identity: dict | None = None,
             device: str = "auto") -> dict:
    """Score a trained run on its test pairs; write the scores with the provenance of the run."""
    started = time.time()
    device = pick_device(device)
    run = load_run(run_dir, device)
    record = run.record
    result = {
        "identity": identity or {},
        **evaluate_run(run, test_seed, device),
        "train_run": {"git_commit": record["git_commit"], "host": record["host"],
                      "wall_seconds": record["wall_seconds"], "parameters": record["parameters"]},
        "eval_seconds": round(time.time() - started, 2),
    }
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(result, indent=2))
    return result
