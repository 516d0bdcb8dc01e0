"""The baselines that learn group actions (docs/baselines.md): GALR and EquivNR."""

import copy
import json

import pytest
import torch
import yaml

from ald.groups import C4, SO2, SO3, O
from ald.models import build_model
from ald.plan import Plan
from ald.training import TrainSpec, train
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
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, tx, g = batch(C4())
    losses = []
    for _ in range(15):
        loss = model.total_loss(model.loss_terms(x, tx, g))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.8 * losses[0]


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
    for name in ("galr", "equivnr"):
        params = Plan(copy.deepcopy(config)).model_params(name, "SO2")
        spec = TrainSpec(source_npz=str(glyph_npz), recipe={"kind": "none"}, group="SO2", model=params, seed=0,
                         epochs=1, batch_size=64, lr=1e-3, val_seed=0, threads=1, device="cpu", max_train_items=64)
        train(spec, tmp_path / name, tmp_path / f"{name}.pt", log=lambda _: None)
        assert json.loads((tmp_path / name / "run.json").read_text())["n_parameters"] == rows[(name, "SO2")]
