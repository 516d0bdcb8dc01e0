"""The paper's claims, each with where the paper makes it, the artifact that tests it and its rule."""

from __future__ import annotations

from .base import Claim, Evidence, Verdict
from .checks import BLANK_MARGIN_DB, LAW_MARGIN_DB, SWAP_SHARE, laws_rule, swap_rule
from .discrepancies import WITHIN_DB, continuous_group_rule, rmse_rule
from .results import CLOSE, FAR, ablation_rule, beats, probe_rule, tau_rule

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


def judge(evidence: Evidence) -> list[tuple[Claim, Verdict]]:
    return [(claim, claim.rule(evidence)) for claim in CLAIMS]
