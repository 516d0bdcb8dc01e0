"""The rules of the claims measured on the figures' run of each dataset (``ald.evaluate.check_run``): (f) the
learned action keeps the group laws, (g) swapping z_v moves the varying factor and keeps the invariant one.
"""

from __future__ import annotations

import math

from ..tables.frames import format_value
from .base import UNTESTABLE, Evidence, Verdict, count, verdict_of

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
