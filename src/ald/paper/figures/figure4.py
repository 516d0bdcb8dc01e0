"""Figure 4, the latent swap on rendered test pairs (``figures.swap_datasets``, the airplanes): the paper's claim
is that the pose goes with z_v and the sky with z_i."""

from __future__ import annotations

from .base import register_figure
from .latent_swap import LatentSwapFigure


@register_figure
class Figure4(LatentSwapFigure):
    name = "figure4"
    caption = """Figure 4: latent swap on rendered test pairs (objects and skies held out from training): z_v and z_i
exchanged between two inputs that differ in pose and sky, and decoded. The paper's claim: the pose
goes with z_v, the sky with z_i. The left label says how many objects the model was trained on; the
tracked run in results/reduced_airplanes has only 3 (5 real meshes in all), the paper's dataset about 4,000."""
    rendered = True
    titles = ["input 1 (pose 1, sky 1)", "input 2 (pose 2, sky 2)", "[z_v1; z_i2]\nwant: pose 1, sky 2",
              "[z_v2; z_i1]\nwant: pose 2, sky 1"]
    heading = ("Figure 4: latent swap on test renders (objects and skies held out from training)\n"
               "the paper's claim: pose goes with z_v, the sky with z_i")

    def panels(self, plan) -> list[str]:
        return plan.swap_datasets()
