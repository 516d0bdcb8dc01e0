"""The rules of the claims where code and paper disagree: (h) the group the text names against the one the
released code trains, (i) Table 1's RMSE against its PSNR.
"""

from __future__ import annotations

from .. import values as paper_values
from ...groups import get_group
from ..tables.frames import format_value
from .base import UNTESTABLE, Evidence, Verdict, count, verdict_of

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
