"""The Snakemake workflow itself: dry runs, config validation, the demo and a real-MNIST run."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ald.paper.tables.frames import METRICS, load_metrics
from conftest import REPO, require_mnist_mirror

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args, timeout=1800):
    # rules call `python`: make it this interpreter, as an activated virtual environment would
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([*SNAKEMAKE, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)


def write_config(tmp_path, base: Path, **changes) -> Path:
    config = yaml.safe_load(base.read_text())
    for key, value in changes.items():
        target = config
        *parents, last = key.split(".")
        for p in parents:
            target = target[p]
        target[last] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_dry_run_of_all_lists_every_paper_job(tmp_path):
    config = write_config(tmp_path, REPO / "config.yaml", results=str(tmp_path / "results"),
                          **{"data.root": str(tmp_path / "data")})
    run = snakemake("-n", "--quiet", "rules", "all", "--configfile", str(config), "--replace-workflow-config")
    assert run.returncode == 0, run.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, re.MULTILINE))
    n_runs = 3 * 2 * 6 * 3  # datasets (brains left out: OASIS terms) x their groups x the 6 models x seeds of config.yaml
    n_probed = 3 * 2 * 1 * 3  # probes.models: [ald]
    assert counts["fetch_mnist"] == counts["fetch_adrenalmnist3d"] == "1" and counts["prepare"] == "2"
    n_ablation = 3 * 1 * 2 * 3  # datasets x groups [C4] or [O] x variants x seeds
    n_tau = 3 * 1 * (9 - 1) * 3  # datasets x groups x taus other than the model's own x seeds
    assert counts["train"] == str(n_runs + n_ablation + n_tau)
    n_metrics = n_runs + n_ablation
    n_probes = n_probed + n_tau  # the sweep at the model's own tau reuses the main runs
    n_checks = 3  # the figures' run of each dataset: group laws and latent swap, for the claims
    n_angles = 3 * 1 * 1 * 3  # figures.angle_datasets x their continuous group x the method x seeds
    assert counts["analyse"] == str(n_metrics + n_probes + n_checks + n_angles)
    assert len(list((tmp_path / "results").glob("**/*.json"))) == 0  # a dry run writes nothing
    assert counts["make_claims"] == "1"
    assert counts["make_table"] == "4" and counts["make_figure"] == "6"


def test_variants_resolve_their_parameters(tmp_path):
    config = write_config(tmp_path, REPO / "config.yaml", results=str(tmp_path / "results"),
                          **{"data.root": str(tmp_path / "data")})
    run = snakemake("-n", "-p", "figure3", "table2", "--configfile", str(config), "--replace-workflow-config")
    assert run.returncode == 0, run.stderr
    specs = [json.loads(m) for m in re.findall(r"--spec '(\{.*?\})'", run.stdout)]
    taus = sorted({s["model"]["tau"] for s in specs if s["group"] == "C4" and s["seed"] == 42})
    assert taus == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    weights = [s["model"]["loss_weights"] for s in specs]
    assert {"recon": 1.0, "inv": 1.0, "const": 0.0} in weights and {"recon": 1.0, "inv": 0.0, "const": 1.0} in weights
    assert all(s["model"].get("latent_rms_norm") for s in specs if s["group"] == "SO2")


def test_figure_fails_clearly_when_its_inputs_are_missing(tmp_path):
    from ald.cli import main

    with pytest.raises(FileNotFoundError, match="figure5 needs 2 missing input.*nothing/best.pt.*snakemake"):
        main(["figure", "figure5", "--inputs", json.dumps("nothing"), "--test-seed", "0",
              "--outputs", str(tmp_path / "fig.png")])
    assert not (tmp_path / "fig.png").exists()


def test_every_configured_run_is_in_the_dag(tmp_path):
    run = snakemake("-n", "--forceall", "all", "--configfile", str(write_config(tmp_path, REPO / "config.yaml")),
                    "--replace-workflow-config")
    assert run.returncode == 0, run.stderr
    for dataset in ("rotated_mnist", "rotated_blocked_mnist"):
        for group in ("C4", "SO2"):
            for seed in (42, 43, 44):
                assert f"results/metrics/{dataset}/{group}/ald/seed{seed}.json" in run.stdout


@pytest.mark.parametrize("override, key", [
    ("bogus_key=1", "bogus_key"),
    ("training={'epochs': 'ten', 'batch_size': 64, 'lr': 0.001}", "epochs"),
    ("groups=['C4', 'SO7']", "SO7"),
])
def test_bad_config_fails_before_any_job_and_names_the_key(override, key):
    run = snakemake("-n", "all", "--config", override)
    assert run.returncode != 0
    message = run.stdout + run.stderr
    problems = [line for line in message.splitlines() if line.startswith("  - ")]
    assert "Error validating config (1 problem(s))" in message and len(problems) == 1 and key in problems[0]
    assert "rule train" not in message and len(message.splitlines()) < 8  # no schema or config dump


def test_booleans_can_be_set_on_the_command_line():
    run = snakemake("-n", "all", "--config", "data={'root': 'data', 'allow_network': 'false'}")
    assert run.returncode == 0, run.stdout + run.stderr


def test_lint_and_format_are_clean():
    lint = snakemake("--lint")
    assert lint.returncode == 0 and "Congratulations" in lint.stdout + lint.stderr, lint.stdout + lint.stderr
    fmt = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/"], cwd=REPO,
                         capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stderr


def test_missing_data_without_network_names_each_file(tmp_path):
    config = write_config(tmp_path, REPO / "config.yaml", results=str(tmp_path / "results"),
                          **{"data.root": str(tmp_path / "data"), "data.mirror": str(tmp_path / "empty"),
                             "data.allow_network": False, "data.retries": 1})
    run = snakemake("--cores", "1", f"{tmp_path}/data/raw/mnist/t10k-labels-idx1-ubyte.gz", "--configfile", str(config),
                    "--replace-workflow-config", "--retries", "0")
    assert run.returncode != 0
    log = (tmp_path / "data/logs/fetch/mnist.log").read_text()  # beside the data root it fetched into
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert f"cannot obtain {name}" in log
    assert "set `data: mirror:`" in log
    assert not list((tmp_path / "data/raw/mnist").glob("*.gz"))


def check_table_traces_to_metrics(results: Path):
    table = pd.read_csv(results / "tables/table1.csv")
    assert table["mean"].notna().all() and len(table) > 0
    keys = {name: key for key, name in METRICS}
    for _, row in table.iterrows():
        files = sorted((results / "metrics" / row["dataset"] / row["group"] / row["model"]).glob("seed*.json"))
        assert set(row["source_file"].split(";")) == {str(f) for f in files}  # the cell names exactly these files
        ours = load_metrics(files)[keys[row["metric"]]].mean()
        assert ours == pytest.approx(row["mean"], rel=1e-5)
    return table


def check_job_timings_match_job_stats(stderr: str) -> None:
    """benchmarks/demo.py's reading of the run's log finds every job Snakemake counted, with a duration."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from demo import job_seconds

    stats = stderr.split("Job stats:", 1)[1].split("\ntotal", 1)[0]
    counted = {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", stats, re.M)}
    timed = job_seconds(max(REPO.glob(".snakemake/log/*.snakemake.log")))
    assert {rule: len(seconds) for rule, seconds in timed.items()} == counted
    assert sum(timed["train"]) > 0 and min(min(seconds) for seconds in timed.values()) >= 0


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    config = write_config(tmp_path, REPO / "profiles/demo/demo.yaml", results=str(tmp_path / "results"),
                          **{"data.root": str(tmp_path / "data")})
    run = snakemake("all", "--profile", "profiles/demo", "--configfile", str(config))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    check_job_timings_match_job_stats(run.stderr)
    results = tmp_path / "results"
    for name in ("table1", "table2", "table3"):
        for ext in ("csv", "md", "tex"):
            assert (results / f"tables/{name}.{ext}").stat().st_size > 0
    for name in ("figure2", "figure3", "figure4", "renders", "figure5", "swap", "angles", "curves"):
        for ext in ("png", "pdf"):
            assert (results / f"figures/{name}.{ext}").stat().st_size > 10_000
    report = snakemake("--profile", "profiles/demo", "--configfile", str(config), "--report", str(tmp_path / "report.html"))
    assert report.returncode == 0 and (tmp_path / "report.html").stat().st_size > 100_000, report.stderr[-2000:]
    table3 = pd.read_csv(results / "tables/table3.csv")
    assert set(table3["part"]) == {"z", "z_i", "z_v"} and table3.loc[table3.part == "z", "mean"].min() > 20
    table = check_table_traces_to_metrics(results)
    assert set(table["group"]) == {"C4", "SO2", "O", "SO3"}
    assert set(table["paper_row"]) == {"RMNIST", "RBMN", "Adrenals", "Airplanes"}
    verdicts = pd.read_csv(results / "claims.csv")
    assert list(verdicts["claim"]) == list("abcdefghi") and verdicts["verdict"].str.len().min() > 0
    assert (results / "claims.md").read_text().count("\n| ") == 10  # header and one row per claim
    log = (results / "logs/train/rotated_glyphs/C4/ald/seed1.log").read_text()
    assert "epoch   1" in log and "variant" in log


@pytest.mark.slow
def test_real_mnist_small_run(tmp_path):
    """The paper workflow on the real MNIST files from the offline mirror, at small scale."""
    mirror = require_mnist_mirror()
    config = write_config(tmp_path, REPO / "config.yaml", results=str(tmp_path / "results"), seeds=[1],
                          groups=["C4"], only_datasets=["rotated_mnist"],
                          **{"data.root": str(tmp_path / "data"), "data.mirror": str(mirror.parent),
                             "data.allow_network": False, "training.epochs": 1, "training.max_train_items": 3000,
                             "training.threads": 2})
    run = snakemake("--cores", "2", "--configfile", str(config), "--replace-workflow-config", "table1")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    table = check_table_traces_to_metrics(tmp_path / "results")
    psnr = table[table.metric == "PSNR"].iloc[0]
    assert psnr["paper"] == 30.61 and 12 < psnr["mean"] < 40  # one short epoch already learns the rotation
    metrics = json.loads((tmp_path / "results/metrics/rotated_mnist/C4/ald/seed1.json").read_text())
    assert metrics["n_test_pairs"] == 10000
