"""Table 1: learning group actions. A row per dataset x group x metric, a column per model: the paper's six in
its order, then every model of our own; each cell ours (mean ± std over seeds) beside the paper's value.
"""

from __future__ import annotations

from collections import Counter

from .base import MetricsTable, frames, paper_values, pd, register_table

OURS_ONLY = "ours only"  # how Table 1 heads a model the paper has no column for (models.<name>.paper_column unset)
BEST = " ★"

OWN_COLUMNS_NOTE = (
    "After the paper's six columns: each model without a paper column (models.<name>.paper_column not "
    f"set), headed '<model> ({OURS_ONLY})', whose cells show the paper's value as —. Models that share a "
    "paper column each have their own column, headed '<model> (<paper column>)' in the paper's place, "
    "each beside that column's paper value."
)


def table1(frame):
    """Rows per dataset x group x metric; ours beside the paper's Table 1 value and the difference."""
    stats = frames.aggregate(frame, ["dataset", "paper_row", "group", "model", "paper_column"])
    return frames.with_paper(stats, table1_paper, ["paper_row", "metric", "paper_column"], paper_values.TABLE1_SOURCE)


def table1_paper(row: str, metric: str, model: str) -> float | None:
    name = frames.paper_metric(metric)
    return None if name is None else paper_values.table1_value(row, name, model)


def best_of(values: dict[str, float], metric: str) -> str | None:
    """The key with the best value (highest, or lowest for RMSE); None when there are none."""
    values = {k: v for k, v in values.items() if not pd.isna(v)}
    if not values:
        return None
    pick = min if metric in frames.LOWER_IS_BETTER else max
    return pick(values, key=values.get)


def table1_cell(row, best_ours: bool, best_paper: bool, marks: dict[str, str]) -> str:
    d = frames.DIGITS[row["metric"]]
    ours = frames.ours_text(row, marks)
    ours += f" {frames.COLLAPSED}{row['n_collapsed']}" if row["n_collapsed"] else ""
    ours += BEST if best_ours else ""
    if pd.isna(row["paper"]):
        return f"{ours} (paper —)"
    paper = frames.format_value(row["paper"], row["metric"]) + (BEST if best_paper else "")
    return f"{ours} (paper {paper})" if row["n_seeds"] == 0 else f"{ours} (paper {paper}; {row['difference']:+.{d}f})"


def model_columns(frame) -> dict[str, str | None]:
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


def table1_display(stats, marks: dict[str, str] | None = None):
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
    metric_order = [name for _, name in frames.METRICS]
    datasets = list(dict.fromkeys(stats["dataset"]))
    rows.sort(key=lambda r: (datasets.index(r["dataset"]), r["group"], metric_order.index(r["metric"])))
    return pd.DataFrame(rows).rename(columns={"paper_row": "paper row"})  # model names as configured


def header_names(headers: dict[str, str]) -> str:
    return ", ".join(sorted(set(headers.values())))


@register_table
class Table1(MetricsTable):
    name = "table1"
    title = "Table 1: learning group actions (PSNR, SSIM, RMSE on test pairs)"
    caption = ("Table 1: PSNR, SSIM and RMSE of the predicted T_g(x) on the fixed test pairs, mean ± std over seeds, "
               "one column per model in the paper's order, each beside the paper's Table 1 value and the difference "
               "(ours minus paper); ★ marks the best of a row, — a model not trained here.")
    part = "main"

    def inputs(self, plan) -> list[str]:
        return [plan.analysis_file("metrics", r) for r in plan.main_runs()]

    stats = staticmethod(table1)
    display = staticmethod(table1_display)

    def own_notes(self, plan) -> list[str]:
        """Its columns: the models of each dataset and of the table, and the columns that are ours only."""
        c = plan.config
        notes = [f"{d}: only {', '.join(models)} (datasets.{d}.models); the other columns show —."
                 for d in plan.datasets if (models := plan.models_of(d)) != plan.models]
        notes += [f"{d} (row Airplanes) is supplementary, ours only: the paper prints no number for this dataset "
                  "(it shows it only in Figure 4)." for d in plan.datasets if c["datasets"][d]["paper_row"] == "Airplanes"]
        headers = plan.column_headers(plan.models)
        left_out = plan.column_headers([m for m in c["models"] if m not in plan.models])
        notes.append(
            "One column per model in the paper's order; each cell is ours (mean ± std) with the paper's "
            "value and ours − paper in brackets. ★ marks the best of the row among our models and, "
            "separately, among the paper's six (higher PSNR/SSIM, lower RMSE). — : no run of that model "
            f"in this table (in it: {header_names(headers)}"
            + (f"; configured but left out by only_models: {header_names(left_out)}" if left_out else "") + ")."
        )
        own_columns = any(c["models"][m]["paper_column"] != h for m, h in headers.items())
        return notes + ([OWN_COLUMNS_NOTE] if own_columns else [])
