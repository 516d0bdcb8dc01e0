"""Where things are: the files of runs, analyses, tables, figures and claims, and whether tracked ones are stale.

``FilesMixin`` holds the methods of ``ald.plan.Plan`` that name every file under the results and data folders
(each rule's inputs and outputs), the targets of the paper's artifacts, and the differences between a record
already in the results folder (a run.json, a table's source_file column, a figure's inputs) and what this
config asks for, which make Snakemake rebuild it (``stale_trigger``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

from ..analyses import ANALYSES
from ..paper import TABLES
from ..paper.figures import FIGURE_REGISTRY
from ..sources import SOURCES
from .names import Run


def input_files(inputs) -> list[str]:
    """The files behind a figure's inputs: probe files and histories, and each run folder's checkpoint and record."""
    if isinstance(inputs, dict):
        return [f for item in inputs.values() for f in input_files(item)]
    return [inputs] if inputs.endswith((".json", ".csv", ".npz")) else [f"{inputs}/best.pt", f"{inputs}/run.json"]


class FilesMixin:
    """File names and staleness, from ``self.results`` and ``self.data`` (the folders ``ald.plan.Plan`` reads)."""

    def run_dir(self, run: Run) -> str:
        return f"{self.results}/models/{run.key}"

    def history_file(self, run: Run) -> str:
        return f"{self.run_dir(run)}/history.csv"

    def analysis_file(self, analysis: str, run: Run) -> str:
        """Where an analysis of ``ald.analyses.ANALYSES`` writes its result for ``run``."""
        return ANALYSES.lookup(analysis).file(self.results, run.key)

    def source_npz(self, dataset: str) -> str:
        return f"{self.data}/prepared/{self.config['datasets'][dataset]['source']}.npz"

    def raw_files(self, source: str) -> list[str]:
        """The official files of a source (none for generated sources), where its fetch rule puts them."""
        return [f"{self.data}/raw/{source}/{name}" for name in SOURCES[source].files]

    def prepare_inputs(self, source: str) -> list[str]:
        """What a source's prepare reads: its official files, or the user's files it names (a change of them,
        or a file added or removed, makes Snakemake prepare it again)."""
        read = SOURCES[source].inputs
        return self.raw_files(source) + (read(self.config["sources"][source]) if read else [])

    def table_files(self, table: str) -> list[str]:
        return [f"{self.results}/tables/{table}.{ext}" for ext in ("csv", "md", "tex")]

    def figure_files(self, figure: str) -> list[str]:
        return [f"{self.results}/figures/{figure}.{ext}" for ext in ("png", "pdf")]

    def targets(self) -> dict[str, list[str]]:
        """Every artifact of the paper by target name."""
        return {**{t: self.table_files(t) for t in TABLES}, **{f: self.figure_files(f) for f in FIGURE_REGISTRY},
                "claims": self.claims_files(), "summary": [self.summary_file()]}

    def default_targets(self) -> list[str]:
        """What `all` builds: every target, but the rendered-pair figures only when one of their datasets is in."""
        skip = [] if self.swap_datasets() else [name for name, figure in FIGURE_REGISTRY.items() if figure.rendered]
        return [f for target, files in self.targets().items() if target not in skip for f in files]

    def swap_datasets(self) -> list[str]:
        return [d for d in self.config["figures"]["swap_datasets"] if d in self.datasets]

    def claims_files(self) -> list[str]:
        return [f"{self.results}/claims.{ext}" for ext in ("csv", "md")]

    def summary_file(self) -> str:
        return f"{self.results}/summary.md"

    def summary_inputs(self) -> dict[str, str | list[str]]:
        """Table 1 and the claims; the other tables and the tau sweep's probe files, for the runs they add."""
        tables = self.claims_tables()
        return {"table1": tables.pop("table1"), "claims": self.claims_files()[0],
                "others": list(tables.values()) + input_files(self.figure_inputs("figure3"))}

    def claims_tables(self) -> dict[str, str]:
        """The table CSVs the claims read (each verdict comes from these and the tau sweep's probe files)."""
        return {t: self.table_files(t)[0] for t in ("table1", "table2", "table3")}

    def claims_checks(self) -> dict[str, str]:
        """The checks (group laws, latent swap) each claim reads: the figures' run of each dataset that has it."""
        model = self.config["ablations"]["model"]
        return {d: self.analysis_file("checks", self.first_seed_run(d, model)) for d in self.datasets
                if self.unanalysed_reason(self.first_seed_run(d, model)) is None}

    def claims_input_files(self) -> list[str]:
        return (list(self.claims_tables().values()) + input_files(self.figure_inputs("figure3"))
                + list(self.claims_checks().values()))

    # -- whether a record already here was made by another config

    # Settings of how a run executed, not of what it computes; and settings older records did not have.
    EXECUTION_KEYS = ("device", "threads")
    NEWER_KEYS = ("precision", "source")

    def record_differences(self, run: Run) -> list[str]:
        """How the run record already in this results folder differs from what the config asks for that run
        ('epochs: 10 here, 50 asked'); empty when there is no record or it matches."""
        record = Path(self.run_dir(run)) / "run.json"
        if not record.is_file():
            return []
        try:
            trained = json.loads(record.read_text())["parameters"]
        except (ValueError, KeyError, TypeError):
            return ["unreadable run record (not JSON with 'parameters')"]
        if "block" in trained:  # records before pair recipes: block true was the 7x7 occluder
            trained["recipe"] = {"kind": "occluder", "size": 7} if trained.pop("block") else {"kind": "none"}
        asked = self.train_spec(run)
        keys = [k for k in asked if k not in self.EXECUTION_KEYS and (k in trained or k not in self.NEWER_KEYS)]
        return [f"{k}: {json.dumps(trained.get(k))} here, {json.dumps(asked[k])} asked" for k in keys
                if trained.get(k) != asked[k]]

    def table_differences(self, table: str) -> list[str]:
        """How the tracked table's own record of the files it was made from (the CSV's source_file column) differs
        from the files this config makes it from; empty when it has no such record (the parameter counts) or they
        agree."""
        made = Path(self.table_files(table)[0])
        if not made.is_file():
            return []
        with made.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or "source_file" not in rows[0]:
            return []
        used = {f for row in rows for f in (row["source_file"] or "").split(";") if f}
        asked = set(self.table_inputs(table))
        differences = []
        if used - asked:
            differences.append(f"made from {len(used - asked)} file(s) this config does not ask for "
                               f"(e.g. {min(used - asked)})")
        if asked - used:
            differences.append(f"lacks {len(asked - used)} file(s) this config asks for (e.g. {min(asked - used)})")
        return differences

    def figure_differences(self, figure: str) -> list[str]:
        """How the inputs a figure records beside itself (figures/<name>.json) differ from this config's."""
        record = Path(self.figure_record(figure))
        if not record.is_file():
            return []
        used, asked = json.loads(record.read_text()), json.loads(json.dumps(self.figure_inputs(figure)))
        return [] if used == asked else [f"drawn from other inputs than this config asks for ({record})"]

    def figure_record(self, figure: str) -> str:
        return f"{self.results}/figures/{figure}.json"

    def stale_trigger(self, what: str, differences: list[str]) -> list[str]:
        """An extra input, newer than ``what``, that makes Snakemake rebuild it because the config changed what it
        contains (Snakemake alone hands back the old file when it has no metadata of its own, e.g. on a fresh
        clone). The note is written now, while the DAG is built, and says why."""
        if not differences:
            return []
        note = f"{what} is stale: " + "; ".join(differences)
        trigger = Path(self.results) / ".stale" / f"{hashlib.sha256(note.encode()).hexdigest()[:16]}.txt"
        if not trigger.is_file():
            trigger.parent.mkdir(parents=True, exist_ok=True)
            trigger.write_text(note + "\n")
            print(f"{note}: it will be rebuilt", file=sys.stderr)
        return [str(trigger)]

    def stale_runs(self) -> dict[str, list[str]]:
        """Run records of this results folder that another config made: {run.json: differences}."""
        runs = {run for part in ("main", "ablations", "tau_sweep") for run in self.configured_runs(part)}
        stale = {f"{self.run_dir(run)}/run.json": self.record_differences(run) for run in sorted(runs, key=str)}
        return {path: differences for path, differences in stale.items() if differences}
