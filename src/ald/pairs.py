"""Datasets as (x, T_g(x), g, label) pairs: a prepared source, a group and a pair recipe.

T_g(x) is the group acting on x, or, for sources that hold rendered pairs, the source's own image.
A *pair recipe* then adds what the group does not move, identically to x and T_g(x): nothing
(``none``), a white block (``occluder``, Rotated+Blocked MNIST) or a background behind the content
(``background``). Everything random is drawn batch-wise from a seeded plan, so training pairs are
fresh every epoch and test pairs are the same in every run. Any channel count, 2 or 3 spatial dims.

Register a new recipe with ``register_recipe``; the config names it as ``recipe: {kind: ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from .groups import Group
from .registry import Registry
from .sources import load_split

FILL = -1.0  # the model-range value of black: what rotates in from outside the grid


class Pair(NamedTuple):
    x: torch.Tensor
    tx: torch.Tensor
    g: torch.Tensor
    label: torch.Tensor


class PairRecipe:
    """What a dataset adds to both images of a pair beyond the group action."""

    kind: ClassVar[str]
    params_schema: ClassVar[dict] = {}  # JSON schema properties of the recipe's config entry

    def draw(self, n: int, spatial: tuple[int, ...], generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Per-item random choices (one row per item), drawn once per plan."""
        return {}

    def apply(self, x: torch.Tensor, draws: dict[str, torch.Tensor]) -> torch.Tensor:
        """Decorate a batch (x or T_g(x)) with its items' draws."""
        return x


@dataclass(frozen=True)
class NoRecipe(PairRecipe):
    kind: ClassVar[str] = "none"


@dataclass(frozen=True)
class Occluder(PairRecipe):
    """A white cube of side ``size`` at the same random place in x and T_g(x) (Rotated+Blocked MNIST)."""

    kind: ClassVar[str] = "occluder"
    params_schema: ClassVar[dict] = {"size": {"type": "integer", "minimum": 1, "default": 7}}
    size: int

    def draw(self, n, spatial, generator):
        corners = [torch.randint(0, s - self.size + 1, (n,), generator=generator) for s in spatial]
        return {"corner": torch.stack(corners, 1)}

    def apply(self, x, draws):
        inside = torch.ones(len(x), *x.shape[2:], dtype=torch.bool, device=x.device)
        for axis, size in enumerate(x.shape[2:]):
            coords = torch.arange(size, device=x.device)
            start = draws["corner"][:, axis].to(x.device)
            along = (coords[None] >= start[:, None]) & (coords[None] < start[:, None] + self.size)
            inside &= along.view(len(x), *[size if a == axis else 1 for a in range(x.dim() - 2)])
        return torch.where(inside.unsqueeze(1), torch.ones_like(x), x)


@dataclass(frozen=True)
class Background(PairRecipe):
    """A smooth random background (a linear ramp, darker than the content) behind x and T_g(x).

    Content is composited over it by its own brightness, so dark cells show the background.
    """

    kind: ClassVar[str] = "background"
    params_schema: ClassVar[dict] = {
        "low": {"type": "number", "minimum": -1, "maximum": 1, "default": -1.0},
        "high": {"type": "number", "minimum": -1, "maximum": 1, "default": 0.0},
    }
    low: float
    high: float

    def draw(self, n, spatial, generator):
        direction = torch.randn(n, len(spatial), generator=generator)
        ends = torch.rand(n, 2, generator=generator) * (self.high - self.low) + self.low
        return {"direction": direction / direction.norm(dim=1, keepdim=True), "ends": ends}

    def apply(self, x, draws):
        spatial = x.shape[2:]
        axes = torch.meshgrid(*[torch.linspace(-0.5, 0.5, s, device=x.device) for s in spatial], indexing="ij")
        position = torch.stack(axes, 0)  # (dims, *spatial)
        along = torch.einsum("nd,d...->n...", draws["direction"].to(x.device, x.dtype), position) + 0.5
        lo, hi = draws["ends"][:, 0].to(x.device, x.dtype), draws["ends"][:, 1].to(x.device, x.dtype)
        ramp = lo.view(-1, *[1] * len(spatial)) + along * (hi - lo).view(-1, *[1] * len(spatial))
        opacity = (x + 1) / 2
        return opacity * x + (1 - opacity) * ramp.unsqueeze(1)


RECIPES = Registry("pair recipe")


def register_recipe(recipe: type[PairRecipe]) -> type[PairRecipe]:
    return RECIPES.add(recipe.kind, recipe)


for _recipe in (NoRecipe, Occluder, Background):
    register_recipe(_recipe)


def build_recipe(entry: dict) -> PairRecipe:
    """A recipe from its config entry ``{kind: occluder, size: 7}`` (defaults already filled in)."""
    params = dict(entry)
    return RECIPES.lookup(params.pop("kind"))(**params)


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] or float [0, 1] to float32 [-1, 1] (black is -1)."""
    if images.dtype == torch.uint8:
        return images.to(torch.float32) / 127.5 - 1.0
    return images.to(torch.float32) * 2.0 - 1.0


@dataclass
class PairSet:
    """Images of one split with a fixed plan: a group element and the recipe's draws per item.

    ``batch(idx)`` returns a ``Pair`` in [-1, 1]; ``targets`` holds T_g(x) for sources that render it.
    """

    images: torch.Tensor  # (N, C, *spatial), uint8 or float in [0, 1]
    labels: torch.Tensor
    group: Group
    recipe: PairRecipe
    g: torch.Tensor
    draws: dict[str, torch.Tensor] = field(default_factory=dict)
    targets: torch.Tensor | None = None

    @classmethod
    def plan(cls, arrays: dict[str, np.ndarray], group: Group, recipe: PairRecipe,
             generator: torch.Generator) -> "PairSet":
        images = as_tensor(arrays["x"])
        n, spatial = len(images), tuple(images.shape[2:])
        if "tx" in arrays:  # rendered pairs: the source fixes g and T_g(x)
            g, targets = as_tensor(arrays["g"]), as_tensor(arrays["tx"])
            if tuple(g.shape[1:]) != tuple(group.element_shape):
                raise ValueError(f"the source's g has elements of shape {tuple(g.shape[1:])} but group {group.name} "
                                 f"takes {tuple(group.element_shape)}. Fix: pair the dataset with the group it was "
                                 "rendered under")
        else:
            g, targets = group.sample(n, generator), None
        draws = recipe.draw(n, spatial, generator)
        # Elements and draws come from the CPU generator (the same on every device), then join the images.
        return cls(images, as_tensor(arrays["y"]), group, recipe, g, draws, targets).to(images.device)

    def __len__(self) -> int:
        return len(self.images)

    def to(self, device: torch.device | str) -> "PairSet":
        """The pair set with every tensor on ``device``: a batch is then made there, with no copy from the host."""
        move = lambda t: None if t is None else t.to(device)
        return PairSet(move(self.images), move(self.labels), self.group, self.recipe, move(self.g),
                       {name: move(value) for name, value in self.draws.items()}, move(self.targets))

    def batch(self, idx: torch.Tensor, device: torch.device | str = "cpu") -> Pair:
        idx = idx.to(self.images.device)
        x = to_model_range(self.images[idx].to(device))
        g = self.g[idx]
        if self.targets is None:
            tx = self.group.act(g, x, fill=FILL)
        else:
            tx = to_model_range(self.targets[idx].to(device))
        draws = self.draws_of(idx)
        return Pair(self.recipe.apply(x, draws), self.recipe.apply(tx, draws), g, self.labels[idx])

    def draws_of(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """The pair recipe's per-item choices (e.g. the occluder's corner) of items ``idx``."""
        return {name: value[idx] for name, value in self.draws.items()}


def as_tensor(array) -> torch.Tensor:
    """An array or tensor (on any device) as a tensor, without a copy where none is needed."""
    return array if isinstance(array, torch.Tensor) else torch.as_tensor(np.asarray(array))


def seeded_generator(*parts: int) -> torch.Generator:
    """A torch generator whose seed mixes several integers (seed, epoch, purpose) reproducibly."""
    seed = int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])
    return torch.Generator().manual_seed(seed)


PURPOSE = {"train": 1, "val": 2, "test": 3}


def pair_set(source_npz: Path, split: str, group: Group, recipe: PairRecipe, seed: int, epoch: int = 0,
             max_items: int | None = None) -> PairSet:
    """Pairs for ``split``: training plans depend on (seed, epoch); val/test on ``seed`` alone."""
    arrays = load_split(source_npz, split)
    if max_items:
        arrays = {key: value[:max_items] for key, value in arrays.items()}
    return PairSet.plan(arrays, group, recipe, seeded_generator(seed, PURPOSE[split], epoch))
