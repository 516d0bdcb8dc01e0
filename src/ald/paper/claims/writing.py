"""claims.csv (every field of every claim) and claims.md (a short row per claim, then the details)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..tables.frames import write_table
from .base import UNTESTABLE, Claim, Evidence, Verdict, load_evidence
from .catalogue import judge


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
