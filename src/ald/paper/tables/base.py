"""The table interface and the table registry.

A table is one object (``Table``): its name and title, what it is made from and which runs it leaves out
(``inputs``, ``left_out``), the lines it opens and closes with (``header``, ``notes``), each resolved from the
plan that is passed in (``ald.plan.Plan``, which asks them), and how it builds its frame from those files and
writes it (``make``). ``ResultsTable`` is the frame of our per-seed results beside the paper's values, read
from metrics (``MetricsTable``) or probe files.

Add a table: a new file with a subclass decorated with ``register_table``, imported in the package's
``__init__``; its target, rule, notes and report caption follow the registry (``ald.paper.TABLES``).

The command line names the tables at start-up, so importing the tables stays light: pandas, the shared helpers
(``frames``), the shared sentences (``ald.paper.notes``) and the paper's values are imported where a table
first uses them (``OnFirstUse``).
"""

from __future__ import annotations

import sys

from ...registry import Registry

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from pathlib import Path
    from typing import ClassVar

    from pandas import DataFrame


class OnFirstUse:
    """A module imported when one of its attributes is first read."""

    def __init__(self, module: str):
        self._module = module

    def __getattr__(self, name: str):
        __import__(self._module)
        return getattr(sys.modules[self._module], name)


pd = OnFirstUse("pandas")
frames = OnFirstUse("ald.paper.tables.frames")
paper_notes = OnFirstUse("ald.paper.notes")  # the sentences the tables share
paper_values = OnFirstUse("ald.paper.values")


class Table:
    """What every table provides; the plan-facing methods take the plan (``ald.plan.Plan``) that asks."""

    name: ClassVar[str]
    title: ClassVar[str]  # the heading of the .md, the caption of the .tex
    caption: ClassVar[str]  # the caption in the HTML report (workflow/report/table.rst)

    def inputs(self, plan) -> list[str]:
        """The metrics or probe files it is made from."""
        return []

    def left_out(self, plan) -> list[dict]:
        """The identity and reason of each run ``not_run`` leaves out of it: its cells say why they are empty."""
        return []

    def seeds(self, plan) -> list[int]:
        """The seeds of its runs."""
        return plan.config["seeds"]

    def header(self, plan) -> list[str]:
        """The lines it opens with: the settings that made it."""
        return [plan.settings_line(self.seeds(plan))]

    def notes(self, plan) -> list[str]:
        """The lines printed under it: the settings that made it and how to read it."""
        raise NotImplementedError

    def make(self, inputs: list, notes: list[str], paths: list[Path], header: list[str] = (),
             left_out: list[dict] = ()) -> DataFrame:
        """Build it from ``inputs`` and write it to ``paths`` (.csv, .md, .tex), opening with ``header`` and closing
        with ``notes``; ``left_out``: the identity and reason of each run the config leaves out, whose cells say so.
        Returns the formatted frame."""
        raise NotImplementedError


TABLES = Registry("table")


def register_table(cls: type[Table]) -> type[Table]:
    TABLES.add(cls.name, cls())
    return cls


def make_table(name: str, inputs: list, notes: list[str], paths: list[Path], header: list[str] = (),
               left_out: list[dict] = ()) -> DataFrame:
    """Build and write the table registered as ``name`` (``Table.make``)."""
    return TABLES.lookup(name).make(inputs, notes, paths, header, left_out)


def identities(plan, runs: list) -> list[dict]:
    """Each (run, reason) of ``runs`` as a table's ``left_out`` gives it: the run's identity and the reason."""
    return [dict(plan.identity(run), reason=reason) for run, reason in runs]


EMPTY = "none: no run of this configuration belongs in this table (see the notes)"


class ResultsTable(Table):
    """Our per-seed results aggregated over seeds, beside the paper's values, from metrics or probe files."""

    files: ClassVar[str]  # what it reads, as its notes name them: "metrics" or "probe" files

    def read(self, inputs: list, left_out: list[dict]) -> DataFrame:
        """A row per run and score of ``inputs``, and a placeholder row for each run in ``left_out``."""
        raise NotImplementedError

    def stats(self, frame: DataFrame) -> DataFrame:
        """The numbers (the CSV): a row per cell, over seeds, beside the paper's value."""
        raise NotImplementedError

    row: ClassVar[list[str]]  # what names a row of the formatted table; its columns: ours and the paper's per metric

    def display(self, stats: DataFrame, marks: dict[str, str]) -> DataFrame:
        """The formatted cells (.md and .tex); ``marks``: the letter of each reason runs are left out."""
        return frames.display_frame(stats, self.row, "metric", marks)

    def opening(self, header: list[str], frame: DataFrame) -> list[str]:
        """The lines it opens with, given the rows it was built from."""
        return list(header)

    def notes(self, plan) -> list[str]:
        common = paper_notes.common_notes(plan, self.name, self.seeds(plan), self.files)
        return [*common, *self.shared_notes(), *self.own_notes(plan)]

    def shared_notes(self) -> list[str]:
        """The notes it shares with other tables, after the common ones."""
        return []

    def own_notes(self, plan) -> list[str]:
        """The notes of this table alone."""
        return []

    def make(self, inputs, notes, paths, header=(), left_out=()):
        frame = self.read(inputs, list(left_out))
        if "paper_row" in frame:  # a dataset of the user's own has none: tabled as ours only
            frame["paper_row"] = frame["paper_row"].fillna(frames.NO_PAPER_ROW)
        if frame.empty:  # e.g. Table 3 of a preset whose datasets have no class labels: the notes say why
            empty = pd.DataFrame({"rows": [EMPTY]})
            frames.write_table(empty, empty, paths, self.title, notes, header)
            return empty
        stats = self.stats(frame)
        marks = frames.left_out_marks(stats)
        shown = self.display(stats, marks)
        notes = [*notes, *(f"({mark}) not run: {reason}" for reason, mark in marks.items())]
        if "n_collapsed" in stats and stats["n_collapsed"].any():
            notes = [*notes, frames.COLLAPSE_NOTE]
        frames.write_table(stats, shown, paths, self.title, notes, self.opening(header, frame))
        return shown


class MetricsTable(ResultsTable):
    """A table of the metrics files (PSNR, SSIM, RMSE on the test pairs) of one part of the runs."""

    files = "metrics"
    part: ClassVar[str]  # the part of the runs it shows ("main", "ablations")

    def left_out(self, plan) -> list[dict]:
        return identities(plan, plan.left_out_runs(self.part))

    def read(self, inputs, left_out):
        frame = frames.load_metrics(inputs) if inputs else pd.DataFrame()
        return frames.with_left_out(frame, left_out, {"collapsed": 0})

    def opening(self, header, frame):
        return [*header, *frames.device_note(frame)]

    def shared_notes(self) -> list[str]:
        return [paper_notes.SCALES_NOTE]
