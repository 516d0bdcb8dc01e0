"""The latent swap that Figure 4 (rendered pairs) and ``swap`` (its counterpart on the other datasets) draw:
z_v and z_i exchanged between two test inputs and decoded, [z_v1; z_i2] and [z_v2; z_i1]."""

from __future__ import annotations

from pathlib import Path

from .base import Figure
from .drawing import aspect, image_grid, save, show, show_prediction, unit, variant_summary
from .lazy import no_grad, np, torch


def swap_partners(metadata: dict[str, np.ndarray], n_pairs: int) -> list[tuple[int, int]]:
    """Index pairs to swap latents between: items 2r and 2r+1, or, for rendered pairs (which record each
    item's object, view and sky), items that differ in pose and in sky, from as many objects as there are."""
    if "sky" not in metadata:
        return [(2 * r, 2 * r + 1) for r in range(n_pairs)]
    sky, view = metadata["sky"], metadata["view_a"]
    pose = np.stack([metadata["object"], view], 1)
    partners, used = [], set()
    for i in np.argsort(np.arange(len(sky)) % n_pairs, kind="stable"):  # spread over the split's objects
        j = next((j for j in range(len(sky)) if sky[j] != sky[i] and (pose[j] != pose[i]).any() and j not in used), None)
        if i in used or j is None:
            continue
        partners.append((int(i), j))
        used.update((int(i), j))
        if len(partners) == n_pairs:
            return partners
    raise ValueError(f"fewer than {n_pairs} pairs of items differ in both pose and sky in this split "
                     f"({len(set(sky))} sky(s) in it). Fix: supply more skies or raise the source's holdout, so that "
                     "the test split holds at least two")


@no_grad
def latent_swap_figure(panels: dict[str, tuple], paths: list[Path], titles: list[str], heading: str,
                       n_pairs: int = 3, note: str = "") -> None:
    """Exchange z_v and z_i between two inputs and decode: [z_v1; z_i2] and [z_v2; z_i1], per dataset; a column
    per one of ``titles``, ``heading`` above them.

    ``panels``: dataset -> (model, test pairs, partner index pairs (``swap_partners``), a label line).
    """
    rows = []
    for dataset, (model, pairs, partners, label) in panels.items():
        for r, (i, j) in enumerate(partners[:n_pairs]):
            x = pairs.batch(torch.tensor([i, j])).x
            z_v, z_i = model.split(model.encode(x))
            swapped = model.decode(torch.stack([z_v[0] + z_i[1], z_v[1] + z_i[0]]))
            middle = (len(partners[:n_pairs]) - 1) // 2  # the label spans the dataset's rows, thin ones too
            label_line = f"{dataset}\n{variant_summary(model)}{label}" if r == middle else None
            rows.append((label_line, (x[0:1], x[1:2], swapped[0:1], swapped[1:2])))
    fig, axes = image_grid([aspect(unit(images[0])) for _, images in rows], 4, 1.6,
                           top=0.3 + 0.15 * titles[-1].count("\n"))
    for r, (label_line, (x1, x2, swap1, swap2)) in enumerate(rows):
        show(axes[r, 0], unit(x1)), show(axes[r, 1], unit(x2))
        show_prediction(axes[r, 2], swap1, x1), show_prediction(axes[r, 3], swap2, x2)
        if label_line:
            axes[r, 0].set_ylabel(label_line, fontsize=6)
    for c, title in enumerate(titles):
        axes[0, c].set_title(title, fontsize=8)
    fig.suptitle(heading, fontsize=8)
    save(fig, paths, note)


def item_metadata(npz: str, split: str) -> dict[str, np.ndarray]:
    """A split's per-item metadata of rendered pairs (object, view_a, sky), without reading its images;
    empty for other sources."""
    with np.load(npz) as data:
        return {key: data[f"{split}_{key}"] for key in ("object", "view_a", "sky") if f"{split}_{key}" in data.files}


def training_objects(npz: str) -> str:
    """A label line naming how many objects the training split holds (rendered pairs), else nothing."""
    objects = item_metadata(npz, "train").get("object")
    return "" if objects is None else f"\ntrained on {len(np.unique(objects))} objects"


class LatentSwapFigure(Figure):
    """A latent-swap figure: {dataset: the first seed's run folder of the method}, 3 pairs of test inputs each."""

    titles: list[str]  # of its four columns
    heading: str

    def inputs(self, plan) -> dict[str, str]:
        return self.run_folders(plan)

    def draw(self, inputs, test_seed, paths, note=""):
        from ...training import load_run

        panels = {}
        for dataset, run_dir in inputs.items():
            run = load_run(run_dir)
            partners = swap_partners(item_metadata(run.spec.source_npz, "test"), 3)
            panels[dataset] = (run.model, run.pairs("test", test_seed), partners, training_objects(run.spec.source_npz))
        latent_swap_figure(panels, paths, self.titles, self.heading, note=note)
