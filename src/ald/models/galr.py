"""GALR (Jin, Shrivastava, Fletcher, NeurIPS 2024): a latent group action on a manual, fixed partition.

The GALR paper's model is encoder -> attention module (query / key / value) -> group action on the
latent -> decoder; it has no public code. Our reading (docs/baselines.md): ALD's encoder and decoder,
a residual self-attention over the latent's positions, and a fixed split in which the first
``n_variant`` channels are acted on (default: half). The losses are ALD's (``split_action_losses``), so
the comparison with ALD isolates the learned partition (and the attention module).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..groups import Group
from .base import SplitActionLosses, register_model
from .backbone import CHANNELS, ConvGroupActionModel, backbone_params_schema, conv_layers, rms_normalise


class LatentAttention(nn.Module):
    """Self-attention over the positions of a latent map: 1x1 query / key / value, softmax over
    positions, added back through a gate that starts at 0 (so training starts from the plain encoder).

    With no positional encoding it is equivariant to any permutation of positions, so a quarter turn
    of the latent commutes with it exactly.
    """

    def __init__(self, channels: int, spatial_dims: int, key_channels: int):
        super().__init__()
        conv, _ = conv_layers(spatial_dims)
        self.query, self.key = conv(channels, key_channels, 1), conv(channels, key_channels, 1)
        self.value = conv(channels, channels, 1)
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        q, k, v = (layer(z).flatten(2) for layer in (self.query, self.key, self.value))  # (B, C', N)
        weights = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(q.shape[1]), dim=-1)  # (B, N, N)
        return z + self.gate * (v @ weights.transpose(1, 2)).view_as(z)


@register_model
class GALR(SplitActionLosses, ConvGroupActionModel):
    kind = "galr"
    loss_names = ("recon", "inv", "const")
    params_schema = {
        **backbone_params_schema(loss_names),
        "n_variant": {"type": ["integer", "null"], "minimum": 0},
        "attention": {"type": "boolean"},
        "key_channels": CHANNELS,
        "latent_rms_norm": {"type": "boolean"},
    }

    def __init__(self, group: Group, n_variant: int | None = None, attention: bool = True, key_channels: int = 8,
                 latent_rms_norm: bool = False, **backbone):
        super().__init__(group, **backbone)
        channels = self.latent_channels
        n_variant = channels // 2 if n_variant is None else n_variant  # None: half the channels
        if not 0 <= n_variant <= channels:
            raise ValueError(f"n_variant must be between 0 and latent_channels ({channels}), got {n_variant}")
        self.latent_rms_norm = latent_rms_norm
        self.attention = LatentAttention(channels, self.latent_dims, key_channels) if attention else nn.Identity()
        self.register_buffer("variant", torch.arange(channels) < n_variant)  # fixed, never trained

    def encode(self, x):
        z = self.attention(super().encode(x))
        return rms_normalise(z) if self.latent_rms_norm else z

    def variant_channels(self):
        return self.variant.clone()
