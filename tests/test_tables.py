import json

import numpy as np
import pandas as pd
import pytest
import yaml

from ald.paper import values as paper_values
from ald.plan import Plan
from ald.metrics import rmse_on_model_scale
from ald.paper.tables import PROBE_INPUTS, make_table
from ald.paper.tables.frames import METRICS, load_metrics, write_table
from ald.paper.tables.table1 import table1, table1_display

METRIC_KEYS = {name: key for key, name in METRICS}
from conftest import REPO


def write_metrics(tmp_path, seed, psnr, group="C4"):
    path = tmp_path / f"{group}_{seed}.json"
    identity = dict(dataset="rotated_mnist", paper_row="RMNIST", group=group, model="ald", paper_column="Ours", seed=seed)
    path.write_text(json.dumps({"identity": identity, "psnr": psnr, "ssim": 0.9, "rmse": 0.1, "n_variant_channels": 40}))
    return path


def test_table1_aggregates_seeds_beside_the_paper(tmp_path):
    paths = [write_metrics(tmp_path, s, p) for s, p in [(1, 30.0), (2, 31.0), (3, 32.0)]]
    paths.append(write_metrics(tmp_path, 1, 20.0, group="SO2"))
    stats = table1(load_metrics(paths))
    row = stats[(stats.group == "C4") & (stats.metric == "PSNR")].iloc[0]
    assert row["mean"] == pytest.approx(31.0) and row["std"] == pytest.approx(1.0) and row["n_seeds"] == 3
    assert row["paper"] == 30.61 and row["difference"] == pytest.approx(0.39)
    single = stats[(stats.group == "SO2") & (stats.metric == "PSNR")].iloc[0]
    assert single["n_seeds"] == 1 and np.isnan(single["std"])
    write_table(stats, table1_display(stats), [tmp_path / "out" / f"table1.{e}" for e in ("csv", "md", "tex")],
                "Table 1", ["a note"])
    with pytest.raises(ValueError, match="as .csv, .md or .tex"):
        write_table(stats, table1_display(stats), [tmp_path / "table1.xlsx"], "Table 1", [])
    md = (tmp_path / "out" / "table1.md").read_text()
    assert "31.00 ± 1.00" in md and "30.61" in md and "+0.39" in md and "a note" in md
    assert r"$\pm$" in (tmp_path / "out" / "table1.tex").read_text()
    csv = pd.read_csv(tmp_path / "out" / "table1.csv")
    assert set(csv.columns) >= {"dataset", "group", "metric", "mean", "std", "n_seeds", "paper", "difference"}


def test_paper_values_are_the_printed_ones():
    assert paper_values.table1_value("RBMN", "PSNR", "Ours") == 27.15
    assert paper_values.table1_value("RMNIST", "RMSE", "GALR") == 0.28
    assert paper_values.table1_value("Adrenals", "SSIM", "CausalVAE") == 0.91
    assert paper_values.table1_value("Brains", "PSNR", "Ours") is None


def test_table1_has_a_column_per_paper_model_and_marks_the_best(tmp_path):
    paths = [write_metrics(tmp_path, s, p) for s, p in [(1, 30.0), (2, 31.0)]]
    for seed, psnr in [(1, 32.0), (2, 33.0)]:  # a baseline that beats ours in this row: the table shows it
        path = tmp_path / f"galr{seed}.json"
        identity = dict(dataset="rotated_mnist", paper_row="RMNIST", group="C4", model="galr", paper_column="GALR", seed=seed)
        path.write_text(json.dumps({"identity": identity, "psnr": psnr, "ssim": 0.9, "rmse": 0.2, "n_variant_channels": 32}))
        paths.append(path)
    shown = table1_display(table1(load_metrics(paths)))
    assert list(shown.columns[5:]) == list(paper_values.TABLE1_MODELS)
    assert list(shown["metric"]) == ["PSNR", "SSIM", "RMSE [-1,1]", "RMSE [0,1]"]  # the paper's row order
    psnr = shown[shown.metric == "PSNR"].iloc[0]
    assert psnr["GALR"] == "32.50 ± 0.71 ★ (paper 18.63; +13.87)"
    assert psnr["Ours"] == "30.50 ± 0.71 (paper 30.61 ★; -0.11)"
    assert psnr["EquivNR"] == psnr["MAGANet"] == "—"  # not trained: a dash, never a blank
    rmse = shown[shown.metric == "RMSE [-1,1]"].iloc[0]  # the paper's RMSE is compared on the [-1, 1] scale
    assert rmse["Ours"] == "0.200 ± 0.000 ★ (paper 0.060 ★; +0.140)"  # lower is better for RMSE
    assert rmse["GALR"] == "0.400 ± 0.000 (paper 0.280; +0.120)"
    unit = shown[shown.metric == "RMSE [0,1]"].iloc[0]
    assert unit["Ours"] == "0.100 ± 0.000 ★ (paper —)" and unit["GALR"] == "0.200 ± 0.000 (paper —)"


def metrics_files(tmp_path, plan: Plan) -> list:
    """A metrics file for each of the plan's Table 1 runs, labelled by the plan as a run's would be (made-up scores:
    PSNR 20 + the run's place in the plan)."""
    paths = []
    for i, run in enumerate(plan.main_runs()):
        path = tmp_path / f"{run.dataset}_{run.group}_{run.model}_{run.seed}.json"
        path.write_text(json.dumps({"identity": plan.identity(run), "psnr": 20.0 + i, "ssim": 0.9, "rmse": 0.1,
                                    "n_variant_channels": 32}))
        paths.append(path)
    return paths


def own_model_and_dataset_plan(**models) -> Plan:
    """The paper's config on Rotated MNIST under C4 with two seeds, plus ``models`` and a dataset of our own
    (no paper_row): MNIST with a 5x5 occluder."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["models"].update(models)
    config["datasets"]["mnist_blocked5"] = {"source": "mnist", "recipe": {"kind": "occluder", "size": 5}}
    config.update(only_datasets=["rotated_mnist", "mnist_blocked5"], only_models=["ald", "galr", *models],
                  groups=["C4"], seeds=[1, 2])
    return Plan(config)


def test_table1_has_the_papers_six_columns_first_then_a_model_and_a_dataset_of_our_own(tmp_path):
    """A seventh model (no paper_column) gets a column of its own after the paper's six; a dataset with no
    paper_row gets rows whose paper values are all —; ★ is over all our models."""
    plan = own_model_and_dataset_plan(ald_small={"params": {"kind": "ald", "hidden_channels": 8, "latent_channels": 16}})
    paths = [tmp_path / "table1.md", tmp_path / "table1.csv"]
    shown = make_table("table1", metrics_files(tmp_path, plan), plan.table_notes("table1"), paths)
    assert list(shown.columns[5:]) == [*paper_values.TABLE1_MODELS, "ald_small (ours only)"]
    assert list(shown["dataset"].unique()) == ["rotated_mnist", "mnist_blocked5"]
    psnr = shown[shown.metric == "PSNR"].set_index("dataset")
    # runs in plan order: per dataset, ald, galr, ald_small with seeds 1 and 2 -> PSNR 20 + i
    assert psnr.loc["rotated_mnist", "ald_small (ours only)"] == "24.50 ± 0.71 ★ (paper —)"
    assert psnr.loc["rotated_mnist", "Ours"] == "20.50 ± 0.71 (paper 30.61 ★; -10.11)"
    assert psnr.loc["mnist_blocked5", "paper row"] == "—" and psnr.loc["mnist_blocked5", "EquivNR"] == "—"
    assert psnr.loc["mnist_blocked5", "GALR"] == "28.50 ± 0.71 (paper —)"
    assert psnr.loc["mnist_blocked5", "ald_small (ours only)"] == "30.50 ± 0.71 ★ (paper —)"
    md = paths[0].read_text()
    assert "headed '<model> (ours only)'" in md and "in it: GALR, Ours, ald_small (ours only)" in md
    csv = pd.read_csv(paths[1])
    assert csv[csv["model"] == "ald_small"]["paper_column"].isna().all() and len(csv) == 2 * 3 * 4
    parameters = make_table("parameters", plan.parameter_rows(), [], [tmp_path / "parameters.md"])
    assert list(parameters["model"]) == ["galr", "ald", "ald_small"]  # in Table 1's order
    assert list(parameters["paper column"]) == ["GALR", "Ours", "ours only"]


def test_models_that_share_a_paper_column_each_keep_their_cells(tmp_path):
    """Two models in the Ours column: neither overwrites the other; each shows the paper's value of that column."""
    plan = own_model_and_dataset_plan(ald_rms={"paper_column": "Ours", "params": {"kind": "ald", "latent_rms_norm": True}})
    shown = make_table("table1", metrics_files(tmp_path, plan), [], [tmp_path / "table1.md"])
    assert list(shown.columns[5:]) == ["EquivNR", "InfoGAN-CR", "CausalVAE", "MAGANet", "GALR", "ald (Ours)",
                                       "ald_rms (Ours)"]
    psnr = shown[(shown.metric == "PSNR") & (shown.dataset == "rotated_mnist")].iloc[0]
    assert psnr["ald (Ours)"] == "20.50 ± 0.71 (paper 30.61 ★; -10.11)"
    assert psnr["ald_rms (Ours)"] == "24.50 ± 0.71 ★ (paper 30.61 ★; -6.11)"


def test_cells_with_a_collapsed_gan_are_marked_and_explained(tmp_path):
    paths = []
    for seed, collapsed in [(1, 0), (2, 1), (3, 1)]:
        path = tmp_path / f"infogan{seed}.json"
        identity = dict(dataset="rotated_mnist", paper_row="RMNIST", group="C4", model="infogan_cr",
                        paper_column="InfoGAN-CR", seed=seed)
        path.write_text(json.dumps({"identity": identity, "psnr": 12.0, "ssim": 0.5, "rmse": 0.3, "n_variant_channels": 5,
                                    "diagnostics": {"n_variant": 5, "n_channels": 32, "collapsed": collapsed}}))
        paths.append(path)
    paths.append(write_metrics(tmp_path, 1, 30.0))  # a run without the diagnostic: not marked
    shown = make_table("table1", paths, ["a note"], [tmp_path / "table1.md"])
    psnr = shown[shown.metric == "PSNR"].iloc[0]
    assert psnr["InfoGAN-CR"].startswith("12.00 ± 0.00 †2 (paper 17.39") and "†" not in psnr["Ours"]
    md = (tmp_path / "table1.md").read_text()
    assert "†n: at the kept checkpoint the GAN of n of the cell's seeds had collapsed" in md
    make_table("table1", paths[3:], ["a note"], [tmp_path / "clean.md"])
    assert "†" not in (tmp_path / "clean.md").read_text()


def test_a_table_whose_runs_trained_on_different_devices_says_which_cells_came_from_which(tmp_path):
    paths = [write_metrics(tmp_path, seed, 30.0) for seed in (1, 2, 3)]  # no train_run recorded: one device
    make_table("table1", paths, [], [tmp_path / "one.md"])
    one = (tmp_path / "one.md").read_text()
    assert "Training devices" not in one and "Every run trained on unrecorded, fp32 (device, precision" in one
    for path, device in zip(paths, ["cpu", "cpu", "cuda"]):
        path.write_text(json.dumps({**json.loads(path.read_text()), "train_run": {"parameters": {"device": device}}}))
    paths.append(write_metrics(tmp_path, 1, 20.0, group="SO2"))
    make_table("table1", paths, [], [tmp_path / "mixed.md"])
    note = next(line for line in (tmp_path / "mixed.md").read_text().splitlines() if "Training devices" in line)
    assert note.endswith("cuda, fp32: rotated_mnist C4 (Ours) | unrecorded, fp32: rotated_mnist SO2 (Ours) | "
                         "cpu, fp32: every other cell.")
    # a spec that asked for "auto": the device the run record says it got decides
    paths[2].write_text(json.dumps({**json.loads(paths[2].read_text()),
                                    "train_run": {"device": "cpu", "parameters": {"device": "auto"}}}))
    make_table("table1", paths, [], [tmp_path / "auto.md"])
    note = next(line for line in (tmp_path / "auto.md").read_text().splitlines() if "Training devices" in line)
    assert note.endswith("unrecorded, fp32: rotated_mnist SO2 (Ours) | cpu, fp32: every other cell.")
    # the precision a run used is part of how it trained
    paths[3].write_text(json.dumps({**json.loads(paths[3].read_text()), "train_run": {"device": "cpu", "precision": "bf16"}}))
    make_table("table1", paths, [], [tmp_path / "bf16.md"])
    note = next(line for line in (tmp_path / "bf16.md").read_text().splitlines() if "Training devices" in line)
    assert note.endswith("cpu, bf16: rotated_mnist SO2 (Ours) | cpu, fp32: every other cell.")


def test_rmse_on_both_scales_from_one_prediction():
    """Mapping [0, 1] to [-1, 1] doubles every error, clipping included: RMSE doubles exactly."""
    from ald.metrics import per_item_metrics, to_unit_range
    rng = np.random.default_rng(0)
    pred, target = rng.uniform(-1.3, 1.3, (5, 1, 16, 16)), rng.uniform(-1, 1, (5, 1, 16, 16))
    unit = per_item_metrics(to_unit_range(pred), to_unit_range(target))["rmse"]
    model_scale = np.sqrt(((np.clip(pred, -1, 1) - target) ** 2).mean(axis=(1, 2, 3)))
    assert np.allclose(rmse_on_model_scale(unit), model_scale)


TRACKED_TABLES = sorted(REPO.glob("results/**/tables/table[123].csv"))


def probe_entry(result: dict, row: pd.Series) -> dict:
    """The entry of a probe file that a Table 3 row reads: its probe family on its input."""
    (entry,) = [e for e in result["probes"] if e["family"] == row["probe"] and PROBE_INPUTS[e["input"]] == row["input"]]
    return entry


@pytest.mark.parametrize("path", TRACKED_TABLES, ids=[str(p.relative_to(REPO)) for p in TRACKED_TABLES])
def test_every_tracked_cell_resolves_to_the_files_that_made_it(path):
    """Each row's source_file names tracked metrics or probe files whose values average to the cell."""
    table = pd.read_csv(path)
    if list(table.columns) == ["rows"]:  # a table this preset has no run for (e.g. Table 3 with no labelled dataset)
        assert len(table) == 1 and table["rows"][0].startswith("none")
        return
    for _, row in table.iterrows():
        if row["n_seeds"] == 0:  # a cell of runs the preset leaves out (not_run): it names why and no file
            assert row["not_run"] and pd.isna(row["mean"]) and pd.isna(row["source_file"]), row.to_dict()
            continue
        files = [REPO / f for f in row["source_file"].split(";")]
        assert len(files) >= row["n_seeds"] and all(f.exists() for f in files), row["source_file"]
        results = [json.loads(f.read_text()) for f in files]
        if "part" in row:  # probes: one score of one latent part
            scores = [probe_entry(r, row)["parts"][row["part"]] for r in results]
            values = [s[row["metric"]] for s in scores if s is not None]
        else:
            values = [load_metrics([f]).iloc[0][METRIC_KEYS[row["metric"]]] for f in files]
        if values:
            assert np.mean(values) == pytest.approx(row["mean"], rel=1e-5)


def test_a_table_with_no_runs_is_written_with_its_notes_and_read_by_the_claims_as_absent(tmp_path):
    from ald.paper.claims import load_evidence

    paths = [tmp_path / "table3.csv", tmp_path / "table3.md"]
    make_table("table3", [], ["Dataset airplanes is not probed: its source airplanes has no class labels."], paths)
    assert "none: no run of this configuration" in paths[1].read_text() and "is not probed" in paths[1].read_text()
    assert load_evidence({"table3": paths[0]}, {}, {}).table3 is None


def test_left_out_runs_mark_their_cells_with_the_reason_and_no_number(tmp_path):
    """not_run: a cell with no run says 'not run (a)'; a cell missing seeds says how many it has; notes say why."""
    ald = REPO / "results/metrics/rotated_mnist/C4/ald/seed42.json"
    identity = json.loads(ald.read_text())["identity"]
    left_out = [dict(identity, seed=43, reason="not yet run here"),
                dict(identity, model="galr", paper_column="GALR", seed=42, reason="needs a GPU")]
    paths = [tmp_path / f"table1.{e}" for e in ("csv", "md", "tex")]
    make_table("table1", [ald], ["a note"], paths, ["Settings: test"], left_out)
    md = paths[1].read_text()
    assert md.splitlines()[2] == "Settings: test"
    assert "1/2 seeds (a)" in md and "not run (b) (paper 18.63)" in md
    assert "- (a) not run: not yet run here" in md and "- (b) not run: needs a GPU" in md
    stats = pd.read_csv(paths[0])
    galr = stats[(stats["paper_column"] == "GALR") & (stats["metric"] == "PSNR")].iloc[0]
    assert galr["n_seeds"] == 0 and galr["n_planned"] == 1 and pd.isna(galr["mean"]) and galr["not_run"] == "needs a GPU"
    ours = stats[(stats["paper_column"] == "Ours") & (stats["metric"] == "PSNR")].iloc[0]
    assert ours["n_seeds"] == 1 and ours["n_planned"] == 2 and ours["source_file"] == str(ald)


def test_the_tables_are_the_registry_in_order_and_the_cli_names_them_without_pandas():
    """ald.paper.TABLES is the registry's names in the order the package lists them; importing it (the command
    line does at start-up) imports neither pandas nor torch."""
    import subprocess
    import sys

    from ald.paper import TABLES
    from ald.paper.tables import TABLES as registered

    assert TABLES == tuple(registered) == ("table1", "table2", "table3", "parameters")
    assert all(table.name == name and table.title and table.caption for name, table in registered.items())
    code = "import sys, ald.cli; print(sorted({'pandas', 'torch', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_new_table_is_one_registered_object_the_plan_asks(tmp_path):
    """A table of one's own: registered, the plan answers for it from the object (inputs, notes, header, caption)."""
    from ald.paper.tables import TABLES as registered
    from ald.paper.tables.base import Table, register_table

    @register_table
    class Seeds(Table):
        name, title, caption = "seeds", "Seeds of the main runs", "The seeds of every main run."

        def inputs(self, plan):
            return [plan.analysis_file("metrics", r) for r in plan.main_runs()][:2]

        def notes(self, plan):
            return [f"{len(plan.main_runs())} main runs."]

        def make(self, inputs, notes, paths, header=(), left_out=()):
            shown = pd.DataFrame({"file": [str(p) for p in inputs]})
            write_table(shown, shown, paths, self.title, notes, header)
            return shown

    try:
        plan = own_model_and_dataset_plan()
        assert len(plan.table_inputs("seeds")) == 2 and plan.table_left_out("seeds") == []
        assert plan.table_notes("seeds") == [f"{len(plan.main_runs())} main runs."]
        assert plan.table_header("seeds") == [plan.settings_line()] and plan.table_caption("seeds") == Seeds.caption
        make_table("seeds", plan.table_inputs("seeds"), plan.table_notes("seeds"), [tmp_path / "seeds.md"])
        assert (tmp_path / "seeds.md").read_text().startswith("# Seeds of the main runs\n")
    finally:
        del registered["seeds"]
