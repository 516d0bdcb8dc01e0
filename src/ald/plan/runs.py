"""The runs a config asks for: model names and parameters, which runs each part builds, and one run's spec.

``RunsMixin`` holds the methods of ``ald.plan.Plan`` that enumerate the (dataset, group, model, seed) runs of
each part of the config (``main``: Tables 1 and 3; ``ablations``: Table 2; ``tau_sweep``: Figure 3), apply
``not_run`` (a run it names is left out, with its reason), and resolve a run's ``TrainSpec`` and the labels
its analysis files carry.
"""

from __future__ import annotations

from ..models import MODELS
from ..sources import SOURCES
from .names import Run
from .validation import groups_acting_on


class RunsMixin:
    """Runs and their settings, read from ``self.config`` (validated) and the selections ``ald.plan.Plan`` makes."""

    # -- names and parameters

    def model_names(self) -> list[str]:
        """Every model name the config can train: models, then their variants (ablations, tau sweep)."""
        return list(self.config["models"]) + list(self.variants)

    def parent(self, model: str) -> str:
        """The configured model a model name trains: itself, or its variant's parent."""
        return self.variants[model].parent if model in self.variants else model

    def model_params(self, model: str, group: str, dataset: str | None = None) -> dict:
        """Constructor parameters of a model or variant, resolved from the config: the model's, then its
        group's, then the dataset's overrides."""
        entry = self.config["models"][self.parent(model)]
        params = dict(entry["params"], **entry["group_params"].get(group, {}))
        if dataset is not None:
            params.update(self.config["datasets"][dataset]["model_params"])
        overrides = dict(self.variants[model].params) if model in self.variants else {}
        if "loss_weights" in overrides:
            weights = params.get("loss_weights", MODELS[params["kind"]].default_loss_weights())
            overrides["loss_weights"] = dict(weights, **overrides["loss_weights"])
        return dict(params, **overrides)

    def tau_model(self, tau: float) -> str:
        """The model trained at threshold tau: the sweep's variant at that tau, or the model itself at its own."""
        base = self.config["tau_sweep"]["model"]
        at_tau = (name for name, v in self.variants.items() if v.parent == base and v.params.get("tau") == tau)
        return next(at_tau, base)

    def variant_label(self, model: str) -> str:
        """How tables name a model's loss setting: 'both' for the full method, else the variant's label."""
        return self.variants[model].label if model in self.variants else "both"

    # -- runs

    def groups(self, dataset: str, key: str = "groups") -> list[str]:
        """The groups of a config list (``groups``, ``ablations.groups`` ...) that act on ``dataset``."""
        section, _, field_ = key.rpartition(".")
        names = (self.config[section] if section else self.config)[field_]
        return groups_acting_on(names, self.source(dataset))

    def source(self, dataset: str):
        """The dataset's source as its config entry makes it (``Source.configured``: dims, channels, labels)."""
        name = self.config["datasets"][dataset]["source"]
        if name not in self.configured_sources:
            self.configured_sources[name] = SOURCES[name].configured(self.config["sources"][name])
        return self.configured_sources[name]

    def main_runs(self) -> list[Run]:
        """The runs of Tables 1 and 3 that this results folder builds (``not_run`` leaves some out)."""
        return self.kept(self.configured_runs("main"), "main")

    def configured_runs(self, part: str) -> list[Run]:
        """Every run a part of the config asks for (main, ablations, tau_sweep), built or not."""
        if part == "main":
            return [Run(d, g, m, s) for d in self.datasets for g in self.groups(d) for m in self.models_of(d)
                    for s in self.config["seeds"]]
        if part == "ablations":
            return [Run(d, g, m, s) for d in self.datasets for g in self.groups(d, "ablations.groups")
                    for m in self.ablation_models() for s in self.ablation_seeds]
        return [run for _, run in self.configured_tau_points()]

    def not_run_reason(self, run: Run, part: str) -> str | None:
        """Why ``run`` is left out of this results folder (the first ``not_run`` entry that matches it), or None."""
        labels = {"parts": part, "datasets": run.dataset, "groups": run.group, "models": run.model, "seeds": run.seed}
        for entry in self.config["not_run"]:
            if all(value in entry.get(key, [value]) for key, value in labels.items()):
                return entry["reason"]
        return None

    def kept(self, runs: list[Run], part: str) -> list[Run]:
        return [run for run in runs if self.not_run_reason(run, part) is None]

    def unanalysed_reason(self, run: Run, part: str = "main") -> str | None:
        """Why the checkpoint of ``run`` cannot be analysed here (the run is left out, or only its metrics are kept)."""
        return self.not_run_reason(run, part) or self.not_run_reason(run, "analyses")

    def left_out_runs(self, part: str) -> list[tuple[Run, str]]:
        """(run, reason) of every run of ``part`` that ``not_run`` leaves out."""
        runs = [(run, self.not_run_reason(run, part)) for run in self.configured_runs(part)]
        return [(run, reason) for run, reason in runs if reason is not None]

    def image_size(self, dataset: str) -> int:
        """The side of the dataset's images: its source's ``size`` setting, else the source's fixed size."""
        name = self.config["datasets"][dataset]["source"]
        return self.config["sources"].get(name, {}).get("size", SOURCES[name].image_size)

    def models_of(self, dataset: str) -> list[str]:
        """The selected models that train on ``dataset`` (``datasets.<name>.models`` may leave some out)."""
        chosen = self.config["datasets"][dataset]["models"]
        return [m for m in self.models if chosen is None or m in chosen]

    def ablation_models(self) -> list[str]:
        base = self.config["ablations"]["model"]
        return [base] + [f"{base}-{v}" for v in self.config["ablations"]["variants"]]

    def ablation_runs(self) -> list[Run]:
        return self.kept(self.configured_runs("ablations"), "ablations")

    def configured_tau_points(self) -> list[tuple[float, Run]]:
        sweep = self.config["tau_sweep"]
        return [(t, Run(d, g, self.tau_model(t), s)) for d in sweep["datasets"] for g in self.groups(d, "tau_sweep.groups")
                for t in sweep["taus"] for s in sweep["seeds"]]

    def tau_points(self) -> list[tuple[float, Run]]:
        """(tau, run) of every point of the tau sweep that this results folder builds."""
        return [(t, run) for t, run in self.configured_tau_points() if self.unanalysed_reason(run, "tau_sweep") is None]

    def probed_runs(self) -> list[Run]:
        """The runs of Table 3 (probes.models on labelled datasets), left out or not."""
        probed = self.config["probes"]["models"] or list(self.config["models"])
        return [r for r in self.configured_runs("main") if r.model in probed and self.labelled(r.dataset)]

    def labelled(self, dataset: str) -> bool:
        """Whether the dataset's source has class labels, which the probes need."""
        return self.source(dataset).labelled

    def first_seed_run(self, dataset: str, model: str) -> Run:
        """The run a figure shows: the first seed, under the first of ``figures.groups`` that acts on the data
        (rendered pairs: under their own group)."""
        groups = self.groups(dataset, "figures.groups") or self.groups(dataset)
        return Run(dataset, groups[0], model, self.config["seeds"][0])

    # -- what one job needs

    def identity(self, run: Run) -> dict:
        """The labels every metrics or probe file carries, so tables need not parse paths."""
        return dict(dataset=run.dataset, paper_row=self.config["datasets"][run.dataset]["paper_row"],
                    group=run.group, model=run.model, paper_column=self.config["models"][self.parent(run.model)]["paper_column"],
                    variant=self.variant_label(run.model), seed=int(run.seed))

    def train_spec(self, run: Run) -> dict:
        """The TrainSpec of one run (as a dict), resolved from the config."""
        training = self.config["training"]
        return dict(
            source_npz=self.source_npz(run.dataset),
            recipe=self.config["datasets"][run.dataset]["recipe"],
            group=run.group,
            model=self.model_params(run.model, run.group, run.dataset),
            seed=int(run.seed),
            epochs=training["epochs"],
            batch_size=training["batch_size"],
            lr=training["lr"],
            val_seed=self.config["evaluation"]["val_seed"],
            threads=training["threads"],
            device=training["device"],
            max_train_items=training["max_train_items"],
            precision=training["precision"],
            source=self.source_entry(run.dataset),
        )

    def source_entry(self, dataset: str) -> dict:
        """The source a dataset is drawn from and the settings that shape its arrays (e.g. AdrenalMNIST3D at 64^3),
        so a run record tells apart two runs whose prepared files share a name."""
        name = self.config["datasets"][dataset]["source"]
        return dict(name=name, **self.config["sources"].get(name, {}))
