import json
import os
import shlex

from snakemake.utils import validate

validate(config, "../schemas/config.schema.yaml")

RESULTS = config["results"]
DATA = config["data"]["root"]
LOGS = f"{RESULTS}/logs"
ENV = "../../envs/ald.yaml"
# Every rule runs the library of this checkout (python -m ald.cli), whether or not it is pip-installed.
shell.prefix(
    f"export PYTHONPATH={shlex.quote(os.path.join(workflow.basedir, 'src'))}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; "
)


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    group="|".join(config["groups"]),
    model="|".join(config["models"]),
    seed=r"\d+",
    source="|".join(config["sources"]),


def table_files(name):
    return expand(f"{RESULTS}/tables/{name}.{{ext}}", ext=["csv", "md", "tex"])


def all_targets():
    return table_files("table1")


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
    model = config["models"][w.model]
    params = dict(model["params"], **model.get("group_params", {}).get(w.group, {}))
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
    return [
        f"{RESULTS}/metrics/{r['dataset']}/{r['group']}/{r['model']}/seed{r['seed']}.json"
        for r in runs
    ]


def table_notes():
    """Lines printed under every table: the settings that made it and how to read it."""
    t = config["training"]
    train_items = t.get("max_train_items") or "all"
    sources = ", ".join(sorted({d["source"] for d in config["datasets"].values()}))
    return [
        f"Ours: mean ± sample std over seeds {config['seeds']}; data source(s): {sources}; "
        f"{t['epochs']} epochs, batch {t['batch_size']}, Adam lr {t['lr']}, training items: {train_items}.",
        "Paper values are typed in from the paper (Table 1); the difference is ours minus paper.",
        "C4 is the group the authors' released code trains on; SO2 is the group the paper text names. "
        "The paper reports one number per dataset, so both of our rows are compared with it.",
        "Every number comes from the metrics JSON files under "
        f"{RESULTS}/metrics/ (column source_file of the CSV), each naming the run record that made it.",
    ]
