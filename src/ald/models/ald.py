"""ALD (Adaptive Latent Disentanglement), as the authors' released code builds it."""

from __future__ import annotations

import torch
from torch import nn

from ..groups import Group
from .base import SplitActionLosses, register_model
from .backbone import ConvGroupActionModel, backbone_params_schema, rms_normalise


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


@register_model
class ALD(SplitActionLosses, ConvGroupActionModel):
    """A learned per-channel mask splits the latent; the group acts on the variant part only.

    ``latent_rms_norm``: our stabiliser for continuous groups (``backbone.rms_normalise``).
    ``mask_grad_from_target``: whether the mask logits also get gradients through the split of the
    stop-gradient target (the paper's Algorithm 1, line 8; the default); false runs the whole target
    branch, mask included, under no-grad.
    """

    kind = "ald"
    loss_names = ("recon", "inv", "const")
    params_schema = {
        **backbone_params_schema(loss_names),
        "tau": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "latent_rms_norm": {"type": "boolean"},
        "mask_grad_from_target": {"type": "boolean"},
    }

    def __init__(self, group: Group, tau: float = 0.5, latent_rms_norm: bool = False,
                 mask_grad_from_target: bool = True, **backbone):
        super().__init__(group, **backbone)  # encoder and decoder first: the authors' initialisation order
        self.tau = tau
        self.latent_rms_norm = latent_rms_norm
        self.mask_grad_from_target = mask_grad_from_target
        self.mask_logits = nn.Parameter(torch.randn(self.latent_channels) * 0.1)

    def mask(self) -> torch.Tensor:
        """Per-channel 0/1 mask (1 = variant), shaped to broadcast over batch and space."""
        m = StraightThroughMask.apply(self.mask_logits, self.tau)
        return m.view(1, -1, *([1] * self.latent_dims))

    def variant_channels(self):
        return torch.sigmoid(self.mask_logits.detach()) > self.tau

    def encode(self, x):
        z = super().encode(x)
        return rms_normalise(z) if self.latent_rms_norm else z

    def split(self, z):
        m = self.mask()  # straight-through: the mask logits get gradients from every loss
        return m * z, (1 - m) * z
