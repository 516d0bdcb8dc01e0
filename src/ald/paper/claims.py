"""The paper's claims, each tested by a rule written in code, from the tables and probe files the pipeline wrote.

A rule turns evidence into a verdict: ``holds``, ``does not hold``, ``mixed`` (holds on some rows, not on
others) or ``cannot test here`` (with the reason). Our numbers and the paper's go through the same rule
where the paper's table allows it, so a reader sees whether the paper's own numbers support its text.

"Better" means better by more than the pooled standard deviation over seeds of the two means,
sqrt((s_a^2 + s_b^2) / 2); a cell of one seed has no spread, and then the means alone decide.

claims.md shows a short row per claim (verdict, one line of our evidence, one of the paper's, the command) and
below it the details: the rule and every comparison behind the row, each naming both sides and their numbers
(as the tables print them, ``ald.paper.tables.format_value``). claims.csv keeps every field.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from ..groups import get_group
from . import values as paper_values
from .tables.frames import LOWER_IS_BETTER, format_value, paper_metric, write_table
from .tables.table3 import PROBE_INPUTS

HOLDS, FAILS, MIXED, UNTESTABLE = "holds", "does not hold", "mixed", "cannot test here"


@dataclass(frozen=True)
class Verdict:
    """``ours`` and ``paper``: one short line each (the claim's row in claims.md; "—": nothing measured);
    ``details`` and ``paper_details``: the comparisons behind them, a line each, naming both sides and their numbers.
    Comparisons a rule does not count are not among them."""
    verdict: str
    ours: str
    paper: str
    details: tuple[str, ...] = ()
    paper_details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    table1: pd.DataFrame | None
    table2: pd.DataFrame | None
    table3: pd.DataFrame | None
    sweep: dict[str, dict[float, float]]  # curve -> tau -> z_v accuracy (NaN: z_v empty)
    checks: dict[str, dict] = field(default_factory=dict)  # dataset -> checks file (ald.evaluate.check_run)


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    source: str  # where the paper says it
    artifact: str  # what tests it (a target of the workflow)
    rule: Callable[[Evidence], Verdict]
    rule_text: str


def pooled_std(*stds: float) -> float:
    values = [0.0 if pd.isna(s) else float(s) for s in stds]
    return math.sqrt(sum(v * v for v in values) / len(values))


def better(a: float, a_std: float, b: float, b_std: float, metric: str) -> bool:
    """a better than b by more than their pooled std (lower is better for RMSE)."""
    gain = (b - a) if metric in LOWER_IS_BETTER else (a - b)
    return gain > pooled_std(a_std, b_std)


def verdict_of(outcomes: list[bool]) -> str:
    if not outcomes:
        return UNTESTABLE
    if all(outcomes):
        return HOLDS
    return FAILS if not any(outcomes) else MIXED


def count(outcomes: list[bool]) -> str:
    return f"{sum(outcomes)} of {len(outcomes)}"


# ---------------------------------------------------------------------------------------------
# (a), (b): ALD against the baselines in Table 1


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
                f"{column} {format_value(rival['mean'], metric, rival['std'])} vs ALD "
                f"{format_value(ours['mean'], metric, ours['std'])} ({metric}, {dataset} {group}): "
                f"ALD {'better' if won else 'not better'} (pooled std {spread})")
    return outcomes, losses + wins


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


# ---------------------------------------------------------------------------------------------
# Code and paper disagree: the group, and RMSE against PSNR

WITHIN_DB = 1.0


def continuous_group_rule(evidence: Evidence) -> Verdict:
    """The text's continuous rotations reach the paper's Table 1 'Ours' PSNR (within WITHIN_DB dB)."""
    paper_text = ", ".join(f"{row} {format_value(paper_values.table1_value(row, 'PSNR', 'Ours'), 'PSNR')}"
                           for row in paper_values.TABLE1) + " dB"
    if evidence.table1 is None:
        return Verdict(UNTESTABLE + ": no Table 1", "—", paper_text)
    rows = evidence.table1[(evidence.table1["paper_column"] == "Ours") & (evidence.table1["metric"] == "PSNR")]
    inexact = rows["group"].map(lambda name: not get_group(name).exact)  # continuous rotations, resampled
    continuous = rows[inexact & rows["paper"].notna()]  # rows the paper has a number for
    if continuous.empty:
        return Verdict(UNTESTABLE + ": no SO(2)/SO(3) run of ALD", "—", paper_text)
    outcomes = [m >= p - WITHIN_DB for m, p in zip(continuous["mean"], continuous["paper"])]
    lines = tuple(f"{r['dataset']} {r['group']}: ALD {format_value(r['mean'], 'PSNR', r['std'])} vs paper "
                  f"{format_value(r['paper'], 'PSNR')} (PSNR, dB): "
                  + (f"within {WITHIN_DB:g} dB or above" if ok else f"more than {WITHIN_DB:g} dB below")
                  for (_, r), ok in zip(continuous.iterrows(), outcomes))
    text = f"ALD within {WITHIN_DB:g} dB of the paper's PSNR (or above) in {count(outcomes)} SO(2)/SO(3) rows"
    return Verdict(verdict_of(outcomes), text, paper_text, lines)


PRINTED_HALF_UNIT = 0.005  # Table 1 prints RMSE with two decimals


def rmse_over_implied(psnr: float, rmse: float) -> float:
    """RMSE divided by the RMSE that the PSNR implies on [0, 1] images, 10^(-PSNR/20). For per-image
    averages it is at least 1 (the arithmetic mean of the per-image RMSEs is at least their geometric mean)."""
    return rmse / 10 ** (-psnr / 20)


def fits(psnr: float, rmse: float, high: float, scale: float = 1.0) -> bool:
    """The paper's printed RMSE (divided by ``scale``), within its rounding, gives a ratio in [1, high]."""
    low_ratio = rmse_over_implied(psnr, (rmse - PRINTED_HALF_UNIT) / scale)
    high_ratio = rmse_over_implied(psnr, (rmse + PRINTED_HALF_UNIT) / scale)
    return low_ratio <= high and high_ratio >= 1.0


def rmse_rule(evidence: Evidence) -> Verdict:
    """Holds when each of the paper's rows, within rounding, has an RMSE/implied ratio between 1 and our largest."""
    paper = {row: (m["PSNR"]["Ours"], m["RMSE"]["Ours"]) for row, m in paper_values.TABLE1.items()}
    paper_text = "ratio " + ", ".join(f"{r} {rmse_over_implied(p, e):.2f}" for r, (p, e) in paper.items())
    paper_lines = tuple(f"{r}: the paper's ALD (Ours) PSNR {format_value(p, 'PSNR')}, RMSE {format_value(e, 'RMSE [-1,1]')}: "
                        f"RMSE / 10^(-PSNR/20) {rmse_over_implied(p, e):.2f}" for r, (p, e) in paper.items())
    if evidence.table1 is None:
        return Verdict(UNTESTABLE + ": no Table 1", "—", paper_text, (), paper_lines)
    wide = evidence.table1.pivot_table(index=["dataset", "group", "model"], columns="metric", values="mean")
    ours = [rmse_over_implied(p, r) for p, r in zip(wide["PSNR"], wide["RMSE [0,1]"])]
    high = max(ours)
    outcomes = [fits(p, e, high) for p, e in paper.values()]
    halved = [fits(p, e, high, scale=2.0) for p, e in paper.values()]
    fit = lambda ok: "fits" if ok else "does not fit"
    lines = (f"ours: RMSE [0,1] / 10^(-PSNR/20) {min(ours):.2f}-{high:.2f} over {len(ours)} cells "
             "(1: every image has the same error)",
             *(f"{r}: paper {rmse_over_implied(p, e):.2f} (RMSE halved, as on the [-1, 1] pixel scale: "
               f"{rmse_over_implied(p, e / 2):.2f}) vs ours 1-{high:.2f}: {fit(ok)}; halved, {fit(half)}"
               for (r, (p, e)), ok, half in zip(paper.items(), outcomes, halved)))
    text = f"the paper's RMSE fits its PSNR in {count(outcomes)} rows; halved, in {count(halved)}"
    return Verdict(verdict_of(outcomes), text, paper_text, lines, paper_lines)


# ---------------------------------------------------------------------------------------------
# (f), (g): measured on the figures' run of each dataset (ald.evaluate.check_run)

LAW_MARGIN_DB = 3.0
SWAP_SHARE = 0.8


def keeps_laws(laws: dict[str, float]) -> bool:
    """Identity, inverse and composition predictions agree within LAW_MARGIN_DB of the one-step PSNR."""
    return all(laws[name] >= laws["prediction"] - LAW_MARGIN_DB for name in ("identity", "inverse", "composition"))


BLANK_MARGIN_DB = 1.0


def predicts_something(laws: dict[str, float]) -> bool:
    """The one-step prediction beats an empty image by BLANK_MARGIN_DB: otherwise every law holds trivially."""
    return laws["prediction"] > laws.get("blank", -math.inf) + BLANK_MARGIN_DB


LAWS = ("identity", "inverse", "composition")


def laws_lines(dataset: str, laws: dict[str, float]) -> list[str]:
    """Why the run counts (its prediction against a blank image's), then each law against the one-step prediction."""
    psnr = lambda name: format_value(laws[name], "PSNR")
    lines = [f"{dataset}: prediction {psnr('prediction')} vs blank image {psnr('blank')} dB: counted"] if "blank" in laws else []
    return lines + [f"{dataset}: {name} {psnr(name)} vs prediction {psnr('prediction')} dB: "
                    + (f"within {LAW_MARGIN_DB:g} dB or above" if laws[name] >= laws["prediction"] - LAW_MARGIN_DB
                       else f"more than {LAW_MARGIN_DB:g} dB below") for name in LAWS]


def laws_rule(evidence: Evidence) -> Verdict:
    paper_text = "none: a group action by construction (Sec. 3)"
    counted = {d: c["laws_psnr"] for d, c in evidence.checks.items() if predicts_something(c["laws_psnr"])}
    left_out = tuple(f"{d}: not counted (its prediction is no better than a blank image's)"
                     for d in evidence.checks if d not in counted)
    if not evidence.checks:
        return Verdict(UNTESTABLE + ": no checks of a trained run here", "—", paper_text)
    if not counted:
        return Verdict(UNTESTABLE + ": no run that predicts more than a blank image", "—", paper_text, left_out)
    outcomes = [keeps_laws(laws) for laws in counted.values()]
    lines = tuple(line for d, laws in counted.items() for line in laws_lines(d, laws)) + left_out
    text = f"laws within {LAW_MARGIN_DB:g} dB of the prediction in {count(outcomes)} counted runs"
    return Verdict(verdict_of(outcomes), text, paper_text, lines)


def swap_rule(evidence: Evidence) -> Verdict:
    paper_text = "qualitative (Figure 4)"
    paper_lines = ("airplane pose goes with z_v, the sky with z_i (Figure 4, qualitative)",)
    swaps = {d: c["swap_fraction"] for d, c in evidence.checks.items() if c.get("swap_fraction")}
    if not swaps:
        return Verdict(UNTESTABLE + ": needs a fixed occluder (Rotated+Blocked MNIST) or rendered airplanes", "—",
                       paper_text, (), paper_lines)
    # Rendered pairs measure only the background (their silhouettes are not stored): variant_moved is absent.
    outcomes = [all(f[k] >= SWAP_SHARE for k in ("invariant_kept", "variant_moved") if k in f) for f in swaps.values()]
    lines = tuple(f"{d}: {swap_text(f)} (each needs >= {SWAP_SHARE:.0%}): {'yes' if ok else 'no'}"
                  for (d, f), ok in zip(swaps.items(), outcomes))
    half = [d for d, f in swaps.items() if "variant_moved" not in f]
    verdict = verdict_of(outcomes) + (f" for the invariant half only (pose not measured on {', '.join(half)})" if half else "")
    text = f"swap as claimed in >= {SWAP_SHARE:.0%} of pairs in {count(outcomes)} datasets"
    return Verdict(verdict, text, paper_text, lines, paper_lines)


def swap_text(fractions: dict) -> str:
    if "variant_moved" not in fractions:
        return f"the background follows z_i in {fractions['invariant_kept']:.0%} of pairs (pose not measured)"
    return (f"block follows z_i in {fractions['invariant_kept']:.0%} of pairs, the rest follows z_v in "
            f"{fractions['variant_moved']:.0%}")


CLAIMS = [
    Claim("a", "ALD beats every baseline on every row of Table 1", "Table 1, Sec. 4.2", "table1",
          beats(None, "baseline"), "ALD's mean better than each baseline's by more than their pooled std, per row"),
    Claim("b", "The learned partition beats GALR's manual one", "Sec. 1, Table 1 (GALR column)", "table1",
          beats({"GALR"}, "GALR"), "as (a), against GALR only (same backbone, fixed half partition)"),
    Claim("c", "z_v classifies as well as z; z_i far worse (disentanglement)", "Table 3", "table3",
          probe_rule, f"per dataset, group, probe family and probe input: |acc(z_v) - acc(z)| <= {CLOSE:g} and acc(z) - acc(z_i) >= {FAR:g} points"),
    Claim("d", "The z_v accuracy peaks at tau 0.5-0.6; lower and higher tau hurt", "Figure 3", "figure3",
          tau_rule, "per curve: best tau in [0.5, 0.6], lowest and highest tau below the peak"),
    Claim("e", "The joint loss (L_inv + L_const) is best", "Table 2, Sec. 4.3", "table2",
          ablation_rule, "per dataset and group: 'both' PSNR better than each single-loss variant by > pooled std"),
    Claim("f", "The learned action keeps the group laws (identity, inverse, composition)", "Sec. 3", "claims",
          laws_rule, "per dataset, PSNR of e·x vs x, g^-1·(g·x) vs x and g2·(g·x) vs (g2 g)·x each within "
          f"{LAW_MARGIN_DB:g} dB of the one-step prediction's PSNR (1,000 test pairs of the figures' run); runs "
          f"whose prediction is not {BLANK_MARGIN_DB:g} dB above a blank image's are not counted"),
    Claim("g", "Swapping z_v moves the varying factor and keeps the invariant one", "Figure 4", "swap",
          swap_rule, f"decoding [z_v of x1; z_i of x2]: the occluder where x2 has it, and the rest closer to x1, "
          f"each in >= {SWAP_SHARE:.0%} of test pairs"),
    Claim("h", "Discrepancy: the text's continuous rotations (SO(2); SO(3) for volumes) reach the paper's numbers; "
          "the released code trains C4", "Sec. 4.1 vs the authors' code", "table1",
          continuous_group_rule, f"ALD's SO(2)/SO(3) mean PSNR within {WITHIN_DB:g} dB of the paper's (or above)"),
    Claim("i", "Discrepancy: Table 1's RMSE and PSNR describe the same [0, 1] errors", "Table 1", "table1",
          rmse_rule, "the paper's RMSE / 10^(-PSNR/20), within rounding, lies between 1 and our largest ratio"),
]


def load_evidence(tables: dict[str, Path], sweep: dict[str, dict[str, Path]], checks: dict[str, Path]) -> Evidence:
    def read(name: str) -> pd.DataFrame | None:
        """A table's measured rows, or None where it has none (ald.paper.tables writes such a table as one 'rows'
        line). Cells of runs left out of the results folder (n_seeds 0, ``not_run``) are no evidence: dropped."""
        frame = pd.read_csv(tables[name]) if name in tables else None
        if frame is None or list(frame.columns) == ["rows"]:
            return None
        if "n_seeds" in frame:
            frame = frame[frame["n_seeds"] > 0].reset_index(drop=True)
        return frame if len(frame) else None

    curves = {}  # "<curve> (<family> on <input>)" -> tau -> z_v accuracy
    for name, files in sweep.items():
        for tau, path in files.items():
            for entry in json.loads(Path(path).read_text())["probes"]:
                z_v = entry["parts"]["z_v"]
                key = f"{name} ({entry['family']} on {PROBE_INPUTS[entry['input']]})"
                curves.setdefault(key, {})[float(tau)] = math.nan if z_v is None else z_v["accuracy"]
    checked = {d: json.loads(Path(path).read_text()) for d, path in checks.items()}
    return Evidence(read("table1"), read("table2"), read("table3"), curves, checked)


def judge(evidence: Evidence) -> list[tuple[Claim, Verdict]]:
    return [(claim, claim.rule(evidence)) for claim in CLAIMS]


def joined(line: str, details: tuple[str, ...]) -> str:
    return "; ".join([line, *details]) if line != "—" or details else line


def record(judged: list[tuple[Claim, Verdict]], command: str) -> pd.DataFrame:
    """claims.csv: a row per claim, every field; ``ours`` and ``paper`` hold the short line and then each comparison
    ('; '-separated), ``ours (short)`` and ``paper (short)`` the line alone (the row of claims.md)."""
    return pd.DataFrame([{"claim": claim.key, "statement": claim.statement, "paper source": claim.source,
                          "verdict": v.verdict, "ours": joined(v.ours, v.details), "paper": joined(v.paper, v.paper_details),
                          "rule": claim.rule_text, "artifact": claim.artifact,
                          "command": f"{command} {claim.artifact}" if claim.artifact != "—" else "—",
                          "ours (short)": v.ours, "paper (short)": v.paper} for claim, v in judged])


def assess(evidence: Evidence, command: str) -> pd.DataFrame:
    return record(judge(evidence), command)


def short_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The table of claims.md: claim, verdict (an untestable one's reason goes to the evidence, a parenthesis to the
    details), one line of our evidence, the paper's value and the command."""
    rows = []
    for _, r in frame.iterrows():
        verdict, reason = r["verdict"].split(" (")[0], ""
        if verdict.startswith(UNTESTABLE + ": "):
            verdict, reason = UNTESTABLE, r["verdict"][len(UNTESTABLE) + 2:]
        ours = reason if r["ours (short)"] == "—" and reason else r["ours (short)"]
        rows.append({"claim": r["claim"], "verdict": verdict, "ours": ours, "paper": r["paper (short)"],
                     "command": r["command"]})
    return pd.DataFrame(rows)


def details_markdown(judged: list[tuple[Claim, Verdict]], frame: pd.DataFrame) -> str:
    """A subsection per claim: the statement, its source, the rule, the verdict and each comparison on a line."""
    parts = ["## Details", "Our numbers are means ± std over seeds, as the tables print them; the paper prints no spread."]
    for (claim, v), (_, r) in zip(judged, frame.iterrows()):
        parts += [f"### ({claim.key}) {claim.statement}",
                  f"- Paper source: {claim.source}\n- Rule: {claim.rule_text}\n- Verdict: {v.verdict}\n"
                  f"- Command: `{r['command']}`"]
        parts += [f"Ours: {v.ours}", "\n".join(f"- {line}" for line in v.details)] if v.details else []
        parts += [f"Paper: {v.paper}"]
        parts += ["\n".join(f"- {line}" for line in v.paper_details)] if v.paper_details else []
    return "\n\n".join(parts) + "\n"


def write_claims(tables: dict[str, Path], sweep: dict[str, dict[str, Path]], checks: dict[str, Path], notes: list[str],
                 paths: list[Path], command: str = "snakemake", header: list[str] = ()) -> pd.DataFrame:
    judged = judge(load_evidence(tables, sweep, checks))
    frame = record(judged, command)
    write_table(frame, short_rows(frame), paths, "The paper's claims, each with a verdict computed from our results",
                notes, header, details_markdown(judged, frame))
    return frame
