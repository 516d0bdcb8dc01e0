"""Rotation groups acting on spatial tensors (images and latent feature maps alike).

One abstraction: a group samples elements from a seeded generator, composes and inverts them,
and acts on a tensor of shape (B, C, *spatial) with one element per batch item. An element is
whatever tensor the group needs (``element_shape``): an index for C4, an angle for SO(2), a 3x3
matrix for SO(3); a batch of n elements has shape (n, *element_shape). The same ``act`` is used on
images and on latent feature maps, so conventions cannot drift apart.

Convention: element ``k`` of C4 rotates the last two spatial axes by k quarter turns with
``torch.rot90``; SO(2) angle ``theta`` rotates in the same direction, so
``SO2.act(k * pi / 2, x) == C4.act(k, x)`` up to interpolation (exactly, for square grids).

3-D convention: a 3x3 rotation matrix R acts on voxel coordinates p = (d, h, w), measured in voxels
from the volume centre, by moving the content: ``out(R p) = x(p)``, i.e. ``out(q) = x(R^T q)``. So
``act(a, act(b, x)) == act(a @ b, x)``. O's element k is the signed permutation matrix
``O.matrix(k)`` (also the way to turn O elements into SO3 elements), and
``SO3.act(O.matrix(k), x) == O.act(k, x)`` up to float rounding on cubic grids (with
``align_corners=False`` quarter turns land on voxel centres). ``C4(spatial_dims=3)``'s element 1
(``torch.rot90`` over (H, W)) is R = [[1, 0, 0], [0, 0, -1], [0, 1, 0]], the quarter turn about the
first axis carrying h towards w; it is O's element 5 (``O.FIRST_AXIS_QUARTER_TURN``).

New groups register with ``register_group``; the config accepts every registered name.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
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

    def angle(self, g: torch.Tensor) -> torch.Tensor:
        """The rotation angle of each element in radians, in [0, pi] (float64): how far it turns."""
        raise NotImplementedError

    def matrix(self, g: torch.Tensor) -> torch.Tensor:
        """The rotation matrices (n, d, d) float64 of elements g, d = ``spatial_dims``; ``compose`` is their
        product. For models that take g as numbers rather than as an action (the disentanglement baselines)."""
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

    def angle(self, g):
        return torch.tensor([0.0, math.pi / 2, math.pi, math.pi / 2], dtype=torch.float64)[g.cpu()]

    def matrix(self, g):
        if self.spatial_dims == 3:
            quarter = CUBE_ROTATIONS[O.FIRST_AXIS_QUARTER_TURN]
            return torch.stack([torch.linalg.matrix_power(quarter, int(k)) for k in g.cpu()])
        return planar_matrix(g.cpu().to(torch.float64) * (math.pi / 2))

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

    def angle(self, g):
        theta = torch.remainder(g.to(torch.float64).cpu(), 2 * math.pi)
        return torch.minimum(theta, 2 * math.pi - theta)

    def matrix(self, g):
        return planar_matrix(g.cpu().to(torch.float64))

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
        return resample(x, matrix, fill)


def resample(x: torch.Tensor, matrix: torch.Tensor, fill: float) -> torch.Tensor:
    """``x`` sampled bilinearly at ``matrix`` applied to each output position (``F.affine_grid``'s convention),
    ``fill`` where that falls outside."""
    grid = F.affine_grid(matrix, list(x.shape), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill


def planar_matrix(theta: torch.Tensor) -> torch.Tensor:
    """2x2 rotation matrices (n, 2, 2) of angles theta (radians)."""
    cos, sin = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)


def cube_rotations() -> torch.Tensor:
    """The 24 signed permutation matrices with det +1, (24, 3, 3) float64, identity first, fixed order."""
    matrices = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3))
            m[range(3), perm] = signs
            if np.linalg.det(m) > 0:
                matrices.append(m)
    return torch.tensor(np.stack(matrices))


def matrix_indices(matrices: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """For each matrix (..., 3, 3), the index of the equal matrix in ``table`` (24, 3, 3)."""
    equal = (matrices.unsqueeze(-3) - table).abs().amax((-2, -1)) < 1e-6
    if not bool(equal.any(-1).all()):
        raise ValueError("matrix is not one of the 24 rotations of the cube")
    return equal.to(torch.int64).argmax(-1)


CUBE_ROTATIONS = cube_rotations()
CUBE_CAYLEY = matrix_indices(CUBE_ROTATIONS.unsqueeze(1) @ CUBE_ROTATIONS.unsqueeze(0), CUBE_ROTATIONS)  # [a, b] = a.b
CUBE_INVERSE = (CUBE_CAYLEY == 0).to(torch.int64).argmax(1)


def check_cubic(group: Group, x: torch.Tensor) -> None:
    group.check_spatial(x)
    if len(set(x.shape[2:])) != 1:
        raise ValueError(
            f"group {group.name} needs a cubic grid (D == H == W) but got shape {tuple(x.shape)}; "
            "resample or pad the volumes to a cube first (e.g. F.interpolate(x, size=(n, n, n)))"
        )


@dataclass(frozen=True)
class O(Group):
    """The 24 rotations of the cube (the octahedral rotation group), the 3-D analogue of C4.

    Element = index 0..23 into ``CUBE_ROTATIONS`` (0 is the identity); acts by exact voxel permutation.
    """

    name: str = "O"
    exact: bool = True
    spatial_dims: int = 3
    FIRST_AXIS_QUARTER_TURN: ClassVar[int] = 5  # C4(spatial_dims=3)'s element 1; checked by the tests

    def sample(self, n, generator):
        return torch.randint(0, 24, (n,), generator=generator)

    def identity(self, n):
        return torch.zeros(n, dtype=torch.long)

    def compose(self, a, b):
        return CUBE_CAYLEY[a.cpu(), b.cpu()].to(a.device)

    def inverse(self, a):
        return CUBE_INVERSE[a.cpu()].to(a.device)

    def angle(self, g):
        return matrix_angle(self.matrix(g))

    @staticmethod
    def matrix(k: torch.Tensor) -> torch.Tensor:
        """The rotation matrices (n, 3, 3) float64 of elements k: the same rotations as SO3 elements."""
        return CUBE_ROTATIONS[torch.as_tensor(k).cpu()]

    @staticmethod
    def index(matrix: torch.Tensor) -> torch.Tensor:
        """The elements of the cube rotations given as matrices (n, 3, 3); others are refused."""
        return matrix_indices(matrix.detach().cpu().to(torch.float64), CUBE_ROTATIONS)

    def act(self, g, x, fill=0.0):
        check_cubic(self, x)
        g = g.to(x.device)
        out = torch.empty_like(x)
        for k in torch.unique(g).tolist():  # one permutation per distinct element, at most 24
            idx = (g == k).nonzero(as_tuple=True)[0]
            out[idx] = permute_voxels(x[idx], CUBE_ROTATIONS[k])
        return out


def permute_voxels(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """``out(q) = x(R^T q)`` for a signed permutation R: output axis j reads input axis src[j],
    mirrored (negated about the centre) where R[j, src[j]] is -1."""
    src = matrix.abs().argmax(1).tolist()
    mirrored = [2 + j for j in range(3) if matrix[j, src[j]] < 0]
    return x.permute(0, 1, *(2 + i for i in src)).flip(mirrored)


@dataclass(frozen=True)
class SO3(Group):
    """Continuous 3-D rotations, Haar-uniform 3x3 matrices (float64), applied with trilinear resampling."""

    name: str = "SO3"
    exact: bool = False
    spatial_dims: int = 3
    element_shape: tuple[int, ...] = (3, 3)

    def sample(self, n, generator):
        from scipy.spatial.transform import Rotation  # here: every job imports groups, few draw SO(3)

        # scipy draws the rotations from a seed taken off the torch stream, so the generator fixes them.
        seed = int(torch.randint(0, 2**32, (1,), generator=generator))
        return torch.from_numpy(Rotation.random(n, random_state=seed).as_matrix())

    def identity(self, n):
        return torch.eye(3, dtype=torch.float64).repeat(n, 1, 1)

    def compose(self, a, b):
        return a @ b

    def inverse(self, a):
        return a.transpose(-2, -1)

    def angle(self, g):
        return matrix_angle(g.to(torch.float64).cpu())

    def matrix(self, g):
        return g.cpu().to(torch.float64)

    def act(self, g, x, fill=0.0):
        self.check_spatial(x)
        theta = sampling_matrix(g.to(device=x.device, dtype=torch.float64), x.shape[2:]).to(x.dtype)
        return resample(x, theta, fill)


def matrix_angle(rotation: torch.Tensor) -> torch.Tensor:
    """The angle of 3x3 rotation matrices, from their trace: 1 + 2 cos(angle)."""
    trace = rotation.diagonal(dim1=-2, dim2=-1).sum(-1)
    return torch.arccos(((trace - 1) / 2).clamp(-1.0, 1.0))


def sampling_matrix(rotation: torch.Tensor, spatial: tuple[int, ...]) -> torch.Tensor:
    """affine_grid's (n, 3, 4) theta for ``out(q) = x(R^T q)`` in voxel coordinates (d, h, w).

    affine_grid maps output to input positions in normalised coordinates ordered (x=W, y=H, z=D),
    voxel offset / (size / 2) with align_corners=False: rescale per axis (keeps non-cubic grids
    undistorted), then reverse the axis order.
    """
    half = torch.tensor([s / 2 for s in spatial], dtype=rotation.dtype, device=rotation.device)
    in_dhw = rotation.transpose(-2, -1) * half[None, :] / half[:, None]  # diag(1/half) R^T diag(half)
    in_whd = in_dhw.flip(-2, -1)
    return F.pad(in_whd, (0, 1))  # no translation: rotation about the volume centre


GROUPS = Registry("group")


def register_group(group: Group) -> Group:
    """Make ``group`` available by its name to the config, the data and the models."""
    return GROUPS.add(group.name, group)


get_group = GROUPS.lookup


register_group(C4())
register_group(SO2())
register_group(O())
register_group(SO3())
