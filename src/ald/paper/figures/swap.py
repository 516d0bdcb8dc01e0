"""The latent swap on the datasets of ``figures.latent_datasets`` (2-D counterpart of the paper's Figure 4)."""

from __future__ import annotations

from .base import register_figure
from .latent_swap import LatentSwapFigure


@register_figure
class Swap(LatentSwapFigure):
    name = "swap"
    caption = """Latent swap (2-D counterpart of the paper's Figure 4): z_v and z_i exchanged between two inputs and
decoded, [z_v1; z_i2] and [z_v2; z_i1]; a (near) constant decoding is marked "prediction empty"."""
    titles = ["input 1", "input 2", "[z_v1; z_i2]", "[z_v2; z_i1]"]
    heading = "Latent swap"

    def panels(self, plan) -> list[str]:
        return [d for d in plan.config["figures"]["latent_datasets"] if d in plan.datasets]
