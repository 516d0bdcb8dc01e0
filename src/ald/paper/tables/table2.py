"""Table 2: the loss ablation. A row per dataset x group x variant of ALD's losses (reconstruction always on),
PSNR, SSIM and RMSE beside the paper's Table 2.
"""

from __future__ import annotations

from .base import MetricsTable, frames, paper_values, register_table

TABLE2_ROW = ["dataset", "paper_row", "group", "variant"]


def table2(frame):
    """Loss ablation: rows per dataset x group x variant, PSNR/SSIM/RMSE beside paper Table 2."""
    stats = frames.aggregate(frame, TABLE2_ROW)
    return frames.with_paper(stats, table2_paper, ["paper_row", "variant", "metric"], paper_values.TABLE2_SOURCE)


def table2_paper(paper_row: str, variant: str, metric: str):
    paper_metric = frames.paper_metric(metric)
    return None if paper_metric is None else paper_values.table2_value(paper_row, variant, paper_metric)


@register_table
class Table2(MetricsTable):
    name = "table2"
    title = "Table 2: loss ablation (reconstruction always on)"
    caption = ("Table 2: loss ablation. ALD trained with L_inv only, L_const only, or both (reconstruction always on); "
               "PSNR, SSIM and RMSE on the fixed test pairs, mean ± std over seeds, beside the paper's Table 2.")
    part = "ablations"
    row = TABLE2_ROW
    stats = staticmethod(table2)

    def inputs(self, plan) -> list[str]:
        return [plan.analysis_file("metrics", r) for r in plan.ablation_runs()]

    def seeds(self, plan) -> list[int]:
        return plan.ablation_seeds

    def own_notes(self, plan) -> list[str]:
        """Its variants, and the datasets it has no runs of."""
        ablations = plan.config["ablations"]
        weights = ", ".join(f"{v}: {w}" for v, w in ablations["variants"].items())
        notes = [f"Variants (loss weights overriding the model's): {weights}; 'both' is the full method."]
        return notes + [f"Dataset {d} has no ablation runs: its pairs are rendered under {plan.source(d).rendered_group}, "
                        f"which ablations.groups ({', '.join(ablations['groups'])}) does not name."
                        for d in plan.datasets if not plan.groups(d, "ablations.groups")]
