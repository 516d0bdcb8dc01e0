"""Table 3: probes of the latent parts. A row per dataset x group x probe family x input x part (z, z_i, z_v),
five test-split scores beside the paper's Table 3.
"""

from __future__ import annotations

import json
from pathlib import Path

from .base import ResultsTable, frames, identities, paper_values, pd, register_table

PROBE_INPUTS = {"tx": "T_g(x)", "x": "x"}  # probes.inputs -> how tables, claims and figures name it
TABLE3_ROW = ["dataset", "paper_row", "group", "probe", "input", "part"]


def load_probes(paths: list[Path]):
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


def probe_placeholders(frame, left_out: list[dict]) -> list[dict]:
    """A left-out run's rows for every probe, input, latent part and metric the probed runs have."""
    if frame.empty:
        return []
    combos = frame[["probe", "input", "part", "metric"]].drop_duplicates().to_dict("records")
    return [{**entry, **combo} for entry in left_out for combo in combos]


def table3(frame):
    """Latent probes: rows per dataset x group x probe family x input x part, five scores beside paper Table 3."""
    keys = TABLE3_ROW + ["metric"]
    grouped = frame.groupby(keys, sort=False)
    stats = grouped["value"].agg(["mean", "std", "count", "size"]).rename(columns={"count": "n_seeds", "size": "n_planned"})
    stats["source_file"] = grouped["source_file"].agg(frames.joined_sources)
    stats["not_run"] = grouped["not_run"].agg(frames.joined_reasons)
    stats = stats.reset_index()
    channels = frame.groupby(keys, sort=False)["n_variant_channels"].agg(lambda v: sorted({int(c) for c in v if pd.notna(c)}))
    stats["n_variant_channels"] = [str(c) for c in channels.to_numpy()]
    return frames.with_paper(stats, paper_values.table3_value, ["paper_row", "part", "metric"], paper_values.TABLE3_SOURCE)


@register_table
class Table3(ResultsTable):
    name = "table3"
    title = "Table 3: probes of the latent parts (test-split scores, %)"
    caption = ("Table 3: probes (linear: logistic regression; mlp: one hidden layer) of the latent parts z, z_i and "
               "z_v of T_g(x) and of x: accuracy, macro precision, recall and F1, and macro one-vs-rest AUC on the "
               "test split, beside the paper's Table 3.")
    files = "probe"
    row = TABLE3_ROW
    stats = staticmethod(table3)

    def inputs(self, plan) -> list[str]:
        return [plan.analysis_file("probes", r) for r in plan.probed_runs() if plan.not_run_reason(r, "analyses") is None]

    def left_out(self, plan) -> list[dict]:
        runs = [(r, plan.unanalysed_reason(r)) for r in plan.probed_runs()]
        return identities(plan, [(r, why) for r, why in runs if why is not None])

    def read(self, inputs, left_out):
        frame = load_probes(inputs) if inputs else pd.DataFrame()
        return frames.with_left_out(frame, probe_placeholders(frame, left_out))

    def own_notes(self, plan) -> list[str]:
        """How the probes were fitted and scored, and the datasets that cannot be probed."""
        c = plan.config
        notes = [f"Dataset {d} is not probed: its source {c['datasets'][d]['source']} has no class labels."
                 for d in plan.datasets if not plan.labelled(d)]
        p = c["probes"]
        mlp = p["mlp"]
        notes.append(
            f"Probes fitted on {p['train_items']} training pairs and scored on {p['test_items']} test pairs, "
            "on standardised features z, z_i, z_v of the latent of T_g(x) (the rotated image) or of x (before "
            f"the action). linear: logistic regression (C={p['C']}, lbfgs, max_iter={p['max_iter']}); mlp: "
            f"scikit-learn MLPClassifier (hidden {mlp['hidden']}, ReLU, Adam, alpha {mlp['alpha']}, at most "
            f"{mlp['max_iter']} epochs, early stopping on 10% of the training pairs, random_state {p['probe_seed']}). "
            "The paper names neither its classifier nor its input. Precision, recall and F1 are macro "
            "averages; AUC is macro one-vs-rest. 'empty' means the mask put every channel in z_v, so z_i "
            "has no features to probe."
        )
        return notes
