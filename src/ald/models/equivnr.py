"""EquivNR (Dupont et al., ICML 2020, apple/ml-equivariant-neural-rendering), adapted to (x, g) -> T_g(x).

EquivNR learns a scene representation on which rotations act exactly and renders each view of a pair
from the other. Kept: the whole latent is rotated (no partition: every channel is variant), both
directions of a pair are rendered (T_g(x) from x by g, x from T_g(x) by g^-1), and its training loss,
L1 plus 0.05 x (1 - SSIM) (its Trainer's defaults, with pytorch_msssim's SSIM). Adapted: images here
are 2-D with in-plane rotations, so the latent is ALD's 2-D feature map (a 3-D feature volume for
volumes) rotated by the same ``act`` as the images, instead of EquivNR's 2-D -> 3-D lifting and
projection; the encoder and decoder are ALD's, so the parameter budgets match (docs/baselines.md).
"""

from __future__ import annotations

import torch
from pytorch_msssim import ssim
from torch import nn

from .base import register_model
from .backbone import ConvGroupActionModel, backbone_params_schema


@register_model
class EquivNR(ConvGroupActionModel):
    kind = "equivnr"
    loss_names = ("l1", "ssim")
    params_schema = backbone_params_schema(loss_names)

    @classmethod
    def default_loss_weights(cls):
        return {"l1": 1.0, "ssim": 0.05}  # EquivNR's Trainer: rendering_loss_type 'l1', ssim_loss_weight 0.05

    def variant_channels(self):
        return torch.ones(self.latent_channels, dtype=torch.bool)

    def loss_terms(self, x, tx, g):
        rendered = torch.cat([self.predict(x, g), self.predict(tx, self.group.inverse(g))])
        targets = torch.cat([tx, x])
        unit = lambda images: (images + 1) / 2  # SSIM on [0, 1], as the metrics
        return {"l1": nn.functional.l1_loss(rendered, targets),
                "ssim": 1 - ssim(unit(rendered), unit(targets), data_range=1.0, size_average=True)}
