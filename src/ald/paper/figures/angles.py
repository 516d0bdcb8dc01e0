"""Errors by rotation angle under the continuous groups: PSNR by angle and by distance to the nearest quarter
turn, per dataset of ``figures.angle_datasets`` and group, mean over every seed's angles file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from .base import Figure, register_figure
from .drawing import save
from .lazy import mlines, np, plt

ANGLE_CURVES = {"prediction": ("C0", "o", "prediction D(g.E(x)) vs T_g(x)"),
                "ceiling": ("C1", "s", "oracle ceiling D(E(T_g x)) vs T_g(x)"),
                "round_trip": ("C2", "^", "latent round trip D(g^-1.g.E(x)) vs D(E(x))")}
GROUP_STYLES = ["-", "--", ":", "-."]
BINNINGS = [("by_angle", "rotation angle (degrees)"),
            ("by_quarter_turn_offset", "distance to the nearest quarter turn (degrees)")]


def seed_mean(files: dict[str, str], binning: str, curve: str) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and the mean over seeds of one curve (NaN where a bin holds no item)."""
    results = [json.loads(Path(f).read_text())[binning] for f in files.values()]
    edges = np.asarray(results[0]["edges"])
    values = np.array([[np.nan if v is None else v for v in r[curve]] for r in results], dtype=float)
    with warnings.catch_warnings():  # a bin no seed has items in stays NaN: an exact group's in-between angles
        warnings.simplefilter("ignore", RuntimeWarning)
        return (edges[:-1] + edges[1:]) / 2, np.nanmean(values, axis=0)


def angles_legend(fig, groups_drawn: list[str]) -> None:
    """One legend for every panel, below them: a colour and marker per curve, a line style per group."""
    handles = [mlines.Line2D([], [], color=colour, marker=marker, ms=4, label=text)
               for colour, marker, text in ANGLE_CURVES.values()]
    columns = 3
    if len(groups_drawn) > 1:  # the line style tells the groups apart: a column of its own
        styles = [mlines.Line2D([], [], color="0.3", ls=GROUP_STYLES[k % len(GROUP_STYLES)], label=f"group {group}")
                  for k, group in enumerate(groups_drawn)]
        blank = mlines.Line2D([], [], alpha=0, label=" ")
        height = max(len(handles), len(styles))
        handles = handles + [blank] * (height - len(handles)) + styles + [blank] * (height - len(styles))
        columns = 2
    fig.legend(handles=handles, loc="outside lower center", ncol=columns, fontsize=7,
               title="every panel (PSNR of ...)", title_fontsize=7)


def angle_figure(inputs: dict[str, dict[str, dict[str, str]]], paths: list[Path], note: str = "") -> None:
    """PSNR by rotation angle and by distance to the nearest quarter turn, per dataset and group (mean over
    seeds): the prediction against the oracle ceiling and the latent round trip (ald.evaluate.angle_run). One colour
    and marker per curve, one line style per group, and one legend for every panel, below them."""
    groups_drawn = list(dict.fromkeys(group for groups in inputs.values() for group in groups))
    fig, axes = plt.subplots(2, len(inputs), figsize=(4.2 * len(inputs), 6), squeeze=False, layout="constrained")
    for c, (dataset, groups) in enumerate(inputs.items()):
        for row, (binning, label) in enumerate(BINNINGS):
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
    angles_legend(fig, groups_drawn)
    fig.suptitle("Errors by rotation angle under continuous groups (mean over seeds)", fontsize=9)
    save(fig, paths, note)


def continuous(group: str) -> bool:
    from ...groups import GROUPS

    return not GROUPS[group].exact


@register_figure
class Angles(Figure):
    name = "angles"
    caption = """PSNR by rotation angle (top) and by distance to the nearest quarter turn (bottom) under the continuous
groups, mean over seeds: the prediction D(g.E(x)) against T_g(x), the oracle ceiling D(E(T_g x)) and the
latent round trip D(g^-1.g.E(x)) against D(E(x)), one colour per curve (legend below the panels)."""

    def panels(self, plan) -> list[str]:
        return [d for d in plan.config["figures"]["angle_datasets"] if d in plan.datasets]

    def left_out(self, plan) -> list[str]:
        """The method's runs under a continuous group that ``not_run`` leaves out, by dataset, group and reason."""
        datasets, model, seeds = self.panels(plan), self.models(plan)[0], {}
        for run, reason in plan.left_out_runs("main"):
            if run.dataset in datasets and run.model == model and continuous(run.group):
                seeds.setdefault((run.dataset, run.group, reason), []).append(str(run.seed))
        return [f"{d} {g} (seeds {', '.join(s)}): {reason}" for (d, g, reason), s in seeds.items()]

    def inputs(self, plan) -> dict[str, dict[str, dict[str, str]]]:
        """{dataset: {group: {seed: angles file}}}: the method under the continuous groups, every seed it has."""
        model = self.models(plan)[0]
        shown = {d: {} for d in self.panels(plan)}  # in figures.angle_datasets' order
        for run in plan.main_runs():
            if run.dataset in shown and run.model == model and continuous(run.group):
                shown[run.dataset].setdefault(run.group, {})[str(run.seed)] = plan.analysis_file("angles", run)
        return {d: groups for d, groups in shown.items() if groups}

    def draw(self, inputs, test_seed, paths, note=""):
        angle_figure(inputs, paths, note=note)
