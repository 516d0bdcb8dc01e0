"""Figure 3, the tau sweep: the probe accuracy of z_v (and of z) against the mask threshold tau, and the fraction
of channels in z_v, from the probe files of the models trained at each tau."""

from __future__ import annotations

import json
from pathlib import Path

from .base import Figure, register_figure
from .drawing import save
from .lazy import np, plt

PAPER_TAU = 0.5  # the mask threshold of the paper's Table 3
# A probed checkpoint kept before this fraction of the run's epochs is drawn hollow: the run's validation loss rose
# after it (e.g. a late divergence), so that point shows an earlier stage of training than its neighbours may.
EARLY_CHECKPOINT = 0.9
EARLY_LABEL = (f"hollow: checkpoint kept before {EARLY_CHECKPOINT:.0%} of the epochs\n"
               "(validation loss rose later; see its history.csv)")


def kept_epoch(result: dict) -> tuple[int, int] | None:
    """(the epoch of the checkpoint a probe file probed, the run's last epoch), from the history beside the run
    record the probe file names; None for a probe file that names no record."""
    from .curves import best_epochs, read_history

    record = result.get("train_run", {}).get("record")
    if not record:
        return None
    history = read_history(str(Path(record).with_name("history.csv")))
    kept = best_epochs(history.assign(model="run", seed="run"))
    return int(kept["epoch"].iloc[0]), int(history["epoch"].max())


def is_early(result: dict) -> bool:
    epochs = kept_epoch(result)
    return epochs is not None and epochs[0] < EARLY_CHECKPOINT * epochs[1]


def tau_sweep_figure(sweep: dict[str, dict[str, Path]], paths: list[Path], note: str = "") -> None:
    """Figure 3: probe accuracy of z_v against tau (z as dashed line), and the variant fraction.

    ``sweep``: dataset -> tau -> probe result file of the model trained at that tau.
    """
    from ...probes import first_probe
    from ..tables import PROBE_INPUTS
    from ..values import TABLE3

    fig, (acc_ax, frac_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    starred = set()  # the paper's value is one point per paper row, however many seeds' curves share it
    any_early = False
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
        if paper_row in TABLE3 and paper_row not in starred:  # the paper's threshold only: a point, not a line
            starred.add(paper_row)
            acc_ax.plot([PAPER_TAU], [TABLE3[paper_row]["z_v"]["accuracy"]], "*", ms=12, color=color, markeredgecolor="black",
                        label=f"paper, $\\tau$ {PAPER_TAU} ({paper_row} $z_v$, Table 3)")
        fractions = [r["n_variant_channels"] / r["n_channels"] for r in rows]
        frac_ax.plot(taus, fractions, "o-", color=color, label=dataset)
        early = [is_early(r) for r in rows]
        any_early = any_early or any(early)
        for ax, values in ((acc_ax, z_v), (frac_ax, fractions)):
            ax.plot([t for t, e in zip(taus, early) if e], [v for v, e in zip(values, early) if e], "o", color=color,
                    mfc="white", label="_nolegend_")
    if any_early:  # one neutral legend entry for every curve's hollow points
        acc_ax.plot([], [], "o", color="grey", mfc="white", label=EARLY_LABEL)
    probe = first_probe(rows[0])
    acc_ax.set(xlabel=r"mask threshold $\tau$", ylabel="test accuracy (%)",
               title=f"{probe['family']} probe accuracy on the latent of {PROBE_INPUTS[probe['input']]}")
    frac_ax.set(xlabel=r"mask threshold $\tau$", ylabel="fraction of variant channels", ylim=(-0.05, 1.05),
                title=r"Channels assigned to $z_v$")
    # under the panel: above it the paper's star sits among the legend's usual places
    acc_ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    frac_ax.legend(fontsize=7)
    acc_ax.grid(alpha=0.3), frac_ax.grid(alpha=0.3)
    save(fig, paths, note)


@register_figure
class Figure3(Figure):
    name = "figure3"
    caption = f"""Figure 3: linear-probe accuracy of z_v against the mask threshold tau (solid), of the full latent z
(dashed) and the paper's z_v accuracy, a single value at tau = 0.5 (★, "paper, tau 0.5"); right:
fraction of channels in z_v. A hollow point's run kept a checkpoint from before {EARLY_CHECKPOINT:.0%} of its epochs (its
validation loss rose later), so it shows an earlier stage of training."""

    def left_out(self, plan) -> list[str]:
        """The tau points ``not_run`` leaves out, by dataset, group and reason; the seeds missing the same taus
        share one entry, and "every tau" stands for the whole sweep."""
        every_tau = sorted({tau for tau, _ in plan.configured_tau_points()})
        taus_of = {}  # (dataset, group, reason) -> {seed: [tau, ...]}
        for tau, run in plan.configured_tau_points():
            if why := plan.unanalysed_reason(run, "tau_sweep"):
                taus_of.setdefault((run.dataset, run.group, why), {}).setdefault(run.seed, []).append(tau)
        entries = []
        for (d, g, why), by_seed in taus_of.items():
            seeds_of = {}  # the taus left out -> the seeds that miss them
            for seed, taus in by_seed.items():
                seeds_of.setdefault(tuple(sorted(taus)), []).append(seed)
            for taus, seeds in seeds_of.items():
                shown = "every tau" if list(taus) == every_tau else "tau " + ", ".join(f"{tau:g}" for tau in taus)
                entries.append(f"{d} {g} seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} ({shown}): {why}")
        return entries

    def inputs(self, plan) -> dict[str, dict[str, str]]:
        """{curve: {tau: probe file}}: a curve per dataset, or per dataset, group and seed where there are several."""
        sweep, curves = plan.config["tau_sweep"], {}
        several = len(sweep["seeds"]) > 1 or any(len(plan.groups(d, "tau_sweep.groups")) > 1 for d in sweep["datasets"])
        for tau, run in plan.tau_points():
            curve = f"{run.dataset} {run.group} seed{run.seed}" if several else run.dataset
            curves.setdefault(curve, {})[str(tau)] = plan.analysis_file("probes", run)
        return curves

    def note_settings(self, plan):
        return plan.config["tau_sweep"]["seeds"], plan.config["tau_sweep"]["datasets"]

    def draw(self, inputs, test_seed, paths, note=""):
        tau_sweep_figure(inputs, paths, note=note)
