"""The training-curves figure (ald.paper.figures), drawn from made-up histories."""

import json
import numpy as np
import pandas as pd
import pytest

from ald.paper.figures import best_epochs, read_history, training_curves_figure

TERMS = {"ald": ["recon", "inv", "const"], "equivnr": ["l1", "ssim"]}


def write_history(path, model: str, seed: int, psnr: bool, channels: bool = True, epochs: int = 12):
    """A loss that decays, then diverges after epoch 6 for ALD (as the authors' recipe does), plus noise."""
    rng = np.random.default_rng(seed)
    epoch = np.arange(1, epochs + 1)
    shape = np.exp(-epoch / 3) + (np.maximum(epoch - 6, 0) ** 2 / 10 if model == "ald" else 0)
    frame = pd.DataFrame({"epoch": epoch})
    for split in ("train", "val"):
        for term in TERMS[model]:
            frame[f"{split}_{term}"] = shape * rng.uniform(0.5, 1.5) * (1 + 0.05 * rng.standard_normal(epochs))
        frame[f"{split}_total"] = frame[[f"{split}_{t}" for t in TERMS[model]]].sum(axis=1)
    frame["n_variant"] = rng.integers(40, 65, epochs)
    if channels:
        frame["n_channels"] = 64
    frame["seconds"], frame["pairs_per_second"] = 60.0, 800.0
    if psnr:
        frame["val_psnr"] = 20 - 10 * np.log10(frame["val_total"])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture
def curves_inputs(tmp_path):
    """Two models x two seeds of one dataset and group; ALD's histories have val_psnr, EquivNR's do not, and one
    older history has no n_channels."""
    inputs = {"glyphs C4": {}}
    for model in TERMS:
        for seed in (1, 2):
            path = tmp_path / f"models/glyphs/C4/{model}/seed{seed}/history.csv"
            write_history(path, model, seed, psnr=model == "ald", channels=(model, seed) != ("equivnr", 2))
            inputs["glyphs C4"].setdefault(model, {})[str(seed)] = str(path)
    return inputs


def test_the_figure_is_drawn_from_histories_with_and_without_psnr(curves_inputs, tmp_path):
    paths = [tmp_path / "figures/curves.png", tmp_path / "figures/curves.pdf"]
    training_curves_figure(curves_inputs, paths)
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_the_best_epoch_is_the_first_lowest_validation_loss():
    frame = pd.DataFrame({"model": ["a"] * 4 + ["b"] * 3, "seed": ["1"] * 4 + ["1"] * 3,
                          "epoch": [1, 2, 3, 4, 1, 2, 3], "val_total": [0.5, 0.2, 0.2, 0.9, 0.4, 0.3, 0.1]})
    best = best_epochs(frame)
    assert dict(zip(best["model"], best["epoch"])) == {"a": 2, "b": 3}


def test_the_best_epoch_follows_the_rule_the_run_record_names(tmp_path):
    frame = write_history(tmp_path / "history.csv", "ald", 1, psnr=False)
    frame["val_psnr"] = 10 + frame["epoch"] % 5  # best at epoch 4, where the loss is not lowest
    frame.to_csv(tmp_path / "history.csv", index=False)
    (tmp_path / "run.json").write_text(json.dumps({"checkpoint_selected_by": "highest val_psnr"}))
    best = best_epochs(read_history(str(tmp_path / "history.csv")).assign(model="gan", seed="1"))
    assert best["epoch"].tolist() == [frame["epoch"][frame["val_psnr"].idxmax()]]
    assert frame["val_psnr"].idxmax() != frame["val_total"].idxmin()  # the two rules disagree on this history


def test_the_best_epoch_of_a_diverging_history(tmp_path):
    frame = write_history(tmp_path / "history.csv", "ald", 1, psnr=False)
    best = best_epochs(read_history(str(tmp_path / "history.csv")).assign(model="ald", seed="1"))
    assert best["epoch"].tolist() == [frame["epoch"][frame["val_total"].idxmin()]]
    assert 1 < best["epoch"].item() < len(frame)  # peaks, then diverges


def test_a_missing_or_empty_history_is_named_with_the_fix(curves_inputs, tmp_path):
    missing = tmp_path / "models/glyphs/C4/ald/seed3/history.csv"
    curves_inputs["glyphs C4"]["ald"]["3"] = str(missing)
    with pytest.raises(FileNotFoundError, match=f"{missing} is missing or has no epochs.*train that run"):
        training_curves_figure(curves_inputs, [tmp_path / "curves.png"])
    missing.parent.mkdir(parents=True)
    for empty in ("", "epoch,train_total,val_total\n"):
        missing.write_text(empty)
        with pytest.raises(FileNotFoundError, match="has no epochs"):
            read_history(str(missing))
    assert not (tmp_path / "curves.png").exists()
