"""Bad input and faults the workflow refuses or recovers from (docs/bad-input.md): paths that a shell would split,
a config that changes what a tracked file would contain, configs that say one thing and mean another, and a killed
Snakemake process. The geometry and acquisition classes have their own files (test_hostile_geometry.py,
test_hostile_acquisition.py)."""

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ald.plan import ConfigError, Plan
from conftest import REPO

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
DEMO = REPO / "profiles/demo/demo.yaml"


def snakemake(*args, timeout=900, **popen):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=env, **popen)


def merged(base: dict, *overlays: dict) -> dict:
    """``base`` with each overlay merged over it, key by key, as Snakemake merges config files."""
    result = copy.deepcopy(base)
    for extra in overlays:
        for key, value in extra.items():
            both = isinstance(value, dict) and isinstance(result.get(key), dict)
            result[key] = merged(result[key], value) if both else copy.deepcopy(value)
    return result


def overlay(tmp_path, name="mine.yaml", **settings) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(settings, allow_unicode=True))
    return str(path)


# -- class 1: a path with shell metacharacters is one argument, never a command


@pytest.mark.parametrize("name", ["with space", "semi;colon", "dollar$(touch PWNED)", "quote'd", 'back`tick`'])
def test_a_data_root_with_shell_metacharacters_stays_one_path(tmp_path, name):
    root = tmp_path / name / "data"
    mine = overlay(tmp_path, data={"root": str(root), "allow_network": False}, results=str(tmp_path / name / "res"))
    target = f"{root}/prepared/glyphs.npz"
    run = snakemake(target, "--cores", "1", "--configfile", str(DEMO), mine)
    assert run.returncode == 0, run.stderr[-3000:]
    assert Path(target).is_file()
    stray = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(tmp_path / name)
             and p.name != "mine.yaml"]
    assert stray == [] and not (REPO / "PWNED").exists() and not (Path.cwd() / "PWNED").exists()


# -- class 2: a changed config never hands back the old file in silence


def headline_slice(tmp_path, seeds) -> dict:
    """A results folder holding the tracked headline's ALD Rotated MNIST C4 run of seed 42 and its metrics."""
    results = tmp_path / "results"
    run = "rotated_mnist/C4/ald/seed42"
    for part in (f"models/{run}/run.json", f"models/{run}/history.csv", f"metrics/{run}.json"):
        (results / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "results" / part, results / part)
    return dict(results=str(results), only_datasets=["rotated_mnist"], only_models=["ald"], groups=["C4"],
                seeds=seeds, training={"threads": 1, "device": "cpu"}, ablations={"groups": []},
                tau_sweep={"datasets": [], "groups": []})


def test_a_table_made_for_other_seeds_is_rebuilt_not_handed_back(tmp_path):
    settings = headline_slice(tmp_path, [42])
    made = snakemake("table1", "--cores", "1", "--configfile", overlay(tmp_path, **settings),
                     "--allowed-rules", "make_table")
    assert made.returncode == 0, made.stderr[-3000:]
    table = Path(settings["results"]) / "tables/table1.csv"
    assert "seed42.json" in table.read_text()
    same = snakemake("-n", "table1", "--cores", "1", "--configfile", overlay(tmp_path, **settings))
    assert "is stale" not in same.stderr + same.stdout
    other = snakemake("-n", "table1", "--cores", "1", "--configfile",
                      overlay(tmp_path, "other.yaml", **dict(settings, seeds=[7])))
    out = other.stderr + other.stdout
    assert other.returncode == 0, out[-3000:]
    assert f"{table} is stale: made from 1 file(s) this config does not ask for" in out
    assert "rule make_table" in out and "rule train" in out and "Nothing to be done" not in out


def test_a_run_trained_with_other_settings_is_retrained(tmp_path):
    settings = headline_slice(tmp_path, [42])
    plan = Plan(merged(CONFIG, settings, {"training": {"epochs": 10}}))
    run = plan.main_runs()[0]
    assert plan.record_differences(run) == ["epochs: 50 here, 10 asked"]
    trigger = plan.stale_trigger(f"{plan.run_dir(run)}/run.json", plan.record_differences(run))
    record = Path(plan.run_dir(run)) / "run.json"
    assert Path(trigger[0]).stat().st_mtime >= record.stat().st_mtime  # newer than the record: Snakemake retrains
    assert "epochs: 50 here, 10 asked" in Path(trigger[0]).read_text()
    same = Plan(merged(CONFIG, settings))
    assert same.record_differences(run) == [] and same.stale_trigger("x", []) == []


# -- class 3: the config says one thing and means another


def test_a_key_given_twice_is_refused_with_its_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("training:\n  epochs: 3\nseeds: [1]\ntraining:\n  device: cpu\n")
    with pytest.raises(ConfigError) as error:
        Plan(CONFIG, [str(path)])
    assert f"{path}, line 4: key 'training' is given twice (first on line 1)" in str(error.value)
    run = snakemake("-n", "--cores", "1", "--configfile", str(path))
    assert run.returncode != 0 and "key 'training' is given twice" in run.stderr + run.stdout


@pytest.mark.parametrize("change, problem", [
    ({"training": dict(CONFIG["training"], device="tpu")}, "training.device: 'tpu' does not match"),
    ({"training": dict(CONFIG["training"], device="cuda:x")}, "training.device: 'cuda:x' does not match"),
    ({"seeds": [-1]}, "seeds[0]: -1 is less than the minimum of 0"),
    ({"seeds": [2 ** 32]}, "seeds[0]: 4294967296 is greater than the maximum of 4294967295"),
    ({"evaluation": {"test_seed": -3}}, "evaluation.test_seed: -3 is less than the minimum of 0"),
    ({"not_run": [{"datasets": ["nope"], "reason": "x"}]}, "not_run[0].datasets: 'nope' is not configured"),
])
def test_values_that_would_fail_inside_a_job_are_refused_up_front(change, problem):
    with pytest.raises(ConfigError) as error:
        Plan(dict(CONFIG, **change))
    assert problem in str(error.value) and "Fix:" in str(error.value)


def test_every_problem_is_listed_in_one_pass():
    broken = dict(CONFIG, seeds=[-1], groups=["C4", "SO7"], training=dict(CONFIG["training"], device="tpu"),
                  tau_sweep=dict(CONFIG["tau_sweep"], datasets=["nope"]))
    with pytest.raises(ConfigError) as error:
        Plan(broken)
    found = str(error.value)
    for problem in ("seeds[0]", "training.device", "unknown group 'SO7'", "tau_sweep.datasets: 'nope'"):
        assert problem in found, found
    assert len(error.value.problems) == 4


# -- class 6: a killed Snakemake process


def test_after_snakemake_is_killed_the_documented_recovery_finishes_the_run(tmp_path):
    mine = overlay(tmp_path, results=str(tmp_path / "res"), data={"root": str(tmp_path / "data"),
                                                                   "allow_network": False})
    target = str(tmp_path / "res/models/rotated_glyphs/C4/ald/seed1/run.json")
    command = [sys.executable, "-m", "snakemake", target, "--cores", "1", "--configfile", str(DEMO), mine]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    log = tmp_path / "res/logs/train/rotated_glyphs/C4/ald/seed1.log"
    deadline = time.time() + 300
    while not (log.is_file() and "epoch" in log.read_text()) and time.time() < deadline:
        time.sleep(0.5)
    assert log.is_file(), "the training job never started"
    os.killpg(first.pid, signal.SIGKILL)  # Snakemake and its job, as a lost terminal or an OOM kill would
    first.wait()
    again = snakemake(target, "--cores", "1", "--configfile", str(DEMO), mine)
    assert again.returncode != 0 and "--unlock" in again.stderr + again.stdout  # the stale lock names its fix
    assert snakemake("--unlock", "--configfile", str(DEMO), mine).returncode == 0
    finished = snakemake(target, "--cores", "1", "--rerun-incomplete", "--configfile", str(DEMO), mine)
    assert finished.returncode == 0, finished.stderr[-3000:]
    record = json.loads(Path(target).read_text())
    assert record["parameters"]["seed"] == 1 and Path(target).with_name("best.pt").is_file()
