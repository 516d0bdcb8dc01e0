"""From the workflow config to runs, training specs, targets and the facts of the table notes.

``Plan(config)`` validates the config (``validation``: the JSON schema ``config.schema.yaml`` of the ``ald``
package, then the names that come from registries and the cross-references between sections), fills in every
default (stated once, in the schema; model defaults in the model's constructor), and answers what the rules
need: which (dataset, group, model, seed) runs exist and each run's ``TrainSpec`` (``runs``), the files of
every run, table and figure and whether a tracked one is stale (``files``), and what each table and figure is
made from (``artifacts``; each table's object in ``ald.paper.tables`` answers for its table). The workflow's
``common.smk`` only connects these answers to rules; everything here is unit-tested without Snakemake.

Model names: a configured model (``ald``) or one of the variants the config declares (``names``).
"""

from __future__ import annotations

from ..registry import fill_defaults
from .artifacts import ArtifactsMixin
from .files import FilesMixin, input_files
from .names import Run, variants
from .runs import RunsMixin
from .validation import ConfigError, config_schema, schema_problems, terms_problem, validated

__all__ = ["ConfigError", "Plan", "Run", "config_schema", "fill_defaults", "input_files", "schema_problems"]


class Plan(RunsMixin, FilesMixin, ArtifactsMixin):
    """The config's answers for the workflow: runs and their specs, files, and the artifacts' inputs and notes."""

    def __init__(self, config: dict, config_files=()):
        self.config = validated(config, config_files)
        c = self.config
        self.results, self.data = c["results"], c["data"]["root"]
        # Without only_datasets, a dataset whose terms are not accepted is left out, and the notes say so.
        selected = c["only_datasets"] or list(c["datasets"])
        self.left_out = {d: reason for d in selected if (reason := terms_problem(c, d))}
        self.datasets = [d for d in selected if d not in self.left_out]
        self.models = c["only_models"] or list(c["models"])
        self.variants = variants(c)  # model name -> Variant (parent, label, overrides)
        self.ablation_seeds = c["ablations"]["seeds"] or c["seeds"]
        self.configured_sources = {}  # source name -> the source as configured (resolved once: a folder is listed)
