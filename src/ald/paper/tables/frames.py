"""What the tables share: metrics files read into a frame, per-seed rows aggregated to mean ± std, the runs
``not_run`` leaves out, the cells as every table prints them, and the writing of CSV, Markdown and LaTeX.

Each table is written three ways from one data frame: CSV (numbers, for machines), Markdown (for the README and
the HTML report) and LaTeX (for papers). The tables themselves (``table1``, ``table2``, ``table3``,
``parameters``) say what goes in their rows and columns.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from ...metrics import rmse_on_model_scale

# Our metric names; RMSE on both pixel scales. The paper's RMSE fits the models' [-1, 1] scale, not the
# [0, 1] scale of its PSNR (claim i), so its value sits beside ours on [-1, 1]: like with like.
METRICS = (("psnr", "PSNR"), ("ssim", "SSIM"), ("rmse_pm1", "RMSE [-1,1]"), ("rmse", "RMSE [0,1]"))
PAPER_METRIC = {"PSNR": "PSNR", "SSIM": "SSIM", "RMSE [-1,1]": "RMSE"}  # ours -> the paper's column compared
NO_PAPER_ROW = "—"  # the paper_row of a dataset the paper has no row for (datasets.<name>.paper_row unset)
LOWER_IS_BETTER = {"RMSE [-1,1]", "RMSE [0,1]", "RMSE"}  # ours and the paper's names
DIGITS = {"PSNR": 2, "SSIM": 3, "RMSE [-1,1]": 3, "RMSE [0,1]": 3}  # probe scores (percent) get 2
COLLAPSED = "†"  # a cell with seeds whose GAN had collapsed at the kept checkpoint
COLLAPSE_NOTE = (f"{COLLAPSED}n: at the kept checkpoint the GAN of n of the cell's seeds had collapsed (its generated "
                 "images' per-pixel spread under 10% of the real images'); each run's metrics JSON (diagnostics) "
                 "and training log say which.")


def paper_metric(metric: str) -> str | None:
    """The paper's metric that ours is compared with (None for RMSE [0,1], which the paper did not print)."""
    return PAPER_METRIC.get(metric)


def load_metrics(paths: list[Path]) -> pd.DataFrame:
    """One row per metrics file: its identity (dataset, group, model, seed, ...) and scores."""
    rows = []
    for path in paths:
        result = json.loads(Path(path).read_text())
        scores = {"psnr": result["psnr"], "ssim": result["ssim"], "rmse": result["rmse"],
                  "rmse_pm1": rmse_on_model_scale(result["rmse"])}
        rows.append({**result["identity"], **scores, "n_variant_channels": result["n_variant_channels"],
                     "collapsed": int(result.get("diagnostics", {}).get("collapsed", 0)), "source_file": str(path),
                     "device": trained_on(result.get("train_run", {})), "not_run": ""})
    return pd.DataFrame(rows)


def trained_on(train_run: dict) -> str:
    """How a run trained: its device (as its record says, metrics files since 2026-11-26, else as its spec asked)
    and its precision (runs recorded before the precision setting trained in fp32)."""
    device = train_run.get("device") or train_run.get("parameters", {}).get("device", "unrecorded")
    return f"{device}, {train_run.get('precision', 'fp32')}"


def device_note(frame: pd.DataFrame) -> list[str]:
    """The device and precision that made the table's numbers and, where they differ, which cells came from which."""
    counts = frame["device"].value_counts()
    if counts.empty:
        return []
    if len(counts) < 2:
        return [f"Every run trained on {counts.index[0]} (device, precision; each run's run.json names them)."]
    cells = [f"{device}: " + "; ".join(f"{dataset} {group} ({run_labels(block)})"
                                        for (dataset, group), block in runs.groupby(["dataset", "group"], sort=False))
             for device, runs in frame[frame["device"] != counts.index[0]].groupby("device", sort=True)]
    return ["Training devices or precisions differ between cells (device, precision; each run's run.json names "
            "them and its host): " + " | ".join(cells) + f" | {counts.index[0]}: every other cell."]


def run_labels(runs: pd.DataFrame) -> str:
    """The models of ``runs``: their paper columns, the model's name for a model of our own."""
    return ", ".join(sorted(runs["paper_column"].fillna(runs["model"]).unique()))


def with_left_out(frame: pd.DataFrame, left_out: list[dict], columns: dict | None = None) -> pd.DataFrame:
    """``frame`` with a row of NaN scores for each run the config's ``not_run`` leaves out (its identity and
    ``reason``), so the cell it would fill says so; ``columns``: fixed values those rows get (e.g. collapsed 0)."""
    placeholders = pd.DataFrame([{**entry, **(columns or {})} for entry in left_out])
    if placeholders.empty:
        return frame
    placeholders = placeholders.rename(columns={"reason": "not_run"}).assign(source_file="")
    return pd.concat([frame, placeholders], ignore_index=True) if len(frame) else placeholders


def joined_reasons(reasons: pd.Series) -> str:
    return "; ".join(dict.fromkeys(r for r in reasons if r))


def aggregate(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean, sample std (ddof=1; NaN for one seed), seed count (and seeds planned) of every metric per key."""
    long = frame.melt(id_vars=keys + ["seed", "source_file", "collapsed", "not_run"], value_vars=[m for m, _ in METRICS],
                      var_name="metric")
    grouped = long.groupby(keys + ["metric"], sort=False, dropna=False)  # a model of our own has no paper_column
    stats = grouped["value"].agg(["mean", "std", "count", "size"]).rename(columns={"count": "n_seeds", "size": "n_planned"})
    stats["source_file"] = grouped["source_file"].agg(joined_sources)
    stats["n_collapsed"] = grouped["collapsed"].sum()
    stats["not_run"] = grouped["not_run"].agg(joined_reasons)
    stats = stats.reset_index()
    stats["metric"] = stats["metric"].map(dict(METRICS))
    return stats


def joined_sources(files: pd.Series) -> str:
    """The files behind one cell, ';'-separated in seed order: the CSV's trace back to the runs."""
    return ";".join(f for f in files if f)


def with_paper(stats: pd.DataFrame, paper_value, columns: list[str], source: str) -> pd.DataFrame:
    """Each row's paper value (``paper_value`` of the row's ``columns``, or None) and ours minus it."""
    stats["paper"] = [paper_value(*values) for values in zip(*(stats[c] for c in columns))]
    stats["paper"] = stats["paper"].astype(float)
    stats["difference"] = stats["mean"] - stats["paper"]
    stats["paper_source"] = source
    return stats


def left_out_marks(stats: pd.DataFrame) -> dict[str, str]:
    """A letter per reason runs are missing from the table's cells: (a), (b) ..., in order of appearance."""
    reasons = dict.fromkeys(cell for cell in stats["not_run"] if cell)
    return {reason: "abcdefghijklmnopqrstuvwxyz"[i % 26] for i, reason in enumerate(reasons)}


def left_out_mark(row: pd.Series, marks: dict[str, str]) -> str:
    """How a cell says that runs are missing from it: nothing, '2/3 seeds (a)' or 'not run (a)' (notes: (a) why)."""
    if not row["not_run"]:
        return ""
    mark = f"({(marks or left_out_marks(pd.DataFrame([row])))[row['not_run']]})"
    return f"not run {mark}" if row["n_seeds"] == 0 else f" {row['n_seeds']}/{row['n_planned']} seeds {mark}"


def format_cell(mean: float, std: float, digits: int) -> str:
    if pd.isna(mean):
        return "empty"  # e.g. z_i of a model whose mask made every channel variant
    if pd.isna(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_value(value: float, metric: str, std: float = math.nan) -> str:
    """A score as every table (and the claims) prints it: the metric's decimals (DIGITS), '± std' where given."""
    return format_cell(value, std, DIGITS.get(metric, 2))


def ours_text(row: pd.Series, marks: dict[str, str]) -> str:
    """Our cell: mean ± std over seeds, then what is missing from it; only the mark where no run is in it."""
    missing = left_out_mark(row, marks)
    return missing if row["n_seeds"] == 0 else format_value(row["mean"], row["metric"], row["std"]) + missing


def display_frame(stats: pd.DataFrame, index: list[str], column: str, marks: dict[str, str]) -> pd.DataFrame:
    """Human-readable cells: one row per ``index`` key, and per value of ``column`` our mean ± std,
    the paper's value and the difference."""
    rows = []
    for key, block in stats.groupby(index, sort=False):
        out = dict(zip(index, key))
        out["seeds"] = int(block["n_seeds"].max())
        for _, r in block.iterrows():
            d = DIGITS.get(r["metric"], 2)
            name = r[column]
            out[f"{name}: ours"] = ours_text(r, marks)
            out[f"{name}: paper"] = "—" if pd.isna(r["paper"]) else format_value(r["paper"], r["metric"])
            out[f"{name}: ours − paper"] = "—" if pd.isna(r["difference"]) else f"{r['difference']:+.{d}f}"
        rows.append(out)
    return pd.DataFrame(rows).rename(columns=lambda c: c.replace("_", " "))


def write_table(stats: pd.DataFrame, shown: pd.DataFrame, paths: list[Path], title: str, notes: list[str],
                header: list[str] = (), details: str = "") -> None:
    """Write each of ``paths`` by its suffix: .csv (numbers), .md and .tex (formatted, opening with the ``header``
    lines (the settings that made it) and closing with the notes; the .md then with ``details``, Markdown)."""
    opening = "".join(f"{line}\n\n" for line in header)
    for path in map(Path, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".csv":
            stats.to_csv(path, index=False, float_format="%.6g")
        elif path.suffix == ".md":
            note_lines = "\n".join(f"- {n}" for n in notes)
            closing = f"\n{details.rstrip()}\n" if details else ""
            path.write_text(f"# {title}\n\n{opening}{shown.to_markdown(index=False, disable_numparse=True)}\n\n"
                            f"{note_lines}\n{closing}")
        elif path.suffix == ".tex":
            caption = " ".join([title + ".", *header])
            latex = shown.to_latex(index=False, escape=True, caption=caption, label=f"tab:{path.stem}")
            path.write_text(latex.replace("±", r"$\pm$").replace("−", "-").replace("—", "--"))
        else:
            raise ValueError(f"{path}: a table is written as .csv, .md or .tex")
