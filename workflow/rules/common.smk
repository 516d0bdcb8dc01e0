# Connects the library's plan (ald.plan: validation, defaults, runs, specs, targets, the notes' facts) to rules.
import json
import os
import re
import shlex
import shutil
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "src"))
from ald.analyses import ANALYSES
from ald.paper import FIGURES, TABLES
from ald.plan import ConfigError, Plan, Run

try:
    PLAN = Plan(config, workflow.configfiles)
except (
    ConfigError
) as error:  # one line per problem instead of the whole schema and config
    sys.exit(str(error))

SETTINGS = PLAN.config  # the validated config with every default filled in
RESULTS = PLAN.results
DATA = PLAN.data
LOGS = f"{RESULTS}/logs"
ENV = "../../envs/ald.yaml"
THREADS = SETTINGS["training"]["threads"]
# Every rule runs the library of this checkout (python -m ald.cli), whether or not it is pip-installed.
shell.prefix(
    f"export PYTHONPATH={shlex.quote(os.path.join(workflow.basedir, 'src'))}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
)


def one_of(names):
    return "|".join(re.escape(str(n)) for n in names)


wildcard_constraints:
    dataset=one_of(SETTINGS["datasets"]),
    group=one_of(
        SETTINGS["groups"]
        + SETTINGS["ablations"]["groups"]
        + SETTINGS["tau_sweep"]["groups"]
    ),
    model=one_of(PLAN.model_names()),
    seed=r"\d+",
    source=one_of(SETTINGS["sources"]),
    analysis=one_of(ANALYSES),
    table="|".join(TABLES),
    figure="|".join(FIGURES),


def run_of(w):
    return Run(w.dataset, w.group, w.model, int(w.seed))


def quoted_json(value):
    return shlex.quote(json.dumps(value))


def per_attempt(base):
    """A resource that grows with the retry attempt (SLURM time and memory limits)."""
    return lambda wildcards, attempt: base * attempt


def train_minutes(wildcards, attempt):
    # One minute per epoch: a full-MNIST epoch takes 30-45 s on one CPU thread (results/reduced/models/*/history.csv).
    return attempt * (10 + SETTINGS["training"]["epochs"])


def train_gpu_permille():
    """A training job's share of one GPU in thousandths: 1000 // training.jobs_per_gpu when it may use a GPU
    here (device cuda, or auto with a GPU visible), else 0. profiles/default makes 1000 of them (one GPU).
    """
    # An NVIDIA driver and no CUDA_VISIBLE_DEVICES hiding it: asking torch would initialise CUDA
    # in every parse of the workflow.
    device = SETTINGS["training"]["device"]
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1")
    visible = shutil.which("nvidia-smi") is not None and not hidden
    on_gpu = device.startswith("cuda") or (device == "auto" and visible)
    return 1000 // SETTINGS["training"]["jobs_per_gpu"] if on_gpu else 0
