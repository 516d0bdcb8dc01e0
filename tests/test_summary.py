"""The result-set summary: the runs Table 1 rests on, their training time and their devices."""

import json

import pandas as pd

from ald.paper.summary import run_of_each_file, summary_text, table_files, train_runs, training_line, training_lines
from conftest import REPO


def metrics_file(path, wall_seconds, **train_run):
    path.write_text(json.dumps({"psnr": 20.0, "train_run": {"wall_seconds": wall_seconds, **train_run}}))
    return str(path)


def test_training_line_counts_each_run_once_and_names_its_device(tmp_path):
    record = tmp_path / "run.json"
    record.write_text(json.dumps({"device": "cpu", "device_name": "Test CPU", "precision": "bf16", "wall_seconds": 3600}))
    on_cpu = metrics_file(tmp_path / "a.json", 3600, record=str(record), device="cpu")
    on_gpu = metrics_file(tmp_path / "b.json", 1800, device="cuda")
    older = metrics_file(tmp_path / "c.json", 0)
    unnamed = tmp_path / "d.json"
    unnamed.write_text(json.dumps({"psnr": 20.0}))  # a probe file older than its train_run field
    table1 = pd.DataFrame({"source_file": [f"{on_cpu};{on_gpu}", on_cpu, older, None]})
    line = training_line(train_runs(run_of_each_file(table_files(table1) + [str(unnamed)])), "Table 1")
    assert line.startswith("Table 1 rests on 3 trainings, whose jobs took 1.5 h in all")
    assert line.endswith("on Test CPU (bf16), cuda (fp32), devices their older records do not name; "
                         "1 older result files name no run and are not counted.")
    assert training_line(train_runs(run_of_each_file([str(tmp_path / "missing.json")])), "Table 1") is None


def test_a_resumed_run_counts_the_epochs_of_all_its_jobs(tmp_path):
    record = tmp_path / "run.json"  # resumed: its last job took 600 s, its epochs over both jobs 3000 s
    record.write_text(json.dumps({"device": "cpu", "wall_seconds": 600, "epoch_seconds_total": 3000}))
    resumed = metrics_file(tmp_path / "a.json", 600, record=str(record))
    fresh = metrics_file(tmp_path / "b.json", 1800, device="cpu", epoch_seconds_total=1700)
    table1 = pd.DataFrame({"source_file": [resumed, fresh]})
    line = training_line(train_runs(run_of_each_file(table_files(table1))), "Table 1")
    assert line.startswith("Table 1 rests on 2 trainings, whose jobs took 1.3 h in all")


def test_the_whole_set_counts_the_runs_the_other_tables_and_the_sweep_add_once(tmp_path):
    record = lambda name: str(tmp_path / f"{name}/run.json")
    main = metrics_file(tmp_path / "main.json", 3600, record=record("main"))
    main_probe = metrics_file(tmp_path / "main-probe.json", 3600, record=record("main"))  # the same run, probed
    ablation = metrics_file(tmp_path / "ablation.json", 1800, record=record("ablation"))
    metrics_file(tmp_path / "tau.json", 1800, record=record("tau"))
    table1 = pd.DataFrame({"source_file": [main]})
    table2 = tmp_path / "table2.csv"
    pd.DataFrame({"source_file": [f"{main};{ablation}"]}).to_csv(table2, index=False)
    table3 = tmp_path / "table3.csv"
    pd.DataFrame({"source_file": [main_probe]}).to_csv(table3, index=False)
    first, whole = training_lines(table1, [table2, table3, tmp_path / "tau.json"])
    assert first.startswith("Table 1 rests on 1 training, whose jobs took 1.0 h")
    assert "this set rests on 3 trainings, whose jobs took 2.0 h" in whole
    assert training_lines(table1, [table3]) == [first]  # nothing added: no second line
    empty = tmp_path / "empty.csv"
    empty.write_text("rows\nnone: no run of this configuration belongs in this table\n")  # as a set with no Table 2 cells writes it
    assert training_lines(table1, [empty]) == [first]


def test_headline_summary_counts_every_seed_of_table1(monkeypatch):
    monkeypatch.chdir(REPO)  # the table names its metrics files relative to the checkout
    table1 = pd.read_csv("results/tables/table1.csv")
    seeds = int(table1.loc[table1["metric"] == "PSNR", "n_seeds"].sum())
    assert f"Table 1 rests on {seeds} trainings" in summary_text(REPO / "results/tables/table1.csv").replace("\n", " ")
