"""Figure 5, latent magnitudes: channel-averaged |z|, |z_v|, |z_i| and |g·z_v| for a few test inputs of each
dataset of ``figures.latent_datasets``, beside the model's output and the ground truth."""

from __future__ import annotations

from pathlib import Path

from .base import Figure, register_figure
from .drawing import aspect, image_grid, middle_slice, model_and_pairs, save, show, show_prediction, unit, variant_summary
from .lazy import no_grad, np, torch

TITLES = ["input", "|z|", "|z_v|", "|z_i|", "|g·z_v|", "output", "ground truth"]


def channel_magnitude(z: torch.Tensor) -> np.ndarray:
    """Mean |activation| over channels of one latent (1, C, *spatial); volumes show their middle slices."""
    return middle_slice(z.abs().mean(1).squeeze(0).cpu().numpy(), z.dim() - 2)


def magnitude_rows(model, pairs, n_examples: int) -> list[list]:
    """Per test input: the input picture, the four magnitude maps, the output and the ground truth."""
    rows = []
    for r in range(n_examples):
        x, tx, g, _ = pairs.batch(torch.tensor([r]))
        z = model.encode(x)
        z_v, z_i = model.split(z)
        maps = [channel_magnitude(m) for m in (z, z_v, z_i, model.group.act(g, z_v))]
        rows.append([unit(x), *maps, model.predict(x, g), tx])
    return rows


@no_grad
def latent_magnitude_figure(panels: dict[str, tuple], paths: list[Path], n_examples: int = 4, note: str = "") -> None:
    """Figure 5: per dataset, channel-averaged |z|, |z_v|, |z_i|, |g.z_v| for a few inputs, then output and
    truth. ``panels``: dataset -> (model, test pairs); each dataset has its own colour scale, a bar beside its rows
    that names it."""
    blocks = {dataset: (model, magnitude_rows(model, pairs, n_examples)) for dataset, (model, pairs) in panels.items()}
    aspects = [max(aspect(image) for image in row[:5]) for _, rows in blocks.values() for row in rows]
    fig, axes = image_grid(aspects, len(TITLES), 1.3, extra_width=1.2, top=0.5)
    for p, (dataset, (model, rows)) in enumerate(blocks.items()):
        top = max(m.max() for row in rows for m in row[1:5]) or 1.0
        block = axes[p * n_examples:(p + 1) * n_examples]
        for r, row in enumerate(rows):
            for c, image in enumerate(row):
                if c == 5:
                    show_prediction(block[r, c], image, row[6])
                elif c == 6:
                    show(block[r, c], unit(image))
                else:
                    show(block[r, c], image, **(dict(cmap="viridis", vmin=0, vmax=top) if 1 <= c <= 4 else {}))
        block[(n_examples - 1) // 2, 0].set_ylabel(f"{dataset}\n{variant_summary(model)}", fontsize=6)  # mid-block
        bar = fig.colorbar(block[0, 1].images[0], ax=block.ravel().tolist(), shrink=0.9, aspect=15)
        bar.set_label(f"{dataset}: |z|, |z_v|, |z_i|, |g·z_v|\n(mean |activation| over channels)", fontsize=6)
        bar.ax.tick_params(labelsize=6)
    for c, title in enumerate(TITLES):
        axes[0, c].set_title(title, fontsize=8)
    fig.suptitle("Latent magnitudes; each dataset has its own colour scale (the bar beside its rows)"
                 + ("; volumes: middle slices across D, H, W" if any(a < 0.9 for a in aspects) else ""), fontsize=8)
    save(fig, paths, note)


@register_figure
class Figure5(Figure):
    name = "figure5"
    caption = """Figure 5: channel-averaged absolute values of z, z_v, z_i and g·z_v for a few inputs, beside the
model's output and the ground truth. Each dataset has its own colour scale, the bar beside its rows that
names it; a (near) constant output is marked "prediction empty"."""

    def panels(self, plan) -> list[str]:
        return [d for d in plan.config["figures"]["latent_datasets"] if d in plan.datasets]

    def inputs(self, plan) -> dict[str, str]:
        return self.run_folders(plan)

    def draw(self, inputs, test_seed, paths, note=""):
        latent_magnitude_figure({d: model_and_pairs(run_dir, test_seed) for d, run_dir in inputs.items()}, paths, note=note)
