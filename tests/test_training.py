import csv
import json

import torch

from ald.evaluate import evaluate
from ald.training import TrainSpec, load_run, train

HISTORY_FIELDS = ["epoch", "train_recon", "train_inv", "train_const", "train_total", "val_recon", "val_inv",
                  "val_const", "val_total", "val_psnr", "n_variant", "n_channels", "seconds", "pairs_per_second"]


def spec_for(npz, epochs, group="C4", **model):
    return TrainSpec(source_npz=str(npz), recipe={"kind": "occluder", "size": 7}, group=group,
                     model={"kind": "ald", **model}, seed=5, epochs=epochs, batch_size=32, lr=1e-3, val_seed=0,
                     threads=1, device="cpu", max_train_items=None)


def test_training_writes_history_record_and_best_checkpoint(glyph_npz, tmp_path):
    record = train(spec_for(glyph_npz, 2), tmp_path / "run", tmp_path / "resume.pt", log=lambda _: None)
    rows = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and list(rows[0]) == HISTORY_FIELDS
    assert all(0 <= int(r["n_variant"]) <= 64 for r in rows)
    assert all(5 < float(r["val_psnr"]) < 60 for r in rows)  # per-epoch PSNR: divergence shows in the history
    for key in ("parameters", "git_commit", "packages", "host", "wall_seconds", "threads", "n_parameters"):
        assert key in record
    assert record["parameters"]["seed"] == 5 and record["packages"]["torch"].startswith("2.13")
    assert record["device"] == "cpu" and record["device_name"] and record["jobs"][0]["device_name"] == record["device_name"]
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    assert saved["parameters"] == record["parameters"]
    best = min(rows, key=lambda r: float(r["val_total"]))
    assert torch.load(tmp_path / "run" / "best.pt", weights_only=True)["epoch"] == int(best["epoch"])
    assert saved["checkpoint_selected_by"] == "lowest val_total" and saved["best_val_total"] == float(best["val_total"])


def test_training_reduces_the_loss(glyph_npz, tmp_path):
    train(spec_for(glyph_npz, 4), tmp_path / "run", tmp_path / "resume.pt", log=lambda _: None)
    rows = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))
    assert float(rows[-1]["val_recon"]) < 0.8 * float(rows[0]["val_recon"])


def test_resume_continues_exactly_like_an_uninterrupted_run(glyph_npz, tmp_path):
    train(spec_for(glyph_npz, 3), tmp_path / "full", tmp_path / "full.pt", log=lambda _: None)
    train(spec_for(glyph_npz, 1), tmp_path / "cut", tmp_path / "cut.pt", log=lambda _: None)  # "killed" after 1
    lines = []
    train(spec_for(glyph_npz, 3), tmp_path / "cut", tmp_path / "cut.pt", log=lines.append)
    assert any("resumed from" in line and "after epoch 1" in line for line in lines)
    full = torch.load(tmp_path / "full.pt", weights_only=True)["model"]
    resumed = torch.load(tmp_path / "cut.pt", weights_only=True)["model"]
    assert all(torch.equal(full[k], resumed[k]) for k in full)
    assert open(tmp_path / "full" / "history.csv").read().count("\n") == open(tmp_path / "cut" / "history.csv").read().count("\n")
    record = json.loads((tmp_path / "cut" / "run.json").read_text())
    assert record["resumed_after_epoch"] == 1 and record["epochs_run_this_job"] == 2
    jobs = [(j["first_epoch"], j["last_epoch"], j["target_epochs"]) for j in record["jobs"]]
    assert jobs == [(1, 1, 1), (2, 3, 3)]  # a run continued by a longer preset says which job made which epochs
    assert all(j["recorded"] and j["host"] and j["git_commit"] for j in record["jobs"])



def test_resume_restores_outputs_a_killed_job_lost(glyph_npz, tmp_path):
    """Snakemake deletes the outputs of a killed job; the resumed run puts them back and finishes."""
    train(spec_for(glyph_npz, 2), tmp_path / "full", tmp_path / "full.pt", log=lambda _: None)
    train(spec_for(glyph_npz, 1), tmp_path / "cut", tmp_path / "cut.pt", log=lambda _: None)
    for name in ("best.pt", "history.csv"):
        (tmp_path / "cut" / name).unlink()
    train(spec_for(glyph_npz, 2), tmp_path / "cut", tmp_path / "cut.pt", log=lambda _: None)
    full, cut = (torch.load(tmp_path / d / "best.pt", weights_only=True) for d in ("full", "cut"))
    assert full["epoch"] == cut["epoch"] and all(torch.equal(full["model"][k], cut["model"][k]) for k in full["model"])
    assert (tmp_path / "full" / "history.csv").read_text().count("\n") == (tmp_path / "cut" / "history.csv").read_text().count("\n")


def test_side_checkpoint_of_other_settings_is_not_resumed(glyph_npz, tmp_path):
    train(spec_for(glyph_npz, 1), tmp_path / "run", tmp_path / "resume.pt", log=lambda _: None)
    lines = []
    train(spec_for(glyph_npz, 1, tau=0.3), tmp_path / "run", tmp_path / "resume.pt", log=lines.append)
    assert any("starting over" in line for line in lines) and not any("resumed from" in line for line in lines)

def test_evaluate_scores_the_test_pairs(glyph_npz, tmp_path):
    train(spec_for(glyph_npz, 1, group="SO2", latent_rms_norm=True), tmp_path / "run", tmp_path / "r.pt", log=lambda _: None)
    result = evaluate(tmp_path / "run", 0, tmp_path / "m.json", identity={"dataset": "glyphs"}, device="cpu")
    assert result["n_test_pairs"] == 64 and result["identity"] == {"dataset": "glyphs"}
    assert result["train_run"]["device"] == "cpu"  # the device training used, which the tables' notes name
    assert 5 < result["psnr"] < 60 and 0 < result["rmse"] < 1 and -1 < result["ssim"] <= 1
    run = load_run(tmp_path / "run")
    assert run.model.latent_rms_norm and run.group.name == "SO2" and run.recipe.size == 7
    assert result["diagnostics"] == run.model.diagnostics() and result["checkpoint_epoch"] == 1


def test_code_state_ignores_results_and_hashes_code_changes(tmp_path):
    """A run record is 'dirty' only when the code differs from the commit, and then names the diff."""
    import subprocess

    from ald.provenance import code_version, git_state
    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / "src").mkdir(), (tmp_path / "results").mkdir()
    (tmp_path / "src" / "m.py").write_text("a = 1\n")
    (tmp_path / "results" / "run.json").write_text("{}")
    git("init", "-q"), git("add", "."), git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    (tmp_path / "results" / "run.json").unlink()  # what Snakemake does to a retrained run's outputs
    clean = git_state(tmp_path)
    assert clean["code_changed_files"] == [] and clean["code_diff_sha256"] is None and "-dirty" not in code_version(clean)
    (tmp_path / "src" / "m.py").write_text("a = 2\n")
    (tmp_path / "src" / "new.py").write_text("b = 1\n")
    dirty = git_state(tmp_path)
    assert dirty["code_changed_files"] == ["src/m.py", "src/new.py"] and code_version(dirty).endswith("-dirty")
    (tmp_path / "src" / "m.py").write_text("a = 3\n")
    assert git_state(tmp_path)["code_diff_sha256"] != dirty["code_diff_sha256"]
