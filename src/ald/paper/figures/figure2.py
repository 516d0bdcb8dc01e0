"""Figure 2, the qualitative loss ablation: per dataset, input and ground truth, then each loss variant's
prediction and its |error|, from the first seed's ablation runs."""

from __future__ import annotations

from pathlib import Path

from .base import Figure, register_figure
from .drawing import abs_error, aspect, image_grid, model_and_pairs, save, show, show_prediction, unit
from .lazy import no_grad, torch

VARIANT_LABELS = {"inv_only": r"$L_{inv}$ only", "const_only": r"$L_{const}$ only", "both": r"$L_{inv}+L_{const}$"}


@no_grad
def loss_ablation_figure(panels: dict[str, tuple[dict, object]], paths: list[Path], n_examples: int = 3, note: str = "") -> None:
    """Figure 2: per dataset, input and ground truth, then each variant's prediction and |error| (0-1)."""
    variants = [v for v in VARIANT_LABELS if any(v in models for models, _ in panels.values())]
    rows = []
    for name, (models, pairs) in panels.items():
        for i in range(n_examples):
            x, tx, g, _ = pairs.batch(torch.tensor([i]))
            rows.append((name, i, x, tx, [models[v].predict(x, g) for v in variants]))
    fig, axes = image_grid([aspect(unit(row[2])) for row in rows], 2 + 2 * len(variants), 1.3, extra_width=1.0)
    for r, (name, i, x, tx, predictions) in enumerate(rows):
        show(axes[r, 0], unit(x), "input" if r == 0 else None)
        show(axes[r, 1], unit(tx), "ground truth" if r == 0 else None)
        axes[r, 0].set_ylabel(f"{name.replace('_', chr(10))}\n#{i}", fontsize=6)
        for c, (variant, pred) in enumerate(zip(variants, predictions)):
            show_prediction(axes[r, 2 + 2 * c], pred, tx, VARIANT_LABELS[variant] if r == 0 else None)
            show(axes[r, 3 + 2 * c], abs_error(unit(pred), unit(tx)), "|error|" if r == 0 else None, cmap="inferno")
    fig.colorbar(axes[0, 3].images[0], ax=axes, shrink=min(1.0, 4 / len(rows)), aspect=30,
                 label="absolute error (intensity in [0, 1])")
    save(fig, paths, note)


@register_figure
class Figure2(Figure):
    name = "figure2"
    caption = """Figure 2: qualitative loss ablation. For each dataset: input, ground truth T_g(x), then each variant's
prediction and its per-pixel absolute error (colour range 0-1). Volumes show their three middle
slices in a row; a (near) constant prediction is marked "prediction empty: untrained at this budget"."""
    part = "ablations"

    def panels(self, plan) -> list[str]:
        return [d for d in plan.datasets if plan.groups(d, "ablations.groups")]

    def models(self, plan) -> list[str]:
        return plan.ablation_models()

    def inputs(self, plan) -> dict[str, dict[str, str]]:
        """{dataset: {variant: run folder}} of the first seed's ablation models."""
        models = self.models(plan)
        return {d: {plan.variant_label(m): plan.first_seed_run_dir(d, m) for m in models} for d in self.shown(plan)}

    def draw(self, inputs, test_seed, paths, note=""):
        panels = {}
        for dataset, variants in inputs.items():
            loaded = {v: model_and_pairs(d, test_seed) for v, d in variants.items()}
            panels[dataset] = ({v: m for v, (m, _) in loaded.items()}, next(iter(loaded.values()))[1])
        loss_ablation_figure(panels, paths, note=note)
