"""The extension points, used as a contributor would (docs/extending.md):
a new dataset (source), a new group, a new model, a new analysis of a trained run, each registered and run
through the public functions (config validation, training, evaluation, probes), with no change to the library;
and a new figure, one file that the plan answers for and that draws."""

import csv
import copy
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from ald import analyses, groups, models, sources
from ald.cli import main
from ald.evaluate import evaluate
from ald.groups import C4, register_group
from ald.models import GroupActionModel, register_model
from ald.paper import FIGURES
from ald.paper.figures import FIGURE_REGISTRY
from ald.plan import Plan, Run
from ald.probes import probe_run
from ald.sources import Source, prepare, register_source, save_source
from ald.training import TrainSpec, load_run, train
from conftest import REPO


@pytest.fixture
def registries():
    """Registries as they were before the test, whatever the test registers."""
    saved = [(r, dict(r)) for r in (groups.GROUPS, sources.SOURCES, models.MODELS, analyses.ANALYSES, FIGURE_REGISTRY)]
    yield
    for registry, content in saved:
        registry.clear()
        registry.update(content)


def toy_squares(n_train: int, n_val: int, n_test: int, seed: int, spatial_dims: int = 2, channels: int = 3):
    """A bright square per item whose colour (or, for one channel, size) is its class; (N, C, *spatial)."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in [("train", n_train), ("val", n_val), ("test", n_test)]:
        labels = rng.integers(0, 3, n)
        images = np.zeros((n, channels) + (16,) * spatial_dims, np.uint8)
        for i, label in enumerate(labels):
            side = 4 + 2 * label if channels == 1 else 6
            corner = rng.integers(1, 16 - side, spatial_dims)
            box = tuple(slice(c, c + side) for c in corner)
            images[(i, label % channels) + box] = 255
        out[f"{split}_x"], out[f"{split}_y"] = images, labels
    return out


def spec(npz, group, model, recipe=None):
    return TrainSpec(source_npz=str(npz), recipe=recipe or {"kind": "none"}, group=group, model=model, seed=0,
                     epochs=1, batch_size=8, lr=1e-3, val_seed=0, threads=1, device="cpu", max_train_items=None)


def train_evaluate_probe(tmp_path, train_spec, probe_items=8, families=("linear",)):
    train(train_spec, tmp_path / "run", tmp_path / "resume.pt", log=lambda _: None)
    metrics = evaluate(tmp_path / "run", 0, tmp_path / "metrics.json", device="cpu")
    probes = probe_run(tmp_path / "run", tmp_path / "probe.json", probe_seed=0, test_seed=0,
                       train_items=probe_items, test_items=probe_items, families=list(families), inputs=["tx", "x"],
                       C=1.0, max_iter=50, mlp={"hidden": [8], "alpha": 1e-4, "max_iter": 20})
    history = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))
    return metrics, probes, history


def test_a_three_channel_dataset_trains_evaluates_and_probes(tmp_path, registries):
    register_source(Source(name="toy_rgb", prepare=toy_squares, spatial_dims=2, channels=3, params_schema={
        "type": "object", "properties": {k: {"type": "integer"} for k in ("n_train", "n_val", "n_test", "seed")}}))
    save_source(prepare("toy_rgb", {"n_train": 8, "n_val": 8, "n_test": 8, "seed": 0}), tmp_path / "toy.npz")
    model = {"kind": "ald", "hidden_channels": 4, "latent_channels": 8}
    metrics, probes, history = train_evaluate_probe(tmp_path, spec(tmp_path / "toy.npz", "SO2", model,
                                                                   {"kind": "background", "low": -1.0, "high": -0.5}))
    assert load_run(tmp_path / "run").model.encoder[0].in_channels == 3
    assert metrics["n_test_pairs"] == 8 and np.isfinite([metrics["psnr"], metrics["ssim"], metrics["rmse"]]).all()
    assert len(history) == 1 and probes["probes"][0]["parts"]["z"]["accuracy"] >= 0

    config = yaml.safe_load((REPO / "config.yaml").read_text())  # the config accepts the new source by name
    config["sources"]["toy_rgb"] = {"n_train": 8, "n_val": 8, "n_test": 8, "seed": 0}
    config["datasets"]["toy"] = {"source": "toy_rgb", "recipe": {"kind": "none"}, "paper_row": "RMNIST"}
    assert Plan(config).train_spec(Run("toy", "C4", "ald", 1))["source_npz"] == "data/prepared/toy_rgb.npz"


def test_a_volume_dataset_with_a_3d_group_trains_evaluates_and_probes(tmp_path, registries):
    register_group(C4(name="C4z", spatial_dims=3))  # quarter turns of a volume about its first axis
    register_source(Source(name="toy_volumes", spatial_dims=3, channels=1, params_schema={"type": "object"},
                           prepare=lambda **kw: toy_squares(8, 8, 8, seed=1, spatial_dims=3, channels=1)))
    save_source(prepare("toy_volumes", {}), tmp_path / "vol.npz")
    model = {"kind": "ald", "hidden_channels": 4, "latent_channels": 8}
    metrics, probes, history = train_evaluate_probe(tmp_path, spec(tmp_path / "vol.npz", "C4z", model,
                                                                   {"kind": "occluder", "size": 3}))
    run = load_run(tmp_path / "run")
    assert isinstance(run.model.encoder[0], nn.Conv3d) and run.model.encode(torch.zeros(1, 1, 16, 16, 16)).shape == (1, 8, 4, 4, 4)
    assert metrics["n_test_pairs"] == 8 and np.isfinite(metrics["ssim"]) and len(history) == 1
    assert [(e["family"], e["input"]) for e in probes["probes"]] == [("linear", "tx"), ("linear", "x")]
    assert all(set(e["parts"]) == {"z", "z_i", "z_v"} for e in probes["probes"])


@register_model  # registered at import, like a model module of the library; removed again by the fixture below
class ToyAutoencoder(GroupActionModel):
    """Everything variant (as EquivNR), its own loss names and diagnostics."""

    kind = "toy_autoencoder"
    loss_names = ("pixel", "latent_norm")
    params_schema = {"width": {"type": "integer", "minimum": 1}}

    def __init__(self, group, in_channels=1, spatial_dims=2, image_size=None, width=4):  # the data layout, then its params
        super().__init__()
        self.group, self.loss_weights = group, {"pixel": 1.0, "latent_norm": 0.01}
        self.encoder = nn.Conv2d(in_channels, width, 4, 2, 1)
        self.decoder = nn.ConvTranspose2d(width, in_channels, 4, 2, 1)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return torch.tanh(self.decoder(z))

    def variant_channels(self):
        return torch.ones(self.encoder.out_channels, dtype=torch.bool)

    def loss_terms(self, x, tx, g):
        z = self.encode(x)
        return {"pixel": nn.functional.l1_loss(self.decode(self.act(g, z)), tx), "latent_norm": z.pow(2).mean()}

    def diagnostics(self):
        return {**super().diagnostics(), "decoder_norm": round(float(self.decoder.weight.detach().norm()), 4)}


models.MODELS.pop(ToyAutoencoder.kind)


def test_a_new_model_kind_trains_evaluates_and_probes(tmp_path, glyph_npz, registries):
    register_model(ToyAutoencoder)
    metrics, probes, history = train_evaluate_probe(tmp_path, spec(glyph_npz, "C4", {"kind": "toy_autoencoder", "width": 6}),
                                                  probe_items=64, families=("linear", "mlp"))
    assert list(history[0])[:7] == ["epoch", "train_pixel", "train_latent_norm", "train_total", "val_pixel",
                                    "val_latent_norm", "val_total"]
    assert {"n_variant", "n_channels", "decoder_norm"} <= set(history[0])
    assert metrics["diagnostics"]["n_variant"] == 6 and all(e["parts"]["z_i"] is None for e in probes["probes"])  # nothing is invariant
    assert all(e["parts"]["z_v"] == e["parts"]["z"] for e in probes["probes"])

    config = yaml.safe_load((REPO / "config.yaml").read_text())  # the config takes the kind and its parameters
    config["models"]["toy"] = {"params": {"kind": "toy_autoencoder", "width": 6}}  # a model of our own: no paper column
    assert Plan(config).model_params("toy", "C4") == {"kind": "toy_autoencoder", "width": 6}
    config["models"]["toy"]["params"]["depth"] = 2
    with pytest.raises(ValueError, match="models.toy.params.depth: unknown key; allowed here: kind, width"):
        Plan(copy.deepcopy(config))
    assert json.loads((tmp_path / "run" / "run.json").read_text())["n_parameters"] > 0


NEW_ANALYSIS = '''
import json
from pathlib import Path

import torch

from ald.training import load_run


def latent_sizes(run_dir, out_json, identity, test_seed):
    run = load_run(run_dir, "cpu")
    x = run.pairs("test", test_seed).batch(torch.tensor([0])).x
    result = {"identity": identity, "latent_shape": list(run.model.encode(x).shape)}
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(result))
    return result
'''


def test_a_new_analysis_runs_from_the_cli_into_its_own_results_folder(tmp_path, glyph_npz, registries, monkeypatch, capsys):
    (tmp_path / "my_analysis.py").write_text(NEW_ANALYSIS)  # the contributor's one new file
    monkeypatch.syspath_prepend(str(tmp_path))
    analyses.register_analysis(analyses.Analysis("latent_sizes", "my_analysis:latent_sizes", "the latent's shape",
                                                 ("latent_shape",)))
    train(spec(glyph_npz, "C4", {"kind": "ald", "hidden_channels": 8, "latent_channels": 8}), tmp_path / "run", tmp_path / "resume.pt", log=lambda _: None)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    out = Plan(config).analysis_file("latent_sizes", Run("rotated_mnist", "C4", "ald", 42))
    assert out == "results/latent_sizes/rotated_mnist/C4/ald/seed42.json"
    main(["analyse", "latent_sizes", "--run-dir", str(tmp_path / "run"), "--identity", '{"seed": 42}',
          "--out", str(tmp_path / out), "--settings", json.dumps(analyses.ANALYSES["latent_sizes"].settings(Plan(config).config))])
    result = json.loads((tmp_path / out).read_text())
    assert result["identity"] == {"seed": 42} and result["latent_shape"][0] == 1
    assert json.loads(capsys.readouterr().out) == {"latent_shape": result["latent_shape"]}


# A figure of one's own, as a contributor writes it: this one file (in the package it would be
# src/ald/paper/figures/val_loss.py, named in the package's __init__ beside the others).
NEW_FIGURE = '''"""Validation loss by epoch of each main run of the method, one line a run."""

from ald.paper.figures.base import Figure, register_figure
from ald.paper.figures.drawing import save
from ald.paper.figures.lazy import pd, plt


@register_figure
class ValidationLoss(Figure):
    name = "val_loss"
    caption = "Validation loss by epoch of every main run of the method (ablations.model)."

    def inputs(self, plan):
        """{run key: history.csv} of the method's main runs."""
        model = self.models(plan)[0]
        return {run.key: plan.history_file(run) for run in plan.main_runs() if run.model == model}

    def draw(self, inputs, test_seed, paths, note=""):
        fig, ax = plt.subplots(figsize=(6, 4))
        for run, history in inputs.items():
            frame = pd.read_csv(history)
            ax.plot(frame["epoch"], frame["val_total"], label=run)
        ax.set(xlabel="epoch", ylabel="val_total", yscale="log")
        ax.legend(fontsize=4)
        save(fig, paths, note)
'''


def test_a_new_figure_is_one_file_the_plan_answers_for_and_that_draws(tmp_path, registries):
    module = tmp_path / "val_loss.py"
    module.write_text(NEW_FIGURE)
    spec_ = importlib.util.spec_from_file_location("val_loss", module)
    spec_.loader.exec_module(importlib.util.module_from_spec(spec_))  # registers it
    assert list(FIGURE_REGISTRY) == [*FIGURES, "val_loss"]

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["results"] = str(tmp_path / "results")
    plan = Plan(config)
    runs = [r for r in plan.main_runs() if r.model == "ald"]
    inputs = plan.figure_inputs("val_loss")
    assert len(inputs) == len(runs) == 3 * 2 * 3  # datasets x their groups x seeds
    assert inputs[runs[0].key] == f"{tmp_path}/results/models/{runs[0].key}/history.csv"
    assert plan.figure_input_files("val_loss") == list(inputs.values())  # what the make_figure rule waits for
    assert plan.targets()["val_loss"] == [f"{tmp_path}/results/figures/val_loss.{ext}" for ext in ("png", "pdf")]
    assert set(plan.targets()["val_loss"]) <= set(plan.default_targets())  # `all` builds it
    assert plan.figure_left_out("val_loss") == [] and plan.missing_figure_reason("val_loss") is None
    assert plan.figure_caption("val_loss").startswith("Validation loss by epoch")
    assert plan.figure_note("val_loss").startswith("Settings: preset paper")

    for epochs, history in enumerate(inputs.values(), start=2):  # made-up histories where the plan puts them
        Path(history).parent.mkdir(parents=True)
        Path(history).write_text("epoch,val_total\n" + "".join(f"{e},{1 / e}\n" for e in range(1, epochs + 1)))
    paths = [Path(p) for p in plan.figure_files("val_loss")]
    FIGURE_REGISTRY.lookup("val_loss").draw(inputs, 0, paths, plan.figure_note("val_loss"))
    assert all(p.is_file() and p.stat().st_size > 5_000 for p in paths)
    assert paths[0].read_bytes().startswith(b"\x89PNG")
