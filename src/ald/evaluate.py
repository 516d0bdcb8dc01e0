"""Evaluation of a trained model on the fixed, seeded test pairs of its dataset."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from .data import pair_set
from .metrics import per_item_metrics, to_unit_range
from .training import TrainSpec, load_trained, pick_device


@torch.no_grad()
def predict_test_pairs(model, pairs, batch_size: int = 500, device="cpu"):
    preds, targets = [], []
    for start in range(0, len(pairs), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(pairs)))
        x, tx, g = pairs.batch(idx, device)
        preds.append(model.predict(x, g).cpu().numpy())
        targets.append(tx.cpu().numpy())
    return np.concatenate(preds)[:, 0], np.concatenate(targets)[:, 0]


def evaluate(checkpoint: Path, run_json: Path, test_seed: int, out_json: Path, identity: dict | None = None,
             device: str = "auto") -> dict:
    """Score a trained model on the test pairs; write means, per-item spreads and provenance."""
    started = time.time()
    record = json.loads(Path(run_json).read_text())
    spec = TrainSpec(**record["parameters"])
    device = pick_device(device)
    model = load_trained(checkpoint, run_json, device)
    pairs = pair_set(spec.source_npz, "test", model.group, spec.block, test_seed)
    pred, target = predict_test_pairs(model, pairs, device=device)
    items = per_item_metrics(to_unit_range(pred), to_unit_range(target))
    result = {
        "identity": identity or {},
        "n_test_pairs": len(pairs),
        "test_seed": test_seed,
        **{name: float(values.mean()) for name, values in items.items()},
        **{f"{name}_item_std": float(values.std()) for name, values in items.items()},
        "n_variant_channels": int(model.n_variant()),
        "checkpoint_epoch": int(torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"]),
        "train_run": {"git_commit": record["git_commit"], "host": record["host"],
                      "wall_seconds": record["wall_seconds"], "parameters": record["parameters"]},
        "eval_seconds": round(time.time() - started, 2),
    }
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(result, indent=2))
    return result
