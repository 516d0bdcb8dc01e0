"""Evaluation of a trained model on the fixed, seeded test pairs of its dataset."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from .metrics import model_range_psnr, per_item_metrics, to_unit_range
from .pairs import FILL, Occluder, seeded_generator
from .compute import pick_device
from .training import TrainedRun, load_run, predict_pairs

CHECKS_PURPOSE = 4  # generator stream of the group elements drawn for the checks (pairs use 1-3)


def evaluate_run(run: TrainedRun, test_seed: int, device) -> dict:
    """Mean and per-item spread of PSNR, SSIM and RMSE over the run's test pairs."""
    pairs = run.pairs("test", test_seed)
    pred, target = predict_pairs(run.model, pairs, device=device)
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


def psnr_between(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """Per-item PSNR (dB) of two model-range batches (``metrics.model_range_psnr``)."""
    return model_range_psnr(a.cpu().numpy(), b.cpu().numpy())


@torch.no_grad()
def group_law_psnr(run: TrainedRun, x: torch.Tensor, tx: torch.Tensor, g: torch.Tensor, generator) -> dict:
    """How far the learned action is from a group action, per item (PSNR, dB): predictions the laws
    say are equal, against each other. ``prediction`` (against T_g(x)) is the scale to read them on,
    ``blank`` (an empty image against T_g(x)) the floor: a model that predicts nothing keeps every law, and
    ``copy`` (x against T_g(x)) what ignoring g scores."""
    model, group = run.model, run.group
    g2 = group.sample(len(x), generator).to(g.device)
    once = model.predict(x, g)
    return {
        "blank": psnr_between(torch.full_like(tx, FILL), tx),  # an empty image: the floor a prediction must beat
        "copy": psnr_between(x, tx),  # the input itself: a model that ignores g (high where little moves, e.g. renders)
        "prediction": psnr_between(once, tx),
        "identity": psnr_between(model.predict(x, group.identity(len(x)).to(g.device)), x),
        "inverse": psnr_between(model.predict(once, group.inverse(g)), x),
        "composition": psnr_between(model.predict(once, g2), model.predict(x, group.compose(g2, g))),
    }


@torch.no_grad()
def swap_follows(run: TrainedRun, x: torch.Tensor, block: torch.Tensor) -> dict:
    """Decode [z_v of item 2k; z_i of item 2k+1]. Per pair: is the occluder (the invariant part) where
    the z_i item has it, and is the rest (the moving content) closer to the z_v item?"""
    swapped, images, first, second = decoded_swaps(run, x)
    own, other = block[second].cpu().numpy(), block[first].cpu().numpy()
    only_own, only_other = own & ~other, other & ~own
    outside = ~(own | other)
    error_to = lambda source: mean_in((swapped - source) ** 2, outside)
    return {
        "invariant_kept": mean_in(swapped, only_own) > mean_in(swapped, only_other),
        "variant_moved": error_to(images[first]) < error_to(images[second]),
    }


@torch.no_grad()
def sky_follows(run: TrainedRun, x: torch.Tensor, tx: torch.Tensor) -> dict:
    """Rendered pairs: decode [z_v of item 2k; z_i of item 2k+1]. Per pair: where both items show only their
    background (pixels equal in x and T_g(x), which no silhouette covers), is the swap closer to the z_i item?"""
    swapped, images, first, second = decoded_swaps(run, x)
    still = (x == tx).all(1, keepdim=True).cpu().numpy()
    both = still[first] & still[second]
    error_to = lambda source: mean_in(((swapped - source) ** 2).mean(1, keepdims=True), both)
    return {"invariant_kept": error_to(images[second]) < error_to(images[first])}


def decoded_swaps(run: TrainedRun, x: torch.Tensor):
    """[z_v of item 2k; z_i of item 2k+1] decoded, and the items, both on [0, 1] (numpy), with the two slices."""
    z_v, z_i = run.model.split(run.model.encode(x))
    first, second = slice(0, len(x) // 2 * 2, 2), slice(1, len(x) // 2 * 2, 2)
    swapped = to_unit_range(run.model.decode(z_v[first] + z_i[second]).cpu().numpy())
    return swapped, to_unit_range(x.cpu().numpy()), first, second


def mean_in(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Per item, the mean of ``image`` over the cells ``where`` is true (0 where none is)."""
    axes = tuple(range(1, image.ndim))
    return (image * where).sum(axis=axes) / np.maximum(where.sum(axis=axes), 1)


def item_batches(pairs, n_items: int, batch_size: int):
    """Indices of the first ``n_items`` pairs, ``batch_size`` at a time."""
    n = min(n_items, len(pairs))
    return [torch.arange(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def gather(into: dict[str, list], values: dict[str, np.ndarray]) -> None:
    for name, value in values.items():
        into.setdefault(name, []).append(value)


def check_run(run: TrainedRun, test_seed: int, device, n_items: int = 1000, batch_size: int = 250) -> dict:
    """Group laws of the learned action and, for occluder datasets and rendered pairs, what a latent swap carries."""
    pairs = run.pairs("test", test_seed)
    generator = seeded_generator(test_seed, CHECKS_PURPOSE)
    laws, swaps = {}, {}
    for idx in item_batches(pairs, n_items, batch_size):
        x, tx, g, _ = pairs.batch(idx, device)
        gather(laws, group_law_psnr(run, x, tx, g, generator))
        if isinstance(run.recipe, Occluder):
            block = run.recipe.apply(torch.full_like(x, FILL), pairs.draws_of(idx)) > 0
            gather(swaps, swap_follows(run, x, block))
        elif pairs.targets is not None:  # rendered pairs: the background is what the group leaves alone
            gather(swaps, sky_follows(run, x, tx))
    return {
        "n_items": min(n_items, len(pairs)),
        "laws_psnr": {name: float(np.mean(np.concatenate(v))) for name, v in laws.items()},
        "swap_fraction": {name: float(np.mean(np.concatenate(v))) for name, v in swaps.items()} or None,
        "n_variant_channels": run.model.diagnostics()["n_variant"],
    }


@torch.no_grad()
def angle_errors(run: TrainedRun, x: torch.Tensor, tx: torch.Tensor, g: torch.Tensor) -> dict[str, np.ndarray]:
    """Per item, to read against the rotation angle of g (docs/findings.md):
    ``prediction`` D(g.E(x)) against T_g(x), the model's answer;
    ``ceiling`` D(E(T_g x)) against T_g(x), an oracle handed the exact latent of the target: what the
    decoder allows, whatever the action;
    ``round_trip`` D(g^-1.(g.E(x))) against D(E(x)): what resampling the latent grid there and back loses;
    ``latent_error`` |g.z_v(x) - z_v(T_g x)|^2 / |z_v(T_g x)|^2: how far the encoder is from equivariant."""
    model = run.model
    z, z_target = model.encode(x), model.encode(tx)
    moved = model.act(g, z)
    back = model.act(run.group.inverse(g), moved)
    (v_moved, _), (v_target, _) = model.split(moved), model.split(z_target)
    energy = (v_target**2).flatten(1).sum(1).clamp_min(1e-12)
    return {
        "angle": np.degrees(run.group.angle(g.cpu()).numpy()),
        "prediction": psnr_between(model.decode(moved), tx),
        "ceiling": psnr_between(model.decode(z_target), tx),
        "round_trip": psnr_between(model.decode(back), model.decode(z)),
        "latent_error": (((v_moved - v_target) ** 2).flatten(1).sum(1) / energy).cpu().numpy(),
    }


ANGLE_BIN_DEGREES = 15.0  # bins of the rotation angle over [0, 180]
OFFSET_BIN_DEGREES = 5.0  # bins of the distance to the nearest quarter turn over [0, 45]


def binned(key: np.ndarray, values: dict[str, np.ndarray], width: float, top: float) -> dict:
    """Mean of each value per bin of ``key`` (bins of ``width`` from 0 to ``top``); None for an empty bin."""
    edges = np.arange(0.0, top + width / 2, width)
    which = np.clip(np.digitize(key, edges[1:-1]), 0, len(edges) - 2)
    out = {"edges": edges.tolist(), "count": np.bincount(which, minlength=len(edges) - 1).tolist()}
    for name, v in values.items():
        out[name] = [float(v[which == b].mean()) if (which == b).any() else None for b in range(len(edges) - 1)]
    return out


def angle_run(run: TrainedRun, test_seed: int, device, n_items: int = 2000, batch_size: int = 250) -> dict:
    """Prediction, oracle ceiling, latent round trip and latent equivariance error by rotation angle, and
    by distance to the nearest quarter turn (where resampling a grid is exact)."""
    pairs = run.pairs("test", test_seed)
    items: dict[str, list] = {}
    for idx in item_batches(pairs, n_items, batch_size):
        gather(items, angle_errors(run, *pairs.batch(idx, device)[:3]))
    per_item = {name: np.concatenate(v) for name, v in items.items()}
    angle = per_item.pop("angle")
    offset = np.minimum(angle % 90.0, 90.0 - angle % 90.0)
    return {
        "n_items": len(angle),
        "mean": {name: float(v.mean()) for name, v in per_item.items()},
        "by_angle": binned(angle, per_item, ANGLE_BIN_DEGREES, 180.0),
        "by_quarter_turn_offset": binned(offset, per_item, OFFSET_BIN_DEGREES, 45.0),
        "n_variant_channels": run.model.diagnostics()["n_variant"],
    }


def analyse_run(run_dir: Path, test_seed: int, out_json: Path, identity: dict | None = None, device: str = "auto",
                analysis=evaluate_run) -> dict:
    """Run one analysis of a trained run (``evaluate_run`` scores, ``check_run`` laws and swaps) on its
    test pairs; write the result with the provenance of the run."""
    started = time.time()
    device = pick_device(device)
    run = load_run(run_dir, device)
    result = {
        "identity": identity or {},
        **analysis(run, test_seed, device),
        "train_run": run.provenance(),
        "eval_seconds": round(time.time() - started, 2),
    }
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(result, indent=2))
    return result


def evaluate(run_dir: Path, test_seed: int, out_json: Path, identity: dict | None = None,
             device: str = "auto") -> dict:
    """Score a trained run on its test pairs (Tables 1 and 2)."""
    return analyse_run(run_dir, test_seed, out_json, identity, device, evaluate_run)


def check(run_dir: Path, test_seed: int, out_json: Path, identity: dict | None = None, device: str = "auto") -> dict:
    """Group laws and latent-swap behaviour of a trained run (claims f and g)."""
    return analyse_run(run_dir, test_seed, out_json, identity, device, check_run)


def angles(run_dir: Path, test_seed: int, out_json: Path, identity: dict | None = None, device: str = "auto") -> dict:
    """Errors of a trained run by rotation angle, with the oracle ceiling and the latent round trip."""
    return analyse_run(run_dir, test_seed, out_json, identity, device, angle_run)
