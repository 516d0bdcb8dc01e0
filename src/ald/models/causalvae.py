"""CausalVAE (Yang, Liu, Chen, Shen, Hao, Wang, CVPR 2021; official PyTorch code), adapted to (x, g) -> T_g(x)
(docs/baselines.md: why this CausalVAE and not Fan et al.'s, which the paper's citation names).

Kept: an encoder of exogenous noise eps; a linear structural causal model over k concept blocks,
z = A^T z + eps, i.e. z = (I - A^T)^-1 eps, with a learned adjacency A under the DAG constraint
h(A) = tr(exp(A o A)) - k; the mask layer, each concept's structural equation z_i = f_i(A_i o z) + eps_i,
fitted to the causal layer's z; the conditional prior p(z_i | u_i) = N(u_i, I) that ties each concept to
its label u_i; the label loss |u - A^T u|^2. Adapted: the concepts are the pose, the first d - 1 columns of
its rotation matrix (cos and sin in 2-D, six numbers in 3-D), so k = 2 or 6, each a block of
``concept_dims``; unsupervised content dims beside them keep the digit (standard normal prior). The pose
label of x is the identity and that of T_g(x) is g: a pair's x is its reference pose (true of the MNIST
and volume datasets, whose x are the stored images; not of the airplane renders). Both images of a pair
train the VAE, and each is decoded from its own concepts with the content of the other image of its pair
(the two share everything but the pose): without that swap nothing kept the pose out of the content, and
an intervention on the concepts barely changed the decoded image (docs/baselines.md). Prediction is the intervention do(pose := g . pose(x)): encode x (means), read its pose
from the concept blocks, compose it with g, set every concept block to the new pose's label, decode.
"""

from __future__ import annotations

import torch
from torch import nn

from ..groups import Group
from . import register_model
from .backbone import FlatCodeModel, flat_params_schema, gaussian_kl, mlp, sample, summed_squared_error


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
        self.encoder = self.flat_encoder(2 * len(self.variant))  # means and log-variances of eps
        self.decoder = self.flat_decoder(len(self.variant))
        self.adjacency = nn.Parameter(torch.zeros(self.n_concepts, self.n_concepts))
        self.structural = nn.ModuleList(mlp([concept_dims, 32, concept_dims]) for _ in range(self.n_concepts))

    def dag(self) -> torch.Tensor:
        """A with a zero diagonal (no concept causes itself)."""
        return self.adjacency * (1 - torch.eye(self.n_concepts, device=self.adjacency.device))

    def causal_layer(self, eps: torch.Tensor) -> torch.Tensor:
        """z = (I - A^T)^-1 eps over concept blocks (B, k, concept_dims)."""
        k = self.n_concepts
        mixing = torch.linalg.inv(torch.eye(k, device=eps.device) - self.dag().T)
        return torch.einsum("ij,bjd->bid", mixing, eps)

    def mask_layer(self, z: torch.Tensor) -> torch.Tensor:
        """Each concept's structural equation f_i(A_i o z), from its parents' blocks."""
        parents = torch.einsum("ji,bjd->bid", self.dag(), z)
        return torch.stack([f(parents[:, i]) for i, f in enumerate(self.structural)], 1)

    def posterior(self, x: torch.Tensor):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-10, 10)

    def latent(self, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(concept blocks z (B, k, concept_dims) of the causal layer, content (B, content_dims))."""
        n_variant = int(self.variant.sum())
        concepts = eps[:, :n_variant].view(len(eps), self.n_concepts, self.concept_dims)
        return self.causal_layer(concepts), eps[:, n_variant:]

    def encode(self, x):
        """The posterior means through the causal and mask layers: what the decoder reads."""
        concepts, content = self.latent(self.posterior(x)[0])
        return torch.cat([self.mask_layer(concepts).flatten(1), content], 1)

    def decode(self, z):
        return self.decoder(z)

    def act(self, g, z):
        """do(pose := g . pose(x)): every concept block set to the label of the composed pose."""
        n_variant, d = int(self.variant.sum()), self.group.spatial_dims
        concepts = z[:, :n_variant].view(len(z), self.n_concepts, self.concept_dims)
        pose = pose_from_label(concepts.mean(2), d)
        new_label = pose_label(self.group.matrix(g).to(device=z.device, dtype=z.dtype) @ pose)
        return torch.cat([new_label.repeat_interleave(self.concept_dims, 1), z[:, n_variant:]], 1)

    def loss_terms(self, x, tx, g):
        images = torch.cat([x, tx])
        identity = self.group.identity(len(x)).to(g.device)
        labels = pose_label(self.group.matrix(torch.cat([identity, g])).to(device=x.device, dtype=x.dtype))
        mu, logvar = self.posterior(images)
        eps = sample(mu, logvar)
        concepts, content = self.latent(eps)
        n_variant = int(self.variant.sum())
        # The causal layer is linear: the concepts' posterior mean is mixed like eps, its variance kept (as the official code).
        concept_mean = self.latent(mu)[0].flatten(1)
        label_blocks = labels.repeat_interleave(self.concept_dims, 1)
        structural = self.mask_layer(concepts)
        k = self.n_concepts
        return {
            "recon": summed_squared_error(self.decoder(torch.cat([structural.flatten(1), content.roll(len(x), 0)], 1)), images),
            "kl": gaussian_kl(mu[:, n_variant:], logvar[:, n_variant:]),
            "concept": gaussian_kl(concept_mean, logvar[:, :n_variant], label_blocks),
            "label": nn.functional.mse_loss(labels @ self.dag(), labels),
            "mask": nn.functional.mse_loss(structural, concepts),
            "dag": torch.trace(torch.matrix_exp(self.dag() * self.dag())) - k,
        }
