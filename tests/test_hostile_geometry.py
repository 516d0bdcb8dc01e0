"""Hostile geometry in the airplanes source: broken meshes are skipped by file with a reason and a fix (or, when
too few remain, the dataset is refused at prepare time), and an empty training split never reaches training."""

import re

import numpy as np
import pytest
from PIL import Image

from ald.sources import prepare, save_source
from ald.sources.airplanes import MAX_COORDINATE, MeshLoadError, SplitError, load_mesh, part_problem, prepare_airplanes
from ald.sources.toy_airplanes import toy_airplane, toy_sky
from ald.training import TrainSpec, train
from conftest import require_renders

TRIANGLE = "v 0 0 0\nv 1 0 0\nv 0 1 0\n"
BROKEN = {  # id: (OBJ text, what the warning must say)
    "all_nan": ("v nan nan nan\nv nan nan nan\nv nan nan nan\nf 1 2 3\n", "3 of its 3 vertices are not finite"),
    "part_nan": (TRIANGLE + "v nan 0 0\nf 1 2 3\nf 2 3 4\n", "1 of its 4 vertices are not finite"),
    "part_inf": (TRIANGLE + "v 0 -inf 0\nf 1 2 3\nf 2 3 4\n", "1 of its 4 vertices are not finite"),
    "huge": ("v 0 0 0\nv 1e30 0 0\nv 0 1e30 0\nf 1 2 3\n", "a vertex coordinate is 1e+30"),
    "no_faces": (TRIANGLE, "it has 3 vertices but no faces"),
    "no_vertices": ("f 1 2 3\n", "trimesh cannot read it (TypeError"),
    "face_past_end": (TRIANGLE + "f 1 2 9\n", "trimesh cannot read it (IndexError: index 8 is out of bounds"),
    "face_before_start": (TRIANGLE + "f 1 2 -5\n", "trimesh cannot read it (IndexError: index -5 is out of bounds"),
    "one_point": ("v 1 1 1\nv 1 1 1\nv 1 1 1\nf 1 2 3\n", "all 3 vertices its faces use are at one point"),
    "collinear": ("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\nf 3 2 1\n", "its 2 faces have zero total area"),
    "empty_scene": ("# nothing but a comment\n", "trimesh reads it as a Scene with no geometry"),
}
FIX = "Fix: repair or re-export the mesh, or delete its folder to leave it out"


def mesh_file(shapenet, object_id):
    path = shapenet / "02691156" / object_id / "models" / "model_normalized.obj"
    path.parent.mkdir(parents=True)
    return path


def write_good_meshes(shapenet, n, far_vertex=None):
    """n airplane-like meshes as OBJ files, ids good0..; ``far_vertex`` adds a tiny triangle that far away to the last."""
    rng = np.random.default_rng(0)
    for i in range(n):
        mesh = toy_airplane(rng)
        if far_vertex is not None and i == n - 1:
            sliver = np.array([[far_vertex, 0, 0], [far_vertex, 1e-3, 0], [far_vertex, 0, 1e-3]])
            faces = np.vstack([mesh.faces, [len(mesh.vertices) + np.arange(3)]])
            mesh = type(mesh)(np.vstack([mesh.vertices, sliver]), faces, process=False)
        mesh.export(mesh_file(shapenet, f"good{i}"))


def write_skies(swimseg, n=3):
    (swimseg / "images").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray(toy_sky(64, rng)).save(swimseg / "images" / f"{i:04d}.png")


def folders(tmp_path, n_good=3, broken=(), far_vertex=None):
    shapenet, swimseg = tmp_path / "shapenet", tmp_path / "swimseg"
    write_good_meshes(shapenet, n_good, far_vertex)
    for object_id in broken:
        mesh_file(shapenet, object_id).write_text(BROKEN[object_id][0])
    write_skies(swimseg)
    return shapenet, swimseg


def prepare_small(shapenet, swimseg, **params):
    """The workflow's prepare path (`python -m ald.cli prepare airplanes`), rendering few small views."""
    settings = dict(size=16, n_rotations=3, pairs_per_object=2, holdout=0.2, seed=0) | params
    return prepare("airplanes", dict(shapenet=str(shapenet), swimseg=str(swimseg), **settings))


def skip_lines(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("skipped mesh")]


def assert_good_meshes_make_the_dataset(arrays, n_good=3):
    assert sorted(arrays["object_ids"]) == [f"good{i}" for i in range(n_good)]
    for split in ("train", "val", "test"):
        assert len(set(arrays[f"{split}_object"])) >= 1 and len(arrays[f"{split}_x"]) >= 2
        assert arrays[f"{split}_x"].shape[1:] == (3, 16, 16)


# -- the three findings

def test_an_all_nan_mesh_is_skipped_by_file_and_the_others_make_the_dataset(tmp_path, capsys):
    shapenet, swimseg = folders(tmp_path, broken=["all_nan"])
    arrays = prepare_small(shapenet, swimseg)
    bad = shapenet / "02691156" / "all_nan" / "models" / "model_normalized.obj"
    assert skip_lines(capsys) == [f"skipped mesh all_nan: {bad}: 3 of its 3 vertices are not finite (NaN or inf). "
                                  f"{FIX}"]
    assert list(arrays["skipped_ids"]) == ["all_nan"]
    assert_good_meshes_make_the_dataset(arrays)


@pytest.mark.parametrize("object_id", ["part_nan", "part_inf"])
def test_a_partly_non_finite_mesh_is_skipped_not_rendered_to_nothing(tmp_path, capsys, object_id):
    shapenet, swimseg = folders(tmp_path, broken=[object_id])
    arrays = prepare_small(shapenet, swimseg)
    (line,) = skip_lines(capsys)
    assert line.startswith(f"skipped mesh {object_id}: {shapenet}/02691156/{object_id}/models/model_normalized.obj: ")
    assert "1 of its 4 vertices are not finite (NaN or inf)" in line and line.endswith(FIX)
    assert list(arrays["skipped_ids"]) == [object_id]
    assert_good_meshes_make_the_dataset(arrays)


def test_two_usable_meshes_are_refused_at_prepare_time_with_the_counts_holdout_and_fix(tmp_path, capsys):
    shapenet, swimseg = folders(tmp_path, n_good=2, broken=["all_nan"])
    with pytest.raises(SplitError) as refused:
        prepare_small(shapenet, swimseg)
    assert str(refused.value) == (
        "sources.airplanes: 2 usable objects with holdout 0.2 and 2 pairs per object split into train 0 objects "
        "(0 pairs), val 1 objects (2 pairs), test 1 objects (2 pairs); every split needs at least one object and "
        "one pair. Fix: supply at least 3 meshes that load and render (2 did; val and test each hold "
        "max(1, round(n * holdout)) objects and train keeps the rest, so a lower holdout cannot help)")
    assert len(skip_lines(capsys)) == 1  # the skipped mesh is named before the refusal


def test_zero_pairs_per_object_is_refused_at_prepare_time(tmp_path):
    shapenet, swimseg = folders(tmp_path)
    with pytest.raises(SplitError, match=r"train 1 objects \(0 pairs\).*Fix: set sources.airplanes.pairs_per_object"):
        prepare_small(shapenet, swimseg, pairs_per_object=0)


def test_an_empty_training_split_is_refused_by_training_not_divided_by(tmp_path):
    images = lambda n: np.zeros((n, 1, 28, 28), np.uint8)
    npz = tmp_path / "empty_train.npz"
    save_source({"train_x": images(0), "train_y": np.zeros(0, np.int64), "val_x": images(4),
                 "val_y": np.zeros(4, np.int64), "test_x": images(4), "test_y": np.zeros(4, np.int64)}, npz)
    spec = TrainSpec(source_npz=str(npz), recipe={"kind": "occluder", "size": 7}, group="C4", model={"kind": "ald"},
                     seed=0, epochs=1, batch_size=4, lr=1e-3, val_seed=0, threads=1, device="cpu",
                     max_train_items=None)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(npz))}: the train split holds no pairs \(train 0, val 4\).*Fix: prepare"):
        train(spec, tmp_path / "run", tmp_path / "resume.pt", log=lambda _: None)


# -- other broken geometry

@pytest.mark.parametrize("object_id", sorted(BROKEN))
def test_each_kind_of_broken_mesh_is_skipped_with_one_line_naming_file_reason_and_fix(tmp_path, capsys, object_id):
    shapenet, swimseg = folders(tmp_path, broken=[object_id])
    arrays = prepare_small(shapenet, swimseg)
    (line,) = skip_lines(capsys)
    bad = shapenet / "02691156" / object_id / "models" / "model_normalized.obj"
    assert line.startswith(f"skipped mesh {object_id}: {bad}: ") and BROKEN[object_id][1] in line
    assert line.endswith(FIX)
    assert list(arrays["skipped_ids"]) == [object_id]
    assert_good_meshes_make_the_dataset(arrays)


def test_a_mesh_file_that_is_broken_raises_a_mesh_load_error_naming_it(tmp_path):
    path = mesh_file(tmp_path, "huge")
    path.write_text(BROKEN["huge"][0])
    with pytest.raises(MeshLoadError, match=rf"^{re.escape(str(path))}: a vertex coordinate is 1e\+30, beyond \+-1e\+06"):
        load_mesh(path)


def test_faces_past_the_vertex_list_are_refused_even_where_the_reader_lets_them_through():
    vertices = np.zeros((3, 3))
    assert part_problem(vertices, np.array([[0, 1, 5]])) == "its faces index vertices 0..5 but it has only 3 (0..2)"
    assert part_problem(vertices, np.array([[-1, 1, 2]])) == "its faces index vertices -1..2 but it has only 3 (0..2)"
    assert part_problem(np.full((3, 3), MAX_COORDINATE), np.array([[0, 1, 2]])) is None  # the limit itself is kept


def test_a_mesh_that_renders_to_no_pixels_in_a_view_is_skipped_by_file(tmp_path, capsys):
    shapenet, swimseg = folders(tmp_path, n_good=4, far_vertex=1e5)  # good3 shrinks below a pixel
    arrays = prepare_small(shapenet, swimseg)
    bad = shapenet / "02691156" / "good3" / "models" / "model_normalized.obj"
    (line,) = skip_lines(capsys)
    assert line.startswith(f"skipped mesh good3: {bad}: renders to no object pixels in 3 of its 3 views at 16x16")
    assert line.endswith(FIX)
    assert list(arrays["skipped_ids"]) == ["good3"]
    assert_good_meshes_make_the_dataset(arrays)


def test_when_every_mesh_is_broken_the_dataset_is_refused_naming_them(tmp_path, capsys):
    shapenet, swimseg = folders(tmp_path, n_good=0, broken=["all_nan", "no_faces", "one_point"])
    with pytest.raises(MeshLoadError, match=r"none of the 3 meshes could be loaded \(skipped: all_nan, no_faces, "
                                            r"one_point; .*Fix: supply meshes that load"):
        prepare_airplanes(str(shapenet), str(swimseg), size=16, n_rotations=3, pairs_per_object=2)
    assert len(skip_lines(capsys)) == 3


def test_real_meshes_beside_broken_ones_still_make_the_dataset(tmp_path, capsys):
    meshes_dir, skies_dir = require_renders()
    shapenet = tmp_path / "shapenet"
    for path in sorted(meshes_dir.glob("02691156/*/models/model_normalized.obj"))[:3]:
        mesh_file(shapenet, path.parent.parent.name).write_bytes(path.read_bytes())
    for object_id in ("all_nan", "part_nan"):
        mesh_file(shapenet, object_id).write_text(BROKEN[object_id][0])
    arrays = prepare_small(shapenet, skies_dir)
    assert [line.split(":")[0] for line in skip_lines(capsys)] == ["skipped mesh all_nan", "skipped mesh part_nan"]
    assert len(arrays["object_ids"]) == 3 and list(arrays["skipped_ids"]) == ["all_nan", "part_nan"]
    assert [len(set(arrays[f"{split}_object"])) for split in ("train", "val", "test")] == [1, 1, 1]
