"""A result set in under 100 columns: Table 1's PSNR cells beside the paper's, the runs they rest on and their
training time (and the whole set's, with Tables 2-3 and the tau sweep), and the claims' verdicts.

Read from the set's own table CSVs (and the metrics and probe files they name), the tau sweep's probe files and
claims.csv, so it cannot disagree with them. The demo prints it when it ends, and the README and docs/results.md quote it for the tracked sets
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


def run_record(train_run: dict) -> dict:
    """A metrics file's run record when it is here, else what the metrics file copied of it."""
    record = Path(train_run.get("record", ""))
    return json.loads(record.read_text()) if record.is_file() else train_run


def training_seconds(train_run: dict) -> float:
    """A run's training time over all its jobs. wall_seconds covers the last job only, so a run resumed from
    its side checkpoint counts the sum of its epochs' seconds (epoch_seconds_total) where that is larger."""
    found = run_record(train_run)
    return max(found["wall_seconds"], found.get("epoch_seconds_total", 0))


def trained_on(train_run: dict) -> str:
    """The device a metrics file's run trained on: the CPU or card its run record names, else its device."""
    found = run_record(train_run)
    if "device" not in found:
        return "devices their older records do not name"
    return f"{found.get('device_name') or found['device']} ({found.get('precision', 'fp32')})"


def table_files(table: pd.DataFrame) -> list[str]:
    """The metrics or probe files a table's cells name (none for a table with no cells, e.g. no Table 2 rows)."""
    if "source_file" not in table:
        return []
    return sorted({name for cell in table["source_file"].dropna() for name in str(cell).split(";") if name})


def run_of_each_file(files: list[str]) -> dict[str, dict | None]:
    """The training run each result file that exists names (None for probe files older than that field)."""
    return {name: json.loads(Path(name).read_text()).get("train_run") for name in files if Path(name).is_file()}


def train_runs(run_of: dict[str, dict | None]) -> tuple[list[dict], int]:
    """The training runs behind result files, once per run record (a run's metrics and probe files name the same
    record); and how many files name no run."""
    runs = {}
    for name, run in run_of.items():
        if run:
            runs.setdefault(run.get("record") or name, run)
    return list(runs.values()), sum(run is None for run in run_of.values())


def training_line(runs: tuple[list[dict], int], what: str) -> str | None:
    """How many runs ``what`` rests on, their training jobs' wall time in all, and where they trained."""
    runs, unnamed = runs
    if not runs:
        return None
    records = [run_record(run) for run in runs]  # read each record once; both helpers take it as it is
    hours = sum(training_seconds(record) for record in records) / 3600
    devices = ", ".join(sorted({trained_on(record) for record in records}))
    trainings = "1 training" if len(runs) == 1 else f"{len(runs)} trainings"
    return (f"{what} rests on {trainings}, whose jobs took {hours:.1f} h in all (the sum of each "
            f"run.json's wall_seconds, or of a resumed run's epochs), on {devices}"
            + (f"; {unnamed} older result files name no run and are not counted." if unnamed else "."))


def result_files(path: Path) -> list[str]:
    """A table CSV's metrics or probe files, or a result file itself."""
    return table_files(pd.read_csv(path)) if path.suffix == ".csv" else [str(path)]


def training_lines(table1: pd.DataFrame, others: list[Path]) -> list[str | None]:
    """Table 1's runs, then, where the other tables and the tau sweep add runs, the whole set's."""
    table1_files = table_files(table1)
    run_of = run_of_each_file(sorted(set(table1_files + [f for path in others for f in result_files(path)])))
    table1_runs = train_runs({name: run_of[name] for name in table1_files if name in run_of})
    every_run = train_runs(run_of)
    lines = [training_line(table1_runs, "Table 1")]
    if len(every_run[0]) > len(table1_runs[0]):
        lines.append(training_line(every_run, "With the loss ablation, the probes and the tau sweep, this set"))
    return lines


def verdict_lines(claims: pd.DataFrame) -> list[str]:
    lines = []
    for claim in claims.itertuples():
        verdict = str(claim.verdict).split(":")[0]  # "cannot test here: <why>" -> "cannot test here"
        lines += textwrap.wrap(f"- ({claim.claim}) {verdict}: {claim.statement}", WIDTH, subsequent_indent="  ")
    return lines


def summary_text(table1_csv: Path, claims_csv: Path | None = None, header: list[str] = (),
                 others: list[Path] = ()) -> str:
    """``others``: the set's other table CSVs and result files (the tau sweep's probe files), for its training time."""
    table1 = pd.read_csv(table1_csv)
    lines = [w for line in header for w in textwrap.wrap(line, WIDTH)] + [""]
    rows = psnr_rows(table1)
    lines += [rows.to_markdown(index=False, disable_numparse=True) if len(rows) else "No Table 1 cell has a trained run yet.", ""]
    lines += [w for line in (*training_lines(table1, list(others)), not_run_line(table1))
              for w in textwrap.wrap(line or "", WIDTH)]
    if claims_csv is not None:
        lines += ["", "Claims (claims.md has the evidence):", ""] + verdict_lines(pd.read_csv(claims_csv))
    return "\n".join(lines).strip() + "\n"


def write_summary(table1_csv: Path, claims_csv: Path | None, header: list[str], out: Path,
                  others: list[Path] = ()) -> str:
    text = summary_text(table1_csv, claims_csv, header, others)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text
