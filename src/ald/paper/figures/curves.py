"""The training curves of every main run: per (dataset, group), training losses, validation loss with each run's
kept epoch, validation PSNR and the variant fraction, mean and sd over seeds, from the runs' histories."""

from __future__ import annotations

import json
from pathlib import Path

from .base import Figure, register_figure
from .drawing import save
from .lazy import mlines, np, pd, plt, sns, ticker


def default_selection() -> str:
    """What kept the checkpoint of a run whose record does not say."""
    from ...models import GroupActionModel

    return " ".join(GroupActionModel.selected_by)


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
    return frame.assign(kept_by=record.get("checkpoint_selected_by", default_selection()))


def best_epochs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each (model, seed) run's kept row, by its ``kept_by`` rule (e.g. lowest val_total; first one on ties)."""
    def kept(run: pd.DataFrame) -> int:
        direction, column = (run["kept_by"].iloc[0] if "kept_by" in run else default_selection()).split()
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
        column = [mlines.Line2D([], [], color=palette[model], lw=5, label=model)]
        for term in found:
            style = dict(term_style(found, term))
            style.pop("markevery", None)
            name = "total (sum of the terms)" if term == "train_total" else term.removeprefix("train_")
            column.append(mlines.Line2D([], [], color=palette[model], ms=3.5, label=f"  {name}", **{"lw": 1.3, **style}))
        columns.append(column)
    height = max(map(len, columns))
    handles = [h for column in columns for h in column + [mlines.Line2D([], [], alpha=0, label=" ")] * (height - len(column))]
    legend = fig.legend(handles=handles, loc="outside lower center", ncol=len(columns), fontsize=7, handlelength=4,
                        title="colour: model (every panel); line style: its training loss term (first column)",
                        title_fontsize=8, frameon=True)
    for text in legend.get_texts():
        if text.get_text() in terms:
            text.set_fontweight("bold")


def curves_row(axes, panel: str, frame: pd.DataFrame, terms: dict[str, list[str]], palette: dict) -> None:
    """One (dataset, group)'s four panels."""
    if "n_channels" in frame:
        frame["n_variant / n_channels"] = frame["n_variant"] / frame["n_channels"]
    for model, runs in frame.groupby("model", sort=False):
        for term in terms[model]:
            if term in runs:
                mean_band(axes[0], runs, term, palette[model], log=True, **term_style(terms[model], term))
        mean_band(axes[1], runs, "val_total", palette[model], log=True)
    sns.scatterplot(best_epochs(frame), x="epoch", y="val_total", hue="model", palette=palette, marker="*", s=120,
                    edgecolor="black", legend=False, ax=axes[1], zorder=3)
    notes = ["", "", optional_lines(axes[2], frame, "val_psnr", palette),
             optional_lines(axes[3], frame, "n_variant / n_channels", palette)]
    for ax, suffix, ylabel in zip(axes, notes, ["training loss", "val_total (★ kept epoch)", "val_psnr (dB)",
                                                "n_variant / n_channels"]):
        ax.set_title(f"{panel}{suffix}", fontsize=8)
        ax.set(xlabel="epoch", ylabel=ylabel)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log"), axes[1].set_yscale("log"), axes[3].set_ylim(-0.05, 1.05)


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
        curves_row(axes[r], panel, frame, terms, palette)
    curves_legend(fig, terms, palette)
    fig.suptitle("Training curves: mean over seeds, band ± 1 sd (one seed: its line; on log axes the band's lower edge "
                 f"is clipped at {LOG_BAND_FLOOR:g} × the mean); ★ the epoch each run kept (lowest validation loss; for a "
                 "GAN, highest validation PSNR)", fontsize=9)
    save(fig, paths, note)


@register_figure
class Curves(Figure):
    name = "curves"
    caption = """Training curves of every main run, one row per dataset and group, one colour per model (mean over
seeds, band ± 1 sd, on log axes clipped below at 0.1 × the mean): training loss terms (one line style
per term of a model, named in the legend below the panels), validation loss with each run's best epoch
(★, the kept checkpoint), validation PSNR where the history has it, and the fraction of variant channels."""

    def inputs(self, plan) -> dict[str, dict[str, dict[str, str]]]:
        """{"dataset group": {model: {seed: history.csv}}} of every main run."""
        runs = {}
        for run in plan.main_runs():
            seeds = runs.setdefault(f"{run.dataset} {run.group}", {}).setdefault(run.model, {})
            seeds[str(run.seed)] = plan.history_file(run)
        return runs

    def draw(self, inputs, test_seed, paths, note=""):
        training_curves_figure(inputs, paths, note=note)
