import math

import pytest
import torch
import torch.nn.functional as F

from ald.groups import C4, SO2, get_group


def disc_image(n=4, size=28, seed=0):
    """Smooth random images that vanish outside the inscribed disc (no content lost by rotation)."""
    gen = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.randn(n, 1, 6, 6, generator=gen), size=(size, size), mode="bicubic")
    yy, xx = torch.meshgrid(torch.arange(size) + 0.5 - size / 2, torch.arange(size) + 0.5 - size / 2, indexing="ij")
    return x * ((yy**2 + xx**2).sqrt() < size / 2 - 3)


@pytest.mark.parametrize("group", [C4(), SO2()])
def test_identity_acts_trivially(group):
    x = disc_image()
    assert torch.allclose(group.act(group.identity(4), x), x, atol=1e-5)


def test_c4_laws_exact():
    group, gen = C4(), torch.Generator().manual_seed(0)
    a, b = group.sample(64, gen), group.sample(64, gen)
    x = torch.randn(64, 3, 7, 7)
    assert torch.equal(group.act(group.compose(a, b), x), group.act(a, group.act(b, x)))
    assert torch.equal(group.act(group.inverse(a), group.act(a, x)), x)
    assert torch.equal(group.compose(a, group.inverse(a)), group.identity(64))
    # k quarter turns equal torch.rot90 per item
    for i in range(5):
        assert torch.equal(group.act(a[i : i + 1], x[i : i + 1]), torch.rot90(x[i : i + 1], int(a[i]), (-2, -1)))


def test_so2_laws_up_to_interpolation():
    group, gen = SO2(), torch.Generator().manual_seed(1)
    a, b = group.sample(4, gen), group.sample(4, gen)
    x = disc_image()
    composed = group.act(group.compose(a, b), x)
    sequential = group.act(a, group.act(b, x))
    # two bilinear resamplings vs one: small against the signal, large against a wrong composition
    assert (composed - sequential).abs().mean() < 0.1 * x.abs().mean()
    assert (group.act(group.compose(a, group.inverse(b)), x) - sequential).abs().mean() > 0.5 * x.abs().mean()
    assert torch.allclose(group.compose(a, group.inverse(a)).remainder(2 * math.pi).sin(), torch.zeros(4, dtype=torch.float64), atol=1e-9)
    roundtrip = group.act(group.inverse(a), group.act(a, x))
    # bilinear resampling blurs, so the round trip is close, and far closer than no inverse at all
    assert (roundtrip - x).abs().mean() < 0.2 * x.abs().mean()
    assert (roundtrip - x).abs().mean() < 0.25 * (group.act(a, group.act(a, x)) - x).abs().mean()


@pytest.mark.parametrize("size", [7, 28, 6])
def test_so2_agrees_with_c4_at_quarter_turns(size):
    x = torch.randn(4, 2, size, size)
    k = torch.tensor([0, 1, 2, 3])
    assert torch.allclose(SO2().act(k * math.pi / 2, x), C4().act(k, x), atol=1e-5)


@pytest.mark.parametrize("group", [C4(), SO2()])
def test_image_and_latent_actions_agree_in_direction(group):
    """Downsampling then acting equals acting then downsampling: the 28x28 image action and the
    7x7 latent action turn the same way (for SO(2) up to interpolation)."""
    assert_actions_agree_in_direction(group, disc_image(size=28), lambda t: F.avg_pool2d(t, 4), seed=5)


def assert_actions_agree_in_direction(group, x, pool, seed):
    """act(g, pool(x)) == pool(act(g, x)): exactly for exact groups, else closer than the wrong turn
    and than no turn at all."""
    g = group.sample(4, torch.Generator().manual_seed(seed))
    pool_then_act = group.act(g, pool(x))
    act_then_pool = pool(group.act(g, x))
    if group.exact:
        assert torch.allclose(pool_then_act, act_then_pool, atol=1e-6)
    else:
        err = (pool_then_act - act_then_pool).abs().mean()
        wrong_way = (group.act(group.inverse(g), pool(x)) - act_then_pool).abs().mean()
        not_turned = (pool(x) - act_then_pool).abs().mean()
        assert err < 0.5 * wrong_way and err < 0.5 * not_turned


def test_fill_value_for_images():
    x = -torch.ones(1, 1, 28, 28)
    out = SO2().act(torch.tensor([0.7], dtype=torch.float64), x, fill=-1.0)
    assert torch.allclose(out, x, atol=1e-6)  # background stays background, corners included


@pytest.mark.parametrize("name", ["C4", "SO2"])
def test_seeded_sampling_is_reproducible(name):
    group = get_group(name)
    a = group.sample(10, torch.Generator().manual_seed(3))
    b = group.sample(10, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_unknown_group_names_the_choices():
    with pytest.raises(ValueError, match="known groups"):
        get_group("SO3x")


@pytest.mark.parametrize("name", ["C4", "SO2", "O", "SO3"])
def test_angle_is_a_class_function_in_zero_to_pi(name):
    """Every group says how far an element turns: 0 for the identity, the same for g and g^-1."""
    group = get_group(name)
    g = group.sample(64, torch.Generator().manual_seed(0))
    angle = group.angle(g)
    assert angle.shape == (64,) and float(angle.min()) >= 0 and float(angle.max()) <= math.pi + 1e-9
    assert torch.allclose(group.angle(group.inverse(g)), angle, atol=1e-9)
    assert torch.allclose(group.angle(group.identity(3)), torch.zeros(3, dtype=torch.float64), atol=1e-6)


def test_angles_agree_across_groups():
    assert torch.allclose(get_group("C4").angle(torch.arange(4)), get_group("SO2").angle(torch.arange(4) * math.pi / 2))
    cube = get_group("O")
    assert torch.allclose(cube.angle(torch.arange(24)), get_group("SO3").angle(cube.matrix(torch.arange(24))))
    assert sorted(set(round(a, 6) for a in cube.angle(torch.arange(24)).tolist())) == [
        0.0, round(math.pi / 2, 6), round(2 * math.pi / 3, 6), round(math.pi, 6)]  # faces, vertices, edges
