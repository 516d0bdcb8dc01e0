import json
import os
import shlex
import shutil
import sys

from snakemake.utils import validate

sys.path.insert(0, os.path.join(workflow.basedir, "src"))
from ald.cli import flat_paths  # light: the CLI imports its heavy modules lazily

validate(config, "../schemas/config.schema.yaml")

RESULTS = config["results"]
DATA = config["data"]["root"]
LOGS = f"{RESULTS}/logs"
ENV = "../../envs/ald.yaml"
# Every rule runs the library of this checkout (python -m ald.cli), whether or not it is pip-installed.
shell.prefix(
    f"export PYTHONPATH={shlex.quote(os.path.join(workflow.basedir, 'src'))}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
)


ABLATIONS = config["ablations"]
ABLATION_SEEDS = ABLATIONS.get("seeds", config["seeds"])
TAU_SWEEP = config["tau_sweep"]
# A configured model ("ald") or one of its variants ("ald-inv_only", "ald-tau0.3").
MODEL_PATTERN = "({})(-({}|tau[0-9.]+))?".format(
    "|".join(config["models"]), "|".join(ABLATIONS["variants"]) or "none"
)


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    group="|".join(config["groups"]),
    model=MODEL_PATTERN,
    seed=r"\d+",
    source="|".join(config["sources"]),


def per_attempt(base):
    """A resource that grows with the retry attempt (SLURM time and memory limits)."""
    return lambda wildcards, attempt: base * attempt


def train_minutes(wildcards, attempt):
    # One minute per epoch: a full-MNIST epoch takes 30-45 s on one CPU thread (results/models/*/history.csv).
    return attempt * (10 + config["training"]["epochs"])


def train_gpus():
    """1 when training may use a GPU here (device cuda, or auto with a GPU visible), else 0."""
    # An NVIDIA driver and no CUDA_VISIBLE_DEVICES hiding it: importing torch to ask would slow
    # down every parse of the workflow.
    device = config["training"].get("device", "auto")
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1")
    visible = shutil.which("nvidia-smi") is not None and not hidden
    return int(device.startswith("cuda") or (device == "auto" and visible))


def table_files(name):
    return expand(f"{RESULTS}/tables/{name}.{{ext}}", ext=["csv", "md", "tex"])


def figure_files(name):
    return expand(f"{RESULTS}/figures/{name}.{{ext}}", ext=["png", "pdf"])


def all_targets():
    tables = [table_files(t) for t in ("table1", "table2", "table3")]
    figures = [figure_files(f) for f in ("figure2", "figure3", "figure5", "swap")]
    return sum(tables + figures, [])


def split_model(model):
    """'ald-inv_only' -> ('ald', 'inv_only'); 'ald' -> ('ald', '')."""
    base, _, variant = model.partition("-")
    return base, variant


def model_params(model, group):
    """Constructor parameters of a model or variant, resolved from the config."""
    base, variant = split_model(model)
    entry = config["models"][base]
    params = dict(entry["params"], **entry.get("group_params", {}).get(group, {}))
    if variant.startswith("tau"):
        params["tau"] = float(variant[3:])
    elif variant:
        weights = params.get("loss_weights", {"recon": 1.0, "inv": 1.0, "const": 1.0})
        params["loss_weights"] = dict(weights, **ABLATIONS["variants"][variant])
    return params


def variant_label(model):
    """How tables name a model's loss setting: 'both' for the full method, else the variant."""
    variant = split_model(model)[1]
    return variant or "both"


def tau_model(tau):
    """The model name trained at threshold tau: the base model itself at its own tau."""
    base = TAU_SWEEP["model"]
    return (
        base
        if tau == config["models"][base]["params"].get("tau", 0.5)
        else f"{base}-tau{tau}"
    )


def ablation_runs():
    models = [ABLATIONS["model"]] + [
        f"{ABLATIONS['model']}-{v}" for v in ABLATIONS["variants"]
    ]
    return [
        dict(dataset=d, group=g, model=m, seed=s)
        for d in config["datasets"]
        for g in ABLATIONS["groups"]
        for m in models
        for s in ABLATION_SEEDS
    ]


def tau_runs():
    return [
        dict(dataset=d, group=g, model=tau_model(t), seed=s)
        for d in TAU_SWEEP["datasets"]
        for g in TAU_SWEEP["groups"]
        for t in TAU_SWEEP["taus"]
        for s in TAU_SWEEP["seeds"]
    ]


def run_files(run, kind):
    """Paths of one run: its trained model files ('model'), metrics or probe results."""
    key = f"{run['dataset']}/{run['group']}/{run['model']}/seed{run['seed']}"
    if kind == "model":
        return [f"{RESULTS}/models/{key}/best.pt", f"{RESULTS}/models/{key}/run.json"]
    return f"{RESULTS}/{kind}/{key}.json"


def identity(w):
    """The labels every metrics or probe file carries, so tables need not parse paths."""
    base, _ = split_model(w.model)
    return quoted_json(
        dict(
            dataset=w.dataset,
            paper_row=config["datasets"][w.dataset]["paper_row"],
            group=w.group,
            model=w.model,
            paper_column=config["models"][base]["paper_column"],
            variant=variant_label(w.model),
            seed=int(w.seed),
        )
    )


def model_runs(models=None):
    """(dataset, group, model, seed) of every configured training run."""
    return [
        dict(dataset=d, group=g, model=m, seed=s)
        for d in config["datasets"]
        for g in config["groups"]
        for m in (models or config["models"])
        for s in config["seeds"]
    ]


def source_npz(w):
    return f"{DATA}/prepared/{config['datasets'][w.dataset]['source']}.npz"


def train_spec(w, input):
    """The TrainSpec of one run, resolved from the config, as a shell-quoted JSON string."""
    params = model_params(w.model, w.group)
    training = config["training"]
    spec = dict(
        source_npz=str(input.npz),
        block=config["datasets"][w.dataset]["block"],
        group=w.group,
        model=params,
        seed=int(w.seed),
        epochs=training["epochs"],
        batch_size=training["batch_size"],
        lr=training["lr"],
        val_seed=config["evaluation"].get("val_seed", 0),
        threads=training.get("threads", 2),
        device=training.get("device", "auto"),
        max_train_items=training.get("max_train_items"),
    )
    return shlex.quote(json.dumps(spec))


def quoted_json(value):
    return shlex.quote(json.dumps(value))


def metrics_files(runs):
    return [run_files(r, "metrics") for r in runs]


def table_notes(table):
    """Lines printed under a table: the settings that made it and how to read it."""
    t = config["training"]
    train_items = t.get("max_train_items") or "all"
    sources = ", ".join(sorted({d["source"] for d in config["datasets"].values()}))
    kind = "probe" if table == "table3" else "metrics"
    seeds = ABLATION_SEEDS if table == "table2" else config["seeds"]
    notes = [
        f"Ours: mean ± sample std over seeds {seeds} (no std for one seed); data source(s): {sources}; "
        f"{t['epochs']} epochs, batch {t['batch_size']}, Adam lr {t['lr']}, training items: {train_items}.",
        f"Paper values are typed in from the paper ({table.replace('table', 'Table ')}); "
        "the difference is ours minus paper; — where the paper has no such cell.",
        "C4 is the group the authors' released code trains on; SO2 is the group the paper text names. "
        "The paper reports one number per dataset, so each of our groups is compared with it.",
        f"Every number comes from the {kind} JSON files under {RESULTS}/{'probes' if kind == 'probe' else 'metrics'}/ "
        "(column source_file of the CSV), each naming the run record that made it.",
    ]
    if table == "table2":
        weights = ", ".join(f"{v}: {w}" for v, w in ABLATIONS["variants"].items())
        notes.append(
            f"Variants (loss weights overriding the model's): {weights}; 'both' is the full method."
        )
    if table == "table3":
        p = config["probes"]
        notes.append(
            f"Linear probe: standardised features, logistic regression (C={p.get('C', 1.0)}, lbfgs, "
            f"max_iter={p.get('max_iter', 1000)}) fitted on {p.get('train_items', 10000)} training pairs, "
            f"scored on {p.get('test_items', 10000)} test pairs; features are z, z_i, z_v of T_g(x). "
            "Precision, recall and F1 are macro averages; AUC is macro one-vs-rest. 'empty' means the "
            "mask put every channel in z_v, so z_i has no features to probe."
        )
    return notes


TABLE_INPUTS = {
    "table1": lambda: metrics_files(model_runs()),
    "table2": lambda: metrics_files(ablation_runs()),
    "table3": lambda: [run_files(r, "probes") for r in model_runs()],
}


def first_seed_model(dataset, model):
    return run_files(
        dict(
            dataset=dataset,
            group=config["figures"]["group"],
            model=model,
            seed=config["seeds"][0],
        ),
        "model",
    )


def figure2_models():
    """{dataset: {variant: [checkpoint, run record]}} of the first seed's ablation models."""
    base = ABLATIONS["model"]
    models = [base] + [f"{base}-{v}" for v in ABLATIONS["variants"]]
    return {
        d: {variant_label(m): first_seed_model(d, m) for m in models}
        for d in config["datasets"]
    }


FIGURE_INPUTS = {
    "figure2": figure2_models,
    "figure3": lambda: [run_files(r, "probes") for r in tau_runs()],
    "figure5": lambda: first_seed_model(
        config["figures"]["latent_dataset"], ABLATIONS["model"]
    ),
    "swap": lambda: first_seed_model(
        config["figures"]["latent_dataset"], ABLATIONS["model"]
    ),
}
