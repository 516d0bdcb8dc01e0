"""The render grid: rendered samples of each object of ``figures.swap_datasets`` (every split) under the shared
SO(3) rotations, from the prepared arrays."""

from __future__ import annotations

from pathlib import Path

from .base import Figure, register_figure
from .drawing import save
from .lazy import np, plt


def render_grid_figure(inputs: dict[str, str], paths: list[Path], n_views: int = 8, note: str = "") -> None:
    """Rendered samples: per dataset, one row per object (every split), its first ``n_views`` views by rotation
    index, each over the sky crop of the pair it was drawn in."""
    rows = []
    for dataset, npz in inputs.items():
        with np.load(npz) as data:
            ids, skipped = data["object_ids"], data["skipped_ids"]
            for split in ("train", "val", "test"):
                x, objects, views = data[f"{split}_x"], data[f"{split}_object"], data[f"{split}_view_a"]
                for o in np.unique(objects):
                    items = np.flatnonzero(objects == o)
                    _, first = np.unique(views[items], return_index=True)  # one item per view, by view index
                    chosen = items[first[:n_views]]
                    rows.append((f"{split}\n{ids[o][:8]}", x[chosen], views[chosen]))
        skipped_note = f" ({len(skipped)} mesh(es) skipped)" if len(skipped) else ""
    fig, axes = plt.subplots(len(rows), n_views, figsize=(1.1 * n_views, 1.15 * len(rows)), squeeze=False)
    for r, (label, images, views) in enumerate(rows):
        for c in range(n_views):
            axes[r, c].axis("off")
            if c < len(images):
                axes[r, c].imshow(images[c].transpose(1, 2, 0))
                axes[r, c].set_title(f"view {views[c]}", fontsize=6)
        axes[r, 0].axis("on"), axes[r, 0].set_xticks([]), axes[r, 0].set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=6)
    fig.suptitle(f"Rendered samples of {', '.join(inputs)}: objects (rows: split and id) under the shared SO(3) "
                 f"rotations (columns){skipped_note}", fontsize=8)
    save(fig, paths, note)


@register_figure
class Renders(Figure):
    name = "renders"
    caption = """Rendered samples: each object (rows, with its split and id) under the first views of the shared
seeded SO(3) rotations (columns), each over the sky crop of the pair it was drawn in."""
    rendered = True

    def inputs(self, plan) -> dict[str, str]:
        """{dataset: prepared .npz} of each rendered dataset in this run."""
        return {d: plan.source_npz(d) for d in plan.swap_datasets()}

    def draw(self, inputs, test_seed, paths, note=""):
        render_grid_figure(inputs, paths, note=note)
