"""The sentences that the paper's artifacts share: the settings line that tables, figures, the claims and the
summary open with, the notes under every table of results, and the claims' notes.

Each table's own notes are in its module (``ald.paper.tables``); the plan (``ald.plan.Plan``, passed in) holds
the facts they state.
"""

from __future__ import annotations

SCALES_NOTE = (
    "PSNR and SSIM are on [0, 1] pixels; RMSE is given on both scales: [-1, 1] (the models' own, "
    "exactly twice [0, 1]) beside the paper's RMSE, which fits that scale and not the [0, 1] one of "
    "its PSNR (claim i), and [0, 1], which the paper did not print."
)


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


def common_notes(plan, table: str, seeds: list[int], files: str) -> list[str]:
    """The notes of every table of results: how our numbers were made and compared, and the datasets not in it
    (``plan``: the ``ald.plan.Plan`` of the table; ``files``: what it reads, "metrics" or "probe" files)."""
    c = plan.config
    t = c["training"]
    train_items = t["max_train_items"] or "all"
    used = sorted({c["datasets"][d]["source"] for d in plan.datasets})
    sources = ", ".join(f"{name} {source_settings(c['sources'][name])}" for name in used)
    notes = [
        f"Ours: mean ± sample std over seeds {seeds} (no std for one seed); data source(s): {sources}; "
        f"{t['epochs']} epochs, batch {t['batch_size']}, Adam lr {t['lr']}, training items: {train_items}.",
        f"Paper values are typed in from the paper ({table.replace('table', 'Table ')}); "
        "the difference is ours minus paper; — where the paper has no such cell.",
        "C4 is the group the authors' released code trains on; SO2 is the group the paper text names "
        "(for volumes: O, the 24 rotations of the cube, and SO3). "
        "The paper reports one number per dataset, so each of our groups is compared with it.",
        f"Every number comes from the {files} JSON files under {plan.results}/{'probes' if files == 'probe' else 'metrics'}/ "
        "(column source_file of the CSV), each naming the run record that made it.",
    ]
    notes += [f"Dataset {d} ({row_name(c['datasets'][d]['paper_row'])}) is not in this table: {reason}"
              for d, reason in plan.left_out.items()]
    notes += [f"{d} has no row in the paper's tables (datasets.{d}.paper_row is not set): its rows are ours "
              "only, the paper's cells show — and no difference." for d in plan.datasets
              if c["datasets"][d]["paper_row"] is None]
    return notes
