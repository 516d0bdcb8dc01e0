"""The released checkpoints (profiles/tracked.yaml, `released`): each loads without its data, reproduces its
tracked metrics on the real test pairs, and `ald transform` gives its predictions."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from ald.evaluate import evaluate_run
from ald.metrics import to_unit_range
from ald.paper.cards import CARD, metrics_file
from ald.paper.docs import released_runs
from ald.sources import prepare, save_source
from ald.training import load_run
from ald.transform import transform_file
from conftest import REPO, require_mnist_mirror

RELEASED = released_runs(REPO)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Each released run's source prepared from the real files, once per set of settings."""
    made = {}

    def npz_for(source: dict):
        key = json.dumps(source, sort_keys=True)
        if key not in made:
            assert source["name"] == "mnist", "only MNIST checkpoints are released"
            settings = {k: v for k, v in source.items() if k != "name"}
            path = tmp_path_factory.mktemp("prepared") / "mnist.npz"
            save_source(prepare("mnist", settings, raw_dir=require_mnist_mirror()), path)
            made[key] = path
        return made[key]
    return npz_for


def released(run_dir, npz):
    run = load_run(REPO / run_dir)
    run.spec = dataclasses.replace(run.spec, source_npz=str(npz))
    return run


def test_the_released_checkpoints_are_tracked_with_their_cards():
    assert RELEASED, "profiles/tracked.yaml releases no checkpoint"
    for run_dir in RELEASED:
        folder = REPO / run_dir
        assert (folder / "best.pt").stat().st_size < 2_000_000 and (folder / CARD).exists()
        assert load_run(folder).layout["spatial_dims"] in (2, 3)  # loads without its prepared data


@pytest.mark.parametrize("run_dir", RELEASED, ids=str)
def test_a_released_checkpoint_reproduces_its_tracked_metrics(run_dir, prepared):
    record = json.loads((REPO / run_dir / "run.json").read_text())
    tracked = json.loads(metrics_file(REPO, REPO / run_dir).read_text())
    run = released(run_dir, prepared(record["parameters"]["source"]))
    again = evaluate_run(run, tracked["test_seed"], "cpu")
    assert again["n_test_pairs"] == tracked["n_test_pairs"] and again["checkpoint_epoch"] == tracked["checkpoint_epoch"]
    for metric in ("psnr", "ssim", "rmse"):
        assert again[metric] == pytest.approx(tracked[metric], rel=1e-6, abs=1e-9), metric


@pytest.mark.parametrize("run_dir", RELEASED, ids=str)
def test_ald_transform_gives_the_first_test_pairs_prediction(run_dir, prepared, tmp_path):
    record = json.loads((REPO / run_dir / "run.json").read_text())
    tracked = json.loads(metrics_file(REPO, REPO / run_dir).read_text())
    run = released(run_dir, prepared(record["parameters"]["source"]))
    pair = run.pairs("test", tracked["test_seed"]).batch(torch.tensor([0]))
    np.save(tmp_path / "x.npy", to_unit_range(pair.x.numpy())[0].astype(np.float32))
    g = pair.g[0]
    element = {"angle": 90.0 * int(g)} if run.group.name == "C4" else {"angle": float(np.degrees(float(g)))}
    transform_file(run, tmp_path / "x.npy", tmp_path / "y.npy", element)
    expected = to_unit_range(run.model.predict(pair.x, pair.g).detach().numpy())[0]
    assert np.abs(np.load(tmp_path / "y.npy") - expected).max() < 1e-6
