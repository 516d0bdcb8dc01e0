"""The 3-D rotation groups O (24 cube rotations) and SO3: group laws, the action on volumes and its
convention (out(q) = x(R^T q) on centred voxel coordinates (d, h, w)), shared by O, SO3 and C4z."""

import math

import pytest
import torch
import torch.nn.functional as F
from scipy.spatial.transform import Rotation

from ald.groups import C4, CUBE_CAYLEY, CUBE_ROTATIONS, SO3, O, get_group
from test_groups import assert_actions_agree_in_direction

torch.set_num_threads(1)


def centred_coords(spatial, dtype=torch.float64):
    """(d, h, w) voxel offsets from the volume centre, shape (*spatial, 3)."""
    axes = [torch.arange(s, dtype=dtype) - (s - 1) / 2 for s in spatial]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), -1)


def blobs(coords, centres, widths):
    """Sum of Gaussian blobs (one channel), evaluated at coords (..., 3)."""
    return sum(torch.exp(-((coords - c) ** 2).sum(-1) / (2 * w**2)) for c, w in zip(centres, widths))


BLOB_CENTRES = [torch.tensor(c, dtype=torch.float64) for c in ([2.5, 0.0, -1.0], [-1.0, 2.0, 1.5], [0.0, -2.0, 0.0])]
BLOB_WIDTHS = [1.5, 1.8, 1.2]  # no symmetry, so every rotation moves it


def blob_volume(n=4, size=16, channels=2, seed=0, spatial=None):
    """Smooth volumes (n, channels, *spatial), content well inside the inscribed sphere, each item and
    channel a randomly turned copy of an asymmetric blob pattern."""
    spatial = spatial or (size,) * 3
    coords = centred_coords(spatial)
    turns = Rotation.random(n * channels, random_state=seed).as_matrix()
    volumes = [blobs(coords, [torch.from_numpy(r) @ c for c in BLOB_CENTRES], BLOB_WIDTHS) for r in turns]
    return torch.stack(volumes).view(n, channels, *spatial).float()


def rel_err(a, b, ref):
    return float((a - b).abs().mean() / ref.abs().mean())


def test_registered_by_name():
    assert isinstance(get_group("O"), O) and isinstance(get_group("SO3"), SO3)
    assert O().spatial_dims == SO3().spatial_dims == 3 and O().exact and not SO3().exact
    assert O().element_shape == () and SO3().element_shape == (3, 3)


def test_cube_rotation_table():
    assert CUBE_ROTATIONS.shape == (24, 3, 3)
    assert torch.equal(CUBE_ROTATIONS[0], torch.eye(3, dtype=torch.float64))
    assert len({tuple(m.flatten().tolist()) for m in CUBE_ROTATIONS}) == 24
    assert torch.allclose(torch.linalg.det(CUBE_ROTATIONS), torch.ones(24, dtype=torch.float64))
    assert torch.equal(CUBE_ROTATIONS @ CUBE_ROTATIONS.transpose(-2, -1), torch.eye(3, dtype=torch.float64).expand(24, 3, 3))
    # closed: every product is in the table, and the Cayley table is a Latin square of the 24 indices
    products = CUBE_ROTATIONS[:, None] @ CUBE_ROTATIONS[None]
    assert torch.equal(products, CUBE_ROTATIONS[CUBE_CAYLEY])
    for row in (CUBE_CAYLEY, CUBE_CAYLEY.T):
        assert all(sorted(r.tolist()) == list(range(24)) for r in row)


@pytest.mark.parametrize("group", [O(), SO3()])
def test_group_laws(group):
    gen = torch.Generator().manual_seed(0)
    a, b, c = group.sample(50, gen), group.sample(50, gen), group.sample(50, gen)
    e = group.identity(50)
    close = torch.equal if group.exact else lambda u, v: torch.allclose(u, v, atol=1e-12)
    assert close(group.compose(e, a), a) and close(group.compose(a, e), a)
    assert close(group.compose(group.inverse(a), a), e) and close(group.compose(a, group.inverse(a)), e)
    assert close(group.compose(a, group.compose(b, c)), group.compose(group.compose(a, b), c))
    assert not close(group.compose(a, b), group.compose(b, a))  # not abelian: the order matters


def test_o_compose_is_the_matrix_product():
    gen = torch.Generator().manual_seed(1)
    a, b = O().sample(40, gen), O().sample(40, gen)
    assert torch.equal(O.matrix(O().compose(a, b)), O.matrix(a) @ O.matrix(b))
    assert torch.equal(O.matrix(O().inverse(a)), O.matrix(a).transpose(-2, -1))
    assert torch.equal(O.index(O.matrix(a)), a)


def test_so3_samples_are_rotations():
    g = SO3().sample(100, torch.Generator().manual_seed(2))
    assert g.shape == (100, 3, 3) and g.dtype == torch.float64
    assert torch.allclose(g @ g.transpose(-2, -1), torch.eye(3, dtype=torch.float64).expand(100, 3, 3), atol=1e-12)
    assert torch.allclose(torch.linalg.det(g), torch.ones(100, dtype=torch.float64))


@pytest.mark.parametrize("name", ["O", "SO3"])
def test_seeded_sampling_is_reproducible(name):
    group = get_group(name)
    a = group.sample(10, torch.Generator().manual_seed(3))
    assert torch.equal(a, group.sample(10, torch.Generator().manual_seed(3)))
    assert not torch.equal(a, group.sample(10, torch.Generator().manual_seed(4)))


def test_samples_are_uniform():
    gen = torch.Generator().manual_seed(5)
    assert SO3().sample(4000, gen).mean(0).abs().max() < 0.05  # Haar: E[R] = 0
    # Haar: R_22 = cos(angle between w and R w) is uniform on [-1, 1], so P(R_22 > 1/2) = 1/4;
    # uniformly drawn Euler angles, which also give E[R] = 0, have 1/3 here
    assert abs(float((SO3().sample(4000, gen)[:, 2, 2] > 0.5).double().mean()) - 0.25) < 0.03
    counts = torch.bincount(O().sample(24000, gen), minlength=24)
    assert counts.min() > 850 and counts.max() < 1150


@pytest.mark.parametrize("size", [5, 6, 16])
def test_o_action_is_an_exact_homomorphism(size):
    group, gen = O(), torch.Generator().manual_seed(6)
    a, b = group.sample(48, gen), group.sample(48, gen)
    x = torch.randn(48, 3, size, size, size, generator=gen)
    assert torch.equal(group.act(a, group.act(b, x)), group.act(group.compose(a, b), x))
    assert torch.equal(group.act(group.inverse(a), group.act(a, x)), x)
    assert torch.equal(group.act(group.identity(48), x), x)


def test_o_acts_by_moving_content_to_R_p():
    """The convention itself, against an analytic volume: out(q) = x(R^T q) on centred (d, h, w)."""
    coords = centred_coords((7, 7, 7))
    x = blobs(coords, BLOB_CENTRES, BLOB_WIDTHS)[None, None]
    for k in range(24):
        r = CUBE_ROTATIONS[k]
        expected = blobs(coords @ r, BLOB_CENTRES, BLOB_WIDTHS)  # row q @ R == R^T q
        assert torch.allclose(O().act(torch.tensor([k]), x)[0, 0], expected, atol=1e-12)


@pytest.mark.parametrize("spatial", [(16, 16, 16), (12, 16, 14)])
def test_so3_acts_by_moving_content_to_R_p(spatial):
    """Same convention for SO3 (checks affine_grid's (W, H, D) order), cubic and non-cubic grids."""
    coords = centred_coords(spatial)
    x = blobs(coords, BLOB_CENTRES, BLOB_WIDTHS)[None, None]
    r = SO3().sample(3, torch.Generator().manual_seed(7))
    out = SO3().act(r, x.expand(3, 1, *spatial))
    for i in range(3):
        expected = blobs(coords @ r[i], BLOB_CENTRES, BLOB_WIDTHS)
        wrong = blobs(coords @ r[i].T, BLOB_CENTRES, BLOB_WIDTHS)  # R^T instead of R
        err = rel_err(out[i, 0], expected, expected)  # trilinear blur: about 0.05 here
        assert err < 0.08 and err < 0.3 * rel_err(out[i, 0], wrong, expected)


def test_so3_action_is_a_homomorphism_up_to_interpolation():
    group, gen = SO3(), torch.Generator().manual_seed(8)
    a, b = group.sample(4, gen), group.sample(4, gen)
    x = blob_volume()
    composed, sequential = group.act(group.compose(a, b), x), group.act(a, group.act(b, x))
    # two trilinear resamplings vs one: small against the signal, large against the wrong order
    assert rel_err(composed, sequential, x) < 0.1
    assert rel_err(group.act(group.compose(b, a), x), sequential, x) > 0.5
    assert torch.allclose(group.act(group.identity(4), x), x, atol=1e-5)


def test_so3_round_trip():
    group = SO3()
    g = group.sample(4, torch.Generator().manual_seed(9))
    x = blob_volume(seed=1)
    roundtrip = group.act(group.inverse(g), group.act(g, x))
    # two trilinear resamplings blur (about 0.1 here), far less than applying g twice moves the content
    assert rel_err(roundtrip, x, x) < 0.15
    assert rel_err(roundtrip, x, x) < 0.2 * rel_err(group.act(g, group.act(g, x)), x, x)


@pytest.mark.parametrize("size", [6, 7])
def test_so3_quarter_turns_equal_o(size):
    x = torch.randn(3, 2, size, size, size)
    for axis in range(3):
        for turns in (1, 2, 3):
            rotvec = [0.0, 0.0, 0.0]
            rotvec[axis] = turns * math.pi / 2
            r = torch.from_numpy(Rotation.from_rotvec(rotvec).as_matrix()).expand(3, 3, 3)
            k = O.index(r)
            assert torch.allclose(O.matrix(k), r, atol=1e-12)
            assert torch.allclose(SO3().act(r, x), O().act(k, x), atol=1e-5)
    # and for every cube rotation, through the O -> SO3 conversion
    k = torch.arange(24)
    x = torch.randn(24, 2, size, size, size)
    assert torch.allclose(SO3().act(O.matrix(k), x), O().act(k, x), atol=1e-5)


def test_o_first_axis_quarter_turn_is_c4z():
    k = O.FIRST_AXIS_QUARTER_TURN
    assert torch.equal(O.matrix(torch.tensor([k]))[0], torch.tensor([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=torch.float64))
    x = torch.randn(4, 3, 6, 6, 6)
    c4z = C4(name="C4z", spatial_dims=3)
    for turns in range(4):
        o_element = torch.zeros(4, dtype=torch.long)
        for _ in range(turns):
            o_element = O().compose(torch.full((4,), k), o_element)
        assert torch.equal(O().act(o_element, x), c4z.act(torch.full((4,), turns), x))


@pytest.mark.parametrize("group", [O(), SO3()])
def test_image_and_latent_actions_agree_in_direction(group):
    """Acting on a 16^3 volume then pooling to 8^3 equals pooling then acting on the 8^3 feature map."""
    assert_actions_agree_in_direction(group, blob_volume(size=16, channels=3, seed=2), lambda t: F.avg_pool3d(t, 2),
                                      seed=10)


@pytest.mark.parametrize("group", [O(), SO3()])
def test_any_channel_count_and_size(group):
    g = group.sample(2, torch.Generator().manual_seed(11))
    for shape in [(2, 1, 4, 4, 4), (2, 16, 5, 5, 5), (2, 8, 2, 2, 2)]:
        out = group.act(g, torch.randn(shape))
        assert out.shape == shape and torch.isfinite(out).all()


def test_so3_fill_value():
    x = -torch.ones(2, 1, 8, 8, 8)
    g = SO3().sample(2, torch.Generator().manual_seed(12))
    assert torch.allclose(SO3().act(g, x, fill=-1.0), x, atol=1e-6)  # corners rotated in stay background
    assert (SO3().act(g, x) > -0.5).any()  # without fill they would not


def test_o_refuses_non_cubic_grids():
    with pytest.raises(ValueError, match=r"cubic.*\(2, 1, 4, 6, 6\).*resample"):
        O().act(torch.zeros(2, dtype=torch.long), torch.zeros(2, 1, 4, 6, 6))


@pytest.mark.parametrize("group", [O(), SO3()])
def test_2d_tensors_refused(group):
    with pytest.raises(ValueError, match=r"3-D tensors.*\(2, 1, 8, 8\)"):
        group.act(group.identity(2), torch.zeros(2, 1, 8, 8))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("group", [O(), SO3()])
def test_cuda_matches_cpu(group):
    g = group.sample(4, torch.Generator().manual_seed(13))
    x = blob_volume(size=8, channels=3)
    on_gpu = group.act(g.cuda(), x.cuda())
    assert on_gpu.device.type == "cuda"
    assert torch.allclose(on_gpu.cpu(), group.act(g, x), atol=1e-5)
    composed = group.compose(g.cuda(), group.inverse(g.cuda()))
    assert composed.device.type == "cuda" and torch.allclose(composed.cpu(), group.identity(4), atol=1e-12)
