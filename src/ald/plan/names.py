"""What runs and models are called: the ``Run`` record and model names with their variants.

A configured model (``ald``) or one of its variants: ``ald-inv_only`` (an ablation's loss weights) or
``ald-tau0.3`` (the tau sweep).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from ..models import MODELS


@dataclass(frozen=True)
class Run:
    dataset: str
    group: str
    model: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.group}/{self.model}/seed{self.seed}"


def split_model(model: str) -> tuple[str, str]:
    """'ald-inv_only' -> ('ald', 'inv_only'); 'ald' -> ('ald', '')."""
    base, _, variant = model.partition("-")
    return base, variant


def constructor_default(kind: str, name: str):
    """A model parameter's default, stated once: in the model's constructor."""
    return inspect.signature(MODELS[kind].__init__).parameters[name].default
