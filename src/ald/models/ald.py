"""ALD (Adaptive Latent Disentanglement), as the authors' released code builds it (DESIGN.md 2)."""

from __future__ import annotations

import torch
from torch import nn

from ..groups import Group
from . import GroupActionModel, register_model
from .backbone import decoder, encoder


class StraightThroughMask(torch.autograd.Function):
    """Forward: hard mask 1[sigmoid(alpha) > tau]. Backward: the gradient of sigmoid(alpha)."""

    @staticmethod
    def forward(ctx, logits, tau):
        soft = torch.sigmoid(logits)
        ctx.save_for_backward(soft)
        return (soft > tau).to(logits.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (soft,) = ctx.saved_tensors
        return grad_output * soft * (1 - soft), None


WEIGHT = {"type": "number", "minimum": 0}
CHANNELS = {"type": "integer", "minimum": 1}


@register_model
class ALD(GroupActionModel):
    """A learned per-channel mask splits the latent; the group acts on the variant part only.

    ``latent_rms_norm`` is our stabiliser for continuous groups (README, "SO(2)"): the encoder
    output is divided by its per-item root mean square, so the latent cannot grow to chase its
    own stop-gradient target through a norm-shrinking interpolated action.
    """

    kind = "ald"
    loss_names = ("recon", "inv", "const")
    params_schema = {
        "hidden_channels": CHANNELS,
        "latent_channels": CHANNELS,
        "tau": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "latent_rms_norm": {"type": "boolean"},
        "loss_weights": {"type": "object", "additionalProperties": False,
                         "properties": {name: WEIGHT for name in loss_names}},
    }

    def __init__(
        self,
        group: Group,
        in_channels: int = 1,
        spatial_dims: int = 2,
        hidden_channels: int = 32,
        latent_channels: int = 64,
        tau: float = 0.5,
        loss_weights: dict[str, float] | None = None,
        latent_rms_norm: bool = False,
    ):
        super().__init__()
        self.group = group
        self.tau = tau
        self.latent_rms_norm = latent_rms_norm
        self.loss_weights = dict(loss_weights or self.default_loss_weights())
        self.check_loss_weights()
        self.encoder = encoder(in_channels, hidden_channels, latent_channels, spatial_dims)
        self.decoder = decoder(latent_channels, hidden_channels, in_channels, spatial_dims)
        self.mask_logits = nn.Parameter(torch.randn(latent_channels) * 0.1)
        self.spatial_dims = spatial_dims

    def mask(self) -> torch.Tensor:
        """Per-channel 0/1 mask (1 = variant), shaped to broadcast over batch and space."""
        m = StraightThroughMask.apply(self.mask_logits, self.tau)
        return m.view(1, -1, *([1] * self.spatial_dims))

    def variant_channels(self):
        return torch.sigmoid(self.mask_logits.detach()) > self.tau

    def encode(self, x):
        z = self.encoder(x)
        if self.latent_rms_norm:
            dims = tuple(range(1, z.dim()))
            z = z * torch.rsqrt(z.pow(2).mean(dims, keepdim=True) + 1e-6)
        return z

    def decode(self, z):
        return self.decoder(z)

    def split(self, z):
        m = self.mask()  # straight-through: the mask logits get gradients from every loss
        return m * z, (1 - m) * z

    def loss_terms(self, x, tx, g):
        z_v, z_i = self.split(self.encode(x))
        z_v_g = self.group.act(g, z_v)
        with torch.no_grad():
            target_v, target_i = self.split(self.encode(tx))
        mse = nn.functional.mse_loss
        return {
            "recon": mse(self.decode(z_i + z_v_g), tx),
            "inv": mse(z_i, target_i),
            "const": mse(z_v_g, target_v),
        }
