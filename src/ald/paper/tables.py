"""Result tables: our per-seed metrics aggregated to mean +- std, beside the paper's values.

Each table is written three ways from one data frame: CSV (numbers, for machines), Markdown
(for the README and the HTML report) and LaTeX (for papers).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pandas as pd

from ..metrics import rmse_on_model_scale
from . import values as paper_values

# Our metric names; RMSE on both pixel scales. The paper's RMSE fits the models' [-1, 1] scale, not the
# [0, 1] scale of its PSNR (claim i), so its value sits beside ours on [-1, 1]: like with like.
METRICS = (("psnr", "PSNR"), ("ssim", "SSIM"), ("rmse_pm1", "RMSE [-1,1]"), ("rmse", "RMSE [0,1]"))
PROBE_INPUTS = {"tx": "T_g(x)", "x": "x"}  # probes.inputs -> how tables, claims and figures name it
PAPER_METRIC = {"PSNR": "PSNR", "SSIM": "SSIM", "RMSE [-1,1]": "RMSE"}  # ours -> the paper's column compared
NO_PAPER_ROW = "—"  # the paper_row of a dataset the paper has no row for (datasets.<name>.paper_row unset)
OURS_ONLY = "ours only"  # how Table 1 heads a model the paper has no column for (models.<name>.paper_column unset)


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


def table1(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows per dataset x group x metric; ours beside the paper's Table 1 value and the difference."""
    stats = aggregate(frame, ["dataset", "paper_row", "group", "model", "paper_column"])
    stats["paper"] = [table1_paper(r, m, c) for r, m, c in zip(stats["paper_row"], stats["metric"], stats["paper_column"])]
    return with_difference(stats, paper_values.TABLE1_SOURCE)


def table1_paper(row: str, metric: str, model: str) -> float | None:
    name = paper_metric(metric)
    return None if name is None else paper_values.table1_value(row, name, model)


COLLAPSED = "†"  # a cell with seeds whose GAN had collapsed at the kept checkpoint
COLLAPSE_NOTE = (f"{COLLAPSED}n: at the kept checkpoint the GAN of n of the cell's seeds had collapsed (its generated "
                 "images' per-pixel spread under 10% of the real images'); each run's metrics JSON (diagnostics) "
                 "and training log say which.")
LOWER_IS_BETTER = {"RMSE [-1,1]", "RMSE [0,1]", "RMSE"}  # ours and the paper's names
BEST = " ★"


def best_of(values: dict[str, float], metric: str) -> str | None:
    """The key with the best value (highest, or lowest for RMSE); None when there are none."""
    values = {k: v for k, v in values.items() if not pd.isna(v)}
    if not values:
        return None
    pick = min if metric in LOWER_IS_BETTER else max
    return pick(values, key=values.get)


def left_out_mark(row: pd.Series, marks: dict[str, str]) -> str:
    """How a cell says that runs are missing from it: nothing, '2/3 seeds (a)' or 'not run (a)' (notes: (a) why)."""
    if not row["not_run"]:
        return ""
    mark = f"({(marks or left_out_marks(pd.DataFrame([row])))[row['not_run']]})"
    return f"not run {mark}" if row["n_seeds"] == 0 else f" {row['n_seeds']}/{row['n_planned']} seeds {mark}"


def table1_cell(row: pd.Series, best_ours: bool, best_paper: bool, marks: dict[str, str]) -> str:
    d = DIGITS[row["metric"]]
    missing = left_out_mark(row, marks)
    ours = missing if row["n_seeds"] == 0 else format_value(row["mean"], row["metric"], row["std"]) + missing
    ours += f" {COLLAPSED}{row['n_collapsed']}" if row["n_collapsed"] else ""
    ours += BEST if best_ours else ""
    if pd.isna(row["paper"]):
        return f"{ours} (paper —)"
    paper = format_value(row["paper"], row["metric"]) + (BEST if best_paper else "")
    return f"{ours} (paper {paper})" if row["n_seeds"] == 0 else f"{ours} (paper {paper}; {row['difference']:+.{d}f})"


def model_columns(frame: pd.DataFrame) -> dict[str, str | None]:
    """Each model of ``frame``, in order of appearance -> its paper column (None: a model of our own)."""
    pairs = frame.drop_duplicates("model")
    return {m: None if pd.isna(c) else c for m, c in zip(pairs["model"], pairs["paper_column"])}


def column_headers(columns: dict[str, str | None]) -> dict[str, str]:
    """Table 1's header of each model (model -> its paper column or None): the paper's column where the model is
    the only one in it, else '<model> (<paper column>)', or '<model> (ours only)' for a model of our own."""
    shared = Counter(columns.values())
    return {m: c if c is not None and shared[c] == 1 else f"{m} ({c or OURS_ONLY})" for m, c in columns.items()}


def table1_layout(columns: dict[str, str | None]) -> dict[str, str | None]:
    """Table 1's columns, header -> the model whose cells it shows (None: a paper column no model of ours is in):
    the paper's six in its order, each once per model in it, then every other model in ``columns``' order."""
    headers = column_headers(columns)
    layout = {}
    for column in paper_values.TABLE1_MODELS:
        layout.update({headers[m]: m for m, c in columns.items() if c == column} or {column: None})
    layout.update({headers[m]: m for m in columns if m not in layout.values()})
    return layout


def table1_display(stats: pd.DataFrame, marks: dict[str, str] | None = None) -> pd.DataFrame:
    """The paper's layout: a row per dataset x group x metric, a column per model (``table1_layout``).

    Each cell: ours (mean ± std over seeds), the paper's value and ours − paper; ★ marks the best of
    the row among our models and, separately, among the paper's six; — a model we did not train.
    """
    layout = table1_layout(model_columns(stats))
    rows = []
    for key, block in stats.groupby(["dataset", "paper_row", "group", "metric"], sort=False):
        out = dict(zip(["dataset", "paper_row", "group", "metric"], key))
        out["seeds"] = int(block["n_seeds"].max())
        by_model = {r["model"]: r for _, r in block.iterrows()}
        best_ours = best_of({m: r["mean"] for m, r in by_model.items()}, key[3])
        paper_row = {c: table1_paper(key[1], key[3], c) for c in paper_values.TABLE1_MODELS}
        best_paper = best_of({c: v for c, v in paper_row.items() if v is not None}, key[3])
        for header, model in layout.items():
            row = by_model.get(model)
            out[header] = "—" if row is None else table1_cell(row, model == best_ours, row["paper_column"] == best_paper,
                                                               marks)
        rows.append(out)
    metric_order = [name for _, name in METRICS]
    datasets = list(dict.fromkeys(stats["dataset"]))
    rows.sort(key=lambda r: (datasets.index(r["dataset"]), r["group"], metric_order.index(r["metric"])))
    return pd.DataFrame(rows).rename(columns={"paper_row": "paper row"})  # model names as configured


def with_difference(stats: pd.DataFrame, source: str) -> pd.DataFrame:
    stats["paper"] = stats["paper"].astype(float)
    stats["difference"] = stats["mean"] - stats["paper"]
    stats["paper_source"] = source
    return stats


def table2(frame: pd.DataFrame) -> pd.DataFrame:
    """Loss ablation: rows per dataset x group x variant, PSNR/SSIM/RMSE beside paper Table 2."""
    stats = aggregate(frame, ["dataset", "paper_row", "group", "variant"])
    stats["paper"] = [None if paper_metric(m) is None else paper_values.table2_value(r, v, paper_metric(m))
                      for r, v, m in zip(stats["paper_row"], stats["variant"], stats["metric"])]
    return with_difference(stats, paper_values.TABLE2_SOURCE)


def table2_display(stats: pd.DataFrame, marks: dict[str, str] | None = None) -> pd.DataFrame:
    return display_frame(stats, ["dataset", "paper_row", "group", "variant"], "metric", marks)


def load_probes(paths: list[Path]) -> pd.DataFrame:
    """One row per probe file, probe family, input, latent part and score; an empty part gives NaN scores."""
    rows = []
    for path in paths:
        result = json.loads(Path(path).read_text())
        for entry in result["probes"]:
            for part, scores in entry["parts"].items():
                for metric in paper_values.TABLE3_METRICS:
                    rows.append({**result["identity"], "probe": entry["family"], "input": PROBE_INPUTS[entry["input"]],
                                 "part": part, "metric": metric, "value": None if scores is None else scores[metric],
                                 "n_variant_channels": result["n_variant_channels"], "source_file": str(path),
                                 "not_run": ""})
    return pd.DataFrame(rows)


TABLE3_ROW = ["dataset", "paper_row", "group", "probe", "input", "part"]


def table3(frame: pd.DataFrame) -> pd.DataFrame:
    """Latent probes: rows per dataset x group x probe family x input x part, five scores beside paper Table 3."""
    keys = TABLE3_ROW + ["metric"]
    grouped = frame.groupby(keys, sort=False)
    stats = grouped["value"].agg(["mean", "std", "count", "size"]).rename(columns={"count": "n_seeds", "size": "n_planned"})
    stats["source_file"] = grouped["source_file"].agg(joined_sources)
    stats["not_run"] = grouped["not_run"].agg(joined_reasons)
    stats = stats.reset_index()
    channels = frame.groupby(keys, sort=False)["n_variant_channels"].agg(lambda v: sorted({int(c) for c in v if pd.notna(c)}))
    stats["n_variant_channels"] = [str(c) for c in channels.to_numpy()]
    stats["paper"] = [paper_values.table3_value(r, p, m)
                      for r, p, m in zip(stats["paper_row"], stats["part"], stats["metric"])]
    return with_difference(stats, paper_values.TABLE3_SOURCE)


def table3_display(stats: pd.DataFrame, marks: dict[str, str] | None = None) -> pd.DataFrame:
    return display_frame(stats, TABLE3_ROW, "metric", marks)


DIGITS = {"PSNR": 2, "SSIM": 3, "RMSE [-1,1]": 3, "RMSE [0,1]": 3}  # probe scores (percent) get 2


def format_cell(mean: float, std: float, digits: int) -> str:
    if pd.isna(mean):
        return "empty"  # e.g. z_i of a model whose mask made every channel variant
    if pd.isna(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_value(value: float, metric: str, std: float = math.nan) -> str:
    """A score as every table (and the claims) prints it: the metric's decimals (DIGITS), '± std' where given."""
    return format_cell(value, std, DIGITS.get(metric, 2))


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
            missing = left_out_mark(r, marks)
            out[f"{name}: ours"] = missing if r["n_seeds"] == 0 else format_value(r["mean"], r["metric"], r["std"]) + missing
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


def parameter_table(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parameter counts per model, group and data layout (``ald.plan.Plan.parameter_rows``), in Table 1's order."""
    frame = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(table1_layout(model_columns(frame)).values())}
    frame = frame.sort_values(["model", "group", "data"], key=lambda c: c.map(order) if c.name == "model" else c)
    shown = frame.assign(parameters=frame["parameters"].map("{:,}".format),
                         paper_column=frame["paper_column"].fillna(OURS_ONLY))
    return frame, shown.rename(columns=lambda c: c.replace("_", " "))


TITLES = {
    "table1": ("metrics", "Table 1: learning group actions (PSNR, SSIM, RMSE on test pairs)"),
    "table2": ("metrics", "Table 2: loss ablation (reconstruction always on)"),
    "table3": ("probes", "Table 3: probes of the latent parts (test-split scores, %)"),
    "parameters": ("models", "Parameter counts of the models as configured (encoder, decoder, mask or attention)"),
}


def probe_placeholders(frame: pd.DataFrame, left_out: list[dict]) -> list[dict]:
    """A left-out run's rows for every probe, input, latent part and metric the probed runs have."""
    if frame.empty:
        return []
    combos = frame[["probe", "input", "part", "metric"]].drop_duplicates().to_dict("records")
    return [{**entry, **combo} for entry in left_out for combo in combos]


def left_out_marks(stats: pd.DataFrame) -> dict[str, str]:
    """A letter per reason runs are missing from the table's cells: (a), (b) ..., in order of appearance."""
    reasons = dict.fromkeys(cell for cell in stats["not_run"] if cell)
    return {reason: "abcdefghijklmnopqrstuvwxyz"[i % 26] for i, reason in enumerate(reasons)}


def make_table(name: str, inputs: list, notes: list[str], paths: list[Path], header: list[str] = (),
               left_out: list[dict] = ()) -> pd.DataFrame:
    """Build table ``name`` from its metrics or probe files (for ``parameters``: the rows themselves) and write it,
    opening with ``header``; ``left_out``: the identity and reason of each run the config leaves out, whose cells
    say so. Returns the formatted frame."""
    kind, title = TITLES[name]
    if kind == "models":
        stats, shown = parameter_table(inputs)
        write_table(stats, shown, paths, title, notes, header)
        return shown
    frame = (load_metrics if kind == "metrics" else load_probes)(inputs) if inputs else pd.DataFrame()
    if kind == "metrics":
        frame = with_left_out(frame, list(left_out), {"collapsed": 0})
    else:
        frame = with_left_out(frame, probe_placeholders(frame, list(left_out)))
    if "paper_row" in frame:  # a dataset of the user's own has none: tabled as ours only
        frame["paper_row"] = frame["paper_row"].fillna(NO_PAPER_ROW)
    if frame.empty:  # e.g. Table 3 of a preset whose datasets have no class labels: the notes say why
        empty = pd.DataFrame({"rows": ["none: no run of this configuration belongs in this table (see the notes)"]})
        write_table(empty, empty, paths, title, notes, header)
        return empty
    stats = {"table1": table1, "table2": table2, "table3": table3}[name](frame)
    marks = left_out_marks(stats)
    shown = {"table1": table1_display, "table2": table2_display, "table3": table3_display}[name](stats, marks)
    notes = [*notes, *(f"({mark}) not run: {reason}" for reason, mark in marks.items())]
    if "n_collapsed" in stats and stats["n_collapsed"].any():
        notes = [*notes, COLLAPSE_NOTE]
    if kind == "metrics":
        header = [*header, *device_note(frame)]
    write_table(stats, shown, paths, title, notes, header)
    return shown
