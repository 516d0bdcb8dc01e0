"""The parameter counts of the models as configured: a row per model, group and data layout, in Table 1's order."""

from __future__ import annotations

from .base import Table, frames, pd, register_table
from .table1 import OURS_ONLY, model_columns, table1_layout

PARAMETER_NOTES = (
    "Counted by building each configured model with its parameters for that group on the datasets' "
    "layout (ald.plan.Plan.parameter_rows); every trained run's record (run.json, n_parameters) "
    "holds the count of the model it trained.",
    "ALD's count includes its mask logits (one per latent channel it splits: 64, or 16 for the "
    "lifted airplanes latent); GALR's includes its attention module.",
    "The disentanglement baselines count every network they train, with the linear layers between "
    "ALD's convolutional trunk and their flat code (most of their weights, growing with the image): "
    "InfoGAN-CR's generator, discriminator with Q-head, CR discriminator, inverter and calibration; "
    "CausalVAE's encoder, decoder and structural equations; MAGANet's content and action encoders, "
    "action module, decoder and regressor from g (docs/baselines.md).",
)


def parameter_table(rows: list[dict]):
    """Parameter counts per model, group and data layout (``ald.plan.Plan.parameter_rows``), in Table 1's order."""
    frame = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(table1_layout(model_columns(frame)).values())}
    frame = frame.sort_values(["model", "group", "data"], key=lambda c: c.map(order) if c.name == "model" else c)
    shown = frame.assign(parameters=frame["parameters"].map("{:,}".format),
                         paper_column=frame["paper_column"].fillna(OURS_ONLY))
    return frame, shown.rename(columns=lambda c: c.replace("_", " "))


@register_table
class Parameters(Table):
    """Made from the plan's rows (``ald.plan.Plan.parameter_rows``: each model built as the runs build it), not files."""

    name = "parameters"
    title = "Parameter counts of the models as configured (encoder, decoder, mask or attention)"
    caption = "Parameter counts of every configured model (encoder, decoder, mask or attention), per group and data layout."

    def header(self, plan) -> list[str]:
        return [f"Settings: preset {plan.config['preset']}; every configured model, counted as built."]

    def notes(self, plan) -> list[str]:
        return list(PARAMETER_NOTES)

    def make(self, inputs, notes, paths, header=(), left_out=()):
        stats, shown = parameter_table(inputs)
        frames.write_table(stats, shown, paths, self.title, notes, header)
        return shown
