"""What runs and models are called: the ``Run`` record, and the variants the config declares.

A run's model is a configured model (``ald``) or a ``Variant`` of one: a parent model and the parameters it
overrides, declared by the config's ``ablations`` (``ald-inv_only``: a loss weight at 0) and ``tau_sweep``
(``ald-tau0.3``: another mask threshold). ``variants`` resolves them once from the config; nothing reads a
model's parent or setting out of its name.
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


@dataclass(frozen=True)
class Variant:
    parent: str  # a configured model
    label: str  # how the tables name its setting: the ablation's variant, or tau<threshold>
    params: dict  # constructor parameters it overrides; loss_weights are merged over the parent's


def variants(config: dict) -> dict[str, Variant]:
    """Every variant the config declares, by the model name its runs go under: the ablations' loss settings
    (``<model>-<variant>``) and the tau sweep's thresholds (``<model>-tau<tau>``) other than the model's own."""
    found = {}
    ablated = config["ablations"]["model"]
    for label, weights in config["ablations"]["variants"].items():
        found[f"{ablated}-{label}"] = Variant(ablated, label, {"loss_weights": dict(weights)})
    swept = config["tau_sweep"]["model"]
    params = config["models"][swept]["params"] if swept in config["models"] else {}
    own = params.get("tau", constructor_default(params["kind"], "tau")) if "kind" in params else None
    for tau in config["tau_sweep"]["taus"]:
        if tau != own:
            found[f"{swept}-tau{tau}"] = Variant(swept, f"tau{tau}", {"tau": float(tau)})
    return found


def constructor_default(kind: str, name: str):
    """A model parameter's default, stated once: in the model's constructor."""
    return inspect.signature(MODELS[kind].__init__).parameters[name].default
