import pytest
import torch
import torch.nn.functional as F

from ald.groups import C4, SO2, get_group
from ald.models import build_model
from ald.models.ald import ALD


def test_architecture_matches_the_authors():
    model = ALD(C4())
    n_params = sum(p.numel() for p in model.parameters() if p is not model.mask_logits)
    assert n_params == 66689  # the authors' encoder-decoder (docs/method.md)
    z = model.encode(torch.zeros(2, 1, 28, 28))
    assert z.shape == (2, 64, 7, 7)
    assert model.decode(z).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("kind", ["ald", "galr", "equivnr"])
def test_latent_stride_two_gives_a_twice_finer_latent_for_every_model(kind):
    model = build_model({"kind": kind, "latent_stride": 2}, SO2(), in_channels=1, spatial_dims=2)
    z = model.encode(torch.zeros(2, 1, 28, 28))
    assert z.shape[-2:] == (14, 14) and model.decode(z).shape == (2, 1, 28, 28)
    volume = build_model({"kind": kind, "latent_stride": 2}, get_group("O"), in_channels=1, spatial_dims=3)
    assert volume.encode(torch.zeros(1, 1, 16, 16, 16)).shape[-3:] == (8, 8, 8)


def test_an_unsupported_latent_stride_names_the_choices():
    with pytest.raises(ValueError, match=r"latent_stride must be 4 \(the authors'\) or 2, got 3"):
        ALD(C4(), latent_stride=3)


def test_mask_is_hard_forward_and_straight_through_backward():
    torch.manual_seed(0)
    model = ALD(C4(), tau=0.5)
    m = model.mask()
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    assert m.sum() == model.diagnostics()["n_variant"] == model.variant_channels().sum()
    x = torch.randn(4, 1, 28, 28).clamp(-1, 1)
    g = torch.tensor([1, 2, 3, 1])
    terms = model.loss_terms(x, C4().act(g, x, fill=-1.0), g)
    model.total_loss(terms).backward()
    assert model.mask_logits.grad is not None and model.mask_logits.grad.abs().sum() > 0


def test_tau_moves_channels_between_parts():
    torch.manual_seed(0)
    low, high = ALD(C4(), tau=0.1), ALD(C4(), tau=0.9)
    low.mask_logits.data = high.mask_logits.data.clone()
    assert low.diagnostics()["n_variant"] == 64 and high.diagnostics()["n_variant"] == 0


def test_loss_terms_match_their_definitions():
    torch.manual_seed(1)
    model = ALD(C4())
    x = torch.randn(3, 1, 28, 28).clamp(-1, 1)
    g = torch.tensor([1, 0, 3])
    tx = C4().act(g, x, fill=-1.0)
    terms = model.loss_terms(x, tx, g)
    with torch.no_grad():
        z_v, z_i = model.split(model.encode(x))
        t_v, t_i = model.split(model.encode(tx))
        assert torch.allclose(terms["recon"], F.mse_loss(model.predict(x, g), tx))
        assert torch.allclose(terms["inv"], F.mse_loss(z_i, t_i))
        assert torch.allclose(terms["const"], F.mse_loss(C4().act(g, z_v), t_v))
        assert torch.allclose(z_v + z_i, model.encode(x))


def test_identity_pairs_have_zero_latent_losses():
    model = ALD(SO2(), latent_rms_norm=True)
    x = torch.randn(2, 1, 28, 28)
    terms = model.loss_terms(x, x, SO2().identity(2))
    assert terms["inv"] < 1e-12 and terms["const"] < 1e-10


def test_target_branch_gets_no_gradient():
    model = ALD(C4())
    x = torch.randn(2, 1, 28, 28)
    tx = torch.randn(2, 1, 28, 28, requires_grad=True)
    terms = model.loss_terms(x, tx, torch.tensor([1, 2]))
    (terms["inv"] + terms["const"]).backward(retain_graph=True)
    assert tx.grad is None  # the latent targets are computed under no-grad (stop-gradient)
    terms["recon"].backward()
    assert tx.grad is not None  # only the reconstruction target uses T_g(x) with gradient


def test_zero_weight_drops_a_term_and_unknown_terms_fail():
    model = ALD(C4(), loss_weights={"recon": 1.0, "inv": 0.0, "const": 1.0})
    terms = {"recon": torch.tensor(1.0), "inv": torch.tensor(5.0), "const": torch.tensor(2.0)}
    assert model.total_loss(terms) == 3.0
    with pytest.raises(ValueError, match="unknown loss terms"):
        ALD(C4(), loss_weights={"recon": 1.0, "kl": 1.0})


def test_rms_norm_bounds_the_latent_scale():
    model = ALD(SO2(), latent_rms_norm=True)
    z = model.encode(100 * torch.randn(3, 1, 28, 28))
    assert torch.allclose(z.pow(2).mean((1, 2, 3)), torch.ones(3), atol=1e-3)


def test_build_model_from_config_entry():
    model = build_model({"kind": "ald", "tau": 0.3, "latent_channels": 16}, C4(), in_channels=3, spatial_dims=2)
    assert model.tau == 0.3 and model.diagnostics() == {"n_variant": model.diagnostics()["n_variant"], "n_channels": 16}
    assert model.predict(torch.zeros(2, 3, 28, 28), torch.tensor([1, 2])).shape == (2, 3, 28, 28)
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model({"kind": "beta_vae"}, C4(), in_channels=1, spatial_dims=2)
    with pytest.raises(ValueError, match="C4 acts on 2-D data but the dataset is 3-D"):
        build_model({"kind": "ald"}, C4(), in_channels=1, spatial_dims=3)
