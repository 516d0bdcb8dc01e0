"""CausalVAE (Yang, Liu, Chen, Shen, Hao, Wang, CVPR 2021; official PyTorch code), adapted to (x, g) -> T_g(x)
(docs/baselines.md: why this CausalVAE and not Fan et al.'s, which the paper's citation names).

Kept: an encoder of exogenous noise eps; a linear structural causal model over k concept blocks,
z = A^T z + eps, i.e. z = (I - A^T)^-1 eps, with a learned adjacency A under the DAG constraint
h(A) = tr(exp(A o A)) - k; the mask layer, each concept's structural equation f_i(A_i o z) + eps_i, fitted to
the causal layer's z, which the decoder reads; the conditional prior p(z_i | u_i) = N(u_i, I) that ties each
concept to its label u_i (with the posterior's variance fixed at 1, as the official code); the label loss
|u - A^T u|^2.

Adapted: the concepts are the pose, the first d - 1 columns of its rotation matrix (cos and sin in 2-D, six
numbers in 3-D), so k = 2 or 6, each a block of ``concept_dims``; unsupervised content dims beside them keep
the digit (a standard VAE code). The pose label of x is the identity and that of T_g(x) is g: a pair's x is
its reference pose (true of the MNIST and volume datasets, whose x are the stored images; not of the airplane
renders). Both images of a pair train the VAE, and each is decoded from its own concepts with the content
of the other image of its pair (the two share everything but the pose), so the pose has to come from the
concepts. The concepts are sampled from the unit-variance posterior that their KL term assumes (the
official code samples them at variance 0.001, which let them carry the image's detail at almost no cost).
Prediction is the intervention do(pose := g . pose(x)): encode x (means), read its pose from the concept
blocks, compose it with g, set every concept block to the new pose's label, decode.
"""

from __future__ import annotations

import torch
from torch import nn

from ..groups import Group
from .base import register_model
from .backbone import FlatCodeModel, flat_params_schema, gaussian, gaussian_kl, mlp, sample, summed_squared_error


def pose_label(matrices: torch.Tensor) -> torch.Tensor:
    """The concept labels of rotation matrices (n, d, d): their first d - 1 columns, flattened."""
    return matrices[:, :, :-1].transpose(1, 2).flatten(1)


def pose_from_label(label: torch.Tensor, d: int) -> torch.Tensor:
    """The rotation matrices nearest labels (n, d (d - 1)), by Gram-Schmidt on the given columns."""
    columns = [label[:, i * d:(i + 1) * d] for i in range(d - 1)]
    first = nn.functional.normalize(columns[0], dim=1, eps=1e-6)
    if d == 2:
        return torch.stack([first, torch.stack([-first[:, 1], first[:, 0]], 1)], 2)
    second = nn.functional.normalize(columns[1] - (first * columns[1]).sum(1, keepdim=True) * first, dim=1, eps=1e-6)
    return torch.stack([first, second, torch.linalg.cross(first, second)], 2)


@register_model
class CausalVAE(FlatCodeModel):
    kind = "causalvae"
    loss_names = ("recon", "kl", "concept", "label", "mask", "dag")
    params_schema = {
        **flat_params_schema(loss_names),
        "concept_dims": {"type": "integer", "minimum": 1},
        "content_dims": {"type": "integer", "minimum": 0},
    }

    def __init__(self, group: Group, concept_dims: int = 4, content_dims: int = 16, **layout):
        d = group.spatial_dims
        self.n_concepts = d * (d - 1)
        super().__init__(group, n_code=self.n_concepts * concept_dims + content_dims,
                         n_variant=self.n_concepts * concept_dims, **layout)
        self.concept_dims, self.content_dims = concept_dims, content_dims
        self.encoder = self.flat_encoder(self.n_variant + 2 * content_dims)  # eps means; content means, log-variances
        self.decoder = self.flat_decoder(len(self.variant))
        self.adjacency = nn.Parameter(torch.zeros(self.n_concepts, self.n_concepts))
        self.structural = nn.ModuleList(mlp([concept_dims, 32, concept_dims]) for _ in range(self.n_concepts))

    @property
    def n_variant(self) -> int:
        return self.n_concepts * self.concept_dims

    def dag(self) -> torch.Tensor:
        """A with a zero diagonal (no concept causes itself)."""
        return self.adjacency * (1 - torch.eye(self.n_concepts, device=self.adjacency.device))

    def causal_layer(self, eps: torch.Tensor) -> torch.Tensor:
        """z = (I - A^T)^-1 eps over concept blocks (B, k, concept_dims)."""
        k = self.n_concepts
        mixing = torch.linalg.inv(torch.eye(k, device=eps.device) - self.dag().T)
        return torch.einsum("ij,bjd->bid", mixing, eps)

    def mask_layer(self, z: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Each concept's structural equation f_i(A_i o z) + eps_i, from its parents' blocks and its own noise."""
        parents = torch.einsum("ji,bjd->bid", self.dag(), z)
        return torch.stack([f(parents[:, i]) for i, f in enumerate(self.structural)], 1) + eps

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The concepts' eps means as blocks (B, k, concept_dims), and the content's means and log-variances."""
        out = self.encoder(x)
        eps = out[:, : self.n_variant].view(len(x), self.n_concepts, self.concept_dims)
        return eps, *gaussian(out[:, self.n_variant :])

    def encode(self, x):
        """The posterior means through the causal and mask layers: what the decoder reads."""
        eps, content, _ = self.posterior(x)
        return torch.cat([self.mask_layer(self.causal_layer(eps), eps).flatten(1), content], 1)

    def decode(self, z):
        return self.decoder(z)

    def act(self, g, z):
        """do(pose := g . pose(x)): every concept block set to the label of the composed pose."""
        concepts = z[:, : self.n_variant].view(len(z), self.n_concepts, self.concept_dims)
        pose = pose_from_label(concepts.mean(2), self.group.spatial_dims)
        new_label = pose_label(self.group.matrix(g).to(device=z.device, dtype=z.dtype) @ pose)
        return torch.cat([new_label.repeat_interleave(self.concept_dims, 1), z[:, self.n_variant :]], 1)

    def loss_terms(self, x, tx, g):
        images = torch.cat([x, tx])
        identity = self.group.identity(len(x)).to(g.device)
        labels = pose_label(self.group.matrix(torch.cat([identity, g])).to(device=x.device, dtype=x.dtype))
        eps_mean, mu, logvar = self.posterior(images)
        eps = eps_mean + torch.randn_like(eps_mean)  # the posterior N(eps_mean, I) (module docstring)
        concepts = self.causal_layer(eps)
        structural = self.mask_layer(concepts, eps)
        label_blocks = labels.repeat_interleave(self.concept_dims, 1)
        k = self.n_concepts
        return {
            # each image from its own concepts and its pair partner's content (roll by len(x) swaps x and T_g(x))
            "recon": summed_squared_error(self.decoder(torch.cat([structural.flatten(1), sample(mu, logvar).roll(len(x), 0)], 1)), images),
            "kl": gaussian_kl(mu, logvar),
            # KL(N(z_mean, I) || N(u, I)): the causal layer is linear, so the concepts' mean is eps's mean mixed
            "concept": gaussian_kl(self.causal_layer(eps_mean).flatten(1), torch.zeros_like(label_blocks), label_blocks),
            "label": nn.functional.mse_loss(labels @ self.dag(), labels),
            "mask": nn.functional.mse_loss(structural, concepts),
            "dag": torch.trace(torch.matrix_exp(self.dag() * self.dag())) - k,
        }
