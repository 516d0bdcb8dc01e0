"""`ald transform`: a trained run applied to a file of one's own (ald.transform)."""
import json
import math
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from ald.cli import main
from ald.groups import SO3, get_group
from ald.metrics import to_unit_range
from ald.sources import save_source
from ald.sources.volumes import prepare_blobs3d
from ald.training import TrainSpec, load_run, train
from ald.transform import group_element, transform_file


def trained(npz, folder, group):
    spec = TrainSpec(source_npz=str(npz), recipe={"kind": "none"}, group=group, model={"kind": "ald"}, seed=5,
                     epochs=1, batch_size=32, lr=1e-3, val_seed=0, threads=1, device="cpu", max_train_items=None)
    train(spec, folder, folder.with_suffix(".pt"), log=lambda _: None)
    return folder


@pytest.fixture(scope="module")
def c4_run(glyph_npz, tmp_path_factory):
    return trained(glyph_npz, tmp_path_factory.mktemp("runs") / "c4", "C4")


def first_test_pair(run):
    pair = run.pairs("test", 0).batch(torch.tensor([0]))
    return pair


def test_an_npy_of_a_test_image_gives_that_pairs_prediction(c4_run, tmp_path):
    run = load_run(c4_run)
    pair = first_test_pair(run)
    np.save(tmp_path / "x.npy", to_unit_range(pair.x.numpy())[0].astype(np.float32))
    angle = 90.0 * int(pair.g[0])
    transform_file(run, tmp_path / "x.npy", tmp_path / "y.npy", {"angle": angle})
    expected = to_unit_range(run.model.predict(pair.x, pair.g).detach().numpy())[0]
    assert np.abs(np.load(tmp_path / "y.npy") - expected).max() < 1e-6


def test_a_png_of_another_size_comes_back_at_its_size_and_format(c4_run, tmp_path):
    pixels = np.zeros((40, 40), np.uint8)
    pixels[8:32, 18:22] = 255  # a vertical bar
    Image.fromarray(pixels).save(tmp_path / "bar.png")
    main(["transform", "--run", str(c4_run), "--input", str(tmp_path / "bar.png"), "--out", str(tmp_path / "t.png"),
          "--angle", "90"])
    with Image.open(tmp_path / "t.png") as out:
        assert out.size == (40, 40) and out.mode == "L"


def test_the_swap_writes_one_output(c4_run, tmp_path):
    for name, column in (("a.png", 5), ("b.png", 20)):
        pixels = np.zeros((28, 28), np.uint8)
        pixels[4:24, column:column + 3] = 255
        Image.fromarray(pixels).save(tmp_path / name)
    main(["transform", "--run", str(c4_run), "--input", str(tmp_path / "a.png"), "--swap-with",
          str(tmp_path / "b.png"), "--out", str(tmp_path / "s.png")])
    assert (tmp_path / "s.png").exists()


@pytest.mark.parametrize("bad, message", [
    ({"angle": 45.0}, "only quarter turns: 45 degrees"),
    ({"cube_index": 3}, "C4 takes --angle; got cube_index"),
])
def test_an_element_of_the_wrong_group_is_refused(c4_run, tmp_path, bad, message):
    run = load_run(c4_run)
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "x.png")
    with pytest.raises(ValueError, match=message):
        transform_file(run, tmp_path / "x.png", tmp_path / "y.png", bad)
    assert not (tmp_path / "y.png").exists()


def test_an_input_the_model_cannot_take_is_refused(c4_run, tmp_path):
    run = load_run(c4_run)
    Image.fromarray(np.zeros((28, 28, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="3 channel\\(s\\), but the run's model takes 1"):
        transform_file(run, tmp_path / "rgb.png", tmp_path / "y.png", {"angle": 90.0})
    np.save(tmp_path / "v.npy", np.zeros((1, 8, 8, 8), np.float32) + 0.5)
    with pytest.raises(ValueError, match="3-D input, but the run's model takes 2-D"):
        transform_file(run, tmp_path / "v.npy", tmp_path / "y.npy", {"angle": 90.0})
    with pytest.raises(ValueError, match="in the input's format"):
        transform_file(run, tmp_path / "rgb.png", tmp_path / "y.npy", {"angle": 90.0})


def test_a_released_run_loads_without_its_prepared_data(c4_run, tmp_path):
    moved = tmp_path / "release"
    shutil.copytree(c4_run, moved)
    record = json.loads((moved / "run.json").read_text())
    record["parameters"]["source_npz"] = str(tmp_path / "not-here.npz")
    record["parameters"]["source"] = {"name": "glyphs"}
    (moved / "run.json").write_text(json.dumps(record))
    assert load_run(moved).layout == load_run(c4_run).layout == {"in_channels": 1, "spatial_dims": 2, "image_size": 28}


def test_elements_are_written_as_a_user_thinks_of_them():
    assert int(group_element(get_group("C4"), angle=270.0)) == 3
    assert float(group_element(get_group("SO2"), angle=30.0)) == pytest.approx(math.pi / 6)
    quarter = group_element(get_group("O"), axis=[1, 0, 0], angle=90.0)
    assert int(quarter) == 5  # the cube group's quarter turn about the first axis (C4 in 3-D)
    with pytest.raises(ValueError, match="only quarter turns"):
        group_element(get_group("O"), axis=[1, 0, 0], angle=30.0)
    with pytest.raises(ValueError, match="24 elements"):
        group_element(get_group("O"), cube_index=24)
    by_axis = group_element(SO3(), axis=[0, 0, 1], angle=90.0)
    by_euler = group_element(SO3(), euler=[90.0, 0.0, 0.0])
    assert torch.allclose(by_axis, by_euler, atol=1e-9)


def test_a_nifti_volume_is_transformed_under_the_cube_group(tmp_path):
    nibabel = pytest.importorskip("nibabel")
    npz = tmp_path / "blobs.npz"
    save_source(prepare_blobs3d(size=16, n_train=64, n_val=16, n_test=16, seed=1), npz)
    run = load_run(trained(npz, tmp_path / "o", "O"))
    volume = np.zeros((20, 20, 20), np.float32)
    volume[5:15, 8:12, 8:12] = 300.0  # a range far from [0, 1]: restored on output
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    nibabel.save(nibabel.Nifti1Image(volume, affine), str(tmp_path / "v.nii.gz"))
    transform_file(run, tmp_path / "v.nii.gz", tmp_path / "t.nii.gz", {"cube_index": 5})
    out = nibabel.load(str(tmp_path / "t.nii.gz"))
    assert out.shape == (20, 20, 20) and np.allclose(out.affine, affine)
    data = np.asarray(out.dataobj)
    assert data.min() >= -1e-3 and data.max() <= 300.0 + 1e-3
