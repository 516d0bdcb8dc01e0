"""The paper's figures from trained models, probe results and training histories (PNG for reading, PDF for print)."""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402

from ..models import GroupActionModel  # noqa: E402
from ..probes import first_probe  # noqa: E402
from ..training import load_run  # noqa: E402
from .tables import PROBE_INPUTS  # noqa: E402
from .values import TABLE3  # noqa: E402

VARIANT_LABELS = {"inv_only": r"$L_{inv}$ only", "const_only": r"$L_{const}$ only", "both": r"$L_{inv}+L_{const}$"}


def save(fig, paths: list[Path], note: str = "") -> None:
    """Write the figure to each of ``paths`` (PNG at 150 dpi, PDF as vectors), ``note`` (the settings that made
    it) in its bottom-left corner."""
    if note:
        fig.text(0.0, 0.0, textwrap.fill(note, 160), fontsize=6, color="0.3", ha="left", va="top",
                 transform=fig.transFigure)
    for path in map(Path, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def middle_slice(a: np.ndarray, spatial_dims: int) -> np.ndarray:
    """Images pass through; a volume (..., D, H, W) shows its three middle slices side by side
    (across D, H and W in that order), each padded to the tallest."""
    if spatial_dims != 3:
        return a
    d, h, w = a.shape[-3:]
    slices = [a[..., d // 2, :, :], a[..., :, h // 2, :], a[..., :, :, w // 2]]
    height = max(s.shape[-2] for s in slices)
    pad = lambda s: np.pad(s, [(0, 0)] * (s.ndim - 2) + [(0, height - s.shape[-2]), (0, 1)])
    return np.concatenate([pad(s) for s in slices], axis=-1)[..., :-1]


def unit(img: torch.Tensor) -> np.ndarray:
    """A batch of one item (1, C, *spatial) in [-1, 1] as a picture in [0, 1]: (H, W) for one channel,
    (H, W, 3) for RGB; volumes show their three middle slices."""
    if img.dim() not in (4, 5) or len(img) != 1:
        raise ValueError(f"unit() draws a batch of one item (1, C, *spatial), got shape {tuple(img.shape)}")
    a = img[0].detach().cpu().numpy()
    a = middle_slice(((a + 1) / 2).clip(0, 1), a.ndim - 1)
    return a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)


def abs_error(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """|pred - truth| per pixel, averaged over colour channels."""
    error = np.abs(pred - truth)
    return error.mean(-1) if error.ndim == 3 else error


def show(ax, image, title=None, **kwargs):
    ax.imshow(image, cmap=kwargs.pop("cmap", "gray"), vmin=kwargs.pop("vmin", 0), vmax=kwargs.pop("vmax", 1), **kwargs)
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


@torch.no_grad()
def loss_ablation_figure(panels: dict[str, tuple[dict, object]], paths: list[Path], n_examples: int = 3, note: str = "") -> None:
    """Figure 2: per dataset, input and ground truth, then each variant's prediction and |error| (0-1)."""
    variants = [v for v in VARIANT_LABELS if any(v in models for models, _ in panels.values())]
    rows = [(name, i) for name in panels for i in range(n_examples)]
    fig, axes = plt.subplots(len(rows), 2 + 2 * len(variants), figsize=(1.3 * (2 + 2 * len(variants)), 1.35 * len(rows)),
                             squeeze=False)
    for r, (name, i) in enumerate(rows):
        models, pairs = panels[name]
        x, tx, g, _ = pairs.batch(torch.tensor([i]))
        show(axes[r, 0], unit(x), "input" if r == 0 else None)
        show(axes[r, 1], unit(tx), "ground truth" if r == 0 else None)
        axes[r, 0].set_ylabel(f"{name.replace('_', chr(10))}\n#{i}", fontsize=6)
        for c, variant in enumerate(variants):
            pred = unit(models[variant].predict(x, g))
            show(axes[r, 2 + 2 * c], pred, VARIANT_LABELS[variant] if r == 0 else None)
            im = axes[r, 3 + 2 * c].imshow(abs_error(pred, unit(tx)), cmap="inferno", vmin=0, vmax=1)
            axes[r, 3 + 2 * c].set_xticks([]), axes[r, 3 + 2 * c].set_yticks([])
            if r == 0:
                axes[r, 3 + 2 * c].set_title("|error|", fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.5, label="absolute error (intensity in [0, 1])")
    save(fig, paths, note)


def tau_sweep_figure(sweep: dict[str, dict[str, Path]], paths: list[Path], note: str = "") -> None:
    """Figure 3: probe accuracy of z_v against tau (z as dashed line), and the variant fraction.

    ``sweep``: dataset -> tau -> probe result file of the model trained at that tau.
    """
    fig, (acc_ax, frac_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    for k, (dataset, files) in enumerate(sorted(sweep.items())):
        points = sorted((float(tau), json.loads(Path(p).read_text())) for tau, p in files.items())
        taus, rows = [t for t, _ in points], [r for _, r in points]
        color = f"C{k}"
        parts = [first_probe(r)["parts"] for r in rows]
        z_v = [np.nan if p["z_v"] is None else p["z_v"]["accuracy"] for p in parts]
        z = [p["z"]["accuracy"] for p in parts]
        acc_ax.plot(taus, z_v, "o-", color=color, label=f"{dataset}: $z_v$ (ours)")
        empty = [t for t, a in zip(taus, z_v) if np.isnan(a)]
        if empty:
            acc_ax.plot(empty, [0.02] * len(empty), "x", color=color, transform=acc_ax.get_xaxis_transform(),
                        label=f"{dataset}: $z_v$ empty (no variant channel)")
        acc_ax.plot(taus, z, "--", color=color, alpha=0.7, label=f"{dataset}: $z$ (ours)")
        paper_row = rows[0]["identity"]["paper_row"]
        if paper_row in TABLE3:
            acc_ax.axhline(TABLE3[paper_row]["z_v"][0], color=color, ls=":", lw=1,
                           label=f"paper {paper_row} $z_v$ at $\\tau$=0.5 (Table 3)")
        frac_ax.plot(taus, [r["n_variant_channels"] / r["n_channels"] for r in rows], "o-", color=color, label=dataset)
    probe = first_probe(rows[0])
    acc_ax.set(xlabel=r"mask threshold $\tau$", ylabel="test accuracy (%)",
               title=f"{probe['family']} probe accuracy on the latent of {PROBE_INPUTS[probe['input']]}")
    frac_ax.set(xlabel=r"mask threshold $\tau$", ylabel="fraction of variant channels", ylim=(-0.05, 1.05),
                title=r"Channels assigned to $z_v$")
    acc_ax.legend(fontsize=7), frac_ax.legend(fontsize=7)
    acc_ax.grid(alpha=0.3), frac_ax.grid(alpha=0.3)
    save(fig, paths, note)


def channel_magnitude(z: torch.Tensor) -> np.ndarray:
    """Mean |activation| over channels of one latent (1, C, *spatial); volumes show their middle slices."""
    return middle_slice(z.abs().mean(1).squeeze(0).cpu().numpy(), z.dim() - 2)


def variant_summary(model) -> str:
    d = model.diagnostics()
    return f"{d['n_variant']} of {d['n_channels']} channels variant"


@torch.no_grad()
def latent_magnitude_figure(panels: dict[str, tuple], paths: list[Path], n_examples: int = 4, note: str = "") -> None:
    """Figure 5: per dataset, channel-averaged |z|, |z_v|, |z_i|, |g.z_v| for a few inputs, then output and
    truth. ``panels``: dataset -> (model, test pairs); each panel has its own colour scale."""
    titles = ["input", "|z|", "|z_v|", "|z_i|", "|g·z_v|", "output", "ground truth"]
    fig, axes = plt.subplots(n_examples * len(panels), len(titles),
                             figsize=(1.6 * len(titles), 1.45 * n_examples * len(panels)), squeeze=False)
    for p, (dataset, (model, pairs)) in enumerate(panels.items()):
        rows = []
        for r in range(n_examples):
            x, tx, g, _ = pairs.batch(torch.tensor([r]))
            z = model.encode(x)
            z_v, z_i = model.split(z)
            maps = [channel_magnitude(m) for m in (z, z_v, z_i, model.group.act(g, z_v))]
            rows.append([unit(x), *maps, unit(model.predict(x, g)), unit(tx)])
        top = max(m.max() for row in rows for m in row[1:5]) or 1.0
        block = axes[p * n_examples:(p + 1) * n_examples]
        for r, row in enumerate(rows):
            for c, image in enumerate(row):
                show(block[r, c], image, **(dict(cmap="viridis", vmin=0, vmax=top) if 1 <= c <= 4 else {}))
        block[0, 0].set_ylabel(f"{dataset}\n{variant_summary(model)}", fontsize=6)
        fig.colorbar(block[0, 1].images[0], ax=block[:, 1:5], shrink=0.6, label="mean |activation| over channels")
    for c, title in enumerate(titles):
        axes[0, c].set_title(title, fontsize=8)
    fig.suptitle("Latent magnitudes (volumes: middle slices across D, H, W)", fontsize=8)
    save(fig, paths, note)


def swap_partners(metadata: dict[str, np.ndarray], n_pairs: int) -> list[tuple[int, int]]:
    """Index pairs to swap latents between: items 2r and 2r+1, or, for rendered pairs (which record each
    item's object, view and sky), items that differ in pose and in sky, from as many objects as there are."""
    if "sky" not in metadata:
        return [(2 * r, 2 * r + 1) for r in range(n_pairs)]
    sky, view = metadata["sky"], metadata["view_a"]
    pose = np.stack([metadata["object"], view], 1)
    partners, used = [], set()
    for i in np.argsort(np.arange(len(sky)) % n_pairs, kind="stable"):  # spread over the split's objects
        j = next((j for j in range(len(sky)) if sky[j] != sky[i] and (pose[j] != pose[i]).any() and j not in used), None)
        if i in used or j is None:
            continue
        partners.append((int(i), j))
        used.update((int(i), j))
        if len(partners) == n_pairs:
            return partners
    raise ValueError(f"fewer than {n_pairs} pairs of items differ in both pose and sky in this split "
                     f"({len(set(sky))} sky(s) in it). Fix: supply more skies or raise the source's holdout, so that "
                     "the test split holds at least two")


SWAP_TITLES = {"swap": ["input 1", "input 2", "[z_v1; z_i2]", "[z_v2; z_i1]"],
               "figure4": ["input 1 (pose 1, sky 1)", "input 2 (pose 2, sky 2)", "[z_v1; z_i2]\nwant: pose 1, sky 2",
                           "[z_v2; z_i1]\nwant: pose 2, sky 1"]}


@torch.no_grad()
def latent_swap_figure(panels: dict[str, tuple], paths: list[Path], n_pairs: int = 3, figure: str = "swap", note: str = "") -> None:
    """Exchange z_v and z_i between two inputs and decode: [z_v1; z_i2] and [z_v2; z_i1], per dataset.

    ``panels``: dataset -> (model, test pairs, partner index pairs (``swap_partners``), a label line).
    """
    titles = SWAP_TITLES[figure]
    fig, axes = plt.subplots(n_pairs * len(panels), 4, figsize=(7.2, 1.6 * n_pairs * len(panels)), squeeze=False)
    for p, (dataset, (model, pairs, partners, label)) in enumerate(panels.items()):
        for r, (i, j) in enumerate(partners[:n_pairs]):
            x = pairs.batch(torch.tensor([i, j])).x
            z_v, z_i = model.split(model.encode(x))
            swapped = model.decode(torch.stack([z_v[0] + z_i[1], z_v[1] + z_i[0]]))
            for c, img in enumerate([x[0:1], x[1:2], swapped[0:1], swapped[1:2]]):
                show(axes[p * n_pairs + r, c], unit(img))
        axes[p * n_pairs, 0].set_ylabel(f"{dataset}\n{variant_summary(model)}{label}", fontsize=6)
    for c, title in enumerate(titles):
        axes[0, c].set_title(title, fontsize=8)
    heading = {"swap": "Latent swap",
               "figure4": "Figure 4: latent swap on test renders (objects and skies held out from training)\n"
                          "the paper's claim: pose goes with z_v, the sky with z_i"}[figure]
    fig.suptitle(heading, fontsize=8, y=1.0 + 0.04 * heading.count("\n"))
    save(fig, paths, note)


def item_metadata(npz: str, split: str) -> dict[str, np.ndarray]:
    """A split's per-item metadata of rendered pairs (object, view_a, sky), without reading its images;
    empty for other sources."""
    with np.load(npz) as data:
        return {key: data[f"{split}_{key}"] for key in ("object", "view_a", "sky") if f"{split}_{key}" in data.files}


def training_objects(npz: str) -> str:
    """A label line naming how many objects the training split holds (rendered pairs), else nothing."""
    objects = item_metadata(npz, "train").get("object")
    return "" if objects is None else f"\ntrained on {len(np.unique(objects))} objects"


def render_grid_figure(inputs: dict[str, str], paths: list[Path], n_views: int = 8, note: str = "") -> None:
    """Rendered samples: per dataset, one row per object (every split), its first ``n_views`` views by rotation
    index, each over the sky crop of the pair it was drawn in."""
    rows = []
    for dataset, npz in inputs.items():
        with np.load(npz) as data:
            ids, skipped = data["object_ids"], data["skipped_ids"]
            for split in ("train", "val", "test"):
                x, objects, views = data[f"{split}_x"], data[f"{split}_object"], data[f"{split}_view_a"]
                for o in np.unique(objects):
                    items = np.flatnonzero(objects == o)
                    _, first = np.unique(views[items], return_index=True)  # one item per view, by view index
                    chosen = items[first[:n_views]]
                    rows.append((f"{split}\n{ids[o][:8]}", x[chosen], views[chosen]))
        skipped_note = f" ({len(skipped)} mesh(es) skipped)" if len(skipped) else ""
    fig, axes = plt.subplots(len(rows), n_views, figsize=(1.1 * n_views, 1.15 * len(rows)), squeeze=False)
    for r, (label, images, views) in enumerate(rows):
        for c in range(n_views):
            axes[r, c].axis("off")
            if c < len(images):
                axes[r, c].imshow(images[c].transpose(1, 2, 0))
                axes[r, c].set_title(f"view {views[c]}", fontsize=6)
        axes[r, 0].axis("on"), axes[r, 0].set_xticks([]), axes[r, 0].set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=6)
    fig.suptitle(f"Rendered samples of {', '.join(inputs)}: objects (rows: split and id) under the shared SO(3) "
                 f"rotations (columns){skipped_note}", fontsize=8)
    save(fig, paths, note)


ANGLE_CURVES = {"prediction": ("-", "prediction D(g.E(x)) vs T_g(x)"),
                "ceiling": ("--", "oracle ceiling D(E(T_g x)) vs T_g(x)"),
                "round_trip": (":", "latent round trip D(g^-1.g.E(x)) vs D(E(x))")}


def seed_mean(files: dict[str, str], binning: str, curve: str) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and the mean over seeds of one curve (NaN where a bin holds no item)."""
    results = [json.loads(Path(f).read_text())[binning] for f in files.values()]
    edges = np.asarray(results[0]["edges"])
    values = np.array([[np.nan if v is None else v for v in r[curve]] for r in results], dtype=float)
    with warnings.catch_warnings():  # a bin no seed has items in stays NaN: an exact group's in-between angles
        warnings.simplefilter("ignore", RuntimeWarning)
        return (edges[:-1] + edges[1:]) / 2, np.nanmean(values, axis=0)


def angle_figure(inputs: dict[str, dict[str, dict[str, str]]], paths: list[Path], note: str = "") -> None:
    """PSNR by rotation angle and by distance to the nearest quarter turn, per dataset and group (mean over
    seeds): the prediction against the oracle ceiling and the latent round trip (ald.evaluate.angle_run)."""
    fig, axes = plt.subplots(2, len(inputs), figsize=(4.2 * len(inputs), 6), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for c, (dataset, groups) in enumerate(inputs.items()):
        for row, (binning, label) in enumerate([("by_angle", "rotation angle (degrees)"),
                                                ("by_quarter_turn_offset", "distance to the nearest quarter turn (degrees)")]):
            ax = axes[row, c]
            for k, (group, files) in enumerate(groups.items()):
                for curve, (style, text) in ANGLE_CURVES.items():
                    centres, mean = seed_mean(files, binning, curve)
                    ax.plot(centres, mean, style, marker="o", ms=3, color=colours[k % len(colours)],
                            label=f"{group}: {text} ({len(files)} seed(s))")
            ax.set_xlabel(label, fontsize=8)
            ax.set_ylabel("PSNR (dB)", fontsize=8)
            ax.tick_params(labelsize=7)
        axes[0, c].set_title(dataset, fontsize=9)
    axes[0, -1].legend(fontsize=6, loc="lower left")
    fig.suptitle("Errors by rotation angle under continuous groups (mean over seeds)", fontsize=9)
    fig.tight_layout()
    save(fig, paths, note)


DEFAULT_SELECTION = " ".join(GroupActionModel.selected_by)  # what kept the checkpoint of a run whose record does not say


def read_history(path: str) -> pd.DataFrame:
    """One run's per-epoch history, with the rule that kept its checkpoint (``kept_by``, from the run record beside
    it); a missing or empty file stops the figure rather than silently dropping the run."""
    file = Path(path)
    frame = pd.read_csv(file) if file.is_file() and file.stat().st_size else pd.DataFrame()
    if frame.empty:
        raise FileNotFoundError(f"training history {file} is missing or has no epochs. "
                                f"Fix: train that run, e.g. `snakemake --cores 2 {file}`")
    record = file.with_name("run.json")
    record = json.loads(record.read_text()) if record.is_file() else {}
    return frame.assign(kept_by=record.get("checkpoint_selected_by", DEFAULT_SELECTION))


def best_epochs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each (model, seed) run's kept row, by its ``kept_by`` rule (e.g. lowest val_total; first one on ties)."""
    def kept(run: pd.DataFrame) -> int:
        direction, column = (run["kept_by"].iloc[0] if "kept_by" in run else DEFAULT_SELECTION).split()
        return run[column].idxmin() if direction == "lowest" else run[column].idxmax()
    return frame.loc[[kept(run) for _, run in frame.groupby(["model", "seed"])]]


def optional_lines(ax, frame: pd.DataFrame, column: str, line: dict) -> str:
    """Plot a column that older histories lack; a title note says so when only some of the panel's runs have it."""
    present = frame.dropna(subset=[column]) if column in frame else frame.iloc[:0]
    n, total = present.groupby(["model", "seed"]).ngroups, frame.groupby(["model", "seed"]).ngroups
    if n:
        sns.lineplot(present, y=column, legend=False, ax=ax, **line)
    else:
        ax.text(0.5, 0.5, f"no run here has {column}\n(its history predates that column)", ha="center", va="center",
                fontsize=8, transform=ax.transAxes)
        ax.set(xticks=[], yticks=[])
    return f" ({column}: {n} of {total} runs)" if 0 < n < total else ""


def training_curves_figure(inputs: dict[str, dict[str, dict[str, str]]], paths: list[Path], note: str = "") -> None:
    """Per (dataset, group): training losses, validation loss with each run's best epoch, validation PSNR and the
    variant fraction, mean and sd over seeds, so that divergence after the kept checkpoint shows.

    ``inputs``: "dataset group" -> model -> seed -> history.csv.
    """
    frames = {panel: pd.concat([read_history(path).assign(model=model, seed=seed) for model, seeds in runs.items()
                                for seed, path in seeds.items()], ignore_index=True) for panel, runs in inputs.items()}
    palette = dict(zip(dict.fromkeys(m for runs in inputs.values() for m in runs), sns.color_palette()))
    terms = list(dict.fromkeys(c for frame in frames.values() for c in frame if c.startswith("train_")))
    fig, axes = plt.subplots(len(frames), 4, figsize=(17, 3.2 * len(frames)), squeeze=False, layout="constrained")
    legend_row = max(range(len(frames)), key=lambda r: list(frames.values())[r]["model"].nunique())  # names every model
    for r, (panel, frame) in enumerate(frames.items()):
        if "n_channels" in frame:
            frame["n_variant / n_channels"] = frame["n_variant"] / frame["n_channels"]
        losses = frame.melt(id_vars=["epoch", "model", "seed"], value_vars=[t for t in terms if t in frame],
                            var_name="term", value_name="training loss").dropna()
        line = dict(x="epoch", hue="model", palette=palette, errorbar="sd")
        sns.lineplot(losses, y="training loss", style="term", style_order=terms, legend=r == legend_row, ax=axes[r, 0], **line)
        sns.lineplot(frame, y="val_total", legend=False, ax=axes[r, 1], **line)
        sns.scatterplot(best_epochs(frame), x="epoch", y="val_total", hue="model", palette=palette, marker="*", s=120,
                        edgecolor="black", legend=False, ax=axes[r, 1], zorder=3)
        notes = ["", "", optional_lines(axes[r, 2], frame, "val_psnr", line),
                 optional_lines(axes[r, 3], frame, "n_variant / n_channels", line)]
        for ax, suffix in zip(axes[r], notes):
            ax.set_title(f"{panel}{suffix}", fontsize=8)
            ax.grid(alpha=0.3)
        axes[r, 0].set_yscale("log"), axes[r, 1].set_yscale("log"), axes[r, 3].set_ylim(-0.05, 1.05)
        axes[r, 1].set_ylabel("val_total (★ kept epoch)")
    sns.move_legend(axes[legend_row, 0], "best", fontsize=6, title_fontsize=7)
    fig.suptitle("Training curves: mean over seeds, band ± 1 sd (one seed: its line); ★ the epoch each run kept (lowest "
                 "validation loss; for a GAN, highest validation PSNR)", fontsize=9)
    save(fig, paths, note)


def placeholder_figure(figure: str, left_out: list[str], paths: list[Path], note: str = "") -> None:
    """A figure whose every panel is left out of this results folder: it says which and why, in place of panels."""
    fig, ax = plt.subplots(figsize=(9, 0.5 + 0.3 * len(left_out)))
    ax.set_position([0.01, 0.0, 0.98, 1.0])
    ax.axis("off")
    lines = "\n".join(textwrap.fill(line, 110) for line in left_out)
    ax.text(0, 1, f"{figure}: nothing to draw in this results folder; every panel is left out:\n{lines}",
            fontsize=8, va="top", ha="left", transform=ax.transAxes)
    save(fig, paths, note.split(" Not shown:")[0])


def draw(figure: str, inputs, test_seed: int, paths: list[Path], note: str = "") -> None:
    """Draw ``figure`` from its inputs (``ald.plan.Plan.figure_inputs``) on the runs' test pairs, ``note`` (the
    settings) in its corner."""
    def model_and_pairs(run_dir):
        run = load_run(run_dir)
        return run.model, run.pairs("test", test_seed)

    if figure == "figure2":  # {dataset: {variant: run folder}}
        panels = {}
        for dataset, variants in inputs.items():
            loaded = {v: model_and_pairs(d) for v, d in variants.items()}
            panels[dataset] = ({v: m for v, (m, _) in loaded.items()}, next(iter(loaded.values()))[1])
        loss_ablation_figure(panels, paths, note=note)
    elif figure == "figure3":  # {curve: {tau: probe file}}
        tau_sweep_figure(inputs, paths, note=note)
    elif figure == "angles":  # {dataset: {group: {seed: angles file}}}
        angle_figure(inputs, paths, note=note)
    elif figure == "curves":  # {"dataset group": {model: {seed: history.csv}}}
        training_curves_figure(inputs, paths, note=note)
    elif figure == "renders":  # {dataset: prepared .npz}
        render_grid_figure(inputs, paths, note=note)
    elif figure == "figure5":  # {dataset: run folder}
        latent_magnitude_figure({dataset: model_and_pairs(run_dir) for dataset, run_dir in inputs.items()}, paths, note=note)
    else:  # swap, figure4: {dataset: run folder}
        panels = {}
        for dataset, run_dir in inputs.items():
            run = load_run(run_dir)
            partners = swap_partners(item_metadata(run.spec.source_npz, "test"), 3)
            panels[dataset] = (run.model, run.pairs("test", test_seed), partners, training_objects(run.spec.source_npz))
        latent_swap_figure(panels, paths, figure=figure, note=note)
