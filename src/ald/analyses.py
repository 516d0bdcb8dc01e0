"""The analyses of a trained run, one registry entry each: its name (the results folder its files go to), the
function that computes it, the settings it takes from the config, the keys its log prints and its resources.
The CLI (``ald analyse <name>``), the plan (``Plan.analysis_file``) and the workflow's ``analyse`` rule all read
this registry, so adding an analysis is one ``register_analysis(Analysis(...))``.

The functions are named as ``module:function`` and imported only when an analysis runs, which keeps the CLI's
start-up free of torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .registry import Registry


def test_seed_only(config: dict) -> dict:
    return {"test_seed": config["evaluation"]["test_seed"]}


def probe_settings(config: dict) -> dict:
    probes = {k: v for k, v in config["probes"].items() if k != "models"}
    return dict(probes, test_seed=config["evaluation"]["test_seed"])


@dataclass(frozen=True)
class Analysis:
    name: str  # results/<name>/<dataset>/<group>/<model>/seed<seed>.json
    function: str  # "module:function" taking (run_dir, out_json, identity, **settings) and returning the result
    help: str
    log_keys: tuple[str, ...]  # the result's keys printed to the job's log
    settings: Callable[[dict], dict] = test_seed_only  # its keyword arguments, from the validated config
    minutes: int = 20  # resources of one job (grown per retry attempt)
    mem_mb: int = 2000

    def file(self, results: str, run_key: str) -> str:
        return f"{results}/{self.name}/{run_key}.json"

    def run(self, run_dir: Path, out_json: Path, identity: dict, settings: dict) -> dict:
        module, function = self.function.split(":")
        analyse = getattr(importlib.import_module(module), function)
        result = analyse(run_dir=run_dir, out_json=out_json, identity=identity, **settings)
        return {key: result[key] for key in self.log_keys}


ANALYSES = Registry("analysis")


def register_analysis(analysis: Analysis) -> Analysis:
    return ANALYSES.add(analysis.name, analysis)


register_analysis(Analysis("metrics", "ald.evaluate:evaluate", "score a trained run on its test pairs (PSNR, SSIM, "
                           "RMSE: Tables 1-2)", ("psnr", "ssim", "rmse", "diagnostics")))
register_analysis(Analysis("probes", "ald.probes:probe_run", "probes (linear, MLP) of z, z_i and z_v of a trained run "
                           "(Table 3)", ("probes",), settings=probe_settings, minutes=30, mem_mb=4000))
register_analysis(Analysis("checks", "ald.evaluate:check", "group laws of the learned action and what a latent swap "
                           "carries (claims f, g)", ("laws_psnr", "swap_fraction")))
register_analysis(Analysis("angles", "ald.evaluate:angles", "errors of a trained run by rotation angle, with an oracle "
                           "ceiling (continuous groups)", ("mean",)))
