"""Airplanes over skies: rendering the real ShapeNet meshes over the real SWIMSEG skies, the pairs, the
procedural demo source, and the lifted latent that SO(3) acts on."""

import numpy as np
import pytest
import torch

from ald.groups import get_group
from ald.models import build_model
from ald.paper.figures.latent_swap import swap_partners
from ald.sources import prepare
from ald.sources.airplanes import (MeshLoadError, load_meshes, load_skies, make_pairs, prepare_airplanes,
                                   relative_rotation, render_views)
from ald.sources.toy_airplanes import prepare_toy_airplanes
from conftest import require_renders
from scipy.spatial.transform import Rotation

SIZE = 32


@pytest.fixture(scope="module")
def real():
    """The real meshes, 6 seeded rotations of them rendered at 32x32, and the real skies."""
    meshes_dir, skies_dir = require_renders()
    meshes, ids, skipped = load_meshes(sorted(meshes_dir.glob("02691156/*/models/model_normalized.obj")))
    rotations = Rotation.random(6, random_state=0).as_matrix()
    skies = load_skies(sorted(skies_dir.glob("images/*.png")))
    return dict(meshes=meshes, ids=ids, skipped=skipped, rotations=rotations, skies=skies,
                views=render_views(meshes, rotations, SIZE))


def test_every_real_mesh_loads_into_the_unit_sphere(real):
    assert len(real["meshes"]) == 5 and not real["skipped"]
    for mesh in real["meshes"]:
        radius = np.linalg.norm(mesh.vertices, axis=1).max()
        assert radius == pytest.approx(1.0) and np.abs(mesh.bounds.mean(0)).max() < 1e-6


def test_renders_are_non_empty_and_byte_identical_when_repeated(real):
    views = real["views"]
    assert views.shape == (5, 6, SIZE, SIZE, 4) and views.dtype == np.uint8
    covered = (views[..., 3] > 0).mean((2, 3))  # fraction of pixels each view of each object covers
    assert covered.min() > 0.02 and covered.max() < 0.9  # the plane is there, and inside the frame
    again = render_views(real["meshes"][:2], real["rotations"], SIZE)
    assert again.tobytes() == views[:2].tobytes()


def test_the_silhouette_moves_with_the_rotation_and_the_sky_outside_both_does_not(real):
    views, rng = real["views"], np.random.default_rng(0)
    pairs = make_pairs(views, real["rotations"], real["skies"], np.arange(5), np.arange(len(real["skies"])), 4, rng)
    for i in range(len(pairs["x"])):
        a, b = views[pairs["object"][i], pairs["view_a"][i]], views[pairs["object"][i], pairs["view_b"][i]]
        sky_only = (a[..., 3] == 0) & (b[..., 3] == 0)
        assert (a[..., 3] > 0).tobytes() != (b[..., 3] > 0).tobytes()  # the silhouette changes
        assert np.array_equal(pairs["x"][i][:, sky_only], pairs["tx"][i][:, sky_only])  # the sky does not
        assert not np.array_equal(pairs["x"][i], pairs["tx"][i])


def test_the_relative_rotation_composes():
    r = Rotation.random(3, random_state=1).as_matrix()
    g_ab, g_bc, g_ac = relative_rotation(r[0], r[1]), relative_rotation(r[1], r[2]), relative_rotation(r[0], r[2])
    assert np.allclose(g_bc @ g_ab, g_ac)  # a -> b, then b -> c, is a -> c
    assert np.allclose(g_ab @ g_ab.T, np.eye(3)) and np.linalg.det(g_ab) == pytest.approx(1.0)


def test_a_mesh_that_fails_is_reported_by_id_and_skipped_and_all_failing_stops(real, tmp_path):
    bad = tmp_path / "02691156" / "broken" / "models" / "model_normalized.obj"
    bad.parent.mkdir(parents=True)
    bad.write_text("this is not an OBJ file\n")
    good = sorted(require_renders()[0].glob("02691156/*/models/model_normalized.obj"))[:1]
    messages = []
    meshes, ids, skipped = load_meshes([bad, *good], log=messages.append)
    assert skipped == ["broken"] and len(meshes) == 1 and "broken" in messages[0]
    with pytest.raises(MeshLoadError, match="none of the 1 meshes could be loaded"):
        load_meshes([bad], log=messages.append)


def test_the_airplanes_source_splits_by_object_and_records_its_metadata(tmp_path):
    meshes_dir, skies_dir = require_renders()
    arrays = prepare("airplanes", dict(shapenet=str(meshes_dir), swimseg=str(skies_dir), size=SIZE, n_rotations=5,
                                       pairs_per_object=3, holdout=0.2, seed=0))
    objects = {split: set(arrays[f"{split}_object"]) for split in ("train", "val", "test")}
    assert [len(objects[s]) for s in ("train", "val", "test")] == [3, 1, 1]
    assert not (objects["train"] & objects["val"]) and not (objects["train"] & objects["test"])
    skies = {split: set(arrays[f"{split}_sky"]) for split in ("train", "val", "test")}
    assert not (skies["train"] & skies["test"])  # 10 skies: held out as well
    assert arrays["train_x"].shape == (9, 3, SIZE, SIZE) and arrays["train_g"].shape == (9, 3, 3)
    assert len(arrays["object_ids"]) == 5 and len(arrays["skipped_ids"]) == 0
    g = arrays["test_g"][0]
    rotations = arrays["rotations"]
    a, b = arrays["test_view_a"][0], arrays["test_view_b"][0]
    assert np.allclose(g, relative_rotation(rotations[a], rotations[b]))


def test_a_missing_folder_names_the_dataset_its_terms_and_where_to_request_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"sources.airplanes.shapenet: .* is not a folder.*shapenet.org"):
        prepare_airplanes(str(tmp_path / "nowhere"), str(tmp_path))


def test_the_demo_source_renders_procedural_airplanes_over_generated_skies():
    arrays = prepare_toy_airplanes(n_objects=3, n_skies=2, size=SIZE, n_rotations=4, pairs_per_object=2, seed=1)
    again = prepare_toy_airplanes(n_objects=3, n_skies=2, size=SIZE, n_rotations=4, pairs_per_object=2, seed=1)
    assert arrays["train_x"].tobytes() == again["train_x"].tobytes()
    assert arrays["train_x"].shape == (2, 3, SIZE, SIZE) and arrays["train_x"].std() > 10


def test_swap_partners_of_rendered_pairs_differ_in_pose_and_sky():
    metadata = dict(object=np.array([0, 0, 0, 0]), view_a=np.array([1, 1, 2, 3]), sky=np.array([5, 6, 5, 6]))
    partners = swap_partners(metadata, 2)
    assert partners == [(0, 3), (2, 1)]  # items 0 and 1 share a pose, so they are never partners
    for i, j in partners:
        assert metadata["sky"][i] != metadata["sky"][j] and metadata["view_a"][i] != metadata["view_a"][j]
    with pytest.raises(ValueError, match="fewer than 3 pairs"):
        swap_partners(metadata, 3)


# -- the lifted latent

def lifted(kind="ald", **params):
    return build_model({"kind": kind, "latent_channels": 64, "lift_depth": 8, **params}, get_group("SO3"), 3, 2)


def test_a_2d_model_under_so3_acts_on_a_feature_volume_lifted_from_its_channels():
    model = lifted()
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    z = model.encode(x)
    assert z.shape == (2, 8, 8, 8, 8) and model.latent_channels == 8 and model.mask_logits.shape == (8,)
    identity = get_group("SO3").identity(2)
    assert torch.allclose(model.decode(model.act(identity, z)), model.decode(z), atol=1e-5)
    assert model.predict(x, get_group("SO3").sample(2, torch.Generator().manual_seed(0))).shape == x.shape
    with pytest.raises(ValueError, match=r"latent_channels \(60\) must be a multiple of lift_depth \(8\)"):
        lifted(latent_channels=60)


@pytest.mark.parametrize("kind", ["ald", "galr", "equivnr"])
def test_a_training_step_lowers_the_loss_of_every_model_on_lifted_latents(kind):
    torch.manual_seed(0)
    model = lifted(kind, **({"n_variant": 4} if kind == "galr" else {}))
    so3 = get_group("SO3")
    x = torch.rand(8, 3, SIZE, SIZE) * 2 - 1
    g = so3.sample(8, torch.Generator().manual_seed(1))
    tx = x.flip(-1)  # any fixed target: the step must lower the loss on this batch
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        loss = model.total_loss(model.loss_terms(x, tx, g))
        optimiser.zero_grad(), loss.backward(), optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
