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
from .base import GroupActionModel


def conv_layers(spatial_dims: int):
    if spatial_dims == 2:
        return nn.Conv2d, nn.ConvTranspose2d
    if spatial_dims == 3:
        return nn.Conv3d, nn.ConvTranspose3d
    raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}")


def rms_normalise(z: torch.Tensor) -> torch.Tensor:
    """Each item divided by its root mean square: our stabiliser for continuous groups (docs/findings.md).

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
                                            "2 gives a twice as fine latent grid (docs/findings.md)"}
    depth = {"type": "integer", "minimum": 1, "description": "2-D data under a 3-D group: the depth of the latent "
                                                              "feature volume (latent_channels must be a multiple)"}
    return {"hidden_channels": CHANNELS, "latent_channels": CHANNELS, "latent_stride": stride, "lift_depth": depth,
            "loss_weights": weights}


class ConvGroupActionModel(GroupActionModel):
    """A model on the authors' encoder and decoder; subclasses add how the group acts and their losses."""

    def __init__(self, group: Group, in_channels: int = 1, spatial_dims: int = 2, hidden_channels: int = 32,
                 latent_channels: int = 64, latent_stride: int = 4, lift_depth: int = 16,
                 loss_weights: dict[str, float] | None = None, image_size: int | None = None):
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


class FlatEncoder(nn.Module):
    """``encoder`` followed by a linear map of its flattened feature map to ``out_features`` numbers:
    the image-to-code networks of the disentanglement baselines (``FlatCodeModel``)."""

    def __init__(self, in_channels: int, hidden_channels: int, latent_channels: int, spatial_dims: int,
                 image_size: int, out_features: int):
        super().__init__()
        self.features = encoder(in_channels, hidden_channels, latent_channels, spatial_dims)
        self.linear = nn.Linear(latent_channels * latent_size(image_size) ** spatial_dims, out_features)

    def forward(self, x):
        return self.linear(self.features(x).flatten(1))


class FlatDecoder(nn.Module):
    """The mirror of ``FlatEncoder``: a linear map of a code to a feature map, then ``decoder``."""

    def __init__(self, in_features: int, hidden_channels: int, latent_channels: int, out_channels: int,
                 spatial_dims: int, image_size: int):
        super().__init__()
        side = latent_size(image_size)
        self.shape = (latent_channels, *([side] * spatial_dims))
        self.linear = nn.Sequential(nn.Linear(in_features, latent_channels * side**spatial_dims), nn.LeakyReLU(0.2))
        self.features = decoder(latent_channels, hidden_channels, out_channels, spatial_dims)

    def forward(self, code):
        return self.features(self.linear(code).view(len(code), *self.shape))


def latent_size(image_size: int | None) -> int:
    """The side of ``encoder``'s feature map (stride 4) for images of side ``image_size``."""
    if not image_size or image_size % 4:
        raise ValueError(f"a model with a flat code needs the image side, a multiple of 4, got {image_size}; "
                         "build it with build_model(..., image_size=...) (ald.training.data_layout gives it)")
    return image_size // 4


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


class FlatCodeModel(GroupActionModel):
    """The base of the disentanglement baselines (InfoGAN-CR, CausalVAE, MAGANet): their latent is a flat
    code (B, n_code), not a feature map, and g reaches them as numbers (``Group.matrix``), not as an action
    on the latent; each says in ``act`` how a code changes under g."""

    def __init__(self, group: Group, n_code: int, n_variant: int, in_channels: int = 1, spatial_dims: int = 2,
                 image_size: int | None = None, hidden_channels: int = 32, latent_channels: int = 64,
                 loss_weights: dict[str, float] | None = None):
        super().__init__()
        latent_size(image_size)  # refuse a missing or unusable image side before building anything
        self.group = group
        self.layout = dict(hidden_channels=hidden_channels, latent_channels=latent_channels,
                           spatial_dims=spatial_dims, image_size=image_size)
        self.in_channels = in_channels
        self.register_buffer("variant", torch.arange(n_code) < n_variant)
        self.loss_weights = dict(loss_weights or self.default_loss_weights())
        self.check_loss_weights()

    def flat_encoder(self, out_features: int, in_channels: int | None = None) -> FlatEncoder:
        return FlatEncoder(in_channels or self.in_channels, out_features=out_features, **self.layout)

    def flat_decoder(self, in_features: int) -> FlatDecoder:
        return FlatDecoder(in_features, out_channels=self.in_channels, **self.layout)

    def variant_channels(self):
        return self.variant.clone()

    def group_numbers(self, g: torch.Tensor, device) -> torch.Tensor:
        """g as float32 numbers a network can read: its rotation matrix, flattened (n, d * d)."""
        return self.group.matrix(g).flatten(1).to(device=device, dtype=torch.float32)


def flat_params_schema(loss_names: tuple[str, ...]) -> dict:
    """JSON schema properties every ``FlatCodeModel`` takes."""
    common = backbone_params_schema(loss_names)
    return {key: common[key] for key in ("hidden_channels", "latent_channels", "loss_weights")}


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor, prior_mu: torch.Tensor | float = 0.0) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(prior_mu, 1)) summed over the code, averaged over the batch."""
    return 0.5 * (logvar.exp() + (mu - prior_mu) ** 2 - 1 - logvar).sum(1).mean()


def gaussian(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A network's output (B, 2n) read as the means and log-variances (clamped to [-10, 10]) of n Gaussians."""
    mu, logvar = out.chunk(2, dim=1)
    return mu, logvar.clamp(-10, 10)


def sample(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """A reparameterised draw from N(mu, exp(logvar))."""
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


def summed_squared_error(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error summed over each item's pixels, averaged over the batch: a VAE's reconstruction
    term (Gaussian log-likelihood up to constants), on the scale of its KL terms."""
    return (prediction - target).pow(2).flatten(1).sum(1).mean()


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with LeakyReLU(0.2) between them."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.LeakyReLU(0.2)] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)
