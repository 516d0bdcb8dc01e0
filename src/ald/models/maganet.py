"""MAGANet (Hwang, Choi, Cho, Kang, ICML 2023: achieving combinatorial generalization by modeling a group action),
which has no public code; our reading, adapted to (x, g) -> T_g(x) (docs/baselines.md).

Kept: the transformation is a latent of its own, inferred from a pair (x, x') by an action encoder as a
Gaussian with a standard normal prior, and a decoder applies it to x's representation to give x'.
Here: a content encoder codes x, the action encoder reads x and T_g(x) stacked as channels, an action
module (an MLP of the content code and the transformation latent, added back to the content) moves the
code, and a decoder renders it. Trained as a VAE of both codes: summed squared error of T_g(x) plus the
KL of the transformation latent and of the content code (standard normal priors). The content KL is
ours: without it the deterministic content code drifted to a large common offset within tens of steps,
the decoder's tanh saturated and every prediction became the blank background (docs/baselines.md). Added for the task: a regressor from g (its rotation matrix) to the
transformation latent, fitted to the action encoder's posterior mean (stop-gradient) on training pairs.
Prediction uses that regressor and never the action encoder, so it never reads T_g(x).
"""

from __future__ import annotations

import torch
from torch import nn

from ..groups import Group
from .base import register_model
from .backbone import FlatCodeModel, flat_params_schema, gaussian, gaussian_kl, mlp, sample, summed_squared_error


@register_model
class MAGANet(FlatCodeModel):
    kind = "maganet"
    loss_names = ("recon", "kl", "kl_content", "regress")
    params_schema = {
        **flat_params_schema(loss_names),
        "content_dims": {"type": "integer", "minimum": 1},
        "action_dims": {"type": "integer", "minimum": 1},
    }

    def __init__(self, group: Group, content_dims: int = 32, action_dims: int = 8, **layout):
        super().__init__(group, n_code=content_dims, n_variant=content_dims, **layout)  # the action moves every dim
        self.content_encoder = self.flat_encoder(2 * content_dims)  # means and log-variances
        self.action_encoder = self.flat_encoder(2 * action_dims, in_channels=2 * self.in_channels)
        self.action_module = mlp([content_dims + action_dims, 128, content_dims])
        self.decoder = self.flat_decoder(content_dims)
        d = group.spatial_dims
        self.regressor = mlp([d * d, 64, action_dims])

    def encode(self, x):
        """The content posterior's mean."""
        return gaussian(self.content_encoder(x))[0]

    def decode(self, z):
        return self.decoder(z)

    def apply_action(self, z: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return z + self.action_module(torch.cat([z, action], 1))

    def action_of(self, g: torch.Tensor, device) -> torch.Tensor:
        """The transformation latent for g, from the regressor: what prediction uses."""
        return self.regressor(self.group_numbers(g, device))

    def act(self, g, z):
        return self.apply_action(z, self.action_of(g, z.device))

    def loss_terms(self, x, tx, g):
        mu, logvar = gaussian(self.action_encoder(torch.cat([x, tx], 1)))
        content_mu, content_logvar = gaussian(self.content_encoder(x))
        action, content = (sample(mu, logvar), sample(content_mu, content_logvar)) if self.training else (mu, content_mu)
        return {
            "recon": summed_squared_error(self.decode(self.apply_action(content, action)), tx),
            "kl": gaussian_kl(mu, logvar),
            "kl_content": gaussian_kl(content_mu, content_logvar),
            "regress": nn.functional.mse_loss(self.action_of(g, x.device), mu.detach()),
        }
