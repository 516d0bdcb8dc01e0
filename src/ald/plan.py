"""From the workflow config to runs, training specs, targets and table notes.

``Plan(config)`` validates the config (the JSON schema ``config.schema.yaml`` beside this file, then
the names that come from registries and the cross-references between sections), fills in every
default (stated once, in the schema; model defaults in the model's constructor), and answers what
the rules need: which (dataset, group, model, seed) runs exist, each run's ``TrainSpec``, the files
of every table and figure, and the notes under each table. The workflow's ``common.smk`` only
connects these answers to rules; everything here is unit-tested without Snakemake.

Model names: a configured model (``ald``) or one of its variants: ``ald-inv_only`` (an ablation's
loss weights) or ``ald-tau0.3`` (the tau sweep).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import sys
import inspect
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from .groups import GROUPS
from .models import MODELS, build_model
from .pairs import RECIPES
from .paper import FIGURES, RENDERED_FIGURES, TABLES
from .paper import values as paper_values
from .paper.tables import OURS_ONLY, column_headers
from .registry import fill_defaults
from .sources import SOURCES, TermsNotAccepted, check_terms

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


class ConfigError(ValueError):
    """The config has problems; ``problems`` holds one line per problem (key, what is wrong, the fix)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"Error validating config ({len(problems)} problem(s)):\n" + "\n".join(f"  - {p}" for p in problems))


# ----------------------------------------------------------------------------------------------
# Validation


def key_name(path) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return "".join(parts).lstrip(".") or "(top level)"


def describe(error: jsonschema.ValidationError, where: str) -> str:
    """One line for one schema violation: the key, what is wrong and how to fix it."""
    path = list(error.absolute_path)
    key = key_name([where, *path] if where else path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return (f"{key_name([where, *path, extra[0]] if where else [*path, extra[0]])}: unknown key; "
                f"allowed here: {', '.join(allowed)}. Fix: remove it or correct its spelling")
    if error.validator == "type":
        return f"{key}: {error.instance!r} is not of type {error.validator_value}. Fix: give a value of that type"
    if error.validator == "required":
        return f"{key}: {error.message}. Fix: add it (see config.yaml for an example)"
    if error.validator == "enum":
        return f"{key}: {error.instance!r} is not one of {error.validator_value}. Fix: use one of them"
    meaning = error.schema.get("description")
    return f"{key}: {error.message}." + (f" Fix: it means {meaning}" if meaning else " Fix: see config.yaml for an example")


def schema_problems(instance, schema: dict, where: str = "") -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [describe(e, where) for e in errors]


def object_schema(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "additionalProperties": False, "properties": properties, "required": list(required)}


def model_params_schema(kind: str, partial: bool = False) -> dict:
    cls = MODELS[kind]
    properties = dict(cls.params_schema) if partial else {"kind": {"const": kind}, **cls.params_schema}
    return object_schema(properties, () if partial else ("kind",))


def registry_problems(config: dict) -> list[str]:
    """Names that must be registered, and the parameters each registered thing declares."""
    problems = []

    def unknown(key, name, registry, what):
        problems.append(f"{key}: unknown {what} {name!r}; known: {', '.join(sorted(registry))}. "
                        f"Fix: use one of them, or register a new {what} (docs/extending.md)")

    for name, entry in config["sources"].items():
        if name not in SOURCES:
            unknown(f"sources.{name}", name, SOURCES, "source")
        else:
            own = schema_problems(entry, SOURCES[name].params_schema, f"sources.{name}")
            problems += own
            if SOURCES[name].check_params and not own:
                problems += SOURCES[name].check_params(fill_defaults(copy.deepcopy(entry), SOURCES[name].params_schema))
    for name, entry in config["datasets"].items():
        kind = entry["recipe"]["kind"]
        if kind not in RECIPES:
            unknown(f"datasets.{name}.recipe.kind", kind, RECIPES, "pair recipe")
        else:
            schema = object_schema({"kind": {"const": kind}, **RECIPES[kind].params_schema}, ("kind",))
            problems += schema_problems(entry["recipe"], schema, f"datasets.{name}.recipe")
    group_lists = {"groups": config["groups"], "ablations.groups": config["ablations"]["groups"],
                   "tau_sweep.groups": config["tau_sweep"]["groups"], "figures.groups": config["figures"]["groups"]}
    for key, names in group_lists.items():
        for g in names:
            if g not in GROUPS:
                unknown(key, g, GROUPS, "group")
    for name, entry in config["models"].items():
        kind = entry["params"]["kind"]
        if kind not in MODELS:
            unknown(f"models.{name}.params.kind", kind, MODELS, "model kind")
            continue
        problems += schema_problems(entry["params"], model_params_schema(kind), f"models.{name}.params")
        for dataset, dataset_entry in config["datasets"].items():
            if dataset_entry["model_params"] and name in (dataset_entry["models"] or config["models"]):
                problems += schema_problems(dataset_entry["model_params"], model_params_schema(kind, partial=True),
                                            f"datasets.{dataset}.model_params (for model {name})")
        for group, overrides in entry["group_params"].items():
            if group not in GROUPS:
                unknown(f"models.{name}.group_params", group, GROUPS, "group")
            problems += schema_problems(overrides, model_params_schema(kind, partial=True),
                                        f"models.{name}.group_params.{group}")
    return problems


def reference_problems(config: dict) -> list[str]:
    """Cross-references between sections, and datasets paired with groups that cannot act on them."""
    problems = []

    def missing(key, name, section):
        problems.append(f"{key}: {name!r} is not configured under `{section}`; "
                        f"configured: {', '.join(config[section])}. Fix: add it there or name another")

    for name, entry in config["datasets"].items():
        if entry["source"] not in config["sources"]:
            missing(f"datasets.{name}.source", entry["source"], "sources")
    datasets = {"only_datasets": config["only_datasets"] or [], "tau_sweep.datasets": config["tau_sweep"]["datasets"],
                "figures.latent_datasets": config["figures"]["latent_datasets"],
                "figures.angle_datasets": config["figures"]["angle_datasets"],
                "figures.swap_datasets": config["figures"]["swap_datasets"]}
    for key, names in datasets.items():
        for d in names:
            if d not in config["datasets"]:
                missing(key, d, "datasets")
    for key in ("ablations.model", "tau_sweep.model"):
        section, field_ = key.split(".")
        if config[section][field_] not in config["models"]:
            missing(key, config[section][field_], "models")
    for i, entry in enumerate(config["not_run"]):
        for d in entry.get("datasets", []):
            if d not in config["datasets"]:
                missing(f"not_run[{i}].datasets", d, "datasets")
        for model in entry.get("models", []):
            if split_model(model)[0] not in config["models"]:
                missing(f"not_run[{i}].models", model, "models")
    model_lists = {"probes.models": config["probes"]["models"], "only_models": config["only_models"],
                   **{f"datasets.{d}.models": entry.get("models") for d, entry in config["datasets"].items()}}
    for key, names in model_lists.items():
        for model in names or []:
            if model not in config["models"]:
                missing(key, model, "models")
    configured = set(config["datasets"])
    sources = {name: configured_source(config, name) for name in config["sources"]}
    source_of = lambda dataset: sources.get(config["datasets"][dataset]["source"])
    for dataset, key, names in dataset_group_lists(config):
        if dataset not in configured:
            continue
        source = source_of(dataset)
        if names and source is not None and all(g in GROUPS for g in names) and not groups_acting_on(names, source):
            known = ", ".join(groups_acting_on(list(GROUPS), source))
            kind = f"{source.spatial_dims}-D" + (f" renders related by {source.rendered_group}" if source.rendered_group else "")
            fix = f"add {known}" if source.rendered_group else f"add a {source.spatial_dims}-D group ({known})"
            problems.append(f"{key}: none of {names} acts on dataset {dataset}, which is {kind}. Fix: {fix}")
    for dataset in [d for d in config["tau_sweep"]["datasets"] if d in configured]:
        source = source_of(dataset)
        if source and not source.labelled:
            problems.append(f"tau_sweep.datasets: {dataset} has no class labels (source {source.name}), and the "
                            "sweep is read by probes. Fix: remove it from tau_sweep.datasets")
    for dataset in [d for d in config["only_datasets"] or [] if d in configured]:  # named on purpose: terms accepted?
        if config["datasets"][dataset]["source"] in config["sources"] and (reason := terms_problem(config, dataset)):
            problems.append(f"only_datasets: {dataset}: {reason}")
    return problems


def configured_source(config: dict, name: str):
    """Source ``name`` as its entry in ``config`` makes it (``Source.configured``), or None where the name is not
    registered or the entry cannot be resolved (a folder that is not there: registry_problems names the problem)."""
    if name not in SOURCES or not isinstance(config["sources"].get(name), dict):
        return None
    try:
        return SOURCES[name].configured(config["sources"][name])
    except (ValueError, OSError, KeyError, TypeError):
        return None


def terms_problem(config: dict, dataset: str) -> str | None:
    """Why a dataset cannot be built until its source's data use terms are accepted, or None."""
    source = config["datasets"][dataset]["source"]
    try:
        check_terms(source, config["sources"][source])
    except TermsNotAccepted as exc:
        return str(exc)
    return None


def groups_acting_on(names: list[str], source) -> list[str]:
    """The groups of ``names`` that act on a (configured) source's data: each dataset trains under those of its
    own kind, and rendered pairs only under the group they were rendered with."""
    if source.rendered_group:
        return [g for g in names if g == source.rendered_group]
    return [g for g in names if GROUPS[g].spatial_dims == source.spatial_dims]


def dataset_group_lists(config: dict):
    """(dataset, config key, group names) of every group list a dataset must be trained under (an empty
    list asks for no such runs). Rendered pairs come with their own group: the ablations and figures
    lists may leave it out (no ablation runs; figures show the dataset under its group)."""
    selected = config["only_datasets"] or list(config["datasets"])
    rendered = {d for d in config["datasets"] if (s := SOURCES.get(config["datasets"][d]["source"])) and s.rendered_group}
    for d in selected:
        yield d, "groups", config["groups"]
        if d not in rendered:
            yield d, "ablations.groups", config["ablations"]["groups"]
    for d in config["tau_sweep"]["datasets"]:
        yield d, "tau_sweep.groups", config["tau_sweep"]["groups"]
    for d in config["figures"]["latent_datasets"] + selected:
        if d not in rendered:
            yield d, "figures.groups", config["figures"]["groups"]


def coerce_strings(value, schema: dict):
    """Values given as text on the command line (`--config data='{allow_network: false}'` arrives as
    the string 'false') parsed as YAML where the schema expects a boolean, a number or null."""
    if isinstance(value, dict):
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        return {k: coerce_strings(v, props.get(k, extra if isinstance(extra, dict) else {})) for k, v in value.items()}
    if isinstance(value, list):
        return [coerce_strings(v, schema.get("items", {})) for v in value]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if isinstance(value, str) and "string" not in types and set(types) & {"boolean", "integer", "number", "null"}:
        parsed = yaml.safe_load(value)
        return parsed if not isinstance(parsed, str) else value
    return value


def coerce_registered(config: dict) -> dict:
    """``coerce_strings`` for the parts whose schema a registry declares: sources' and models' parameters."""
    for name, entry in (config.get("sources") or {}).items():
        if name in SOURCES:
            config["sources"][name] = coerce_strings(entry, SOURCES[name].params_schema)
    for entry in (config.get("models") or {}).values():
        kind = entry.get("params", {}).get("kind") if isinstance(entry, dict) else None
        if kind in MODELS:
            entry["params"] = coerce_strings(entry["params"], model_params_schema(kind))
            partial = model_params_schema(kind, partial=True)
            entry["group_params"] = {g: coerce_strings(v, partial) for g, v in (entry.get("group_params") or {}).items()}
    return config


def checked_as_far_as_possible(check, config: dict, shape_known: bool) -> list[str]:
    """``check``'s problems. When the schema already found some, the config's shape is not to be trusted, and a
    check that trips over it is skipped: every problem it can name is still listed, in one pass."""
    if shape_known:
        return check(config)
    try:
        return check(config)
    except (KeyError, TypeError, AttributeError, ValueError):
        return []


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (plain YAML keeps the last and drops the first)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first on line {seen[key] + 1}); the first would be "
                    "dropped without a word", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def config_file_problems(path) -> list[str]:
    """A config file that YAML reads other than it reads: a key given twice in one mapping."""
    try:
        yaml.load(Path(path).read_text(), Loader=UniqueKeyLoader)
    except yaml.constructor.ConstructorError as error:
        return [f"{path}, line {error.problem_mark.line + 1}: {error.problem}. Fix: merge the two into one"]
    except (OSError, yaml.YAMLError):
        return []  # Snakemake reports files it cannot read or parse itself
    return []


def config_schema() -> dict:
    """The config's JSON schema: ``config.schema.yaml``, with the paper's rows and columns that a dataset's
    ``paper_row`` and a model's ``paper_column`` may name taken from the paper's values (null: ours only)."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    entry = lambda section: schema["properties"][section]["additionalProperties"]["properties"]
    entry("datasets")["paper_row"]["enum"] = [*paper_values.paper_rows(), None]
    entry("models")["paper_column"]["enum"] = [*paper_values.TABLE1_MODELS, None]
    return schema


def validated(config: dict, config_files=()) -> dict:
    """A checked copy of ``config`` with every default filled in; raises ConfigError listing every problem
    (``config_files``: the files it was merged from, checked for keys given twice)."""
    schema = config_schema()
    config = fill_defaults(coerce_registered(coerce_strings(copy.deepcopy(config), schema)), schema)
    problems = [p for path in config_files for p in config_file_problems(path)]
    problems += schema_problems(config, schema)
    shape_known = not problems
    for check in (registry_problems, reference_problems):
        problems += checked_as_far_as_possible(check, config, shape_known)
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    for name, entry in config["sources"].items():
        fill_defaults(entry, SOURCES[name].params_schema)
    for entry in config["datasets"].values():
        fill_defaults(entry["recipe"], {"properties": RECIPES[entry["recipe"]["kind"]].params_schema})
    return config


# ----------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class Run:
    dataset: str
    group: str
    model: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.group}/{self.model}/seed{self.seed}"


def input_files(inputs) -> list[str]:
    """The files behind a figure's inputs: probe files and histories, and each run folder's checkpoint and record."""
    if isinstance(inputs, dict):
        return [f for item in inputs.values() for f in input_files(item)]
    return [inputs] if inputs.endswith((".json", ".csv", ".npz")) else [f"{inputs}/best.pt", f"{inputs}/run.json"]


def source_settings(params: dict) -> str:
    """A source's config entry as the table notes print it, e.g. '(size 28)'."""
    shown = {k: v for k, v in params.items() if k != "accept_terms"}
    return "(" + ", ".join(f"{k} {v}" for k, v in shown.items()) + ")" if shown else ""


def split_model(model: str) -> tuple[str, str]:
    """'ald-inv_only' -> ('ald', 'inv_only'); 'ald' -> ('ald', '')."""
    base, _, variant = model.partition("-")
    return base, variant


def constructor_default(kind: str, name: str):
    """A model parameter's default, stated once: in the model's constructor."""
    return inspect.signature(MODELS[kind].__init__).parameters[name].default


class Plan:
    def __init__(self, config: dict, config_files=()):
        self.config = validated(config, config_files)
        c = self.config
        self.results, self.data = c["results"], c["data"]["root"]
        # Without only_datasets, a dataset whose terms are not accepted is left out, and the notes say so.
        selected = c["only_datasets"] or list(c["datasets"])
        self.left_out = {d: reason for d in selected if (reason := terms_problem(c, d))}
        self.datasets = [d for d in selected if d not in self.left_out]
        self.models = c["only_models"] or list(c["models"])
        self.ablation_seeds = c["ablations"]["seeds"] or c["seeds"]
        self.configured_sources = {}  # source name -> the source as configured (resolved once: a folder is listed)

    # -- names and parameters

    def model_names(self) -> list[str]:
        """Every model name the config can train: models, their ablation variants and tau variants."""
        sweep = self.config["tau_sweep"]
        names = list(self.config["models"])
        names += [f"{self.config['ablations']['model']}-{v}" for v in self.config["ablations"]["variants"]]
        return names + [self.tau_model(t) for t in sweep["taus"] if self.tau_model(t) not in names]

    def model_params(self, model: str, group: str, dataset: str | None = None) -> dict:
        """Constructor parameters of a model or variant, resolved from the config: the model's, then its
        group's, then the dataset's overrides."""
        base, variant = split_model(model)
        entry = self.config["models"][base]
        params = dict(entry["params"], **entry["group_params"].get(group, {}))
        if dataset is not None:
            params.update(self.config["datasets"][dataset]["model_params"])
        if variant.startswith("tau"):
            params["tau"] = float(variant[3:])
        elif variant:
            weights = params.get("loss_weights", MODELS[params["kind"]].default_loss_weights())
            params["loss_weights"] = dict(weights, **self.config["ablations"]["variants"][variant])
        return params

    def tau_model(self, tau: float) -> str:
        """The model name trained at threshold tau: the base model itself at its own tau."""
        base = self.config["tau_sweep"]["model"]
        params = self.config["models"][base]["params"]
        own = params.get("tau", constructor_default(params["kind"], "tau"))
        return base if tau == own else f"{base}-tau{tau}"

    @staticmethod
    def variant_label(model: str) -> str:
        """How tables name a model's loss setting: 'both' for the full method, else the variant."""
        return split_model(model)[1] or "both"

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

    # -- files

    def run_dir(self, run: Run) -> str:
        return f"{self.results}/models/{run.key}"

    def run_files(self, run: Run) -> list[str]:
        return [f"{self.run_dir(run)}/best.pt", f"{self.run_dir(run)}/run.json"]

    def history_file(self, run: Run) -> str:
        return f"{self.run_dir(run)}/history.csv"

    def metrics_file(self, run: Run) -> str:
        return f"{self.results}/metrics/{run.key}.json"

    def probe_file(self, run: Run) -> str:
        return f"{self.results}/probes/{run.key}.json"

    def checks_file(self, run: Run) -> str:
        return f"{self.results}/checks/{run.key}.json"

    def angles_file(self, run: Run) -> str:
        return f"{self.results}/angles/{run.key}.json"

    def source_npz(self, dataset: str) -> str:
        return f"{self.data}/prepared/{self.config['datasets'][dataset]['source']}.npz"

    def raw_files(self, source: str) -> list[str]:
        """The official files of a source (none for generated sources), where its fetch rule puts them."""
        return [f"{self.data}/raw/{source}/{name}" for name in SOURCES[source].files]

    def prepare_inputs(self, source: str) -> list[str]:
        """What a source's prepare reads: its official files, or the user's files it names (a change of them,
        or a file added or removed, makes Snakemake prepare it again)."""
        read = SOURCES[source].inputs
        return self.raw_files(source) + (read(self.config["sources"][source]) if read else [])

    def table_files(self, table: str) -> list[str]:
        return [f"{self.results}/tables/{table}.{ext}" for ext in ("csv", "md", "tex")]

    def figure_files(self, figure: str) -> list[str]:
        return [f"{self.results}/figures/{figure}.{ext}" for ext in ("png", "pdf")]

    def targets(self) -> dict[str, list[str]]:
        """Every artifact of the paper by target name."""
        return {**{t: self.table_files(t) for t in TABLES}, **{f: self.figure_files(f) for f in FIGURES},
                "claims": self.claims_files(), "summary": [self.summary_file()]}

    def default_targets(self) -> list[str]:
        """What `all` builds: every target, but the rendered-pair figures only when one of their datasets is in."""
        skip = RENDERED_FIGURES if not self.swap_datasets() else ()
        return [f for target, files in self.targets().items() if target not in skip for f in files]

    def swap_datasets(self) -> list[str]:
        return [d for d in self.config["figures"]["swap_datasets"] if d in self.datasets]

    def claims_files(self) -> list[str]:
        return [f"{self.results}/claims.{ext}" for ext in ("csv", "md")]

    def summary_file(self) -> str:
        return f"{self.results}/summary.md"

    def summary_inputs(self) -> dict[str, str]:
        return {"table1": self.table_files("table1")[0], "claims": self.claims_files()[0]}

    def claims_tables(self) -> dict[str, str]:
        """The table CSVs the claims read (each verdict comes from these and the tau sweep's probe files)."""
        return {t: self.table_files(t)[0] for t in ("table1", "table2", "table3")}

    def claims_checks(self) -> dict[str, str]:
        """The checks (group laws, latent swap) each claim reads: the figures' run of each dataset that has it."""
        model = self.config["ablations"]["model"]
        return {d: self.checks_file(self.first_seed_run(d, model)) for d in self.datasets
                if self.unanalysed_reason(self.first_seed_run(d, model)) is None}

    def claims_input_files(self) -> list[str]:
        return (list(self.claims_tables().values()) + input_files(self.figure_inputs("figure3"))
                + list(self.claims_checks().values()))

    # -- what one job needs

    def identity(self, run: Run) -> dict:
        """The labels every metrics or probe file carries, so tables need not parse paths."""
        base, _ = split_model(run.model)
        return dict(dataset=run.dataset, paper_row=self.config["datasets"][run.dataset]["paper_row"],
                    group=run.group, model=run.model, paper_column=self.config["models"][base]["paper_column"],
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

    # Settings of how a run executed, not of what it computes; and settings older records did not have.
    EXECUTION_KEYS = ("device", "threads")
    NEWER_KEYS = ("precision", "source")

    def record_differences(self, run: Run) -> list[str]:
        """How the run record already in this results folder differs from what the config asks for that run
        ('epochs: 10 here, 50 asked'); empty when there is no record or it matches."""
        record = Path(self.run_dir(run)) / "run.json"
        if not record.is_file():
            return []
        try:
            trained = json.loads(record.read_text())["parameters"]
        except (ValueError, KeyError, TypeError):
            return [f"unreadable run record (not JSON with 'parameters')"]
        if "block" in trained:  # records before pair recipes: block true was the 7x7 occluder
            trained["recipe"] = {"kind": "occluder", "size": 7} if trained.pop("block") else {"kind": "none"}
        asked = self.train_spec(run)
        keys = [k for k in asked if k not in self.EXECUTION_KEYS and (k in trained or k not in self.NEWER_KEYS)]
        return [f"{k}: {json.dumps(trained.get(k))} here, {json.dumps(asked[k])} asked" for k in keys
                if trained.get(k) != asked[k]]

    def table_differences(self, table: str) -> list[str]:
        """How the tracked table's own record of the files it was made from (the CSV's source_file column) differs
        from the files this config makes it from; empty when it has no such record or they agree."""
        made = Path(self.table_files(table)[0])
        if table == "parameters" or not made.is_file():
            return []
        with made.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or "source_file" not in rows[0]:
            return []
        used = {f for row in rows for f in (row["source_file"] or "").split(";") if f}
        asked = set(self.table_inputs(table))
        differences = []
        if used - asked:
            differences.append(f"made from {len(used - asked)} file(s) this config does not ask for "
                               f"(e.g. {min(used - asked)})")
        if asked - used:
            differences.append(f"lacks {len(asked - used)} file(s) this config asks for (e.g. {min(asked - used)})")
        return differences

    def figure_differences(self, figure: str) -> list[str]:
        """How the inputs a figure records beside itself (figures/<name>.json) differ from this config's."""
        record = Path(self.figure_record(figure))
        if not record.is_file():
            return []
        used, asked = json.loads(record.read_text()), json.loads(json.dumps(self.figure_inputs(figure)))
        return [] if used == asked else [f"drawn from other inputs than this config asks for ({record})"]

    def figure_record(self, figure: str) -> str:
        return f"{self.results}/figures/{figure}.json"

    def stale_trigger(self, what: str, differences: list[str]) -> list[str]:
        """An extra input, newer than ``what``, that makes Snakemake rebuild it because the config changed what it
        contains (Snakemake alone hands back the old file when it has no metadata of its own, e.g. on a fresh
        clone). The note is written now, while the DAG is built, and says why."""
        if not differences:
            return []
        note = f"{what} is stale: " + "; ".join(differences)
        trigger = Path(self.results) / ".stale" / f"{hashlib.sha256(note.encode()).hexdigest()[:16]}.txt"
        if not trigger.is_file():
            trigger.parent.mkdir(parents=True, exist_ok=True)
            trigger.write_text(note + "\n")
            print(f"{note}: it will be rebuilt", file=sys.stderr)
        return [str(trigger)]

    def stale_runs(self) -> dict[str, list[str]]:
        """Run records of this results folder that another config made: {run.json: differences}."""
        runs = {run for part in ("main", "ablations", "tau_sweep") for run in self.configured_runs(part)}
        stale = {f"{self.run_dir(run)}/run.json": self.record_differences(run) for run in sorted(runs, key=str)}
        return {path: differences for path, differences in stale.items() if differences}

    def source_entry(self, dataset: str) -> dict:
        """The source a dataset is drawn from and the settings that shape its arrays (e.g. AdrenalMNIST3D at 64^3),
        so a run record tells apart two runs whose prepared files share a name."""
        name = self.config["datasets"][dataset]["source"]
        return dict(name=name, **self.config["sources"].get(name, {}))

    def parameter_rows(self) -> list[dict]:
        """Each configured model built for each group on each layout of the datasets (channels, dims and the
        dataset's model overrides), as the runs build it."""
        rows, seen = [], set()
        for name, entry in self.config["models"].items():
            for group in self.config["groups"]:
                for dataset in sorted(self.datasets, key=lambda d: (self.source(d).channels, self.source(d).spatial_dims)):
                    source = self.source(dataset)
                    if group not in self.groups(dataset) or name not in self.models_of(dataset):
                        continue
                    overrides = self.config["datasets"][dataset]["model_params"]
                    data = f"{source.channels} channel(s), {source.spatial_dims}-D" + "".join(
                        f", {k} {v}" for k, v in sorted(overrides.items()))
                    if (name, group, data) in seen:
                        continue
                    seen.add((name, group, data))
                    model = build_model(self.model_params(name, group, dataset), GROUPS[group], source.channels,
                                        source.spatial_dims, self.image_size(dataset))
                    rows.append(dict(model=name, paper_column=entry["paper_column"], kind=entry["params"]["kind"],
                                     group=group, data=data, parameters=sum(p.numel() for p in model.parameters())))
        return rows

    def table_inputs(self, table: str) -> list[str]:
        if table == "parameters":
            return []
        if table == "table1":
            return [self.metrics_file(r) for r in self.main_runs()]
        if table == "table2":
            return [self.metrics_file(r) for r in self.ablation_runs()]
        return [self.probe_file(r) for r in self.probed_runs() if self.not_run_reason(r, "analyses") is None]

    def probed_runs(self) -> list[Run]:
        """The runs of Table 3 (probes.models on labelled datasets), left out or not."""
        probed = self.config["probes"]["models"] or list(self.config["models"])
        return [r for r in self.configured_runs("main") if r.model in probed and self.labelled(r.dataset)]

    def labelled(self, dataset: str) -> bool:
        """Whether the dataset's source has class labels, which the probes need."""
        return self.source(dataset).labelled

    def row_name(self, dataset: str) -> str:
        row = self.config["datasets"][dataset]["paper_row"]
        return "ours only, no paper row" if row is None else f"paper row {row}"

    def first_seed_run(self, dataset: str, model: str) -> Run:
        """The run a figure shows: the first seed, under the first of ``figures.groups`` that acts on the data
        (rendered pairs: under their own group)."""
        groups = self.groups(dataset, "figures.groups") or self.groups(dataset)
        return Run(dataset, groups[0], model, self.config["seeds"][0])

    def first_seed_run_dir(self, dataset: str, model: str) -> str:
        return self.run_dir(self.first_seed_run(dataset, model))

    def unshown_reason(self, dataset: str, models: list[str], part: str) -> str | None:
        """Why a figure panel of ``dataset`` (the first seed's runs of ``models``) is left out, or None."""
        reasons = [self.unanalysed_reason(self.first_seed_run(dataset, m), part) for m in models]
        return next((r for r in reasons if r is not None), None)

    def figure_panels(self, figure: str) -> tuple[list[str], str]:
        """The datasets a figure draws a panel of per run folder, and the ``part`` of the runs they show."""
        if figure == "figure2":
            return [d for d in self.datasets if self.groups(d, "ablations.groups")], "ablations"
        if figure == "figure4":
            return self.swap_datasets(), "main"
        if figure in ("figure5", "swap", "angles"):
            key = "angle_datasets" if figure == "angles" else "latent_datasets"
            return [d for d in self.config["figures"][key] if d in self.datasets], "main"
        return [], "main"

    def figure_left_out(self, figure: str) -> list[str]:
        """'dataset: reason' of each panel ``not_run`` leaves out of a figure (Figure 3: each left-out tau point)."""
        if figure == "figure3":
            points = {}
            for tau, run in self.configured_tau_points():
                if why := self.unanalysed_reason(run, "tau_sweep"):
                    points.setdefault((run.dataset, run.group, run.seed, why), []).append(f"{tau:g}")
            return [f"{d} {g} seed {seed} (tau {', '.join(taus)}): {why}" for (d, g, seed, why), taus in points.items()]
        datasets, part = self.figure_panels(figure)
        models = self.ablation_models() if figure == "figure2" else [self.config["ablations"]["model"]]
        if figure == "angles":
            seeds = {}
            for run, reason in self.left_out_runs("main"):
                if run.dataset in datasets and run.model == models[0] and not GROUPS[run.group].exact:
                    seeds.setdefault((run.dataset, run.group, reason), []).append(str(run.seed))
            return [f"{d} {g} (seeds {', '.join(s)}): {reason}" for (d, g, reason), s in seeds.items()]
        if figure == "curves":
            return []
        return [f"{d}: {reason}" for d in datasets if (reason := self.unshown_reason(d, models, part))]

    def figure_inputs(self, figure: str):
        """What a figure shows: run folders, probe files or histories, nested as the figure's drawing function takes them."""
        model = self.config["ablations"]["model"]
        datasets, part = self.figure_panels(figure)
        models = self.ablation_models() if figure == "figure2" else [model]
        if figure != "angles":  # angles draws every seed it has; the others show the first seed's runs
            datasets = [d for d in datasets if self.unshown_reason(d, models, part) is None]
        if figure == "figure2":  # {dataset: {variant: run folder}} of the first seed's ablation models
            return {d: {self.variant_label(m): self.first_seed_run_dir(d, m) for m in models} for d in datasets}
        if figure == "renders":  # {dataset: prepared .npz}
            return {d: self.source_npz(d) for d in self.swap_datasets()}
        if figure == "figure3":  # {curve: {tau: probe file}}
            sweep, curves = self.config["tau_sweep"], {}
            several = len(sweep["seeds"]) > 1 or any(len(self.groups(d, "tau_sweep.groups")) > 1 for d in sweep["datasets"])
            for tau, run in self.tau_points():
                curve = f"{run.dataset} {run.group} seed{run.seed}" if several else run.dataset
                curves.setdefault(curve, {})[str(tau)] = self.probe_file(run)
            return curves
        if figure == "curves":  # {"dataset group": {model: {seed: history.csv}}} of every main run
            runs = {}
            for run in self.main_runs():
                seeds = runs.setdefault(f"{run.dataset} {run.group}", {}).setdefault(run.model, {})
                seeds[str(run.seed)] = self.history_file(run)
            return runs
        if figure == "angles":  # {dataset: {group: {seed: angles file}}}: the method under continuous groups
            shown = {d: {} for d in datasets}  # in figures.angle_datasets' order
            for run in self.main_runs():
                if run.dataset in shown and run.model == model and not GROUPS[run.group].exact:
                    shown[run.dataset].setdefault(run.group, {})[str(run.seed)] = self.angles_file(run)
            return {d: groups for d, groups in shown.items() if groups}
        # figure5, swap, figure4: {dataset: run folder}
        return {d: self.first_seed_run_dir(d, model) for d in datasets}

    def missing_figure_reason(self, figure: str) -> str | None:
        """Why a figure has nothing to show (its datasets are left out or not configured), or None."""
        if figure not in RENDERED_FIGURES or self.swap_datasets():
            return None
        wanted = self.config["figures"]["swap_datasets"]
        reasons = [f"{d}: {self.left_out.get(d, 'not selected (only_datasets)')}" for d in wanted]
        return (f"{figure} shows figures.swap_datasets ({', '.join(wanted) or 'none configured'}), and none is "
                f"in this run. " + " ".join(reasons))

    def figure_input_files(self, figure: str) -> list[str]:
        return input_files(self.figure_inputs(figure))

    def settings_line(self, seeds: list[int] | None = None, datasets: list[str] | None = None) -> str:
        """The settings an artifact opens with: preset, epochs, seeds, each dataset's size, precision and device."""
        t = self.config["training"]
        seeds = seeds or self.config["seeds"]
        sizes = ", ".join(f"{d} {self.image_size(d)}{'³' if self.source(d).spatial_dims == 3 else '²'}"
                          for d in (datasets or self.datasets))
        return (f"Settings: preset {self.config['preset']}; {t['epochs']} epochs; seeds {', '.join(map(str, seeds))}; "
                f"{sizes}; precision {t['precision']}, device {t['device']} as asked (each run.json names what it used).")

    def column_headers(self, models: list[str]) -> dict[str, str]:
        """Table 1's header of each of ``models`` (``ald.paper.tables.column_headers``)."""
        return column_headers({m: self.config["models"][m]["paper_column"] for m in models})

    def own_columns_note(self) -> list[str]:
        """Table 1's note on columns that are not one paper column each: models of our own, or sharing a column."""
        headers = self.column_headers(self.models)
        if all(self.config["models"][m]["paper_column"] == h for m, h in headers.items()):
            return []
        return [f"After the paper's six columns: each model without a paper column (models.<name>.paper_column not "
                f"set), headed '<model> ({OURS_ONLY})', whose cells show the paper's value as —. Models that share a "
                "paper column each have their own column, headed '<model> (<paper column>)' in the paper's place, "
                "each beside that column's paper value."]

    def table_header(self, table: str) -> list[str]:
        if table == "parameters":
            return [f"Settings: preset {self.config['preset']}; every configured model, counted as built."]
        seeds = self.ablation_seeds if table == "table2" else None
        return [self.settings_line(seeds)]

    def table_left_out(self, table: str) -> list[dict]:
        """The identity and reason of each run ``not_run`` leaves out of a table: its cells say why they are empty."""
        if table == "parameters":
            return []
        if table == "table3":
            runs = [(r, self.unanalysed_reason(r)) for r in self.probed_runs()]
            runs = [(r, why) for r, why in runs if why is not None]
        else:
            runs = self.left_out_runs("ablations" if table == "table2" else "main")
        return [dict(self.identity(run), reason=reason) for run, reason in runs]

    def figure_note(self, figure: str) -> str:
        """The settings a figure states in its corner, and the panels ``not_run`` leaves out of it."""
        seeds = self.config["tau_sweep"]["seeds"] if figure == "figure3" else None
        datasets = self.config["tau_sweep"]["datasets"] if figure == "figure3" else None
        left_out = self.figure_left_out(figure)
        return self.settings_line(seeds, datasets) + (f" Not shown: {'; '.join(left_out)}." if left_out else "")

    def claims_notes(self) -> list[str]:
        return [
            "Each verdict is computed by the rule in its details (ald.paper.claims) from this results folder's "
            f"tables ({', '.join(self.claims_tables().values())}) and the tau sweep's probe files; the paper's "
            "numbers (typed in, src/ald/paper/values.py) go through the same rule where its tables allow.",
            "The settings that made our numbers are in the notes of each table; rows of datasets or models not "
            "built in this results folder read 'cannot test here'.",
        ]

    def table_notes(self, table: str) -> list[str]:
        """Lines printed under a table: the settings that made it and how to read it."""
        if table == "parameters":
            return ["Counted by building each configured model with its parameters for that group on the datasets' "
                    "layout (ald.plan.Plan.parameter_rows); every trained run's record (run.json, n_parameters) "
                    "holds the count of the model it trained.",
                    "ALD's count includes its mask logits (one per latent channel it splits: 64, or 16 for the "
                    "lifted airplanes latent); GALR's includes its attention module.",
                    "The disentanglement baselines count every network they train, with the linear layers between "
                    "ALD's convolutional trunk and their flat code (most of their weights, growing with the image): "
                    "InfoGAN-CR's generator, discriminator with Q-head, CR discriminator, inverter and calibration; "
                    "CausalVAE's encoder, decoder and structural equations; MAGANet's content and action encoders, "
                    "action module, decoder and regressor from g (docs/baselines.md)."]
        c, t = self.config, self.config["training"]
        train_items = t["max_train_items"] or "all"
        sources = ", ".join(f"{name} {source_settings(c['sources'][name])}"
                            for name in sorted({c["datasets"][d]["source"] for d in self.datasets}))
        kind = "probe" if table == "table3" else "metrics"
        seeds = self.ablation_seeds if table == "table2" else c["seeds"]
        notes = [
            f"Ours: mean ± sample std over seeds {seeds} (no std for one seed); data source(s): {sources}; "
            f"{t['epochs']} epochs, batch {t['batch_size']}, Adam lr {t['lr']}, training items: {train_items}.",
            f"Paper values are typed in from the paper ({table.replace('table', 'Table ')}); "
            "the difference is ours minus paper; — where the paper has no such cell.",
            "C4 is the group the authors' released code trains on; SO2 is the group the paper text names "
            "(for volumes: O, the 24 rotations of the cube, and SO3). "
            "The paper reports one number per dataset, so each of our groups is compared with it.",
            f"Every number comes from the {kind} JSON files under {self.results}/{'probes' if kind == 'probe' else 'metrics'}/ "
            "(column source_file of the CSV), each naming the run record that made it.",
        ]
        notes += [f"Dataset {d} ({self.row_name(d)}) is not in this table: {reason}" for d, reason in self.left_out.items()]
        notes += [f"{d} has no row in the paper's tables (datasets.{d}.paper_row is not set): its rows are ours "
                  "only, the paper's cells show — and no difference." for d in self.datasets
                  if c["datasets"][d]["paper_row"] is None]
        if table in ("table1", "table2"):
            notes.append("PSNR and SSIM are on [0, 1] pixels; RMSE is given on both scales: [-1, 1] (the models' own, "
                         "exactly twice [0, 1]) beside the paper's RMSE, which fits that scale and not the [0, 1] one of "
                         "its PSNR (claim i), and [0, 1], which the paper did not print.")
        if table == "table1":
            notes += [f"{d}: only {', '.join(self.models_of(d))} (datasets.{d}.models); the other columns show —."
                      for d in self.datasets if self.models_of(d) != self.models]
            notes += [f"{d} (row Airplanes) is supplementary, ours only: the paper prints no number for this dataset "
                      "(it shows it only in Figure 4)." for d in self.datasets
                      if c["datasets"][d]["paper_row"] == "Airplanes"]
            left_out = [m for m in c["models"] if m not in self.models]
            columns = lambda names: ", ".join(sorted(set(self.column_headers(names).values())))
            notes.append(
                "One column per model in the paper's order; each cell is ours (mean ± std) with the paper's "
                "value and ours − paper in brackets. ★ marks the best of the row among our models and, "
                "separately, among the paper's six (higher PSNR/SSIM, lower RMSE). — : no run of that model "
                f"in this table (in it: {columns(self.models)}"
                + (f"; configured but left out by only_models: {columns(left_out)}" if left_out else "") + ")."
            )
            notes += self.own_columns_note()
        if table == "table2":
            weights = ", ".join(f"{v}: {w}" for v, w in c["ablations"]["variants"].items())
            notes.append(f"Variants (loss weights overriding the model's): {weights}; 'both' is the full method.")
            notes += [f"Dataset {d} has no ablation runs: its pairs are rendered under {self.source(d).rendered_group}, "
                      f"which ablations.groups ({', '.join(c['ablations']['groups'])}) does not name."
                      for d in self.datasets if not self.groups(d, "ablations.groups")]
        if table == "table3":
            notes += [f"Dataset {d} is not probed: its source {c['datasets'][d]['source']} has no class labels."
                      for d in self.datasets if not self.labelled(d)]
            p = c["probes"]
            mlp = p["mlp"]
            notes.append(
                f"Probes fitted on {p['train_items']} training pairs and scored on {p['test_items']} test pairs, "
                "on standardised features z, z_i, z_v of the latent of T_g(x) (the rotated image) or of x (before "
                f"the action). linear: logistic regression (C={p['C']}, lbfgs, max_iter={p['max_iter']}); mlp: "
                f"scikit-learn MLPClassifier (hidden {mlp['hidden']}, ReLU, Adam, alpha {mlp['alpha']}, at most "
                f"{mlp['max_iter']} epochs, early stopping on 10% of the training pairs, random_state {p['probe_seed']}). "
                "The paper names neither its classifier nor its input. Precision, recall and F1 are macro "
                "averages; AUC is macro one-vs-rest. 'empty' means the mask put every channel in z_v, so z_i "
                "has no features to probe."
            )
        return notes
