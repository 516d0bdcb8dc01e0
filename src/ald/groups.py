"""Rotation groups acting on spatial tensors (images and latent feature maps alike).

One abstraction: a group samples elements from a seeded generator, composes and inverts them,
and acts on a tensor of shape (B, C, *spatial) with one element per batch item. An element is
whatever tensor the group needs (``element_shape``): an index for C4, an angle for SO(2), a 3x3
matrix for SO(3); a batch of n elements has shape (n, *element_shape). The same ``act`` is used on
images and on latent feature maps, so conventions cannot drift apart.

Convention: element ``k`` of C4 rotates the last two spatial axes by k quarter turns with
``torch.rot90``; SO(2) angle ``theta`` rotates in the same direction, so
``SO2.act(k * pi / 2, x) == C4.act(k, x)`` up to interpolation (exactly, for square grids).

New groups register with ``register_group``; the config accepts every registered name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .registry import Registry


class Group:
    """Interface every group implements."""

    name: str
    exact: bool  # True when the action permutes grid cells (no interpolation)
    spatial_dims: int  # 2 for images, 3 for volumes
    element_shape: tuple[int, ...] = ()

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def identity(self, n: int) -> torch.Tensor:
        raise NotImplementedError

    def compose(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The element ``a . b`` (apply b first, then a)."""
        raise NotImplementedError

    def inverse(self, a: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def act(self, g: torch.Tensor, x: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
        """Apply element g[i] to x[i]; ``fill`` is the value for cells rotated in from outside."""
        raise NotImplementedError

    def check_spatial(self, x: torch.Tensor) -> int:
        """The number of spatial dims of ``x`` (B, C, *spatial), refused if the group cannot act on it."""
        dims = x.dim() - 2
        if dims != self.spatial_dims:
            raise ValueError(
                f"group {self.name} acts on {self.spatial_dims}-D tensors (B, C, *spatial) but got shape "
                f"{tuple(x.shape)} ({dims} spatial dims); pick a group for {dims}-D data"
            )
        return dims


@dataclass(frozen=True)
class C4(Group):
    """Quarter-turn rotations of the last two spatial axes, as the authors' released code trains.

    With ``spatial_dims=3`` it turns a volume about its first spatial axis.
    """

    name: str = "C4"
    exact: bool = True
    spatial_dims: int = 2

    def sample(self, n, generator):
        # The authors draw theta ~ U[0, 360) and snap it to a multiple of 90 degrees: uniform on {0..3}.
        return torch.randint(0, 4, (n,), generator=generator)

    def identity(self, n):
        return torch.zeros(n, dtype=torch.long)

    def compose(self, a, b):
        return (a + b) % 4

    def inverse(self, a):
        return (-a) % 4

    def act(self, g, x, fill=0.0):
        self.check_spatial(x)
        plane = (x.dim() - 2, x.dim() - 1)
        # One rot90 per distinct k over the whole sub-batch (at most four calls), not one per item.
        g = g.to(x.device)
        out = torch.empty_like(x)
        for k in range(4):
            idx = (g == k).nonzero(as_tuple=True)[0]
            if idx.numel():
                out[idx] = torch.rot90(x[idx], k, dims=plane)
        return out


@dataclass(frozen=True)
class SO2(Group):
    """Continuous planar rotations, theta ~ U[0, 2 pi), applied with bilinear resampling."""

    name: str = "SO2"
    exact: bool = False
    spatial_dims: int = 2

    def sample(self, n, generator):
        return torch.rand(n, generator=generator, dtype=torch.float64) * (2 * math.pi)

    def identity(self, n):
        return torch.zeros(n, dtype=torch.float64)

    def compose(self, a, b):
        return torch.remainder(a + b, 2 * math.pi)

    def inverse(self, a):
        return torch.remainder(-a, 2 * math.pi)

    def act(self, g, x, fill=0.0):
        self.check_spatial(x)
        theta = g.to(device=x.device, dtype=torch.float64)
        cos, sin = torch.cos(theta), torch.sin(theta)
        # affine_grid maps output coords (x=col, y=row) to input coords. Sampling the input at
        # R(theta) applied to the output position rotates content like rot90 does (rows up).
        zero = torch.zeros_like(cos)
        matrix = torch.stack(
            [torch.stack([cos, -sin, zero], -1), torch.stack([sin, cos, zero], -1)], -2
        ).to(x.dtype)
        grid = F.affine_grid(matrix, list(x.shape), align_corners=False)
        shifted = x - fill
        rotated = F.grid_sample(
            shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )
        return rotated + fill


GROUPS = Registry("group")


def register_group(group: Group) -> Group:
    """Make ``group`` available by its name to the config, the data and the models."""
    return GROUPS.add(group.name, group)


get_group = GROUPS.lookup


register_group(C4())
register_group(SO2())
