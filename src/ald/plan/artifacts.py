"""What each of the paper's artifacts is made from, and the facts its notes state.

``ArtifactsMixin`` holds the methods of ``ald.plan.Plan`` that say what a table, figure or the claims read
(metrics and probe files, run folders, histories, the parameter rows of built models), which of their cells
or panels ``not_run`` leaves out and why, and the facts their notes state (``table_facts``); the sentences
themselves are ``ald.paper.notes``'.
"""

from __future__ import annotations

from ..groups import GROUPS
from ..models import build_model
from ..paper import notes
from ..paper.figures import FIGURE_REGISTRY
from ..paper.tables import column_headers
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

    def table_inputs(self, table: str) -> list[str]:
        if table == "parameters":
            return []
        if table == "table1":
            return [self.metrics_file(r) for r in self.main_runs()]
        if table == "table2":
            return [self.metrics_file(r) for r in self.ablation_runs()]
        return [self.probe_file(r) for r in self.probed_runs() if self.not_run_reason(r, "analyses") is None]

    def column_headers(self, models: list[str]) -> dict[str, str]:
        """Table 1's header of each of ``models`` (``ald.paper.tables.column_headers``)."""
        return column_headers({m: self.config["models"][m]["paper_column"] for m in models})

    def table_left_out(self, table: str) -> list[dict]:
        """The identity and reason of each run ``not_run`` leaves out of a table: its cells say why they are empty."""
        if table == "parameters":
            return []
        if table == "table3":
            runs = [(r, self.unanalysed_reason(r)) for r in self.probed_runs()]
            runs = [(r, why) for r, why in runs if why is not None]
        else:
            runs = self.left_out_runs("ablations" if table == "table2" else "main")
        return [dict(self.identity(run), reason=reason) for run, reason in runs]

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

    # -- notes: the facts they state (the sentences are ald.paper.notes')

    def settings_line(self, seeds: list[int] | None = None, datasets: list[str] | None = None) -> str:
        """The settings an artifact opens with (``ald.paper.notes.settings_line``), for ``seeds`` and ``datasets``
        (by default the config's seeds and every dataset of this plan)."""
        seeds = seeds or self.config["seeds"]
        sizes = [(d, self.image_size(d), self.source(d).spatial_dims) for d in (datasets or self.datasets)]
        return notes.settings_line(self.config["preset"], self.config["training"], seeds, sizes)

    def table_header(self, table: str) -> list[str]:
        if table == "parameters":
            return [notes.parameters_header(self.config["preset"])]
        seeds = self.ablation_seeds if table == "table2" else None
        return [self.settings_line(seeds)]

    def figure_note(self, figure: str) -> str:
        """The settings a figure states in its corner, and the panels ``not_run`` leaves out of it."""
        seeds, datasets = FIGURE_REGISTRY.lookup(figure).note_settings(self)
        return notes.figure_note(self.settings_line(seeds, datasets), self.figure_left_out(figure))

    def claims_notes(self) -> list[str]:
        return notes.claims_notes(list(self.claims_tables().values()))

    def table_notes(self, table: str) -> list[str]:
        """Lines printed under a table (``ald.paper.notes.table_notes``): the settings that made it, how to read it."""
        return notes.table_notes(self.table_facts(table))

    def table_facts(self, table: str) -> notes.TableFacts:
        """What the notes under ``table`` state, resolved from the config."""
        c = self.config
        headers = self.column_headers(self.models)
        return notes.TableFacts(
            table=table,
            seeds=self.ablation_seeds if table == "table2" else c["seeds"],
            training=c["training"],
            sources={name: c["sources"][name] for name in sorted({c["datasets"][d]["source"] for d in self.datasets})},
            results=self.results,
            paper_rows={d: c["datasets"][d]["paper_row"] for d in self.datasets},
            left_out={d: (c["datasets"][d]["paper_row"], reason) for d, reason in self.left_out.items()},
            partial_models={d: self.models_of(d) for d in self.datasets if self.models_of(d) != self.models},
            headers=headers,
            left_out_headers=self.column_headers([m for m in c["models"] if m not in self.models]),
            own_columns=any(c["models"][m]["paper_column"] != h for m, h in headers.items()),
            variants=c["ablations"]["variants"],
            ablation_groups=c["ablations"]["groups"],
            unablated={d: self.source(d).rendered_group for d in self.datasets if not self.groups(d, "ablations.groups")},
            unlabelled={d: c["datasets"][d]["source"] for d in self.datasets if not self.labelled(d)},
            probes=c["probes"],
        )
