"""The model interface shared by ALD, its ablations and the baselines, and ALD itself.

Evaluation, probes and figures only use this interface: ``encode``, ``act``, ``decode``,
``predict`` (T_g(x) from x and g), ``split`` (variant / invariant parts of a latent) and
``loss_terms`` (named, unweighted losses; ``loss_weights`` says how they add up).
"""

from __future__ import annotations

import torch
from torch import nn

from .groups import Group

LOSS_TERMS = ("recon", "inv", "const")


class GroupActionModel(nn.Module):
    """What every model of the reproduction provides."""

    group: Group
    loss_weights: dict[str, float]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z_v, z_i): the parts of z that the group acts on and the parts it leaves alone."""
        raise NotImplementedError

    def act(self, g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.decode(self.act(g, self.encode(x)))

    def loss_terms(self, x: torch.Tensor, tx: torch.Tensor, g: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def total_loss(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        return sum(self.loss_weights.get(name, 0.0) * value for name, value in terms.items())


def conv_layers(spatial_dims: int):
    if spatial_dims == 2:
        return nn.Conv2d, nn.ConvTranspose2d
    if spatial_dims == 3:
        return nn.Conv3d, nn.ConvTranspose3d
    raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}")


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


class ALD(GroupActionModel):
    """Adaptive Latent Disentanglement, as the authors' released code builds it (DESIGN.md 2).

    ``latent_rms_norm`` is our stabiliser for continuous groups (README, "SO(2)"): the encoder
    output is divided by its per-item root mean square, so the latent cannot grow to chase its
    own stop-gradient target through a norm-shrinking interpolated action.
    """

    def __init__(
        self,
        group: Group,
        in_channels: int = 1,
        hidden_channels: int = 32,
        latent_channels: int = 64,
        tau: float = 0.5,
        loss_weights: dict[str, float] | None = None,
        spatial_dims: int = 2,
        latent_rms_norm: bool = False,
    ):
        super().__init__()
        conv, deconv = conv_layers(spatial_dims)
        self.group = group
        self.tau = tau
        self.latent_rms_norm = latent_rms_norm
        self.loss_weights = dict(loss_weights or {name: 1.0 for name in LOSS_TERMS})
        unknown = set(self.loss_weights) - set(LOSS_TERMS)
        if unknown:
            raise ValueError(f"unknown loss terms {sorted(unknown)}; known: {LOSS_TERMS}")
        self.encoder = nn.Sequential(
            conv(in_channels, hidden_channels, 4, 2, 1), nn.LeakyReLU(0.2),
            conv(hidden_channels, latent_channels, 4, 2, 1), nn.LeakyReLU(0.2),
        )
        self.decoder = nn.Sequential(
            deconv(latent_channels, hidden_channels, 4, 2, 1), nn.LeakyReLU(0.2),
            deconv(hidden_channels, in_channels, 4, 2, 1), nn.Tanh(),
        )
        self.mask_logits = nn.Parameter(torch.randn(latent_channels) * 0.1)
        self.spatial_dims = spatial_dims

    def mask(self) -> torch.Tensor:
        """Per-channel 0/1 mask (1 = variant), shaped to broadcast over batch and space."""
        m = StraightThroughMask.apply(self.mask_logits, self.tau)
        return m.view(1, -1, *([1] * self.spatial_dims))

    def n_variant(self) -> int:
        return int((torch.sigmoid(self.mask_logits) > self.tau).sum())

    def encode(self, x):
        z = self.encoder(x)
        if self.latent_rms_norm:
            dims = tuple(range(1, z.dim()))
            z = z * torch.rsqrt(z.pow(2).mean(dims, keepdim=True) + 1e-6)
        return z

    def decode(self, z):
        return self.decoder(z)

    def split(self, z):
        m = self.mask()
        return m * z, (1 - m) * z

    def act(self, g, z):
        z_v, z_i = self.split(z)
        return z_i + self.group.act(g, z_v)

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


MODELS = {"ald": ALD}


def build_model(spec: dict, group: Group, in_channels: int = 1, spatial_dims: int = 2) -> GroupActionModel:
    """A model from its config entry ``{kind: ald, ...}``: every other key is a constructor argument."""
    params = dict(spec)
    kind = params.pop("kind")
    if kind not in MODELS:
        raise ValueError(f"unknown model kind {kind!r}; known kinds: {sorted(MODELS)}")
    return MODELS[kind](group, in_channels=in_channels, spatial_dims=spatial_dims, **params)
