"""The paper's outputs: its published values (``values``), our tables (``tables``) and figures (``figures``).

These read only the files the pipeline wrote (metrics, probes, run records and trained runs).
"""

from .tables import TABLES as _REGISTERED

TABLES = tuple(_REGISTERED)  # the registered tables' names, in the order ald.paper.tables lists them
FIGURES = ("figure2", "figure3", "figure4", "renders", "figure5", "swap", "angles", "curves")
RENDERED_FIGURES = ("figure4", "renders")  # of figures.swap_datasets: rendered pairs (airplanes)
