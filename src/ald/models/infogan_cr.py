"""InfoGAN-CR (Lin, Thekumparampil, Fanti, Oh, ICML 2020; fjxmlzn/InfoGAN-CR, TensorFlow 1), re-implemented
in PyTorch and adapted to (x, g) -> T_g(x) (docs/baselines.md).

The GAN: a generator G(c, n) of uniform codes c (``n_codes``) and uniform noise n; a discriminator whose trunk also carries the InfoGAN Q-head (recover c
from G(c, n)); the contrastive-regulariser (CR) discriminator, which sees two generated images that share
one code and must say which. Added for the task: an inversion encoder E trained on generated images to
recover (c, n) and on real images to reproduce them through the generator, which that term does not train
(the hybrid inversion of In-Domain GAN Inversion, Zhu et al., ECCV 2020: trained on generated images only,
E's codes of real digits regenerated them at 13.5 dB, barely above a blank image; docs/baselines.md),
and a calibration: a linear map from g's rotation matrix to a shift of the regularised codes, fitted by
least squares (as a trained layer) on training pairs, shift = E(T_g x) - E(x). InfoGAN-CR does not say
which code, if any, took the rotation, so the calibration shifts every regularised code by what explains g
(under SO(2), a cos + b sin + c per code); the noise is never shifted.
Prediction: E(x), shift the codes by the calibrated map of g, clip to the codes' range, G.

The players train with one backward pass: the discriminators' losses see the generated images detached,
and the generator's adversarial loss goes through a copy of the discriminator with its parameters
detached (``torch.func.functional_call``), so each player only gets the gradient of its own loss.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.functional import binary_cross_entropy_with_logits as bce, cross_entropy, mse_loss

from ..groups import Group
from .base import register_model
from .backbone import FlatCodeModel, flat_params_schema

COLLAPSE_RATIO = 0.1  # generated images whose spread is under 10 % of the real images' count as collapsed


@register_model
class InfoGANCR(FlatCodeModel):
    kind = "infogan_cr"
    loss_names = ("d_adv", "g_adv", "info", "cr", "enc", "rec", "calib")
    params_schema = {
        **flat_params_schema(loss_names),
        "n_codes": {"type": "integer", "minimum": 1, "description": "regularised codes (the calibration shifts them)"},
        "n_noise": {"type": "integer", "minimum": 0},
        "d_lr_factor": {"type": "number", "exclusiveMinimum": 0},
    }
    selected_by = ("highest", "val_psnr")  # adversarial losses do not say how good predictions are

    @classmethod
    def default_loss_weights(cls):
        # info_coe 0.05 and the final cr_coe 2.0 of the official dSprites config; the encoder and calibration
        # train parameters no other loss touches, so their weight only scales their learning rate.
        return {"d_adv": 1.0, "g_adv": 1.0, "info": 0.05, "cr": 2.0, "enc": 1.0, "rec": 1.0, "calib": 1.0}

    def __init__(self, group: Group, n_codes: int = 5, n_noise: int = 27, d_lr_factor: float = 2.0, **layout):
        super().__init__(group, n_code=n_codes + n_noise, n_variant=n_codes, **layout)
        self.n_codes, self.n_noise, self.d_lr_factor = n_codes, n_noise, d_lr_factor
        self.generator = self.flat_decoder(n_codes + n_noise)
        self.discriminator = self.flat_encoder(1 + n_codes)  # real/fake logit and the Q-head
        self.cr_discriminator = self.flat_encoder(n_codes, in_channels=2 * self.in_channels)
        self.inverter = self.flat_encoder(n_codes + n_noise)
        self.calibration = nn.Linear(group.spatial_dims**2, n_codes)  # g's rotation matrix -> code shift
        self.register_buffer("spread", torch.zeros(2))  # (generated, real) per-pixel std of the last batch

    def optimizer(self, lr):
        """Adam with beta1 0.5 (DCGAN, InfoGAN); the discriminators at ``d_lr_factor`` x lr (official: 0.002 vs 0.001)."""
        critics = [*self.discriminator.parameters(), *self.cr_discriminator.parameters()]
        others = [p for name, p in self.named_parameters() if not name.startswith(("discriminator.", "cr_discriminator."))]
        return torch.optim.Adam([{"params": others, "lr": lr}, {"params": critics, "lr": lr * self.d_lr_factor}],
                                betas=(0.5, 0.999))

    def sample_codes(self, n: int, device) -> torch.Tensor:
        return torch.rand(n, self.n_codes + self.n_noise, device=device) * 2 - 1

    def encode(self, x):
        return torch.tanh(self.inverter(x))

    def decode(self, z):
        return self.generator(z)

    def code_shift(self, g: torch.Tensor, device) -> torch.Tensor:
        return self.calibration(self.group_numbers(g, device))

    def act(self, g, z):
        shift = nn.functional.pad(self.code_shift(g, z.device), (0, self.n_noise))
        return (z + shift).clamp(-1, 1)

    def loss_terms(self, x, tx, g):
        n, device = len(x), x.device
        codes = self.sample_codes(n, device)
        fake = self.generator(codes)
        real = torch.cat([x, tx])[torch.randperm(2 * n, device=device)[:n]]
        d_real, d_fake = self.discriminator(real), self.discriminator(fake.detach())
        g_out = frozen_call(self.discriminator, fake)
        ones, zeros = torch.ones_like(d_real[:, 0]), torch.zeros_like(d_real[:, 0])
        with torch.no_grad():
            self.spread.copy_(torch.stack([fake.std(0).mean(), real.std(0).mean()]))
            shift = self.encode(tx)[:, : self.n_codes] - self.encode(x)[:, : self.n_codes]
        return {
            "d_adv": bce(d_real[:, 0], ones) + bce(d_fake[:, 0], zeros),
            "g_adv": bce(g_out[:, 0], ones),
            # Q-head from the detached images, the generator through the frozen copy: both minimise it.
            "info": (mse_loss(d_fake[:, 1:], codes[:, : self.n_codes]) + mse_loss(g_out[:, 1:], codes[:, : self.n_codes])),
            "cr": self.contrastive_loss(codes, fake),
            "enc": mse_loss(self.encode(fake.detach()), codes),
            "rec": mse_loss(frozen_call(self.generator, self.encode(real)), real),
            "calib": mse_loss(self.code_shift(g, device), shift),
        }

    def contrastive_loss(self, codes: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Two generated images share code k (drawn per item) and nothing else; the CR discriminator names k."""
        n = len(codes)
        shared = torch.randint(0, self.n_codes, (n,), device=codes.device)
        other = self.sample_codes(n, codes.device)
        keep = nn.functional.one_hot(shared, self.n_codes + self.n_noise).bool()
        other = torch.where(keep, codes, other)
        pair = torch.cat([fake, self.generator(other)], dim=1)
        return cross_entropy(self.cr_discriminator(pair), shared)

    def diagnostics(self):
        generated, real = (float(v) for v in self.spread)
        collapsed = int(real > 0 and generated < COLLAPSE_RATIO * real)
        return {**super().diagnostics(), "fake_spread": round(generated, 4), "collapsed": collapsed}


def frozen_call(module: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """``module(inputs)`` with its parameters detached: the gradient reaches ``inputs`` only."""
    return functional_call(module, {name: p.detach() for name, p in module.named_parameters()}, (inputs,))
