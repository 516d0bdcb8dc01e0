"""The paper's claims, each tested by a rule written in code, from the tables and probe files the pipeline wrote.

A rule turns evidence into a verdict: ``holds``, ``does not hold``, ``mixed`` (holds on some rows, not on
others) or ``cannot test here`` (with the reason). Our numbers and the paper's go through the same rule
where the paper's table allows it, so a reader sees whether the paper's own numbers support its text.

"Better" means better by more than the pooled standard deviation over seeds of the two means,
sqrt((s_a^2 + s_b^2) / 2); a cell of one seed has no spread, and then the means alone decide.

claims.md shows a short row per claim (verdict, one line of our evidence, one of the paper's, the command) and
below it the details: the rule and every comparison behind the row, each naming both sides and their numbers
(as the tables print them, ``ald.paper.tables.frames.format_value``). claims.csv keeps every field.

The verdict words, the evidence and the pooled-std comparison are in ``base``; the rules in ``results`` (claims
a-e: the paper's tables and Figure 3), ``checks`` (f, g: the checks of a trained run) and ``discrepancies`` (h, i:
where code and paper disagree); the claims with their rules in ``catalogue``; claims.md and claims.csv in
``writing``.
"""

from .base import (FAILS, HOLDS, MIXED, UNTESTABLE, Claim, Evidence, Verdict, better, load_evidence,  # noqa: F401
                   verdict_of)
from .catalogue import CLAIMS, judge  # noqa: F401
from .checks import laws_rule, swap_rule  # noqa: F401
from .discrepancies import continuous_group_rule, fits, rmse_rule  # noqa: F401
from .results import ablation_rule, beats, probe_rule, tau_rule  # noqa: F401
from .writing import assess, write_claims  # noqa: F401
