"""Config validation: the JSON schema, the defaults it states, and the checks against the registries.

``validated(config)`` parses values given as text on the command line, fills in every default of the schema
(``config.schema.yaml`` in the ``ald`` package), and lists every problem at once, one line each (key, what is
wrong, the fix): keys given twice in a config file, schema violations, names that no registry (groups,
sources, pair recipes, model kinds) knows or parameters a registered thing does not declare, and
cross-references between sections (``reference_problems``). Any problem raises ``ConfigError``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

from ..groups import GROUPS
from ..models import MODELS
from ..pairs import RECIPES
from ..paper import values as paper_values
from ..registry import fill_defaults
from ..sources import SOURCES, TermsNotAccepted, check_terms
from .names import variants

SCHEMA_PATH = Path(__file__).parent.with_name("config.schema.yaml")


class ConfigError(ValueError):
    """The config has problems; ``problems`` holds one line per problem (key, what is wrong, the fix)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"Error validating config ({len(problems)} problem(s)):\n" + "\n".join(f"  - {p}" for p in problems))


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


def unknown_name(key: str, name: str, registry, what: str) -> str:
    return (f"{key}: unknown {what} {name!r}; known: {', '.join(sorted(registry))}. "
            f"Fix: use one of them, or register a new {what} (docs/extending.md)")


def registry_problems(config: dict) -> list[str]:
    """Names that must be registered, and the parameters each registered thing declares."""
    return source_problems(config) + recipe_problems(config) + group_name_problems(config) + model_problems(config)


def source_problems(config: dict) -> list[str]:
    """Unknown sources, and each known source's parameters (its schema, then its own check)."""
    problems = []
    for name, entry in config["sources"].items():
        if name not in SOURCES:
            problems.append(unknown_name(f"sources.{name}", name, SOURCES, "source"))
        else:
            own = schema_problems(entry, SOURCES[name].params_schema, f"sources.{name}")
            problems += own
            if SOURCES[name].check_params and not own:
                problems += SOURCES[name].check_params(fill_defaults(copy.deepcopy(entry), SOURCES[name].params_schema))
    return problems


def recipe_problems(config: dict) -> list[str]:
    """Unknown pair recipes, and each known recipe's parameters."""
    problems = []
    for name, recipe in ((name, entry["recipe"]) for name, entry in config["datasets"].items()):
        if recipe["kind"] in RECIPES:
            schema = object_schema({"kind": {"const": recipe["kind"]}, **RECIPES[recipe["kind"]].params_schema}, ("kind",))
            problems += schema_problems(recipe, schema, f"datasets.{name}.recipe")
        else:
            problems.append(unknown_name(f"datasets.{name}.recipe.kind", recipe["kind"], RECIPES, "pair recipe"))
    return problems


def group_name_problems(config: dict) -> list[str]:
    group_lists = {"groups": config["groups"], "ablations.groups": config["ablations"]["groups"],
                   "tau_sweep.groups": config["tau_sweep"]["groups"], "figures.groups": config["figures"]["groups"]}
    return [unknown_name(key, g, GROUPS, "group") for key, names in group_lists.items() for g in names if g not in GROUPS]


def model_problems(config: dict) -> list[str]:
    """Unknown model kinds, and each model's parameters: its own, a dataset's overrides and each group's."""
    problems = []
    for name, entry in config["models"].items():
        kind = entry["params"]["kind"]
        if kind not in MODELS:
            problems.append(unknown_name(f"models.{name}.params.kind", kind, MODELS, "model kind"))
            continue
        problems += schema_problems(entry["params"], model_params_schema(kind), f"models.{name}.params")
        for dataset, dataset_entry in config["datasets"].items():
            if dataset_entry["model_params"] and name in (dataset_entry["models"] or config["models"]):
                problems += schema_problems(dataset_entry["model_params"], model_params_schema(kind, partial=True),
                                            f"datasets.{dataset}.model_params (for model {name})")
        for group, overrides in entry["group_params"].items():
            if group not in GROUPS:
                problems.append(unknown_name(f"models.{name}.group_params", group, GROUPS, "group"))
            problems += schema_problems(overrides, model_params_schema(kind, partial=True),
                                        f"models.{name}.group_params.{group}")
    return problems


def reference_problems(config: dict) -> list[str]:
    """Cross-references between sections, and datasets paired with groups that cannot act on them."""
    problems = section_problems(config)
    sources = {name: configured_source(config, name) for name in config["sources"]}
    source_of = lambda dataset: sources.get(config["datasets"][dataset]["source"])
    return problems + acting_group_problems(config, source_of) + dataset_problems(config, source_of)


def section_problems(config: dict) -> list[str]:
    """Names of datasets, sources and models that another section refers to but that are not configured."""
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
            if model not in config["models"] and model not in variants(config):
                missing(f"not_run[{i}].models", model, "models")
    model_lists = {"probes.models": config["probes"]["models"], "only_models": config["only_models"],
                   **{f"datasets.{d}.models": entry.get("models") for d, entry in config["datasets"].items()}}
    for key, names in model_lists.items():
        for model in names or []:
            if model not in config["models"]:
                missing(key, model, "models")
    return problems


def acting_group_problems(config: dict, source_of) -> list[str]:
    """Group lists a dataset is trained under of which no group acts on it (``source_of``: dataset -> its
    configured source, or None)."""
    problems = []
    for dataset, key, names in dataset_group_lists(config):
        if dataset not in config["datasets"]:
            continue
        source = source_of(dataset)
        if names and source is not None and all(g in GROUPS for g in names) and not groups_acting_on(names, source):
            known = ", ".join(groups_acting_on(list(GROUPS), source))
            kind = f"{source.spatial_dims}-D" + (f" renders related by {source.rendered_group}" if source.rendered_group else "")
            fix = f"add {known}" if source.rendered_group else f"add a {source.spatial_dims}-D group ({known})"
            problems.append(f"{key}: none of {names} acts on dataset {dataset}, which is {kind}. Fix: {fix}")
    return problems


def dataset_problems(config: dict, source_of) -> list[str]:
    """Datasets the tau sweep reads by probes without class labels, and named datasets whose terms are not accepted."""
    configured = set(config["datasets"])
    problems = []
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
