"""What every claim's rule shares: the verdict words, a verdict with the comparisons behind it, the evidence the
rules read (``load_evidence``: the tables' CSVs, the tau sweep's probe files and the checks files) and "better"
by more than the pooled standard deviation.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from ..tables.frames import LOWER_IS_BETTER
from ..tables.table3 import PROBE_INPUTS

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
