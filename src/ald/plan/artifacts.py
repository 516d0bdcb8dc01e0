"""What each of the paper's artifacts is made from, and the facts their notes state.

``ArtifactsMixin`` holds the methods of ``ald.plan.Plan`` that say what a table, figure or the claims read
(metrics and probe files, run folders, histories, the parameter rows of built models), which of their cells
or panels ``not_run`` leaves out and why, and what their notes say. A table answers for itself: its object in
the registry ``ald.paper.tables.TABLES`` is asked with this plan; the figures' and claims' sentences are
``ald.paper.notes``'.
"""

from __future__ import annotations

from ..groups import GROUPS
from ..models import build_model
from ..paper import notes
from ..paper.figures import FIGURE_REGISTRY
from ..paper.tables import TABLES as TABLE_OBJECTS, Table
from ..paper.tables.table1 import column_headers
from .files import input_files


class ArtifactsMixin:
    """The inputs and notes of tables, figures and claims, from the runs and files of ``ald.plan.Plan``."""

    # -- tables

    def parameter_rows(self) -> list[dict]:
        """Each configured model built for each group on each layout of the datasets (channels, dims and the
        dataset's model overrides), as the runs build it."""
        rows, seen = [], set()
        for name, entry in self.config["models"].items():
            for group in self.config["groups"]:
                for dataset in sorted(self.datasets, key=lambda d: (self.source(d).channels, self.source(d).spatial_dims)):
                    source = self.source(dataset)
                    if group not in self.groups(dataset) or name not in self.models_of(dataset):
                        continue
                    overrides = self.config["datasets"][dataset]["model_params"]
                    data = f"{source.channels} channel(s), {source.spatial_dims}-D" + "".join(
                        f", {k} {v}" for k, v in sorted(overrides.items()))
                    if (name, group, data) in seen:
                        continue
                    seen.add((name, group, data))
                    model = build_model(self.model_params(name, group, dataset), GROUPS[group], source.channels,
                                        source.spatial_dims, self.image_size(dataset))
                    rows.append(dict(model=name, paper_column=entry["paper_column"], kind=entry["params"]["kind"],
                                     group=group, data=data, parameters=sum(p.numel() for p in model.parameters())))
        return rows

    def table(self, name: str) -> Table:
        """The table registered as ``name`` (``ald.paper.tables``), which answers the methods below for this plan."""
        return TABLE_OBJECTS.lookup(name)

    def table_inputs(self, table: str) -> list[str]:
        return self.table(table).inputs(self)

    def column_headers(self, models: list[str]) -> dict[str, str]:
        """Table 1's header of each of ``models`` (``ald.paper.tables.table1.column_headers``)."""
        return column_headers({m: self.config["models"][m]["paper_column"] for m in models})

    def table_left_out(self, table: str) -> list[dict]:
        """The identity and reason of each run ``not_run`` leaves out of a table: its cells say why they are empty."""
        return self.table(table).left_out(self)

    def table_caption(self, table: str) -> str:
        """A table's caption in the HTML report (workflow/report/table.rst)."""
        return self.table(table).caption

    # -- figures: each answer is the figure's own (ald.paper.figures: one registered object per figure)

    def first_seed_run_dir(self, dataset: str, model: str) -> str:
        return self.run_dir(self.first_seed_run(dataset, model))

    def unshown_reason(self, dataset: str, models: list[str], part: str) -> str | None:
        """Why a figure panel of ``dataset`` (the first seed's runs of ``models``) is left out, or None."""
        reasons = [self.unanalysed_reason(self.first_seed_run(dataset, m), part) for m in models]
        return next((r for r in reasons if r is not None), None)

    def figure_panels(self, figure: str) -> tuple[list[str], str]:
        """The datasets a figure draws a panel of per run folder, and the ``part`` of the runs they show."""
        drawn = FIGURE_REGISTRY.lookup(figure)
        return drawn.panels(self), drawn.part

    def figure_left_out(self, figure: str) -> list[str]:
        """'dataset: reason' of each panel ``not_run`` leaves out of a figure (Figure 3: each left-out tau point)."""
        return FIGURE_REGISTRY.lookup(figure).left_out(self)

    def figure_inputs(self, figure: str):
        """What a figure shows: run folders, probe files or histories, nested as the figure's drawing function takes them."""
        return FIGURE_REGISTRY.lookup(figure).inputs(self)

    def figure_caption(self, figure: str) -> str:
        """The figure's caption in the report (above its note)."""
        return FIGURE_REGISTRY.lookup(figure).caption

    def missing_figure_reason(self, figure: str) -> str | None:
        """Why a figure has nothing to show (its datasets are left out or not configured), or None."""
        if not FIGURE_REGISTRY.lookup(figure).rendered or self.swap_datasets():
            return None
        wanted = self.config["figures"]["swap_datasets"]
        reasons = [f"{d}: {self.left_out.get(d, 'not selected (only_datasets)')}" for d in wanted]
        return (f"{figure} shows figures.swap_datasets ({', '.join(wanted) or 'none configured'}), and none is "
                f"in this run. " + " ".join(reasons))

    def figure_input_files(self, figure: str) -> list[str]:
        return input_files(self.figure_inputs(figure))

    # -- notes: the facts they state (the figures' and claims' sentences are ald.paper.notes')

    def settings_line(self, seeds: list[int] | None = None, datasets: list[str] | None = None) -> str:
        """The settings an artifact opens with (``ald.paper.notes.settings_line``), for ``seeds`` and ``datasets``
        (by default the config's seeds and every dataset of this plan)."""
        seeds = seeds or self.config["seeds"]
        sizes = [(d, self.image_size(d), self.source(d).spatial_dims) for d in (datasets or self.datasets)]
        return notes.settings_line(self.config["preset"], self.config["training"], seeds, sizes)

    def table_header(self, table: str) -> list[str]:
        """The lines a table opens with: the settings that made it."""
        return self.table(table).header(self)

    def figure_note(self, figure: str) -> str:
        """The settings a figure states in its corner, and the panels ``not_run`` leaves out of it."""
        seeds, datasets = FIGURE_REGISTRY.lookup(figure).note_settings(self)
        return notes.figure_note(self.settings_line(seeds, datasets), self.figure_left_out(figure))

    def claims_notes(self) -> list[str]:
        return notes.claims_notes(list(self.claims_tables().values()))

    def table_notes(self, table: str) -> list[str]:
        """Lines printed under a table: the settings that made it, how to read it."""
        return self.table(table).notes(self)
