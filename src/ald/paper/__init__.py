"""The paper's outputs: its published values (``values``), our tables (``tables``) and figures (``figures``).

These read only the files the pipeline wrote (metrics, probes, run records and trained runs).
"""

from .figures import FIGURE_REGISTRY

TABLES = ("table1", "table2", "table3", "parameters")
FIGURES = tuple(FIGURE_REGISTRY)  # the registered figures' names, in the order ald.paper.figures imports them
