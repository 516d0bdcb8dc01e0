"""A result set in under 100 columns: Table 1's PSNR cells beside the paper's, the runs they rest on and their
training time, and the claims' verdicts.

Read from the set's own table1.csv (and the metrics files it names) and claims.csv, so it cannot disagree
with them. The demo prints it when it ends, and the README and docs/results.md quote it for the tracked sets
(ald.paper.docs).
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd

from .tables.frames import format_cell

WIDTH = 100


def psnr_rows(table1: pd.DataFrame) -> pd.DataFrame:
    """One row per trained (dataset, group, model) cell: PSNR mean ± std over seeds, seeds run, the paper's."""
    cells = table1[(table1["metric"] == "PSNR") & (table1["n_seeds"] > 0)]
    return pd.DataFrame({
        "dataset": cells["dataset"], "group": cells["group"], "model": cells["model"],
        "PSNR (dB)": [format_cell(m, s, 2) for m, s in zip(cells["mean"], cells["std"])],
        "seeds": [f"{int(n)}/{int(p)}" for n, p in zip(cells["n_seeds"], cells["n_planned"])],
        "paper": [f"{v:.2f}" if pd.notna(v) else "—" for v in cells["paper"]],
        "ours − paper": [f"{v:+.2f}" if pd.notna(v) else "—" for v in cells["difference"]],
    })


def not_run_line(table1: pd.DataFrame) -> str | None:
    psnr = table1[table1["metric"] == "PSNR"]
    missing = int((psnr["n_planned"] - psnr["n_seeds"]).sum())
    if not missing:
        return None
    return (f"Not run here: {missing} of the {int(psnr['n_planned'].sum())} trainings Table 1 asks for "
            f"(tables/table1.md says which, and why).")


def trained_on(train_run: dict) -> str:
    """The device a metrics file's run trained on: the CPU or card its run record names, else its device."""
    record = Path(train_run.get("record", ""))
    found = json.loads(record.read_text()) if record.is_file() else train_run
    if "device" not in found:
        return "devices their older records do not name"
    return f"{found.get('device_name') or found['device']} ({found.get('precision', 'fp32')})"


def training_line(table1: pd.DataFrame) -> str | None:
    """How many runs Table 1's cells rest on, their training jobs' wall time in all, and where they trained."""
    files = sorted({name for cell in table1["source_file"].dropna() for name in str(cell).split(";") if name})
    runs = [json.loads(Path(name).read_text())["train_run"] for name in files if Path(name).is_file()]
    if not runs:
        return None
    hours = sum(run["wall_seconds"] for run in runs) / 3600
    devices = ", ".join(sorted({trained_on(run) for run in runs}))
    return (f"Table 1 rests on {len(runs)} trainings, whose jobs took {hours:.1f} h in all (the sum of each "
            f"run.json's wall_seconds), on {devices}.")


def verdict_lines(claims: pd.DataFrame) -> list[str]:
    lines = []
    for claim in claims.itertuples():
        verdict = str(claim.verdict).split(":")[0]  # "cannot test here: <why>" -> "cannot test here"
        lines += textwrap.wrap(f"- ({claim.claim}) {verdict}: {claim.statement}", WIDTH, subsequent_indent="  ")
    return lines


def summary_text(table1_csv: Path, claims_csv: Path | None = None, header: list[str] = ()) -> str:
    table1 = pd.read_csv(table1_csv)
    lines = [w for line in header for w in textwrap.wrap(line, WIDTH)] + [""]
    rows = psnr_rows(table1)
    lines += [rows.to_markdown(index=False, disable_numparse=True) if len(rows) else "No Table 1 cell has a trained run yet.", ""]
    lines += [w for line in (training_line(table1), not_run_line(table1)) for w in textwrap.wrap(line or "", WIDTH)]
    if claims_csv is not None:
        lines += ["", "Claims (claims.md has the evidence):", ""] + verdict_lines(pd.read_csv(claims_csv))
    return "\n".join(lines).strip() + "\n"


def write_summary(table1_csv: Path, claims_csv: Path | None, header: list[str], out: Path) -> str:
    text = summary_text(table1_csv, claims_csv, header)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text
