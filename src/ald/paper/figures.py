"""The paper's figures from trained models, probe results and training histories (PNG for reading, PDF for print)."""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402

from ..models import GroupActionModel  # noqa: E402
from ..probes import first_probe  # noqa: E402
from ..training import load_run  # noqa: E402
from .tables import PROBE_INPUTS  # noqa: E402
from .values import TABLE3  # noqa: E402

PAPER_TAU = 0.5  # the mask threshold of the paper's Table 3
VARIANT_LABELS = {"inv_only": r"$L_{inv}$ only", "const_only": r"$L_{const}$ only", "both": r"$L_{inv}+L_{const}$"}


def save(fig, paths: list[Path], note: str = "") -> None:
    """Write the figure to each of ``paths`` (PNG at 150 dpi, PDF as vectors), ``note`` (the settings that made
    it) in its bottom-left corner."""
    if note:  # under everything drawn, legends outside the axes included
        fig.draw_without_rendering()  # lays the panels out, then freezes them: the note must not move a legend onto it
        fig.set_layout_engine("none")
        renderer = fig.canvas.get_renderer()
        for legend in fig.legends:  # pinned where the layout put it, not to the figure's edge (which the note moves)
            legend.set_bbox_to_anchor(legend.get_window_extent(renderer).transformed(fig.transFigure.inverted()),
                                      transform=fig.transFigure)
            legend.set_loc("center")
        drawn = fig.get_tightbbox(renderer)
        fig.text(drawn.x0 / fig.get_figwidth(), (drawn.y0 - 0.04) / fig.get_figheight(), textwrap.fill(note, 160),
                 fontsize=6, color="0.3", ha="left", va="top", transform=fig.transFigure)
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


EMPTY_RANGE = 0.05  # an output whose inside spans less than this of [0, 1] reads as blank
EMPTY_TEXT = "prediction empty:\nuntrained at this budget"


def spread(picture: torch.Tensor, border: int = 2) -> float:
    """How far a batch of one picture (1, C, *spatial) in [-1, 1] spans [0, 1] away from its border (where an
    untrained decoder's padding leaves bright artefacts), from its 0.1th to its 99.9th percentile."""
    inside = ((picture[0] + 1) / 2).clamp(0, 1)
    if min(inside.shape[1:]) > 4 * border:
        inside = inside[(slice(None),) + (slice(border, -border),) * (inside.dim() - 1)]
    low, high = np.quantile(inside.detach().cpu().numpy(), [0.001, 0.999])
    return float(high - low)


def is_empty(prediction: torch.Tensor, reference: torch.Tensor) -> bool:
    """Whether a model's output (in [-1, 1], as ``unit`` takes it) is (near) constant while the picture it should
    match is not. Judged on the whole output, not on the slices a volume shows."""
    return spread(prediction) < EMPTY_RANGE <= spread(reference)


def show_prediction(ax, prediction: torch.Tensor, reference: torch.Tensor, title=None) -> bool:
    """``show`` a model's output; a blank one is flagged in the panel (``is_empty``), not left as a black box."""
    show(ax, unit(prediction), title)
    empty = is_empty(prediction, reference)
    if empty:
        ax.text(0.5, 0.5, EMPTY_TEXT, ha="center", va="center", fontsize=6, color="tab:orange", transform=ax.transAxes)
    return empty


def image_grid(aspects: list[float], n_cols: int, cell: float, extra_width: float = 0.0, top: float = 0.3):
    """A grid of picture panels with no gaps: row r is ``aspects[r]`` (height / width of its pictures) times as
    tall as a column is wide, so that a volume's strip of three slices gets a thin row, not a square one."""
    fig, axes = plt.subplots(len(aspects), n_cols, figsize=(cell * n_cols + extra_width, cell * sum(aspects) + top),
                             squeeze=False, layout="constrained", gridspec_kw=dict(height_ratios=aspects))
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
    return fig, axes


def aspect(image: np.ndarray) -> float:
    return image.shape[0] / image.shape[1]


@torch.no_grad()
def loss_ablation_figure(panels: dict[str, tuple[dict, object]], paths: list[Path], n_examples: int = 3, note: str = "") -> None:
    """Figure 2: per dataset, input and ground truth, then each variant's prediction and |error| (0-1)."""
    variants = [v for v in VARIANT_LABELS if any(v in models for models, _ in panels.values())]
    rows = []
    for name, (models, pairs) in panels.items():
        for i in range(n_examples):
            x, tx, g, _ = pairs.batch(torch.tensor([i]))
            rows.append((name, i, x, tx, [models[v].predict(x, g) for v in variants]))
    fig, axes = image_grid([aspect(unit(row[2])) for row in rows], 2 + 2 * len(variants), 1.3, extra_width=1.0)
    for r, (name, i, x, tx, predictions) in enumerate(rows):
        show(axes[r, 0], unit(x), "input" if r == 0 else None)
        show(axes[r, 1], unit(tx), "ground truth" if r == 0 else None)
        axes[r, 0].set_ylabel(f"{name.replace('_', chr(10))}\n#{i}", fontsize=6)
        for c, (variant, pred) in enumerate(zip(variants, predictions)):
            show_prediction(axes[r, 2 + 2 * c], pred, tx, VARIANT_LABELS[variant] if r == 0 else None)
            show(axes[r, 3 + 2 * c], abs_error(unit(pred), unit(tx)), "|error|" if r == 0 else None, cmap="inferno")
    fig.colorbar(axes[0, 3].images[0], ax=axes, shrink=min(1.0, 4 / len(rows)), aspect=30,
                 label="absolute error (intensity in [0, 1])")
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
        if paper_row in TABLE3:  # a value at the paper's threshold only, so one point, not a line across every tau
            acc_ax.plot([PAPER_TAU], [TABLE3[paper_row]["z_v"]["accuracy"]], "*", ms=12, color=color, markeredgecolor="black",
                        label=f"{dataset}: paper, $\\tau$ {PAPER_TAU} ({paper_row} $z_v$, Table 3)")
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
    truth. ``panels``: dataset -> (model, test pairs); each dataset has its own colour scale, a bar beside its rows
    that names it."""
    titles = ["input", "|z|", "|z_v|", "|z_i|", "|g·z_v|", "output", "ground truth"]
    blocks = {}
    for dataset, (model, pairs) in panels.items():
        rows = []
        for r in range(n_examples):
            x, tx, g, _ = pairs.batch(torch.tensor([r]))
            z = model.encode(x)
            z_v, z_i = model.split(z)
            maps = [channel_magnitude(m) for m in (z, z_v, z_i, model.group.act(g, z_v))]
            rows.append([unit(x), *maps, model.predict(x, g), tx])
        blocks[dataset] = (model, rows)
    aspects = [max(aspect(image) for image in row[:5]) for _, rows in blocks.values() for row in rows]
    fig, axes = image_grid(aspects, len(titles), 1.3, extra_width=1.2, top=0.5)
    for p, (dataset, (model, rows)) in enumerate(blocks.items()):
        top = max(m.max() for row in rows for m in row[1:5]) or 1.0
        block = axes[p * n_examples:(p + 1) * n_examples]
        for r, row in enumerate(rows):
            for c, image in enumerate(row):
                if c == 5:
                    show_prediction(block[r, c], image, row[6])
                elif c == 6:
                    show(block[r, c], unit(image))
                else:
                    show(block[r, c], image, **(dict(cmap="viridis", vmin=0, vmax=top) if 1 <= c <= 4 else {}))
        block[(n_examples - 1) // 2, 0].set_ylabel(f"{dataset}\n{variant_summary(model)}", fontsize=6)  # mid-block
        bar = fig.colorbar(block[0, 1].images[0], ax=block.ravel().tolist(), shrink=0.9, aspect=15)
        bar.set_label(f"{dataset}: |z|, |z_v|, |z_i|, |g·z_v|\n(mean |activation| over channels)", fontsize=6)
        bar.ax.tick_params(labelsize=6)
    for c, title in enumerate(titles):
        axes[0, c].set_title(title, fontsize=8)
    fig.suptitle("Latent magnitudes; each dataset has its own colour scale (the bar beside its rows)"
                 + ("; volumes: middle slices across D, H, W" if any(a < 0.9 for a in aspects) else ""), fontsize=8)
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
    rows = []
    for dataset, (model, pairs, partners, label) in panels.items():
        for r, (i, j) in enumerate(partners[:n_pairs]):
            x = pairs.batch(torch.tensor([i, j])).x
            z_v, z_i = model.split(model.encode(x))
            swapped = model.decode(torch.stack([z_v[0] + z_i[1], z_v[1] + z_i[0]]))
            middle = (len(partners[:n_pairs]) - 1) // 2  # the label spans the dataset's rows, thin ones too
            label_line = f"{dataset}\n{variant_summary(model)}{label}" if r == middle else None
            rows.append((label_line, (x[0:1], x[1:2], swapped[0:1], swapped[1:2])))
    fig, axes = image_grid([aspect(unit(images[0])) for _, images in rows], 4, 1.6,
                           top=0.3 + 0.15 * titles[-1].count("\n"))
    for r, (label_line, (x1, x2, swap1, swap2)) in enumerate(rows):
        show(axes[r, 0], unit(x1)), show(axes[r, 1], unit(x2))
        show_prediction(axes[r, 2], swap1, x1), show_prediction(axes[r, 3], swap2, x2)
        if label_line:
            axes[r, 0].set_ylabel(label_line, fontsize=6)
    for c, title in enumerate(titles):
        axes[0, c].set_title(title, fontsize=8)
    heading = {"swap": "Latent swap",
               "figure4": "Figure 4: latent swap on test renders (objects and skies held out from training)\n"
                          "the paper's claim: pose goes with z_v, the sky with z_i"}[figure]
    fig.suptitle(heading, fontsize=8)
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


ANGLE_CURVES = {"prediction": ("C0", "o", "prediction D(g.E(x)) vs T_g(x)"),
                "ceiling": ("C1", "s", "oracle ceiling D(E(T_g x)) vs T_g(x)"),
                "round_trip": ("C2", "^", "latent round trip D(g^-1.g.E(x)) vs D(E(x))")}
GROUP_STYLES = ["-", "--", ":", "-."]


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
    seeds): the prediction against the oracle ceiling and the latent round trip (ald.evaluate.angle_run). One colour
    and marker per curve, one line style per group, and one legend for every panel, below them."""
    groups_drawn = list(dict.fromkeys(group for groups in inputs.values() for group in groups))
    fig, axes = plt.subplots(2, len(inputs), figsize=(4.2 * len(inputs), 6), squeeze=False, layout="constrained")
    for c, (dataset, groups) in enumerate(inputs.items()):
        for row, (binning, label) in enumerate([("by_angle", "rotation angle (degrees)"),
                                                ("by_quarter_turn_offset", "distance to the nearest quarter turn (degrees)")]):
            ax = axes[row, c]
            for group, files in groups.items():
                for curve, (colour, marker, text) in ANGLE_CURVES.items():
                    centres, mean = seed_mean(files, binning, curve)
                    ax.plot(centres, mean, GROUP_STYLES[groups_drawn.index(group) % len(GROUP_STYLES)], marker=marker,
                            ms=3, color=colour, label=f"{group}: {text}")
            ax.set_xlabel(label, fontsize=8)
            ax.set_ylabel("PSNR (dB)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        seeds = sorted({len(files) for files in groups.values()})
        axes[0, c].set_title(f"{dataset}: {', '.join(groups)} ({'/'.join(map(str, seeds))} seed(s))", fontsize=9)
    handles = [Line2D([], [], color=colour, marker=marker, ms=4, label=text)
               for colour, marker, text in ANGLE_CURVES.values()]
    columns = 3
    if len(groups_drawn) > 1:  # the line style tells the groups apart: a column of its own
        styles = [Line2D([], [], color="0.3", ls=GROUP_STYLES[k % len(GROUP_STYLES)], label=f"group {group}")
                  for k, group in enumerate(groups_drawn)]
        blank = Line2D([], [], alpha=0, label=" ")
        height = max(len(handles), len(styles))
        handles = handles + [blank] * (height - len(handles)) + styles + [blank] * (height - len(styles))
        columns = 2
    fig.legend(handles=handles, loc="outside lower center", ncol=columns, fontsize=7,
               title="every panel (PSNR of ...)", title_fontsize=7)
    fig.suptitle("Errors by rotation angle under continuous groups (mean over seeds)", fontsize=9)
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


LOG_BAND_FLOOR = 0.1  # on a log axis a band's lower edge is mean - sd, but never below this fraction of the mean
# Line styles of a model's loss terms, in the order its history lists them (the total always solid and thick): the
# colour says the model, so the styles need only tell one model's few terms apart.
TERM_STYLES = [dict(dashes=(5, 2), marker="o"), dict(dashes=(1.5, 1.5), marker="s"), dict(dashes=(6, 2, 1.5, 2), marker="^"),
               dict(dashes=(3, 1, 1, 1, 1, 1), marker="v"), dict(dashes=(9, 3), marker="D"), dict(dashes=(2, 4), marker="P"),
               dict(dashes=(4, 1, 1, 1), marker="X"), dict(dashes=(1, 3), marker="*")]
TOTAL_STYLE = dict(ls="-", lw=2.2)


def mean_band(ax, frame: pd.DataFrame, column: str, color, log: bool = False, **style) -> None:
    """One run set's ``column`` by epoch: its mean over seeds as a line, ± 1 sd as a band where there are two or more
    seeds; on a log axis the band's lower edge is clipped to ``LOG_BAND_FLOOR`` times the mean, not to 0 or below."""
    stats = frame.dropna(subset=[column]).groupby("epoch")[column].agg(["mean", "std", "count"])
    if stats.empty:
        return
    epochs, mean, sd = stats.index.to_numpy(), stats["mean"].to_numpy(), stats["std"].to_numpy()
    if "marker" in style:
        style = dict(ms=3.5, markevery=max(1, len(epochs) // 6), **style)
    ax.plot(epochs, mean, color=color, **{"lw": 1.3, **style})
    if (stats["count"] > 1).any():
        lower, upper = mean - sd, mean + sd
        if log:
            lower = np.maximum(lower, LOG_BAND_FLOOR * mean)
        ax.fill_between(epochs, lower, upper, color=color, alpha=0.18, lw=0)


def optional_lines(ax, frame: pd.DataFrame, column: str, palette: dict) -> str:
    """Plot a column that older histories lack; a title note says so when only some of the panel's runs have it."""
    present = frame.dropna(subset=[column]) if column in frame else frame.iloc[:0]
    n, total = present.groupby(["model", "seed"]).ngroups, frame.groupby(["model", "seed"]).ngroups
    if n:
        for model, runs in present.groupby("model", sort=False):
            mean_band(ax, runs, column, palette[model])
    else:
        ax.text(0.5, 0.5, f"no run here has {column}\n(its history predates that column)", ha="center", va="center",
                fontsize=8, transform=ax.transAxes)
        ax.set(xticks=[], yticks=[])
    return f" ({column}: {n} of {total} runs)" if 0 < n < total else ""


def model_terms(frames: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Each model's training loss terms (train_* columns its histories fill), total last."""
    terms = {}
    for frame in frames.values():
        for model, runs in frame.groupby("model", sort=False):
            found = [c for c in runs if c.startswith("train_") and runs[c].notna().any()]
            terms[model] = list(dict.fromkeys(terms.get(model, []) + found))
    return {model: sorted(found, key=lambda t: t == "train_total") for model, found in terms.items()}


def term_style(terms: list[str], term: str) -> dict:
    if term == "train_total":
        return TOTAL_STYLE
    return TERM_STYLES[[t for t in terms if t != "train_total"].index(term) % len(TERM_STYLES)]


def curves_legend(fig, terms: dict[str, list[str]], palette: dict) -> None:
    """One legend for every panel, below them: a column per model (its colour in every panel) that names its loss
    terms in the line styles of the first column's panels."""
    columns = []
    for model, found in terms.items():
        column = [Line2D([], [], color=palette[model], lw=5, label=model)]
        for term in found:
            style = dict(term_style(found, term))
            style.pop("markevery", None)
            name = "total (sum of the terms)" if term == "train_total" else term.removeprefix("train_")
            column.append(Line2D([], [], color=palette[model], ms=3.5, label=f"  {name}", **{"lw": 1.3, **style}))
        columns.append(column)
    height = max(map(len, columns))
    handles = [h for column in columns for h in column + [Line2D([], [], alpha=0, label=" ")] * (height - len(column))]
    legend = fig.legend(handles=handles, loc="outside lower center", ncol=len(columns), fontsize=7, handlelength=4,
                        title="colour: model (every panel); line style: its training loss term (first column)",
                        title_fontsize=8, frameon=True)
    for text in legend.get_texts():
        if text.get_text() in terms:
            text.set_fontweight("bold")


def training_curves_figure(inputs: dict[str, dict[str, dict[str, str]]], paths: list[Path], note: str = "") -> None:
    """Per (dataset, group): training losses, validation loss with each run's best epoch, validation PSNR and the
    variant fraction, mean and sd over seeds, so that divergence after the kept checkpoint shows.

    ``inputs``: "dataset group" -> model -> seed -> history.csv.
    """
    frames = {panel: pd.concat([read_history(path).assign(model=model, seed=seed) for model, seeds in runs.items()
                                for seed, path in seeds.items()], ignore_index=True) for panel, runs in inputs.items()}
    palette = dict(zip(dict.fromkeys(m for runs in inputs.values() for m in runs), sns.color_palette()))
    terms = model_terms(frames)
    fig, axes = plt.subplots(len(frames), 4, figsize=(17, 3.2 * len(frames) + 0.3 * max(map(len, terms.values())) + 1),
                             squeeze=False, layout="constrained")
    for r, (panel, frame) in enumerate(frames.items()):
        if "n_channels" in frame:
            frame["n_variant / n_channels"] = frame["n_variant"] / frame["n_channels"]
        for model, runs in frame.groupby("model", sort=False):
            for term in terms[model]:
                if term in runs:
                    mean_band(axes[r, 0], runs, term, palette[model], log=True, **term_style(terms[model], term))
            mean_band(axes[r, 1], runs, "val_total", palette[model], log=True)
        sns.scatterplot(best_epochs(frame), x="epoch", y="val_total", hue="model", palette=palette, marker="*", s=120,
                        edgecolor="black", legend=False, ax=axes[r, 1], zorder=3)
        notes = ["", "", optional_lines(axes[r, 2], frame, "val_psnr", palette),
                 optional_lines(axes[r, 3], frame, "n_variant / n_channels", palette)]
        for ax, suffix, ylabel in zip(axes[r], notes, ["training loss", "val_total (★ kept epoch)", "val_psnr (dB)",
                                                       "n_variant / n_channels"]):
            ax.set_title(f"{panel}{suffix}", fontsize=8)
            ax.set(xlabel="epoch", ylabel=ylabel)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        axes[r, 0].set_yscale("log"), axes[r, 1].set_yscale("log"), axes[r, 3].set_ylim(-0.05, 1.05)
    curves_legend(fig, terms, palette)
    fig.suptitle("Training curves: mean over seeds, band ± 1 sd (one seed: its line; on log axes the band's lower edge "
                 f"is clipped at {LOG_BAND_FLOOR:g} × the mean); ★ the epoch each run kept (lowest validation loss; for a "
                 "GAN, highest validation PSNR)", fontsize=9)
    save(fig, paths, note)


def placeholder_figure(figure: str, left_out: list[str], paths: list[Path], note: str = "") -> None:
    """A figure whose every panel is left out of this results folder: it says which and why, in place of panels."""
    lines = "\n".join(textwrap.fill(line, 110) for line in left_out)
    fig, ax = plt.subplots(figsize=(9, 0.1 + 0.14 * (2 + lines.count("\n"))))  # as tall as its lines of text
    ax.set_position([0.01, 0.0, 0.98, 1.0])
    ax.axis("off")
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
