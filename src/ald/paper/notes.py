"""The sentences printed with the paper's artifacts: the notes under each table, the settings line that tables,
figures, the claims and the summary open with, and the claims' notes.

The plan (``ald.plan.Plan``) computes the facts they state from the config (``TableFacts``, the settings); the
wording lives here, beside the tables it explains.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tables import OURS_ONLY

PARAMETER_NOTES = (
    "Counted by building each configured model with its parameters for that group on the datasets' "
    "layout (ald.plan.Plan.parameter_rows); every trained run's record (run.json, n_parameters) "
    "holds the count of the model it trained.",
    "ALD's count includes its mask logits (one per latent channel it splits: 64, or 16 for the "
    "lifted airplanes latent); GALR's includes its attention module.",
    "The disentanglement baselines count every network they train, with the linear layers between "
    "ALD's convolutional trunk and their flat code (most of their weights, growing with the image): "
    "InfoGAN-CR's generator, discriminator with Q-head, CR discriminator, inverter and calibration; "
    "CausalVAE's encoder, decoder and structural equations; MAGANet's content and action encoders, "
    "action module, decoder and regressor from g (docs/baselines.md).",
)

SCALES_NOTE = (
    "PSNR and SSIM are on [0, 1] pixels; RMSE is given on both scales: [-1, 1] (the models' own, "
    "exactly twice [0, 1]) beside the paper's RMSE, which fits that scale and not the [0, 1] one of "
    "its PSNR (claim i), and [0, 1], which the paper did not print."
)

OWN_COLUMNS_NOTE = (
    "After the paper's six columns: each model without a paper column (models.<name>.paper_column not "
    f"set), headed '<model> ({OURS_ONLY})', whose cells show the paper's value as —. Models that share a "
    "paper column each have their own column, headed '<model> (<paper column>)' in the paper's place, "
    "each beside that column's paper value."
)


@dataclass(frozen=True)
class TableFacts:
    """What a table's notes state, as the plan resolved it from the config (``ald.plan.Plan.table_facts``)."""

    table: str
    seeds: list[int]  # the seeds of the table's runs
    training: dict  # the config's training section
    sources: dict[str, dict]  # name -> config entry of each source the table's datasets are drawn from
    results: str  # the results folder
    paper_rows: dict[str, str | None]  # each dataset of the table -> its paper row (None: ours only)
    left_out: dict[str, tuple[str | None, str]]  # each dataset left out -> (its paper row, why)
    partial_models: dict[str, list[str]]  # each dataset that trains only some of the models -> those models
    headers: dict[str, str]  # each selected model -> its Table 1 header
    left_out_headers: dict[str, str]  # each configured model only_models leaves out -> its Table 1 header
    own_columns: bool  # whether a selected model's header is not one paper column
    variants: dict[str, dict]  # ablation variant -> the loss weights it overrides
    ablation_groups: list[str]  # the config's ablations.groups
    unablated: dict[str, str]  # each dataset without ablation runs -> the group its pairs are rendered under
    unlabelled: dict[str, str]  # each dataset without class labels -> its source
    probes: dict  # the config's probes section


def source_settings(params: dict) -> str:
    """A source's config entry as the table notes print it, e.g. '(size 28)'."""
    shown = {k: v for k, v in params.items() if k != "accept_terms"}
    return "(" + ", ".join(f"{k} {v}" for k, v in shown.items()) + ")" if shown else ""


def row_name(row: str | None) -> str:
    return "ours only, no paper row" if row is None else f"paper row {row}"


def settings_line(preset: str, training: dict, seeds: list[int], sizes: list[tuple[str, int, int]]) -> str:
    """The settings an artifact opens with: preset, epochs, seeds, each dataset's size (``sizes``: (dataset,
    side, spatial dims) each), precision and device."""
    shown = ", ".join(f"{d} {side}{'³' if dims == 3 else '²'}" for d, side, dims in sizes)
    return (f"Settings: preset {preset}; {training['epochs']} epochs; seeds {', '.join(map(str, seeds))}; "
            f"{shown}; precision {training['precision']}, device {training['device']} as asked (each run.json names "
            "what it used).")


def parameters_header(preset: str) -> str:
    return f"Settings: preset {preset}; every configured model, counted as built."


def figure_note(settings: str, left_out: list[str]) -> str:
    """The settings a figure states in its corner, and the panels ``not_run`` leaves out of it."""
    return settings + (f" Not shown: {'; '.join(left_out)}." if left_out else "")


def claims_notes(tables: list[str]) -> list[str]:
    """The notes under the claims, which are computed from ``tables`` (the tables' CSVs)."""
    return [
        "Each verdict is computed by the rule in its details (ald.paper.claims) from this results folder's "
        f"tables ({', '.join(tables)}) and the tau sweep's probe files; the paper's "
        "numbers (typed in, src/ald/paper/values.py) go through the same rule where its tables allow.",
        "The settings that made our numbers are in the notes of each table; rows of datasets or models not "
        "built in this results folder read 'cannot test here'.",
    ]


def table_notes(facts: TableFacts) -> list[str]:
    """Lines printed under a table: the settings that made it and how to read it."""
    if facts.table == "parameters":
        return list(PARAMETER_NOTES)
    notes = common_notes(facts)
    if facts.table in ("table1", "table2"):
        notes.append(SCALES_NOTE)
    own = {"table1": table1_notes, "table2": table2_notes, "table3": table3_notes}.get(facts.table)
    return notes + (own(facts) if own else [])


def common_notes(facts: TableFacts) -> list[str]:
    """The notes of every table of results: how our numbers were made and compared, and the datasets not in it."""
    t = facts.training
    train_items = t["max_train_items"] or "all"
    sources = ", ".join(f"{name} {source_settings(entry)}" for name, entry in facts.sources.items())
    kind = "probe" if facts.table == "table3" else "metrics"
    notes = [
        f"Ours: mean ± sample std over seeds {facts.seeds} (no std for one seed); data source(s): {sources}; "
        f"{t['epochs']} epochs, batch {t['batch_size']}, Adam lr {t['lr']}, training items: {train_items}.",
        f"Paper values are typed in from the paper ({facts.table.replace('table', 'Table ')}); "
        "the difference is ours minus paper; — where the paper has no such cell.",
        "C4 is the group the authors' released code trains on; SO2 is the group the paper text names "
        "(for volumes: O, the 24 rotations of the cube, and SO3). "
        "The paper reports one number per dataset, so each of our groups is compared with it.",
        f"Every number comes from the {kind} JSON files under {facts.results}/{'probes' if kind == 'probe' else 'metrics'}/ "
        "(column source_file of the CSV), each naming the run record that made it.",
    ]
    notes += [f"Dataset {d} ({row_name(row)}) is not in this table: {reason}"
              for d, (row, reason) in facts.left_out.items()]
    notes += [f"{d} has no row in the paper's tables (datasets.{d}.paper_row is not set): its rows are ours "
              "only, the paper's cells show — and no difference." for d, row in facts.paper_rows.items() if row is None]
    return notes


def table1_notes(facts: TableFacts) -> list[str]:
    """Table 1's columns: the models of each dataset and of the table, and the columns that are ours only."""
    notes = [f"{d}: only {', '.join(models)} (datasets.{d}.models); the other columns show —."
             for d, models in facts.partial_models.items()]
    notes += [f"{d} (row Airplanes) is supplementary, ours only: the paper prints no number for this dataset "
              "(it shows it only in Figure 4)." for d, row in facts.paper_rows.items() if row == "Airplanes"]
    columns = lambda headers: ", ".join(sorted(set(headers.values())))
    left_out = facts.left_out_headers
    notes.append(
        "One column per model in the paper's order; each cell is ours (mean ± std) with the paper's "
        "value and ours − paper in brackets. ★ marks the best of the row among our models and, "
        "separately, among the paper's six (higher PSNR/SSIM, lower RMSE). — : no run of that model "
        f"in this table (in it: {columns(facts.headers)}"
        + (f"; configured but left out by only_models: {columns(left_out)}" if left_out else "") + ")."
    )
    return notes + ([OWN_COLUMNS_NOTE] if facts.own_columns else [])


def table2_notes(facts: TableFacts) -> list[str]:
    """Table 2's variants, and the datasets it has no runs of."""
    weights = ", ".join(f"{v}: {w}" for v, w in facts.variants.items())
    notes = [f"Variants (loss weights overriding the model's): {weights}; 'both' is the full method."]
    return notes + [f"Dataset {d} has no ablation runs: its pairs are rendered under {group}, "
                    f"which ablations.groups ({', '.join(facts.ablation_groups)}) does not name."
                    for d, group in facts.unablated.items()]


def table3_notes(facts: TableFacts) -> list[str]:
    """Table 3's probes: how they were fitted and scored, and the datasets that cannot be probed."""
    notes = [f"Dataset {d} is not probed: its source {source} has no class labels."
             for d, source in facts.unlabelled.items()]
    p = facts.probes
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
