"""The paper's figures: one module per figure, each defining and registering its ``Figure`` (see ``base``), and the
helpers they share (``drawing``, ``latent_swap``, ``lazy``).

Add a figure: one new file with a ``Figure`` subclass decorated with ``register_figure`` (see ``base``), and its
name below, where the figures' order (the targets', the report's) is set.
"""

from . import figure2, figure3, figure4, renders, figure5, swap, angles, curves  # noqa: F401  (registers them)
from .base import FIGURE_REGISTRY, Figure, register_figure  # noqa: F401
