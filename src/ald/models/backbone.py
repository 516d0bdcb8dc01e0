"""Convolutional encoder and decoder shared by the models, for 2-D images and 3-D volumes alike, and
``ConvGroupActionModel``, the base of every model built on them (ALD, GALR, EquivNR).

2-D images under a 3-D group (renders of objects under SO(3)): the encoder's 2-D feature map
(B, C, H, W) is lifted into a feature volume (B, C / lift_depth, lift_depth, H, W) by reshaping channels
into depth, as equivariant neural rendering does; the group acts on that volume with the same ``act``
as on 3-D data, and the decoder reads it flattened back into channels. The latent then has
``latent_channels / lift_depth`` channels, and that is what a mask or a partition splits.
"""

from __future__ import annotations

import torch
from torch import nn

from ..groups import Group
from . import GroupActionModel


def conv_layers(spatial_dims: int):
    if spatial_dims == 2:
        return nn.Conv2d, nn.ConvTranspose2d
    if spatial_dims == 3:
        return nn.Conv3d, nn.ConvTranspose3d
    raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}")


def rms_normalise(z: torch.Tensor) -> torch.Tensor:
    """Each item divided by its root mean square: our stabiliser for continuous groups (README, "SO(2)").

    The latent then cannot grow to chase its own stop-gradient target through a norm-shrinking
    interpolated action.
    """
    dims = tuple(range(1, z.dim()))
    return z * torch.rsqrt(z.pow(2).mean(dims, keepdim=True) + 1e-6)


def second_layer(latent_stride: int) -> tuple[int, int, int]:
    """Kernel, stride and padding of the layer next to the latent: the authors' k4 s2 p1 for a latent
    stride of 4, or a k3 s1 p1 that keeps the size for a stride of 2 (twice as fine a latent grid)."""
    if latent_stride == 4:
        return 4, 2, 1
    if latent_stride == 2:
        return 3, 1, 1
    raise ValueError(f"latent_stride must be 4 (the authors') or 2, got {latent_stride}")


def encoder(in_channels: int, hidden_channels: int, latent_channels: int, spatial_dims: int,
            latent_stride: int = 4) -> nn.Sequential:
    """The authors' encoder: two k4 s2 p1 convolutions with LeakyReLU(0.2); 28 -> 14 -> 7 (14 -> 14
    with ``latent_stride`` 2)."""
    conv, _ = conv_layers(spatial_dims)
    return nn.Sequential(
        conv(in_channels, hidden_channels, 4, 2, 1), nn.LeakyReLU(0.2),
        conv(hidden_channels, latent_channels, *second_layer(latent_stride)), nn.LeakyReLU(0.2),
    )


def decoder(latent_channels: int, hidden_channels: int, out_channels: int, spatial_dims: int,
            latent_stride: int = 4) -> nn.Sequential:
    """The mirror of ``encoder`` with transposed convolutions and a tanh output in [-1, 1]."""
    _, deconv = conv_layers(spatial_dims)
    return nn.Sequential(
        deconv(latent_channels, hidden_channels, *second_layer(latent_stride)), nn.LeakyReLU(0.2),
        deconv(hidden_channels, out_channels, 4, 2, 1), nn.Tanh(),
    )


CHANNELS = {"type": "integer", "minimum": 1}


def backbone_params_schema(loss_names: tuple[str, ...]) -> dict:
    """JSON schema properties of the parameters every ``ConvGroupActionModel`` takes."""
    weights = {"type": "object", "additionalProperties": False,
               "properties": {name: {"type": "number", "minimum": 0} for name in loss_names}}
    stride = {"enum": [2, 4], "description": "input size / latent size: 4 is the authors' (7x7 for 28x28); "
                                            "2 gives a twice as fine latent grid (README, 'SO(2), measured')"}
    depth = {"type": "integer", "minimum": 1, "description": "2-D data under a 3-D group: the depth of the latent "
                                                              "feature volume (latent_channels must be a multiple)"}
    return {"hidden_channels": CHANNELS, "latent_channels": CHANNELS, "latent_stride": stride, "lift_depth": depth,
            "loss_weights": weights}


class ConvGroupActionModel(GroupActionModel):
    """A model on the authors' encoder and decoder; subclasses add how the group acts and their losses."""

    def __init__(self, group: Group, in_channels: int = 1, spatial_dims: int = 2, hidden_channels: int = 32,
                 latent_channels: int = 64, latent_stride: int = 4, lift_depth: int = 16,
                 loss_weights: dict[str, float] | None = None):
        super().__init__()
        self.group = group
        self.spatial_dims = spatial_dims
        self.lift_depth = lifted_depth(group, spatial_dims, latent_channels, lift_depth)
        self.latent_dims = group.spatial_dims
        self.latent_channels = latent_channels // (self.lift_depth or 1)  # what the group acts on, channel by channel
        self.loss_weights = dict(loss_weights or self.default_loss_weights())
        self.check_loss_weights()
        self.encoder = encoder(in_channels, hidden_channels, latent_channels, spatial_dims, latent_stride)
        self.decoder = decoder(latent_channels, hidden_channels, in_channels, spatial_dims, latent_stride)

    def encode(self, x):
        return self.lift(self.encoder(x))

    def decode(self, z):
        return self.decoder(self.flatten(z))

    def lift(self, features: torch.Tensor) -> torch.Tensor:
        """The encoder's features as the latent the group acts on: a feature volume for 2-D data under a 3-D group."""
        if not self.lift_depth:
            return features
        b, c, h, w = features.shape
        return features.view(b, c // self.lift_depth, self.lift_depth, h, w)

    def flatten(self, z: torch.Tensor) -> torch.Tensor:
        """The inverse of ``lift``: what the decoder reads."""
        return z.flatten(1, 2) if self.lift_depth else z


def lifted_depth(group: Group, spatial_dims: int, latent_channels: int, lift_depth: int) -> int | None:
    """``lift_depth`` when 2-D data is modelled under a 3-D group, else None; a depth that does not divide
    the latent channels is refused."""
    if group.spatial_dims == spatial_dims:
        return None
    if (spatial_dims, group.spatial_dims) != (2, 3):
        raise ValueError(f"group {group.name} acts on {group.spatial_dims}-D data but the dataset is {spatial_dims}-D; "
                         "only 2-D images under a 3-D group can be lifted (renders of objects under SO(3))")
    if latent_channels % lift_depth:
        raise ValueError(f"latent_channels ({latent_channels}) must be a multiple of lift_depth ({lift_depth}) to lift "
                         f"the 2-D latent into a feature volume; e.g. latent_channels: {lift_depth * max(1, latent_channels // lift_depth)}")
    return lift_depth
