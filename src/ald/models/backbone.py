"""Convolutional encoder and decoder shared by the models, for 2-D images and 3-D volumes alike, and
``ConvGroupActionModel``, the base of every model built on them (ALD, GALR, EquivNR)."""

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
    return {"hidden_channels": CHANNELS, "latent_channels": CHANNELS, "latent_stride": stride, "loss_weights": weights}


class ConvGroupActionModel(GroupActionModel):
    """A model on the authors' encoder and decoder; subclasses add how the group acts and their losses."""

    def __init__(self, group: Group, in_channels: int = 1, spatial_dims: int = 2, hidden_channels: int = 32,
                 latent_channels: int = 64, latent_stride: int = 4, loss_weights: dict[str, float] | None = None):
        super().__init__()
        self.group = group
        self.spatial_dims, self.latent_channels = spatial_dims, latent_channels
        self.loss_weights = dict(loss_weights or self.default_loss_weights())
        self.check_loss_weights()
        self.encoder = encoder(in_channels, hidden_channels, latent_channels, spatial_dims, latent_stride)
        self.decoder = decoder(latent_channels, hidden_channels, in_channels, spatial_dims, latent_stride)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)
