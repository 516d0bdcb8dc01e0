"""The paper's outputs: its published values (``values``), our tables (``tables``) and figures (``figures``).

These read only the files the pipeline wrote (metrics, probes, run records and trained runs).
"""

from .figures import FIGURE_REGISTRY
from .tables import TABLES as _REGISTERED

TABLES = tuple(_REGISTERED)  # the registered tables' names, in the order ald.paper.tables lists them
FIGURES = tuple(FIGURE_REGISTRY)  # the registered figures' names, in the order ald.paper.figures imports them
