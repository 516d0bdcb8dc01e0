"""The result-set summary: the runs Table 1 rests on, their training time and their devices."""

import json

import pandas as pd

from ald.paper.summary import summary_text, training_line
from conftest import REPO


def metrics_file(path, wall_seconds, **train_run):
    path.write_text(json.dumps({"psnr": 20.0, "train_run": {"wall_seconds": wall_seconds, **train_run}}))
    return str(path)


def test_training_line_counts_each_run_once_and_names_its_device(tmp_path):
    record = tmp_path / "run.json"
    record.write_text(json.dumps({"device": "cpu", "device_name": "Test CPU", "precision": "bf16"}))
    on_cpu = metrics_file(tmp_path / "a.json", 3600, record=str(record), device="cpu")
    on_gpu = metrics_file(tmp_path / "b.json", 1800, device="cuda")
    older = metrics_file(tmp_path / "c.json", 0)
    table1 = pd.DataFrame({"source_file": [f"{on_cpu};{on_gpu}", on_cpu, older, None]})
    line = training_line(table1)
    assert line.startswith("Table 1 rests on 3 trainings, whose jobs took 1.5 h in all")
    assert line.endswith("on Test CPU (bf16), cuda (fp32), devices their older records do not name.")
    assert training_line(pd.DataFrame({"source_file": [str(tmp_path / "missing.json")]})) is None


def test_headline_summary_counts_every_seed_of_table1(monkeypatch):
    monkeypatch.chdir(REPO)  # the table names its metrics files relative to the checkout
    table1 = pd.read_csv("results/tables/table1.csv")
    seeds = int(table1.loc[table1["metric"] == "PSNR", "n_seeds"].sum())
    assert f"Table 1 rests on {seeds} trainings" in summary_text(REPO / "results/tables/table1.csv").replace("\n", " ")
