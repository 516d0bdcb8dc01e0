"""The `folder` source: the user's own images or volumes, configured in the config file alone."""

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from ald.paper.tables import make_table
from ald.plan import ConfigError, Plan
from ald.sources import get_source, prepare
from ald.sources.folder import FolderError, read_volume
from conftest import REPO, SHARED_DATA

nibabel = pytest.importorskip("nibabel")
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
REAL_SCAN = SHARED_DATA / "oasis" / "voxelmorph_test_vol.nii.gz"  # VoxelMorph's example T1 scan (not OASIS)


def shape_image(label: int, rng: np.random.Generator, side: tuple[int, int]) -> np.ndarray:
    """A grey (H, W) uint8 image: a bright square (label 0) or disc (label 1) at a random place, on noise."""
    h, w = side
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx, r = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w, rng.uniform(0.2, 0.3) * min(h, w)
    inside = (np.abs(yy - cy) < r) & (np.abs(xx - cx) < r) if label == 0 else (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
    return np.clip(rng.normal(30, 10, (h, w)) + 200 * inside, 0, 255).astype(np.uint8)


def write_images(root: Path, per_class: int, classes=("disc", "square"), seed=0, rgb=False, subfolders=True,
                 side=(12, 40)) -> list[tuple[str, str]]:
    """PNGs (every fifth a JPEG) of varied sizes, in a subfolder per class or flat; (relative path, class) each."""
    rng = np.random.default_rng(seed)
    written = []
    for label, name in enumerate(classes):
        for i in range(per_class):
            image = shape_image(1 - label, rng, tuple(rng.integers(*side, 2)))
            if rgb:
                image = np.stack([image, image // 2, 255 - image], -1)
            relative = f"{name}/{i:03d}" if subfolders else f"{name}_{i:03d}"
            relative += ".jpg" if i % 5 == 4 else ".png"
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / relative)
            written.append((relative, name))
    return written


def folder_config(path, **entry) -> dict:
    """config.yaml with a `mine` dataset on the folder source, as a user's overlay would make it."""
    config = copy.deepcopy(CONFIG)
    config["sources"]["folder"] = {"path": str(path), **entry}
    config["datasets"]["mine"] = {"source": "folder", "recipe": {"kind": "none"}}
    config.update(only_datasets=["mine"], only_models=["ald"], seeds=[1])
    return config


def problems_of(config) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Plan(config)
    return caught.value.problems


def test_class_subfolders_of_mixed_sizes_prepare_to_shapes_labels_and_a_seeded_split(tmp_path):
    written = dict(write_images(tmp_path / "pngs", per_class=60))
    params = {"path": str(tmp_path / "pngs"), "size": 16, "labels": "subfolders", "split": {"val": 0.15, "test": 0.15}}
    arrays = prepare("folder", params)
    sizes = {split: len(arrays[f"{split}_x"]) for split in ("train", "val", "test")}
    assert sizes == {"train": 84, "val": 18, "test": 18}
    assert arrays["train_x"].shape[1:] == (1, 16, 16) and arrays["train_x"].dtype == np.uint8
    assert list(arrays["classes"]) == ["disc", "square"]
    for split in ("train", "val", "test"):  # each label is its file's subfolder
        assert [arrays["classes"][y] for y in arrays[f"{split}_y"]] == [written[f] for f in arrays[f"{split}_files"]]
    files = [f for split in ("train", "val", "test") for f in arrays[f"{split}_files"]]
    assert sorted(files) == sorted(written) and {f.rsplit(".", 1)[1] for f in files} == {"png", "jpg"}
    again = prepare("folder", params)
    assert all(np.array_equal(arrays[k], again[k]) for k in arrays)  # deterministic for a seed
    other = prepare("folder", dict(params, split={"seed": 7}))
    assert list(other["test_files"]) != list(arrays["test_files"]) and len(other["test_files"]) == 18
    # The content survives: a disc's centre is bright, the padded border of a wide image is black.
    assert arrays["train_x"].max() > 200 and arrays["train_x"].mean() > 20
    source = get_source("folder").configured(params)
    assert (source.spatial_dims, source.channels, source.labelled) == (2, 1, True)


def test_one_image_is_resized_as_asked():
    from ald.sources import fit_to_size

    wide = np.ones((1, 8, 16), np.float32)
    padded = fit_to_size(wide, 8, "pad")
    assert padded.shape == (1, 8, 8) and padded[0, 0].max() == 0 and padded[0, 4].min() == 1  # black bands above/below
    assert fit_to_size(wide, 8, "crop").min() == 1 and fit_to_size(wide, 8, "stretch").min() == 1
    grown = fit_to_size(np.eye(4, dtype=np.float32)[None], 8, "stretch")
    assert grown.shape == (1, 8, 8) and 0 <= grown.min() and grown.max() <= 1


def test_rgb_images_keep_three_channels_or_become_grey_on_request(tmp_path):
    write_images(tmp_path / "rgb", per_class=5, rgb=True, side=(16, 17))
    params = {"path": str(tmp_path / "rgb"), "size": 16, "labels": "subfolders"}
    arrays = prepare("folder", params)
    assert arrays["train_x"].shape[1:] == (3, 16, 16) and get_source("folder").configured(params).channels == 3
    assert Plan(folder_config(tmp_path / "rgb", size=16)).parameter_rows()[0]["data"] == "3 channel(s), 2-D"
    grey = prepare("folder", dict(params, channels=1))
    assert grey["train_x"].shape[1:] == (1, 16, 16) and get_source("folder").configured(dict(params, channels=1)).channels == 1


def test_csv_labels_name_each_file(tmp_path):
    root = tmp_path / "flat"
    written = write_images(root, per_class=10, classes=("2", "10"), subfolders=False, side=(16, 17))
    with (root / "labels.csv").open("w", newline="") as handle:  # inside the folder: skipped as a note
        writer = csv.writer(handle)
        writer.writerow(["image", "digit"])
        writer.writerows(written)
    params = {"path": str(root), "size": 16, "labels": {"csv": "labels.csv", "file_column": "image", "label_column": "digit"}}
    arrays = prepare("folder", params)
    assert list(arrays["classes"]) == ["2", "10"]  # integers in numeric order
    truth = dict(written)
    for split in ("train", "val", "test"):
        assert [arrays["classes"][y] for y in arrays[f"{split}_y"]] == [truth[f] for f in arrays[f"{split}_files"]]
    assert str(root / "labels.csv") in Plan(folder_config(root, size=16, labels=params["labels"])).prepare_inputs("folder")


def test_an_unlabelled_folder_is_trained_but_not_probed(tmp_path):
    write_images(tmp_path / "pngs", per_class=5, side=(16, 17))
    arrays = prepare("folder", {"path": str(tmp_path / "pngs"), "size": 16})  # labels: none, the default
    assert all((arrays[f"{s}_y"] == -1).all() for s in ("train", "val", "test")) and len(arrays["classes"]) == 0
    plan = Plan(folder_config(tmp_path / "pngs", size=16))
    assert not plan.labelled("mine") and plan.probed_runs() == [] and plan.main_runs()
    assert any("mine is not probed" in note for note in plan.table_notes("table3"))


def test_nifti_and_npy_volumes_are_padded_to_a_cube(tmp_path):
    rng = np.random.default_rng(1)
    root = tmp_path / "volumes"
    root.mkdir()
    for i in range(4):  # MRI-like floats of any range, in slabs thinner than wide (8 x 16 x 12)
        volume = rng.uniform(100, 900, (8, 16, 12)).astype(np.float32)
        nibabel.Nifti1Image(volume, np.eye(4)).to_filename(root / f"scan{i}.nii.gz" if i % 2 else root / f"scan{i}.nii")
    for i in range(3):
        np.save(root / f"array{i}.npy", rng.integers(0, 256, (8, 16, 12), dtype=np.uint8))
    params = {"path": str(root), "size": 16}
    arrays = prepare("folder", params)
    x = np.concatenate([arrays[f"{s}_x"] for s in ("train", "val", "test")])
    assert x.shape == (7, 1, 16, 16, 16) and x.dtype == np.uint8
    assert (x[:, :, :4] == 0).all() and (x[:, :, 12:] == 0).all()  # 8 -> 16: zero slabs of 4 on each side
    assert (x[:, :, :, :, :2] == 0).all() and x[:, :, 4:12, :, 2:14].min() >= 0 and x.max() == 255  # per item: max 255
    source = get_source("folder").configured(params)
    assert (source.spatial_dims, source.channels, source.labelled) == (3, 1, False)
    assert problems_of(dict(folder_config(root, size=16), groups=["C4", "SO2"])) == [
        "groups: none of ['C4', 'SO2'] acts on dataset mine, which is 3-D. Fix: add a 3-D group (O, SO3)"]
    assert [(r.group, r.dataset) for r in Plan(dict(folder_config(root, size=16), groups=["O"])).main_runs()] == [("O", "mine")]


def test_the_real_brain_volume_is_read_by_the_nifti_reader(tmp_path):
    if not REAL_SCAN.exists():
        pytest.skip(f"the VoxelMorph test scan is not at {REAL_SCAN} (set ALD_SHARED_DATA to a folder holding oasis/)")
    volume = read_volume(REAL_SCAN)
    assert volume.shape == (1, 160, 192, 224) and 0 <= volume.min() and 0.9 < volume.max() <= 1
    root = tmp_path / "brains"
    root.mkdir()
    for i in range(3):
        (root / f"subject{i}.nii.gz").symlink_to(REAL_SCAN)
    arrays = prepare("folder", {"path": str(root), "size": 16, "split": {"val": 0.3, "test": 0.3}})
    brain = arrays["train_x"][0, 0]
    assert brain.shape == (16, 16, 16) and brain.max() > 100
    assert (brain[:2] == 0).all() and (brain[-2:] == 0).all()  # 160 of 224 along the first axis: padded
    assert brain[6:10, 6:10, 6:10].mean() > 30  # tissue in the middle


def bad(params: dict) -> str:
    with pytest.raises(FolderError) as caught:
        prepare("folder", params)
    message = str(caught.value)
    assert "\n" not in message and "Fix:" in message
    return message


def test_mixed_channel_counts_name_the_file_and_the_fix(tmp_path):
    write_images(tmp_path / "pngs", per_class=3, side=(16, 17))
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "pngs/square/zz_colour.png")
    message = bad({"path": str(tmp_path / "pngs"), "size": 16})
    assert str(tmp_path / "pngs/square/zz_colour.png") in message and "channels: 1" in message
    assert prepare("folder", {"path": str(tmp_path / "pngs"), "size": 16, "channels": 3})["train_x"].shape[1] == 3


def test_mixed_kinds_name_both_and_are_refused_before_any_job(tmp_path):
    write_images(tmp_path / "pngs", per_class=3, side=(16, 17))
    np.save(tmp_path / "pngs/disc/volume.npy", np.zeros((4, 4, 4), np.uint8))
    message = bad({"path": str(tmp_path / "pngs")})
    assert "images" in message and "volumes" in message and str(tmp_path / "pngs/disc/volume.npy") in message
    assert problems_of(folder_config(tmp_path / "pngs")) == [message]


def test_an_unreadable_file_is_named(tmp_path):
    write_images(tmp_path / "pngs", per_class=3, side=(16, 17))
    (tmp_path / "pngs/square/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert str(tmp_path / "pngs/square/broken.png") in bad({"path": str(tmp_path / "pngs")})
    (tmp_path / "pngs/0_first.png").write_bytes(b"not an image at all")  # the first file: found before any job
    problem, = problems_of(folder_config(tmp_path / "pngs"))
    assert str(tmp_path / "pngs/0_first.png") in problem and "cannot read it as an image" in problem


def test_a_volume_that_is_not_3d_is_named(tmp_path):
    (tmp_path / "v").mkdir()
    for i in range(3):
        np.save(tmp_path / f"v/{i}.npy", np.zeros((4, 4, 4) if i else (4, 4), np.float32))
    message = bad({"path": str(tmp_path / "v")})
    assert str(tmp_path / "v/0.npy") in message and "not a 3-D volume" in message


def test_too_few_items_for_the_split(tmp_path):
    (tmp_path / "two").mkdir()
    for i in range(2):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / f"two/{i}.png")
    message = bad({"path": str(tmp_path / "two")})
    assert str(tmp_path / "two") in message and "fewer than the split needs" in message


def test_labels_that_do_not_match_the_files(tmp_path):
    root = tmp_path / "flat"
    written = write_images(root, per_class=3, subfolders=False, side=(16, 17))
    table = root / "labels.csv"
    spec = {"csv": str(table)}

    def write_rows(rows):
        with table.open("w", newline="") as handle:
            csv.writer(handle).writerows([["file", "label"], *rows])

    write_rows([*written, ("disc_999.png", "disc")])
    message = bad({"path": str(root), "labels": spec})
    assert str(root / "disc_999.png") in message and "line 8" in message and "not one of the 6 images" in message
    write_rows(written[1:])
    message = bad({"path": str(root), "labels": spec})
    assert f"{root / written[0][0]} is not in {table}" in message
    write_rows([*written, written[0]])
    assert "line 8 names disc_000.png again (first on line 2)" in bad({"path": str(root), "labels": spec})
    write_rows([(written[0][0], ""), *written[1:]])
    assert f"line 2 gives {root / written[0][0]} no label" in bad({"path": str(root), "labels": spec})
    assert "no column 'name'" in bad({"path": str(root), "labels": {"csv": str(table), "file_column": "name"}})
    assert str(tmp_path / "nowhere.csv") in bad({"path": str(root), "labels": {"csv": str(tmp_path / "nowhere.csv")}})
    loose = bad({"path": str(root), "labels": "subfolders"})
    assert str(root / "disc_000.png") in loose and "not in a class subfolder" in loose


def test_an_empty_folder_a_missing_one_and_a_stray_file(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty/README.md").write_text("notes beside the data are skipped")
    assert f"{tmp_path / 'empty'} holds no image" in bad({"path": str(tmp_path / "empty")})
    missing = tmp_path / "not_there"
    assert problems_of(folder_config(missing)) == [
        f"sources.folder.path: {missing} does not exist. Fix: set it to the folder that holds your images or volumes"]
    write_images(tmp_path / "pngs", per_class=3, side=(16, 17))
    (tmp_path / "pngs/disc/scan.tif").write_bytes(b"II*\0")
    assert str(tmp_path / "pngs/disc/scan.tif") in bad({"path": str(tmp_path / "pngs")})


def test_a_dataset_without_a_paper_row_is_tabled_as_ours_only(tmp_path):
    write_images(tmp_path / "pngs", per_class=5, side=(16, 17))
    plan = Plan(folder_config(tmp_path / "pngs", size=16, labels="subfolders"))
    runs = plan.main_runs()
    paths = []
    for i, run in enumerate(runs):  # the metrics files the evaluate jobs would write, with the plan's identity
        paths.append(tmp_path / f"metrics{i}.json")
        paths[-1].write_text(json.dumps({"identity": plan.identity(run), "psnr": 20.0 + i, "ssim": 0.5, "rmse": 0.1,
                                         "n_variant_channels": 32}))
    out = [tmp_path / f"table1.{ext}" for ext in ("csv", "md", "tex")]
    make_table("table1", paths, plan.table_notes("table1"), out)
    table = pd.read_csv(out[0])
    assert set(table["dataset"]) == {"mine"} and set(table["group"]) == {"C4", "SO2"}
    assert table["paper"].isna().all() and table["difference"].isna().all() and set(table["paper_row"]) == {"—"}
    md = out[1].read_text()
    assert "| mine " in md and "(paper —)" in md and "mine has no row in the paper's tables" in md


def user_images(root: Path, n: int) -> None:
    """n PNGs of 16x16 to 24x24 pixels, as a user's camera or scanner would leave them: one flat folder."""
    rng = np.random.default_rng(5)
    root.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(shape_image(i % 2, rng, tuple(rng.integers(16, 25, 2)))).save(root / f"img{i:04d}.png")


@pytest.mark.slow
def test_a_new_user_runs_table1_on_their_own_folder_by_configuration_alone(tmp_path):
    user_images(tmp_path / "my_pngs", 300)
    (tmp_path / "mine.yaml").write_text(f"""\
results: {tmp_path / "results"}
data: {{root: {tmp_path / "data"}}}
sources:
  folder: {{path: {tmp_path / "my_pngs"}, size: 16, split: {{val: 0.15, test: 0.15, seed: 42}}}}
datasets:
  mine: {{source: folder, recipe: {{kind: none}}}}
only_datasets: [mine]
only_models: [ald]
groups: [C4, SO2]
seeds: [1]
training: {{epochs: 2, max_train_items: 128, threads: 1, device: cpu}}
""")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run([sys.executable, "-m", "snakemake", "table1", "--configfile", str(tmp_path / "mine.yaml"),
                          "--cores", "2"], cwd=REPO, capture_output=True, text=True, timeout=900, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    table = pd.read_csv(tmp_path / "results/tables/table1.csv")
    assert set(table["dataset"]) == {"mine"} and set(table["group"]) == {"C4", "SO2"} and set(table["model"]) == {"ald"}
    assert table["mean"].notna().all() and table["paper"].isna().all() and table["difference"].isna().all()
    md = (tmp_path / "results/tables/table1.md").read_text()
    assert "(paper —)" in md and "mine has no row in the paper's tables" in md
    metrics = json.loads((tmp_path / "results/metrics/mine/C4/ald/seed1.json").read_text())
    assert metrics["identity"]["paper_row"] is None and metrics["n_test_pairs"] == 45
    assert (tmp_path / "data/prepared/folder.npz").is_file()
    # ... then turns one of the PNGs by 90 degrees with the run it trained, as the README shows
    turned = tmp_path / "turned.png"
    run = subprocess.run([sys.executable, "-m", "ald.cli", "transform", "--run", str(tmp_path / "results/models/mine/C4/ald/seed1"),
                          "--input", str(tmp_path / "my_pngs/img0000.png"), "--out", str(turned), "--angle", "90"],
                         cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    with Image.open(tmp_path / "my_pngs/img0000.png") as source, Image.open(turned) as out:
        assert out.size == source.size and out.mode == source.mode
