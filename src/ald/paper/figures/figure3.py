"""Figure 3, the tau sweep: the probe accuracy of z_v (and of z) against the mask threshold tau, and the fraction
of channels in z_v, from the probe files of the models trained at each tau."""

from __future__ import annotations

import json
from pathlib import Path

from .base import Figure, register_figure
from .drawing import save
from .lazy import np, plt

PAPER_TAU = 0.5  # the mask threshold of the paper's Table 3


def tau_sweep_figure(sweep: dict[str, dict[str, Path]], paths: list[Path], note: str = "") -> None:
    """Figure 3: probe accuracy of z_v against tau (z as dashed line), and the variant fraction.

    ``sweep``: dataset -> tau -> probe result file of the model trained at that tau.
    """
    from ...probes import first_probe
    from ..tables import PROBE_INPUTS
    from ..values import TABLE3

    fig, (acc_ax, frac_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    starred = set()  # the paper's value is one point per paper row, however many seeds' curves share it
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
        frac_ax.plot(taus, [r["n_variant_channels"] / r["n_channels"] for r in rows], "o-", color=color, label=dataset)
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
    caption = """Figure 3: linear-probe accuracy of z_v against the mask threshold tau (solid), of the full latent z
(dashed) and the paper's z_v accuracy, a single value at tau = 0.5 (★, "paper, tau 0.5"); right:
fraction of channels in z_v."""

    def left_out(self, plan) -> list[str]:
        """Each tau point ``not_run`` leaves out, by run and reason."""
        points = {}
        for tau, run in plan.configured_tau_points():
            if why := plan.unanalysed_reason(run, "tau_sweep"):
                points.setdefault((run.dataset, run.group, run.seed, why), []).append(f"{tau:g}")
        return [f"{d} {g} seed {seed} (tau {', '.join(taus)}): {why}" for (d, g, seed, why), taus in points.items()]

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
