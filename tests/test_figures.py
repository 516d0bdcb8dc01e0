"""The figures (ald.paper.figures: one module per figure), drawn from made-up histories, probe and angle files and stand-in models, and
read back before they are saved."""

import json
import shlex
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from ald import probes
from ald.pairs import Pair
from ald.paper import tables
from ald.paper.figures import FIGURE_REGISTRY
from ald.paper.figures.angles import ANGLE_CURVES, angle_figure
from ald.paper.figures.curves import LOG_BAND_FLOOR, best_epochs, mean_band, read_history, training_curves_figure
from ald.paper.figures.drawing import EMPTY_TEXT
from ald.paper.figures.figure2 import loss_ablation_figure
from ald.paper.figures.figure3 import PAPER_TAU, tau_sweep_figure
from ald.paper.figures.figure5 import latent_magnitude_figure
from ald.paper.figures.latent_swap import latent_swap_figure
from ald.paper.values import TABLE3
from ald.plan import Plan
from conftest import REPO, merge

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


# -- what each figure draws, read off the figure before it is saved


@pytest.fixture
def drawn(monkeypatch):
    """The figures ``save`` closes once written, kept open to be read."""
    import matplotlib.pyplot as plt

    kept = []
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    return kept


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def legend_labels(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
            for t in legend.get_texts()]


class Pairs:
    """Test pairs of ``n`` random pictures (1, C, *spatial) in [-1, 1]; the target is the input flipped."""

    def __init__(self, shape, n=4):
        self.x = torch.rand(n, *shape, generator=torch.Generator().manual_seed(0)) * 2 - 1

    def batch(self, idx):
        x = self.x[idx]
        return Pair(x, x.flip(-1), torch.zeros(len(idx)), None)


class StandIn:
    """A model whose latent is the picture; ``blank`` ones decode anything to one grey level (an untrained model)."""

    def __init__(self, blank: bool):
        self.blank = blank
        self.group = SimpleNamespace(act=lambda g, z: z.flip(-1))

    def encode(self, x):
        return x.repeat_interleave(2, 1)

    def split(self, z):
        half = z.shape[1] // 2
        return torch.cat([z[:, :half], 0 * z[:, half:]], 1), torch.cat([0 * z[:, :half], z[:, half:]], 1)

    def decode(self, z):
        out = z[:, : z.shape[1] // 2]
        return torch.full_like(out, -0.3) if self.blank else out

    def predict(self, x, g):
        return self.decode(self.group.act(g, self.encode(x)))

    def diagnostics(self):
        return {"n_variant": 1, "n_channels": 2}


SHAPES = {"glyphs": (1, 16, 16), "blobs": (1, 12, 12, 12)}


def test_a_blank_prediction_is_flagged_in_every_image_figure_and_a_real_one_is_not(drawn, tmp_path):
    panels = {name: ({"inv_only": StandIn(blank=name == "blobs"), "both": StandIn(blank=False)}, Pairs(shape))
              for name, shape in SHAPES.items()}
    loss_ablation_figure(panels, [tmp_path / "figure2.png"])
    flagged = [ax for ax in drawn[-1].axes if EMPTY_TEXT in [t.get_text() for t in ax.texts]]
    assert len(flagged) == 3  # blobs' inv_only column, one per example; glyphs and "both" are drawn plainly
    latent_magnitude_figure({name: (StandIn(blank=name == "blobs"), Pairs(shape)) for name, shape in SHAPES.items()},
                            [tmp_path / "figure5.png"])
    assert texts(drawn[-1]).count(EMPTY_TEXT) == 4  # the blobs' output column
    swap = FIGURE_REGISTRY["swap"]
    latent_swap_figure({name: (StandIn(blank=name == "blobs"), Pairs(shape), [(0, 1), (2, 3), (1, 2)], "")
                        for name, shape in SHAPES.items()}, [tmp_path / "swap.png"], swap.titles, swap.heading)
    assert texts(drawn[-1]).count(EMPTY_TEXT) == 6  # both swapped decodings of each blobs pair
    assert all((tmp_path / f"{f}.png").stat().st_size > 0 for f in ("figure2", "figure5", "swap"))


def test_a_volume_row_is_as_tall_as_its_strip_of_slices(drawn, tmp_path):
    loss_ablation_figure({name: ({"both": StandIn(blank=False)}, Pairs(shape)) for name, shape in SHAPES.items()},
                         [tmp_path / "figure2.png"])
    heights = [ax.get_position().height for ax in drawn[-1].axes[:-1:4]]  # each row's input panel
    assert heights[0] == pytest.approx(heights[1])  # the glyph rows
    assert heights[-1] == pytest.approx(heights[0] / 3, rel=0.1)  # the blobs rows: three slices side by side


def test_figure5_names_the_dataset_of_each_colour_scale(drawn, tmp_path):
    latent_magnitude_figure({name: (StandIn(blank=False), Pairs(shape)) for name, shape in SHAPES.items()},
                            [tmp_path / "figure5.png"])
    bars = [ax.get_ylabel() for ax in drawn[-1].axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 2 and [bar.split(":")[0] for bar in bars] == list(SHAPES)


def probe_file(path, accuracy, n_variant):
    part = lambda a: {"accuracy": a}
    path.write_text(json.dumps({"identity": {"paper_row": "RBMN"}, "n_variant_channels": n_variant, "n_channels": 64,
                                "probes": [{"family": "linear", "input": "tx",
                                            "parts": {"z": part(60.0), "z_v": part(accuracy), "z_i": part(20.0)}}]}))
    return str(path)


def test_figure3_draws_the_paper_value_as_one_point_at_its_tau(drawn, tmp_path, monkeypatch):
    monkeypatch.setattr(probes, "first_probe", lambda result: result["probes"][0])
    monkeypatch.setitem(tables.PROBE_INPUTS, "tx", "T_g(x)")
    sweep = {"glyphs": {str(t): probe_file(tmp_path / f"{t}.json", 50 + 10 * t, int(64 * (1 - t))) for t in (0.1, 0.5, 0.9)}}
    tau_sweep_figure(sweep, [tmp_path / "figure3.png"])
    accuracy = drawn[-1].axes[0]
    paper = [line for line in accuracy.lines if "paper" in line.get_label()]
    assert len(paper) == 1 and "paper, $\\tau$ 0.5" in paper[0].get_label()
    assert list(paper[0].get_xdata()) == [PAPER_TAU] and list(paper[0].get_ydata()) == [TABLE3["RBMN"]["z_v"]["accuracy"]]
    assert not accuracy.get_lines()[0].get_label().startswith("paper")  # ours, a line over every tau
    assert len(accuracy.lines[0].get_xdata()) == 3


def angle_file(path, offset):
    curve = lambda: [20 + offset + k for k in range(4)]
    result = {binning: {"edges": [0, 10, 20, 30, 40], "prediction": curve(), "ceiling": curve(), "round_trip": curve()}
              for binning in ("by_angle", "by_quarter_turn_offset")}
    path.write_text(json.dumps(result))
    return str(path)


def test_angles_colours_each_curve_and_has_one_legend_for_every_panel(drawn, tmp_path):
    inputs = {"glyphs": {"SO2": {"1": angle_file(tmp_path / "a.json", 0)}},
              "blobs": {"SO3": {"1": angle_file(tmp_path / "b.json", 5), "2": angle_file(tmp_path / "c.json", 6)}}}
    angle_figure(inputs, [tmp_path / "angles.png"])
    fig = drawn[-1]
    for ax in fig.axes:
        assert len({line.get_color() for line in ax.lines}) == 3  # prediction, ceiling, round trip
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    labels = legend_labels(fig)
    assert sum(text in labels for _, _, text in ANGLE_CURVES.values()) == 3
    assert "group SO2" in labels and "group SO3" in labels
    assert [ax.get_title() for ax in fig.axes[:2]] == ["glyphs: SO2 (1 seed(s))", "blobs: SO3 (2 seed(s))"]


def test_the_curves_legend_names_every_model_and_its_terms_for_every_panel(curves_inputs, drawn, tmp_path):
    training_curves_figure(curves_inputs, [tmp_path / "curves.png"])
    fig = drawn[-1]
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    labels = [label.strip() for label in legend_labels(fig)]
    assert {"ald", "equivnr", "recon", "inv", "const", "l1", "ssim", "total (sum of the terms)"} <= set(labels)
    losses = fig.axes[0]
    styles = {(line.get_color(), line.get_marker(), str(line.get_linestyle()), line.get_linewidth())
              for line in losses.lines}
    assert len(styles) == len(losses.lines) == 3 + 1 + 2 + 1  # every (model, term) line looks different


def test_a_band_on_a_log_axis_stops_at_a_fraction_of_the_mean(tmp_path):
    import matplotlib.pyplot as plt

    frame = pd.DataFrame({"epoch": [1, 1, 2, 2], "loss": [1e-3, 1.0, 1e-3, 2.0]})  # sd above the mean
    fig, ax = plt.subplots()
    mean_band(ax, frame, "loss", "C0", log=True)
    lower = ax.collections[0].get_paths()[0].vertices[:, 1].min()
    mean = frame.groupby("epoch")["loss"].mean().min()
    assert lower == pytest.approx(LOG_BAND_FLOOR * mean)
    plt.close(fig)


def test_an_output_dark_inside_its_border_is_empty_and_a_small_object_is_not():
    from ald.paper.figures.drawing import is_empty

    truth = -torch.ones(1, 1, 32, 32, 32)
    truth[0, 0, 14:18, 14:18, 14:18] = 1  # a small bright object: 0.2% of the volume
    edges = -torch.ones_like(truth)
    edges[..., 0, :, :] = edges[..., :, :, -1] = 0.3  # an untrained decoder's bright padding artefacts
    assert is_empty(edges, truth) and is_empty(torch.full_like(truth, 0.2), truth)
    assert not is_empty(truth, truth)
    assert not is_empty(-torch.ones_like(truth), -torch.ones_like(truth))  # nothing to predict: not flagged


def test_figure3_stars_the_paper_value_once_for_the_seeds_of_one_row(drawn, tmp_path, monkeypatch):
    monkeypatch.setattr(probes, "first_probe", lambda result: result["probes"][0])
    monkeypatch.setitem(tables.PROBE_INPUTS, "tx", "T_g(x)")
    sweep = {f"glyphs seed{seed}": {str(t): probe_file(tmp_path / f"{seed}-{t}.json", 50 + seed / 10 + 10 * t, 32)
                                    for t in (0.1, 0.5, 0.9)} for seed in (42, 43)}
    tau_sweep_figure(sweep, [tmp_path / "figure3.png"])
    labels = [line.get_label() for line in drawn[-1].axes[0].lines]
    assert sum("paper" in label for label in labels) == 1
    assert sum("$z_v$ (ours)" in label for label in labels) == 2


def test_figure3_draws_a_point_hollow_when_its_run_kept_an_early_checkpoint(drawn, tmp_path, monkeypatch):
    monkeypatch.setattr(probes, "first_probe", lambda result: result["probes"][0])
    monkeypatch.setitem(tables.PROBE_INPUTS, "tx", "T_g(x)")
    sweep = {}
    for tau in (0.1, 0.5):
        run = tmp_path / f"models/tau{tau}"
        history = write_history(run / "history.csv", "ald", 1, psnr=False, epochs=20)  # best before the rise at 6
        if tau == 0.5:  # still improving at its last epoch
            history["val_total"] = 1 / history["epoch"]
            history.to_csv(run / "history.csv", index=False)
        path = probe_file(tmp_path / f"{tau}.json", 70.0, 32)
        result = json.loads((tmp_path / f"{tau}.json").read_text()) | {"train_run": {"record": str(run / "run.json")}}
        (tmp_path / f"{tau}.json").write_text(json.dumps(result))
        sweep.setdefault("glyphs", {})[str(tau)] = path
    tau_sweep_figure(sweep, [tmp_path / "figure3.png"])
    accuracy, fraction = drawn[-1].axes[:2]
    for ax in (accuracy, fraction):
        hollow = [line for line in ax.lines if line.get_markerfacecolor() == "white" and len(line.get_xdata())]
        assert len(hollow) == 1 and list(hollow[0].get_xdata()) == [0.1]
    assert sum("hollow" in line.get_label() for line in accuracy.lines) == 1
    assert not any("hollow" in line.get_label() for line in fraction.lines)


def tracked_plan(result_set: dict) -> Plan:
    """The plan a tracked result set is built by: config.yaml, its profile's overlay, then its own --configfile."""
    options = shlex.split(result_set["options"])
    profile = REPO / options[options.index("--profile") + 1]
    overlays = [yaml.safe_load((profile / "config.yaml").read_text())["configfile"]]
    overlays += [value for flag, value in zip(options, options[1:]) if flag == "--configfile"]
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for overlay in overlays:
        merge(config, yaml.safe_load((REPO / overlay).read_text()))
    return Plan({**config, "results": result_set["results"]})


TRACKED_SETS = yaml.safe_load((REPO / "profiles/tracked.yaml").read_text())["sets"]
TRACKED_FIGURES = [(s, path) for s in TRACKED_SETS for path in sorted((REPO / s["results"]).glob("figures/*.json"))]


@pytest.mark.parametrize("result_set, record", TRACKED_FIGURES,
                         ids=[str(Path(p).relative_to(REPO)) for _, p in TRACKED_FIGURES])
def test_every_tracked_figure_shows_what_its_set_now_holds(result_set, record):
    """A figure's record (<figure>.json) lists the runs it was drawn from: a run added to or left out of the set since
    leaves a stale figure, which `snakemake <figure> --forcerun make_figure` redraws."""
    assert TRACKED_FIGURES and json.loads(record.read_text()) == json.loads(
        json.dumps(tracked_plan(result_set).figure_inputs(record.stem))), f"redraw {record.stem}"
