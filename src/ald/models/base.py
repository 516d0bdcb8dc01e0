"""The model interface shared by ALD, its ablations and the baselines, and the model registry.

Generic code (training, evaluation, probes, figures) only uses this interface:
``encode``, ``decode``, ``act``, ``predict`` (T_g(x) from x and g), ``split`` and
``variant_channels`` (the parts of a latent the group acts on and the parts it leaves alone),
``loss_names`` / ``loss_terms`` (named, unweighted losses; ``loss_weights`` says how they add up) and
``diagnostics`` (numbers the model wants in its history, log and records), ``optimizer`` (how its
parameters are trained: one Adam by default; a GAN's players get their own learning rates) and
``selection_score`` (which validation number picks the best checkpoint: the validation loss by default).

Add a model: subclass ``GroupActionModel`` in its own file, set ``kind``, ``loss_names`` and
``params_schema`` (JSON schema of its config parameters), give it a constructor
``(group, in_channels, spatial_dims, image_size, **params)`` (``build_model`` passes the data layout to
every model; use what you need), and decorate it with ``register_model``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from ..groups import Group
from ..registry import Registry


class GroupActionModel(nn.Module):
    """What every model of the reproduction provides."""

    kind: ClassVar[str]
    loss_names: ClassVar[tuple[str, ...]]
    params_schema: ClassVar[dict] = {}  # JSON schema properties of the model's config parameters
    group: Group
    loss_weights: dict[str, float]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def variant_channels(self) -> torch.Tensor:
        """Boolean mask over latent channels: True where the group acts (z_v), False where it does not (z_i).

        Models without a learned partition say what theirs is: a fixed split, or every channel.
        """
        raise NotImplementedError

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z_v, z_i): z with the invariant channels zeroed, and with the variant ones zeroed."""
        m = self.variant_channels().to(device=z.device, dtype=z.dtype).view(1, -1, *([1] * (z.dim() - 2)))
        return m * z, (1 - m) * z

    def act(self, g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        z_v, z_i = self.split(z)
        return z_i + self.group.act(g, z_v)

    def predict(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.decode(self.act(g, self.encode(x)))

    def loss_terms(self, x: torch.Tensor, tx: torch.Tensor, g: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def step_terms(self, x: torch.Tensor, tx: torch.Tensor, g: torch.Tensor,
                   with_prediction: bool = False) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """The loss terms of a batch and, when asked, the prediction of T_g(x) (else None): what the validation
        pass scores its PSNR on. Models whose losses decode that prediction anyway return it from the same pass,
        asked or not."""
        return self.loss_terms(x, tx, g), (self.predict(x, g) if with_prediction else None)

    def total_loss(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        return sum(self.loss_weights.get(name, 0.0) * value for name, value in terms.items())

    def optimizer(self, lr: float) -> torch.optim.Optimizer:
        """The optimiser training uses (``training.lr``): Adam over every parameter."""
        return torch.optim.Adam(self.parameters(), lr=lr)

    selected_by: ClassVar[tuple[str, str]] = ("lowest", "val_total")  # the history column that picks the kept checkpoint

    def selection_score(self, row: dict) -> float:
        """Lower is better: an epoch's history row scored by ``selected_by``."""
        direction, column = self.selected_by
        return row[column] if direction == "lowest" else -row[column]

    def diagnostics(self) -> dict[str, float | int]:
        """Numbers for the per-epoch history and log line and for probe and metrics records."""
        variant = self.variant_channels()
        return {"n_variant": int(variant.sum()), "n_channels": int(variant.numel())}

    @classmethod
    def default_loss_weights(cls) -> dict[str, float]:
        """Every loss term at weight 1, unless the config says otherwise."""
        return {name: 1.0 for name in cls.loss_names}

    def check_loss_weights(self) -> None:
        unknown = set(self.loss_weights) - set(self.loss_names)
        if unknown:
            raise ValueError(f"unknown loss terms {sorted(unknown)} for model {self.kind}; known: {self.loss_names}")


def split_action_losses(model: GroupActionModel, x, tx, g, one_pass: bool = False):
    """The losses of models that act on a variant part z_v and leave an invariant part z_i (ALD, GALR), and
    the prediction D(z_i + g.z_v) of T_g(x) they decode:

    recon = |D(z_i + g.z_v) - T_g(x)|^2, inv = |z_i(x) - sg[z_i(T_g x)]|^2, const = |g.z_v(x) - sg[z_v(T_g x)]|^2,
    the targets being the same model run on T_g(x) with no gradient, as the authors' code does.
    ``one_pass`` encodes [x; T_g(x)] in one call and detaches the second half: the same step, with fewer,
    larger kernels but a backward pass over both halves (slower on a CPU; docs/speed.md).
    Only the target's encoding is stopped, as in the paper's Algorithm 1 (lines 5 and 8): a learned split
    gets gradients through the target's split too, unless the model's ``mask_grad_from_target`` is off.
    """
    if one_pass:
        z, z_target = model.encode(torch.cat([x, tx])).split(len(x))
        z_target = z_target.detach()
    else:
        z = model.encode(x)
        with torch.no_grad():
            z_target = model.encode(tx)
    z_v, z_i = model.split(z)
    with torch.set_grad_enabled(torch.is_grad_enabled() and model.mask_grad_from_target):
        target_v, target_i = model.split(z_target)
    z_v_g = model.group.act(g, z_v)
    prediction = model.decode(z_i + z_v_g)
    mse = nn.functional.mse_loss
    return {"recon": mse(prediction, tx), "inv": mse(z_i, target_i), "const": mse(z_v_g, target_v)}, prediction


class SplitActionLosses:
    """``split_action_losses`` as a model's loss terms; its validation prediction comes from the same pass."""

    mask_grad_from_target = True

    def loss_terms(self, x, tx, g):
        return split_action_losses(self, x, tx, g)[0]

    def step_terms(self, x, tx, g, with_prediction=False):
        return split_action_losses(self, x, tx, g)


MODELS = Registry("model kind")


def register_model(cls: type[GroupActionModel]) -> type[GroupActionModel]:
    return MODELS.add(cls.kind, cls)


def build_model(spec: dict, group: Group, in_channels: int, spatial_dims: int,
                image_size: int | None = None) -> GroupActionModel:
    """A model from its config entry ``{kind: ald, ...}``: every other key is a constructor argument.

    ``in_channels``, ``spatial_dims`` and ``image_size`` (the side of the square images or cubic volumes,
    which models with a flat code need) come from the dataset; a group that cannot act on data of that
    many spatial dims, nor on a feature volume lifted from it (2-D under a 3-D group), is refused.
    """
    params = dict(spec)
    cls = MODELS.lookup(params.pop("kind"))
    return cls(group, in_channels=in_channels, spatial_dims=spatial_dims, image_size=image_size, **params)
