"""The fast paths of training compute what the plain ones do: one encoder pass against two, pairs made
where the images live against pairs made from host arrays, bf16 autocast with fp32 weights and sums, the
validation PSNR from the validation pass, and the precision a run used in its record."""

import json

import numpy as np
import pytest
import torch

from ald.groups import get_group
from ald.metrics import model_range_psnr, tensor_model_range_psnr
from ald.models import build_model, split_action_losses
from ald.pairs import PairSet, build_recipe, seeded_generator
from ald.sources import load_split
from ald.compute import Compute, bf16_supported
from ald.training import TrainSpec, predict_pairs, run_epoch, train

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
GROUP_DATA = {"C4": 2, "SO2": 2, "O": 3, "SO3": 3}
RECIPES = [{"kind": "none"}, {"kind": "occluder", "size": 3}, {"kind": "background", "low": -1.0, "high": 0.0}]


def images(spatial_dims: int, n: int = 12, side: int = 8, channels: int = 1) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, channels, *[side] * spatial_dims), dtype=np.uint8)


def step_of(spec: dict, group_name: str, one_pass: bool = False):
    """One fp32 step's loss terms, prediction and parameter gradients on a fixed batch, from a fixed init."""
    group = get_group(group_name)
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
    g = group.sample(8, torch.Generator().manual_seed(1))
    tx = group.act(g, x, fill=-1.0)
    torch.manual_seed(0)
    model = build_model(spec, group, in_channels=1, spatial_dims=2, image_size=28)
    terms, prediction = split_action_losses(model, x, tx, g, one_pass=one_pass)
    model.total_loss(terms).backward()
    return ([float(v.detach()) for v in terms.values()], prediction.detach(),
            {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})


@pytest.mark.parametrize("spec", [{"kind": "ald"}, {"kind": "ald", "mask_grad_from_target": False}, {"kind": "galr"}],
                         ids=str)
@pytest.mark.parametrize("group_name", ["C4", "SO2"])
def test_one_encoder_pass_gives_the_two_pass_step(spec, group_name):
    """Encoding [x; T_g(x)] at once, the target half detached: the same losses and gradients in fp32."""
    (terms_a, pred_a, grad_a), (terms_b, pred_b, grad_b) = (step_of(spec, group_name, p) for p in (False, True))
    assert np.allclose(terms_a, terms_b, rtol=0, atol=1e-6) and torch.allclose(pred_a, pred_b, atol=1e-6)
    assert grad_a.keys() == grad_b.keys() and len(grad_a) > 4
    assert all(torch.allclose(grad_a[n], grad_b[n], rtol=1e-5, atol=1e-6) for n in grad_a)


@pytest.mark.parametrize("group_name", ["C4", "SO2"])
def test_the_target_split_reaches_the_mask_and_nothing_else(group_name):
    """mask_grad_from_target changes the mask logits' gradient only: the target's encoding is stopped either way."""
    terms_on, _, grad_on = step_of({"kind": "ald"}, group_name)
    terms_off, _, grad_off = step_of({"kind": "ald", "mask_grad_from_target": False}, group_name)
    assert terms_on == terms_off and grad_on.keys() == grad_off.keys()
    assert all(torch.equal(grad_on[n], grad_off[n]) for n in grad_on if n != "mask_logits")
    assert (grad_on["mask_logits"] - grad_off["mask_logits"]).abs().max() > 1e-7


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r["kind"])
@pytest.mark.parametrize("group_name", GROUP_DATA)
def test_pairs_made_where_the_images_live_equal_pairs_from_host_arrays(group_name, recipe, device):
    """Training uploads a split once and plans its pairs there; each batch equals the host path's."""
    group = get_group(group_name)
    arrays = {"x": images(GROUP_DATA[group_name]), "y": np.arange(12)}
    host = PairSet.plan(arrays, group, build_recipe(recipe), seeded_generator(3, 1, 2))
    on_device = PairSet.plan({k: torch.as_tensor(v).to(device) for k, v in arrays.items()}, group,
                             build_recipe(recipe), seeded_generator(3, 1, 2))
    assert on_device.images.device.type == on_device.g.device.type == device
    idx = torch.tensor([5, 0, 11, 3])
    a, b = host.batch(idx, "cpu"), on_device.batch(idx.to(device), device)
    assert b.x.device.type == device
    assert torch.equal(a.g, b.g.cpu()) and torch.equal(a.label, b.label.cpu())
    assert torch.allclose(a.x, b.x.cpu(), atol=1e-6) and torch.allclose(a.tx, b.tx.cpu(), atol=1e-5)
    if device == "cpu":  # the same arithmetic on the same device: bit for bit
        assert torch.equal(a.x, b.x) and torch.equal(a.tx, b.tx)


def test_tensor_psnr_equals_the_metrics_psnr():
    pred, target = torch.rand(6, 1, 9, 9) * 2 - 1, torch.rand(6, 1, 9, 9) * 2 - 1
    target[0] = pred[0]  # a perfect item: capped, as the metrics cap it
    assert np.allclose(tensor_model_range_psnr(pred, target).numpy(), model_range_psnr(pred.numpy(), target.numpy()))


def small_model_and_pairs(glyph_npz, group_name="C4"):
    group = get_group(group_name)
    pairs = PairSet.plan(load_split(glyph_npz, "val"), group, build_recipe({"kind": "none"}), seeded_generator(0, 2))
    torch.manual_seed(0)
    return build_model({"kind": "ald"}, group, in_channels=1, spatial_dims=2, image_size=28), pairs


def test_validation_psnr_comes_from_the_validation_pass(glyph_npz):
    """The history's val_psnr, taken inside the validation pass, equals a separate prediction pass's."""
    model, pairs = small_model_and_pairs(glyph_npz)
    compute = Compute(torch.device("cpu"), "fp32")
    terms = run_epoch(compute.model(model), pairs, 16, compute, psnr_items=40)
    pred, target = predict_pairs(model, pairs, 40)
    assert terms["psnr"] == pytest.approx(float(model_range_psnr(pred, target).mean()), abs=1e-5)
    assert set(terms) == {"recon", "inv", "const", "total", "psnr"}


def test_bf16_autocasts_the_step_and_keeps_weights_and_sums_in_fp32(glyph_npz):
    """Under bf16 (emulated where the CPU has no bf16 units), the losses come close to fp32's, the weights
    and the optimiser state stay fp32, and training still lowers the loss."""
    model, pairs = small_model_and_pairs(glyph_npz)
    fp32, bf16 = Compute(torch.device("cpu"), "fp32"), Compute(torch.device("cpu"), "bf16")
    with bf16.autocast():
        assert model.encode(torch.zeros(1, 1, 28, 28)).dtype == torch.bfloat16
    reference = run_epoch(model, pairs, 32, fp32)
    autocast = run_epoch(model, pairs, 32, bf16)
    assert autocast["total"] == pytest.approx(reference["total"], rel=0.05)
    optimizer = model.optimizer(1e-3)
    before = run_epoch(model, pairs, 32, bf16)["recon"]
    for _ in range(3):
        run_epoch(model, pairs, 32, bf16, optimizer, torch.arange(len(pairs)))
    assert run_epoch(model, pairs, 32, bf16)["recon"] < before
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(v.dtype == torch.float32 for state in optimizer.state.values() for v in state.values() if v.dim())


def test_bf16_falls_back_to_fp32_where_the_hardware_has_no_bf16_units():
    cpu = torch.device("cpu")
    assert Compute.for_spec(cpu, "bf16").precision == ("bf16" if bf16_supported(cpu) else "fp32")
    assert Compute.for_spec(cpu, "fp32").precision == "fp32"
    with pytest.raises(ValueError, match="training.precision"):
        Compute.for_spec(cpu, "fp16")


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_precision_used_lands_in_the_run_record(glyph_npz, tmp_path, precision):
    spec = TrainSpec(source_npz=str(glyph_npz), recipe={"kind": "none"}, group="C4", model={"kind": "ald"}, seed=1,
                     epochs=1, batch_size=64, lr=1e-3, val_seed=0, threads=1, device="cpu", max_train_items=64,
                     precision=precision)
    lines = []
    record = train(spec, tmp_path / "run", tmp_path / "r.pt", log=lines.append)
    used = "bf16" if precision == "bf16" and bf16_supported(torch.device("cpu")) else "fp32"
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["precision"] == saved["precision"] == saved["jobs"][0]["precision"] == used
    assert saved["parameters"]["precision"] == precision  # what was asked, beside what was used
    assert any(f"in {used} (asked: {precision})" in line for line in lines)


def test_an_older_run_record_reads_as_fp32(glyph_npz, tmp_path):
    """Runs recorded before the precision setting trained in fp32, and their records still load."""
    spec = TrainSpec(source_npz=str(glyph_npz), recipe={"kind": "none"}, group="C4", model={"kind": "ald"}, seed=1,
                     epochs=1, batch_size=64, lr=1e-3, val_seed=0, threads=1, device="cpu", max_train_items=None)
    parameters = {k: v for k, v in spec.__dict__.items() if k != "precision"}
    (tmp_path / "run.json").write_text(json.dumps({"parameters": parameters}))
    assert TrainSpec.from_record(tmp_path / "run.json").precision == "fp32"
