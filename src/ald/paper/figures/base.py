"""A figure, as the plan and the ``figure`` command see it, and the registry of figures (``FIGURE_REGISTRY``).

A figure is one object of a ``Figure`` subclass, registered under its name (``register_figure``) by its own module
in this package: what it shows (``inputs``: run folders, probe files, histories or prepared arrays, nested as its
``draw`` takes them), the panels ``not_run`` leaves out of it and why (``left_out``), what its corner note
states, its caption in the report, and how it is drawn. ``ald.plan.Plan``'s figure methods hand each figure the
plan itself: a figure reads the config's runs and files through the plan's methods (``first_seed_run_dir``,
``unshown_reason``, ``main_runs``, ...) and imports nothing of ``ald.plan``.

Importing a figure module stays cheap (the command line imports them all): drawing code reads numpy, torch and
matplotlib through ``lazy``, and imports the library's trained-run and probe code inside its functions.
"""

from __future__ import annotations

from pathlib import Path

from ...registry import Registry


class Figure:
    """One figure: its name (the target, and ``<results>/figures/<name>.png``), caption and inputs."""

    # Class attributes, the same for every plan:
    name: str
    caption: str  # the report's caption, printed above the note (workflow/report/figure.rst)
    # Drawn from rendered pairs (figures.swap_datasets, e.g. airplanes): `all` builds it only when one is in.
    rendered: bool = False
    part: str = "main"  # the part of the runs (main, ablations) whose first seed its panels show

    def panels(self, plan) -> list[str]:
        """The datasets it draws a panel of, from one run folder each (none: it is drawn from other files)."""
        return []

    def models(self, plan) -> list[str]:
        """The models whose runs a panel shows: the method (``ablations.model``) unless a figure says otherwise."""
        return [plan.config["ablations"]["model"]]

    def shown(self, plan) -> list[str]:
        """The ``panels`` whose runs are all built (``not_run`` leaves none of them out)."""
        models = self.models(plan)
        return [d for d in self.panels(plan) if plan.unshown_reason(d, models, self.part) is None]

    def left_out(self, plan) -> list[str]:
        """'dataset: reason' of each panel ``not_run`` leaves out of it."""
        models = self.models(plan)
        return [f"{d}: {reason}" for d in self.panels(plan) if (reason := plan.unshown_reason(d, models, self.part))]

    def run_folders(self, plan) -> dict[str, str]:
        """{dataset: the first seed's run folder of the method}, for each panel shown."""
        model = self.models(plan)[0]
        return {d: plan.first_seed_run_dir(d, model) for d in self.shown(plan)}

    def inputs(self, plan):
        """What it is drawn from, as JSON (recorded beside it: figures/<name>.json): the argument of ``draw``."""
        raise NotImplementedError

    def note_settings(self, plan) -> tuple[list[int] | None, list[str] | None]:
        """The seeds and datasets the settings in its corner state (None: the config's seeds, every dataset)."""
        return None, None

    def draw(self, inputs, test_seed: int, paths: list[Path], note: str = "") -> None:
        """Draw it from ``inputs`` (the runs' test pairs drawn with ``test_seed``) to each of ``paths``, ``note``
        (the settings, and the panels left out) in its corner."""
        raise NotImplementedError


FIGURE_REGISTRY = Registry("figure")


def register_figure(cls: type[Figure]) -> type[Figure]:
    """Class decorator: registers one object of ``cls`` under ``cls.name``."""
    FIGURE_REGISTRY.add(cls.name, cls())
    return cls
