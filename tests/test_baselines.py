"""The baselines (docs/baselines.md): GALR and EquivNR, which learn group actions on a latent feature map, and
InfoGAN-CR, CausalVAE and MAGANet, which learn disentangled flat codes and take g as numbers."""

import copy
import math
import csv
import json

import pytest
import torch
import yaml

from ald.evaluate import evaluate
from ald.groups import C4, SO2, SO3, O
from ald.models import MODELS, build_model
from ald.models.causalvae import pose_from_label, pose_label
from ald.pairs import build_recipe, pair_set
from ald.plan import Plan
from ald.sources import save_source
from ald.sources.volumes import prepare_blobs3d
from ald.training import TrainSpec, predict_pairs, train
from conftest import REPO

KINDS = ["galr", "equivnr"]


def batch(group, n=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=generator) * 2 - 1
    g = group.sample(n, generator)
    return x, group.act(g, x, fill=-1.0), g


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("group", [C4(), SO2()], ids=["C4", "SO2"])
def test_baseline_honours_the_interface(kind, group):
    torch.manual_seed(0)
    model = build_model({"kind": kind}, group, in_channels=1, spatial_dims=2)
    x, tx, g = batch(group)
    z = model.encode(x)
    assert z.shape == (8, 64, 7, 7) and model.decode(z).shape == x.shape and model.predict(x, g).shape == x.shape
    terms = model.loss_terms(x, tx, g)
    assert tuple(terms) == model.loss_names and all(t.dim() == 0 and torch.isfinite(t) for t in terms.values())
    z_v, z_i = model.split(z)
    assert torch.allclose(z_v + z_i, z) and model.diagnostics()["n_channels"] == 64


@pytest.mark.parametrize("kind", KINDS)
def test_a_few_training_steps_lower_the_loss(kind):
    torch.manual_seed(0)
    model = build_model({"kind": kind}, C4(), in_channels=1, spatial_dims=2)
    losses = train_steps(model, torch.optim.Adam(model.parameters(), lr=1e-3), *batch(C4()), steps=15)
    assert losses[-1] < 0.8 * losses[0]


def train_steps(model, optimizer, x, tx, g, steps: int) -> list[float]:
    """Train ``steps`` steps on one batch; the total loss before each step."""
    losses = []
    for _ in range(steps):
        loss = model.total_loss(model.loss_terms(x, tx, g))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses


def test_galr_partition_is_fixed_by_config_and_never_trained():
    torch.manual_seed(0)
    model = build_model({"kind": "galr", "n_variant": 20}, C4(), in_channels=1, spatial_dims=2)
    before = model.variant_channels()
    assert before.tolist() == [True] * 20 + [False] * 44
    assert all(p.dtype.is_floating_point for p in model.parameters())  # the partition is a buffer, not a parameter
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, tx, g = batch(C4())
    for _ in range(5):
        optimizer.zero_grad()
        model.total_loss(model.loss_terms(x, tx, g)).backward()
        optimizer.step()
    assert torch.equal(model.variant_channels(), before)
    z = model.encode(x)
    moved = model.act(g, z) - z
    assert moved[:, 20:].abs().max() == 0  # the invariant part is never acted on
    with pytest.raises(ValueError, match="n_variant must be between 0 and latent_channels"):
        build_model({"kind": "galr", "n_variant": 65}, C4(), in_channels=1, spatial_dims=2)


def test_galr_attention_commutes_with_quarter_turns():
    torch.manual_seed(0)
    model = build_model({"kind": "galr"}, C4(), in_channels=1, spatial_dims=2)
    model.attention.gate.data.fill_(1.0)  # switch the attention on (it starts as identity)
    z = torch.randn(4, 64, 7, 7)
    g = torch.tensor([0, 1, 2, 3])
    assert torch.allclose(model.attention(C4().act(g, z)), C4().act(g, model.attention(z)), atol=1e-5)


def test_equivnr_rotates_every_latent_channel():
    model = build_model({"kind": "equivnr"}, C4(), in_channels=1, spatial_dims=2)
    z = torch.randn(3, 64, 7, 7)
    g = torch.tensor([1, 2, 3])
    assert model.variant_channels().all() and torch.equal(model.act(g, z), C4().act(g, z))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("group", [O(), SO3()], ids=["O", "SO3"])
def test_baselines_work_on_volumes_under_3d_groups(kind, group):
    model = build_model({"kind": kind}, group, in_channels=1, spatial_dims=3)
    x = torch.rand(2, 1, 16, 16, 16) * 2 - 1
    g = group.sample(2, torch.Generator().manual_seed(1))
    assert model.encode(x).shape == (2, 64, 4, 4, 4) and model.predict(x, g).shape == x.shape
    terms = model.loss_terms(x, group.act(g, x, fill=-1.0), g)
    assert tuple(terms) == model.loss_names and all(torch.isfinite(t) for t in terms.values())


def test_parameter_table_counts_what_training_records(glyph_npz, tmp_path):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    rows = {(r["model"], r["group"]): r["parameters"] for r in Plan(copy.deepcopy(config)).parameter_rows()}
    assert rows[("ald", "C4")] == 66689 + 64 and rows[("equivnr", "C4")] == 66689 and rows[("galr", "SO2")] > 66689
    for name in ("galr", "equivnr", *FLAT_KINDS):
        params = Plan(copy.deepcopy(config)).model_params(name, "SO2")
        spec = TrainSpec(source_npz=str(glyph_npz), recipe={"kind": "none"}, group="SO2", model=params, seed=0,
                         epochs=1, batch_size=64, lr=1e-3, val_seed=0, threads=1, device="cpu", max_train_items=64)
        train(spec, tmp_path / name, tmp_path / f"{name}.pt", log=lambda _: None)
        assert json.loads((tmp_path / name / "run.json").read_text())["n_parameters"] == rows[(name, "SO2")]


FLAT_KINDS = ["infogan_cr", "causalvae", "maganet"]


def flat_model(kind, group, spatial_dims=2, size=28, **params):
    return build_model({"kind": kind, **params}, group, in_channels=1, spatial_dims=spatial_dims, image_size=size)


@pytest.mark.parametrize("kind", FLAT_KINDS)
@pytest.mark.parametrize("group", [C4(), SO2()], ids=["C4", "SO2"])
def test_disentanglement_baseline_honours_the_interface(kind, group):
    torch.manual_seed(0)
    model = flat_model(kind, group)
    x, tx, g = batch(group)
    z = model.encode(x)
    variant = model.variant_channels()
    assert z.shape == (8, len(variant)) and model.decode(z).shape == x.shape and model.predict(x, g).shape == x.shape
    terms = model.loss_terms(x, tx, g)
    assert tuple(terms) == model.loss_names and all(t.dim() == 0 and torch.isfinite(t) for t in terms.values())
    z_v, z_i = model.split(z)
    assert torch.allclose(z_v + z_i, z) and variant.any()
    assert torch.equal(model.act(g, z)[:, ~variant], z[:, ~variant])  # g moves only the part the model calls variant
    assert model.diagnostics()["n_channels"] == len(variant)


@pytest.mark.parametrize("kind", FLAT_KINDS)
@pytest.mark.parametrize("group", [O(), SO3()], ids=["O", "SO3"])
def test_disentanglement_baselines_work_on_volumes_under_3d_groups(kind, group):
    torch.manual_seed(0)
    model = flat_model(kind, group, spatial_dims=3, size=16)
    x = torch.rand(2, 1, 16, 16, 16) * 2 - 1
    g = group.sample(2, torch.Generator().manual_seed(1))
    assert model.predict(x, g).shape == x.shape
    terms = model.loss_terms(x, group.act(g, x, fill=-1.0), g)
    assert tuple(terms) == model.loss_names and all(torch.isfinite(t) for t in terms.values())


# What a few steps must lower: the whole loss of the VAEs; of the GAN, each player's loss with the others fixed
# (the game as a whole need not go down) and the terms that are not a game.
TRAINING_CASES = {
    "causalvae": ("causalvae", None),
    "maganet": ("maganet", None),
    "infogan_cr-discriminator": ("infogan_cr", {"d_adv": 1.0}),
    "infogan_cr-generator": ("infogan_cr", {"g_adv": 1.0}),
    "infogan_cr-q_head": ("infogan_cr", {"info": 1.0}),
    "infogan_cr-inversion": ("infogan_cr", {"enc": 1.0, "rec": 1.0}),
}


@pytest.mark.parametrize("case", TRAINING_CASES)
def test_training_steps_lower_the_loss_of_a_disentanglement_baseline(case, glyph_npz):
    kind, weights = TRAINING_CASES[case]
    torch.manual_seed(0)
    model = flat_model(kind, C4(), **({"loss_weights": weights} if weights else {}))
    x, tx, g, _ = pair_set(glyph_npz, "train", C4(), build_recipe({"kind": "none"}), 0).batch(torch.arange(16), "cpu")
    losses = train_steps(model, model.optimizer(1e-3), x, tx, g, steps=60)
    assert sum(losses[-5:]) < 0.8 * sum(losses[:5]), losses


def test_infogan_cr_inverter_recovers_codes_of_generated_images():
    torch.manual_seed(0)
    model = flat_model("infogan_cr", C4(), loss_weights={"enc": 1.0})  # only the inversion encoder learns
    generator = copy.deepcopy(model.generator.state_dict())
    train_steps(model, model.optimizer(1e-3), *batch(C4(), n=64), steps=150)
    assert all(torch.equal(v, model.generator.state_dict()[k]) for k, v in generator.items())  # E's loss leaves G alone
    with torch.no_grad():
        codes = model.sample_codes(512, "cpu")
        recovered = model.encode(model.generator(codes))[:, : model.n_codes]
    error = (recovered - codes[:, : model.n_codes]).pow(2).mean()
    chance = (recovered - codes[torch.randperm(512), : model.n_codes]).pow(2).mean()  # codes of other images
    assert error < 0.5 * chance and error < 0.5 / 3  # uniform codes on [-1, 1] have variance 1/3


def test_infogan_cr_calibration_shifts_every_code_and_never_the_noise():
    model = flat_model("infogan_cr", SO2(), n_codes=3, n_noise=5)
    torch.nn.init.normal_(model.calibration.weight)
    z = torch.zeros(4, 8)
    moved = model.act(SO2().sample(4, torch.Generator().manual_seed(0)), z)
    assert (moved[:, :3] != 0).all() and torch.equal(moved[:, 3:], z[:, 3:])


def test_maganet_prediction_never_reads_the_target(glyph_npz):
    torch.manual_seed(0)
    model = flat_model("maganet", C4()).eval()
    calls = []
    model.action_encoder.register_forward_hook(lambda *_: calls.append(1))
    pairs = pair_set(glyph_npz, "test", C4(), build_recipe({"kind": "none"}), 0)
    predictions, _ = predict_pairs(model, pairs)  # the path evaluation, checks and figures take
    assert calls == [] and len(predictions) == len(pairs)
    x, tx, g, _ = pairs.batch(torch.arange(4), "cpu")
    with torch.no_grad():
        expected = model.decode(model.apply_action(model.encode(x), model.regressor(model.group_numbers(g, "cpu"))))
        assert torch.allclose(model.predict(x, g), expected)
        model.loss_terms(x, tx, g)
    assert calls == [1]  # training does infer the transformation from the pair


@pytest.mark.parametrize("group", [SO2(), SO3()], ids=["SO2", "SO3"])
def test_causalvae_intervention_sets_the_pose_to_g_composed_with_the_pose(group):
    d = group.spatial_dims
    rotations = group.matrix(group.sample(5, torch.Generator().manual_seed(0))).float()
    assert torch.allclose(pose_from_label(pose_label(rotations), d), rotations, atol=1e-5)
    model = flat_model("causalvae", group, spatial_dims=d, size=16, concept_dims=3, content_dims=4)
    content = torch.randn(5, 4)
    z = torch.cat([pose_label(rotations).repeat_interleave(3, 1), content], 1)
    g = group.sample(5, torch.Generator().manual_seed(1))
    moved = model.act(g, z)
    composed = group.matrix(g).float() @ rotations
    assert torch.allclose(moved[:, :-4], pose_label(composed).repeat_interleave(3, 1), atol=1e-5)
    assert torch.equal(moved[:, -4:], content)


def test_flat_code_models_need_the_image_side():
    with pytest.raises(ValueError, match="needs the image side"):
        build_model({"kind": "maganet"}, C4(), in_channels=1, spatial_dims=2)


def test_the_gan_keeps_the_checkpoint_with_the_best_validation_psnr(glyph_npz, tmp_path):
    spec = TrainSpec(source_npz=str(glyph_npz), recipe={"kind": "none"}, group="C4", model={"kind": "infogan_cr"},
                     seed=0, epochs=3, batch_size=32, lr=1e-3, val_seed=0, threads=1, device="cpu", max_train_items=64)
    lines = []
    record = train(spec, tmp_path / "run", tmp_path / "resume.pt", log=lines.append)
    rows = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))
    best = max(rows, key=lambda r: float(r["val_psnr"]))
    assert torch.load(tmp_path / "run" / "best.pt", weights_only=True)["epoch"] == int(best["epoch"])
    assert record["checkpoint_selected_by"] == "highest val_psnr" and record["best_val_psnr"] == float(best["val_psnr"])
    assert all(key in rows[0] for key in ("train_d_adv", "train_cr", "fake_spread", "collapsed"))
    assert sum("fake_spread=" in line for line in lines) == 3  # every epoch's log line shows the GAN's health


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("group", ["SO2", "O"])
def test_every_model_trains_and_predicts_on_cuda(kind, group, glyph_npz, tmp_path):
    """The whole training path on the GPU (pairs, losses, after-epoch fits, validation, checkpoint), for images
    and volumes: a tensor left on the CPU anywhere fails here, never on a CPU-only machine."""
    npz = glyph_npz
    if group == "O":
        npz = tmp_path / "blobs.npz"
        save_source(prepare_blobs3d(size=16, n_train=32, n_val=16, n_test=16, seed=0), npz)
    spec = TrainSpec(source_npz=str(npz), recipe={"kind": "none"}, group=group, model={"kind": kind}, seed=0,
                     epochs=1, batch_size=16, lr=1e-3, val_seed=0, threads=1, device="cuda", max_train_items=32)
    record = train(spec, tmp_path / "run", tmp_path / "resume.pt", log=lambda line: None)
    assert record["device"].startswith("cuda") and record["device_name"] == torch.cuda.get_device_name()
    metrics = evaluate(tmp_path / "run", test_seed=0, out_json=tmp_path / "metrics.json", device="cuda")
    assert math.isfinite(metrics["psnr"]) and metrics["n_test_pairs"] > 0
