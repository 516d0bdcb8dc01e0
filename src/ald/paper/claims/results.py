"""The rules of the claims the paper's results make: (a), (b) ALD against the baselines in Table 1; (c) Table 3,
z_v as informative as z, z_i far less; (d) Figure 3, the z_v accuracy peaks at tau 0.5-0.6; (e) Table 2, the
joint loss is best.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable

import pandas as pd

from .. import values as paper_values
from ..tables.frames import format_value, paper_metric
from .base import UNTESTABLE, Evidence, Verdict, better, count, pooled_std, verdict_of

BASELINES = set(paper_values.TABLE1_MODELS) - {"Ours"}  # the paper's baseline columns


def ours_vs(table1: pd.DataFrame | None, rivals: set[str] | None) -> tuple[list[bool], list[str]]:
    """One outcome per Table 1 row (dataset, group, metric), model in the Ours column and model in a rival column
    with a run: Ours better? And a line per comparison with both models' mean ± std, those where ALD is not better
    first. Models of our own (no paper column) are no paper baseline: never a rival."""
    outcomes, losses, wins = [], [], []
    if table1 is None:
        return outcomes, losses
    for (dataset, group, metric), block in table1.groupby(["dataset", "group", "metric"], sort=False):
        if paper_metric(metric) is None:  # RMSE [0,1]: the [-1, 1] row, halved; counted once
            continue
        ours_rows = block[block["paper_column"] == "Ours"].iterrows()
        rival_rows = block[block["paper_column"].isin(BASELINES if rivals is None else rivals)].iterrows()
        for (_, ours), (_, rival) in itertools.product(ours_rows, rival_rows):
            column = rival["paper_column"]
            won = better(ours["mean"], ours["std"], rival["mean"], rival["std"], metric)
            outcomes.append(won)
            spread = format_value(pooled_std(ours["std"], rival["std"]), metric)
            (wins if won else losses).append(
                f"{column} {cell_text(rival, metric)} vs ALD {cell_text(ours, metric)} ({metric}, {dataset} {group}): "
                f"ALD {'better' if won else 'not better'} (pooled std {spread})")
    return outcomes, losses + wins


def cell_text(row: pd.Series, metric: str) -> str:
    """A Table 1 cell's mean ± std, and how many of its planned seeds it has where some are missing."""
    text = format_value(row["mean"], metric, row["std"])
    seeds, planned = row.get("n_seeds"), row.get("n_planned")
    return text if pd.isna(planned) or seeds >= planned else f"{text} ({int(seeds)} of {int(planned)} seeds)"


def paper_ours_vs(rivals: set[str] | None) -> list[bool]:
    """The same comparison on the paper's Table 1 (no spread given: means decide)."""
    outcomes = []
    for row, metrics in paper_values.TABLE1.items():
        for metric, cells in metrics.items():
            for column, value in cells.items():
                if column != "Ours" and (rivals is None or column in rivals):
                    outcomes.append(better(cells["Ours"], 0.0, value, 0.0, metric))
    return outcomes


def beats(rivals: set[str] | None, what: str) -> Callable[[Evidence], Verdict]:
    def rule(evidence: Evidence) -> Verdict:
        outcomes, lines = ours_vs(evidence.table1, rivals)
        paper = paper_ours_vs(rivals)
        paper_text = f"Ours better in {count(paper)} (Table 1)"
        if not outcomes:
            return Verdict(UNTESTABLE + f": no {what} run in Table 1 yet", "—", paper_text)
        return Verdict(verdict_of(outcomes), f"ALD better in {count(outcomes)} row x {what} comparisons", paper_text,
                       tuple(lines))
    return rule


# ---------------------------------------------------------------------------------------------
# (c): Table 3, z_v as informative as z, z_i far less

CLOSE, FAR = 5.0, 20.0  # accuracy points


def probe_parts(acc: dict[str, float]) -> tuple[bool, bool]:
    """z_v within CLOSE points of z; z_i at least FAR points below z (an empty part fails both)."""
    z, z_v, z_i = (math.nan if acc.get(p) is None else acc[p] for p in ("z", "z_v", "z_i"))
    return bool(abs(z_v - z) <= CLOSE), bool(z - z_i >= FAR)


def probe_pattern(acc: dict[str, float]) -> bool:
    """z_v within CLOSE points of z, and z_i at least FAR points below z (an empty z_i does not count)."""
    return all(probe_parts(acc))


def probe_line(name: str, acc: dict[str, float]) -> str:
    close, far = probe_parts(acc)
    scores = ", ".join(f"{p} {format_value(math.nan if acc.get(p) is None else acc[p], 'accuracy')}" for p in ("z", "z_v", "z_i"))
    return (f"{name}: {scores} (z_v within {CLOSE:g} of z: {'yes' if close else 'no'}; "
            f"z_i {FAR:g} below z: {'yes' if far else 'no'})")


PROBE_KEYS = ["dataset", "group", "probe", "input"]


def accuracies(table3: pd.DataFrame) -> dict[tuple[str, ...], dict[str, float]]:
    """Mean accuracy per part, for each dataset, group, probe family and probe input."""
    rows = table3[table3["metric"] == "accuracy"]
    return {key: dict(zip(block["part"], block["mean"])) for key, block in rows.groupby(PROBE_KEYS, sort=False)}


def probe_rule(evidence: Evidence) -> Verdict:
    paper = {row: {p: v["accuracy"] for p, v in parts.items()} for row, parts in paper_values.TABLE3.items()}
    paper_outcomes = [probe_pattern(acc) for acc in paper.values()]
    paper_text = f"{count(paper_outcomes)} rows fit (Table 3)"
    paper_lines = tuple(probe_line(row, acc) for row, acc in paper.items())
    if evidence.table3 is None:
        return Verdict(UNTESTABLE + ": no probe table", "—", paper_text, (), paper_lines)
    ours = accuracies(evidence.table3)
    outcomes = [probe_pattern(a) for a in ours.values()]
    lines = tuple(probe_line(f"{d} {g}, {p} probe on {i}", a) for (d, g, p, i), a in ours.items())
    text = f"z_v within {CLOSE:g} of z and z_i {FAR:g} below it in {count(outcomes)} probe rows"
    return Verdict(verdict_of(outcomes), text, paper_text, lines, paper_lines)


# ---------------------------------------------------------------------------------------------
# (d): Figure 3, the z_v accuracy peaks at tau 0.5-0.6

PEAK = (0.5, 0.6)


def best_tau(curve: dict[float, float]) -> float:
    points = {t: (-math.inf if pd.isna(a) else a) for t, a in curve.items()}
    return max(points, key=points.get)


def peaks_in_the_middle(curve: dict[float, float]) -> bool:
    """The best tau lies in PEAK, and the lowest and highest tau both score below the peak."""
    points = {t: (-math.inf if pd.isna(a) else a) for t, a in curve.items()}
    best = best_tau(curve)
    low, high = min(points), max(points)
    return PEAK[0] <= best <= PEAK[1] and points[low] < points[best] and points[high] < points[best]


def tau_rule(evidence: Evidence) -> Verdict:
    paper_text = "peak at tau 0.5-0.6 (Figure 3, no numbers)"
    curves = {name: curve for name, curve in evidence.sweep.items() if len(curve) >= 3}
    if not curves:
        return Verdict(UNTESTABLE + ": no tau sweep with three or more thresholds", "—", paper_text)
    outcomes = [peaks_in_the_middle(c) for c in curves.values()]
    lines = tuple(f"{name}: z_v accuracy " + ", ".join(f"{format_value(a, 'accuracy')} at tau {t:g}" for t, a in sorted(c.items()))
                  + f" (best at tau {best_tau(c):g}: {'a' if ok else 'no'} peak in {PEAK[0]:g}-{PEAK[1]:g})"
                  for (name, c), ok in zip(curves.items(), outcomes))
    best = ", ".join(dict.fromkeys(f"{best_tau(c):g}" for c in curves.values()))
    text = f"peak at tau {PEAK[0]:g}-{PEAK[1]:g} in {count(outcomes)} z_v accuracy curves (best tau: {best})"
    return Verdict(verdict_of(outcomes), text, paper_text, lines)


# ---------------------------------------------------------------------------------------------
# (e): Table 2, the joint loss is best


def joint_is_best(block: pd.DataFrame, metric: str = "PSNR") -> bool:
    rows = {r["variant"]: r for _, r in block[block["metric"] == metric].iterrows()}
    both = rows.get("both")
    singles = [r for v, r in rows.items() if v != "both"]
    return both is not None and bool(singles) and all(
        better(both["mean"], both["std"], r["mean"], r["std"], metric) for r in singles)


def ablation_lines(name: str, block: pd.DataFrame, metric: str = "PSNR") -> list[str]:
    """Each single-loss variant against the joint loss ('both'), both with their numbers."""
    rows = {r["variant"]: r for _, r in block[block["metric"] == metric].iterrows()}
    both = rows.get("both")
    if both is None:
        return [f"{name}: no run of the joint loss"]
    return [f"{name}: {v} {format_value(r['mean'], metric, r['std'])} vs both {format_value(both['mean'], metric, both['std'])}"
            f" ({metric}): joint {'better' if better(both['mean'], both['std'], r['mean'], r['std'], metric) else 'not better'}"
            for v, r in rows.items() if v != "both"]


def ablation_rule(evidence: Evidence) -> Verdict:
    paper_outcomes, paper_lines = [], []
    for row, variants in paper_values.TABLE2.items():  # no spread printed: the means decide
        frame = pd.DataFrame([{"variant": v, "metric": "PSNR", "mean": numbers["PSNR"], "std": math.nan}
                              for v, numbers in variants.items()])
        paper_outcomes.append(joint_is_best(frame))
        paper_lines += ablation_lines(row, frame)
    paper_text = f"joint best by PSNR in {count(paper_outcomes)} rows (Table 2)"
    if evidence.table2 is None:
        return Verdict(UNTESTABLE + ": no ablation table", "—", paper_text, (), tuple(paper_lines))
    outcomes, lines = [], []
    for (dataset, group), block in evidence.table2.groupby(["dataset", "group"], sort=False):
        if block["variant"].nunique() < 2:  # the joint loss alone: nothing to compare it with
            continue
        outcomes.append(joint_is_best(block))
        lines += ablation_lines(f"{dataset} {group}", block)
    if not outcomes:
        return Verdict(UNTESTABLE + ": no ablation variant beside the joint loss here", "—", paper_text, (),
                       tuple(paper_lines))
    return Verdict(verdict_of(outcomes), f"joint loss best by PSNR in {count(outcomes)} dataset x group rows",
                   paper_text, tuple(lines), tuple(paper_lines))
