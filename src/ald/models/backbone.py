"""Convolutional encoder and decoder shared by the models, for 2-D images and 3-D volumes alike."""

from __future__ import annotations

from torch import nn


def conv_layers(spatial_dims: int):
    if spatial_dims == 2:
        return nn.Conv2d, nn.ConvTranspose2d
    if spatial_dims == 3:
        return nn.Conv3d, nn.ConvTranspose3d
    raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}")


def encoder(in_channels: int, hidden_channels: int, latent_channels: int, spatial_dims: int) -> nn.Sequential:
    """The authors' encoder: two k4 s2 p1 convolutions with LeakyReLU(0.2); 28 -> 14 -> 7."""
    conv, _ = conv_layers(spatial_dims)
    return nn.Sequential(
        conv(in_channels, hidden_channels, 4, 2, 1), nn.LeakyReLU(0.2),
        conv(hidden_channels, latent_channels, 4, 2, 1), nn.LeakyReLU(0.2),
    )


def decoder(latent_channels: int, hidden_channels: int, out_channels: int, spatial_dims: int) -> nn.Sequential:
    """The mirror of ``encoder`` with transposed convolutions and a tanh output in [-1, 1]."""
    _, deconv = conv_layers(spatial_dims)
    return nn.Sequential(
        deconv(latent_channels, hidden_channels, 4, 2, 1), nn.LeakyReLU(0.2),
        deconv(hidden_channels, out_channels, 4, 2, 1), nn.Tanh(),
    )
