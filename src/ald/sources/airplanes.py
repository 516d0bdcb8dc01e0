"""Airplanes over skies: meshes rendered under SO(3) rotations over sky photographs, as rendered pairs.

The paper's fifth dataset (following GALR): ShapeNetCore v2 airplanes (synset 02691156) rendered under
100 rotations sampled uniformly from SO(3), over SWIMSEG sky images. Pose is what the group moves; the
sky is what x and T_g(x) share. ``toy_airplanes`` (its own module) is the offline demo's stand-in through
the same rendering path.

Rendering (trimesh + pyrender, offscreen with ``PYOPENGL_PLATFORM=egl``): each mesh is centred and
scaled into the unit sphere, rendered once per rotation of one seeded set (the same for every object)
by a fixed camera and lights, 2x supersampled, to RGBA. A pair (x, T_g(x)) is two views a, b of one
object composited over one seeded sky crop; g = P R_b R_a^-1 P^T, the relative rotation written in
the (depth, row, column) axes that the latent volume and ``groups.SO3`` use (P maps the camera frame
x right, y up, z towards the camera to depth = -z, row = -y, column = x). Objects are split between
train, val and test (no object in two splits); with three or more skies, so are the skies.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from .base import SPLITS, Source, register_source

SYNSET = "02691156"  # ShapeNetCore v2: airplane
MESH_GLOB = f"{SYNSET}/*/models/model_normalized.obj"
SKY_GLOB = "images/*.png"
SHAPENET_TERMS = ("ShapeNet terms of use (non-commercial research and education; https://shapenet.org/terms); "
                  "request access at https://shapenet.org/ and supply ShapeNetCore v2's folder")
SWIMSEG_TERMS = ("SWIMSEG, CC BY-NC 4.0; request it with the form at "
                 "https://vintage.winklerbros.net/swimseg.html and supply its folder")
CAMERA_TO_VOXEL = np.array([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])  # P above
CAMERA_DISTANCE = 2.8  # the unit sphere fills the 45 degree field of view
SUPERSAMPLE = 2
GREY = (0.75, 0.75, 0.78, 1.0)  # meshes with no material colour


MAX_COORDINATE = 1e6  # beyond any unit a model is drawn in (ShapeNet's normalised models lie within +-1)
REPAIR = "Fix: repair or re-export the mesh, or delete its folder to leave it out"


class MeshLoadError(ValueError):
    """A mesh that cannot be read, or whose geometry cannot be rendered (the message names the file)."""


class SplitError(ValueError):
    """Too few usable objects (or pairs) for every split to hold some."""


# -- meshes

def unit_sphere(mesh):
    """The mesh moved to its bounding box centre and scaled so that its farthest vertex is at radius 1."""
    mesh = mesh.copy()
    mesh.apply_translation(-mesh.bounds.mean(0))
    radius = float(np.linalg.norm(mesh.vertices, axis=1).max())
    if not np.isfinite(radius) or radius == 0:
        raise MeshLoadError("the mesh has no extent")
    mesh.apply_scale(1.0 / radius)
    return mesh


def part_problem(vertices: np.ndarray, faces: np.ndarray) -> str | None:
    """What makes one part of a mesh unusable as read (non-finite or absurd vertices, faces past the vertex
    list), or None."""
    if len(vertices) == 0:
        return f"{len(faces)} faces but no vertices"
    if bad := int((~np.isfinite(vertices).all(1)).sum()):
        return f"{bad} of its {len(vertices)} vertices are not finite (NaN or inf)"
    if (far := float(np.abs(vertices).max())) > MAX_COORDINATE:
        return f"a vertex coordinate is {far:.3g}, beyond +-{MAX_COORDINATE:.0e} (a corrupt file)"
    if faces.min() < 0 or faces.max() >= len(vertices):
        return (f"its faces index vertices {int(faces.min())}..{int(faces.max())} but it has only "
                f"{len(vertices)} (0..{len(vertices) - 1})")
    return None


def shape_problem(mesh) -> str | None:
    """What makes a whole mesh degenerate (no extent, no face area), or None."""
    used = mesh.vertices[np.unique(mesh.faces)]
    extent = float(np.ptp(used, axis=0).max())
    if extent == 0:
        return f"all {len(used)} vertices its faces use are at one point (zero extent)"
    if mesh.area <= 1e-12 * extent ** 2:  # relative: a model's units are arbitrary
        return f"its {len(mesh.faces)} faces have zero total area (every face is degenerate)"
    return None


def load_mesh(path: Path):
    """One coloured mesh from an OBJ: every material's part kept, textures replaced by their main colour
    (the ShapeNet copies here have no texture images), centred and scaled into the unit sphere. Raises
    ``MeshLoadError`` naming the file, the problem and the fix."""
    import trimesh

    try:
        # process=False: trimesh's processing drops non-finite vertices and leaves faces pointing at the wrong ones
        scene = trimesh.load(str(path), force="scene", process=False)
    except Exception as exc:  # trimesh raises many kinds on a bad file
        raise MeshLoadError(f"{path}: trimesh cannot read it ({type(exc).__name__}: {exc}); a truncated or "
                            f"corrupt file fails this way, e.g. one whose faces index vertices it does not have. "
                            f"{REPAIR}") from exc
    parts = []
    for geometry in scene.dump():  # world-space copies, one per material
        if not isinstance(geometry, trimesh.Trimesh) or len(geometry.faces) == 0:
            continue
        if problem := part_problem(np.asarray(geometry.vertices), np.asarray(geometry.faces)):
            raise MeshLoadError(f"{path}: {problem}. {REPAIR}")
        colours = solid_colours(geometry)
        parts.append(trimesh.Trimesh(geometry.vertices, geometry.faces, face_colors=colours, process=False))
    if not parts:
        raise MeshLoadError(f"{path}: {no_faces_problem(scene)}. {REPAIR}")
    mesh = trimesh.util.concatenate(parts)
    if problem := shape_problem(mesh):
        raise MeshLoadError(f"{path}: {problem}. {REPAIR}")
    return unit_sphere(mesh)


def no_faces_problem(scene) -> str:
    if not scene.geometry:
        return "trimesh reads it as a Scene with no geometry (no vertices or faces)"
    n_vertices = sum(len(getattr(geometry, "vertices", ())) for geometry in scene.geometry.values())
    return f"it has {n_vertices} vertices but no faces"


def solid_colours(geometry) -> np.ndarray:
    """One RGBA colour per face: the material's main colour, or grey."""
    try:
        colours = geometry.visual.to_color().face_colors
    except Exception:  # a texture visual without image or colour
        colours = None
    if colours is None or len(colours) != len(geometry.faces):
        colours = np.tile(np.array(GREY) * 255, (len(geometry.faces), 1))
    colours = np.asarray(colours, dtype=np.uint8).copy()
    colours[:, 3] = 255  # opaque: transparency would let the sky show through the plane
    return colours


def load_meshes(paths: list[Path], log=print) -> tuple[list, list[str], list[str]]:
    """(meshes, their ids, skipped ids): a mesh that fails to load is reported by id and file and skipped."""
    meshes, ids, skipped = [], [], []
    for path in paths:
        object_id = path.parent.parent.name
        try:
            meshes.append(load_mesh(path))
            ids.append(object_id)
        except MeshLoadError as exc:
            skipped.append(object_id)
            log(f"skipped mesh {object_id}: {exc}")
    if not meshes:
        raise MeshLoadError(f"none of the {len(paths)} meshes could be loaded (skipped: {', '.join(skipped)}; "
                            "each file's problem is logged above). Fix: supply meshes that load")
    return meshes, ids, skipped


# -- rendering

def camera_pose() -> np.ndarray:
    pose = np.eye(4)
    pose[2, 3] = CAMERA_DISTANCE  # on +z, looking down -z at the origin (pyrender's convention)
    return pose


def light_pose(direction) -> np.ndarray:
    """A pose whose -z axis points along ``direction`` (pyrender's directional lights shine along -z)."""
    z = -np.asarray(direction, float) / np.linalg.norm(direction)
    x = np.cross([0.0, 1.0, 0.0], z) if abs(z[1]) < 0.99 else np.array([1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], 1)
    return pose


def render_views(meshes: list, rotations: np.ndarray, size: int) -> np.ndarray:
    """RGBA renders (n_objects, n_rotations, size, size, 4) uint8, colour premultiplied by alpha."""
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    import pyrender

    scene = pyrender.Scene(bg_color=(0.0, 0.0, 0.0, 0.0), ambient_light=(0.35, 0.35, 0.35))
    scene.add(pyrender.PerspectiveCamera(yfov=np.pi / 4, aspectRatio=1.0), pose=camera_pose())
    for direction, intensity in [((-0.4, -0.6, -1.0), 3.0), ((0.6, -0.2, 0.3), 1.2)]:
        scene.add(pyrender.DirectionalLight(intensity=intensity), pose=light_pose(direction))
    try:
        renderer = pyrender.OffscreenRenderer(size * SUPERSAMPLE, size * SUPERSAMPLE)
    except Exception as exc:
        raise RuntimeError(render_setup_help(exc)) from exc
    out = np.zeros((len(meshes), len(rotations), size, size, 4), np.uint8)
    pose = np.eye(4)
    try:
        for i, mesh in enumerate(meshes):
            node = scene.add(pyrender.Mesh.from_trimesh(mesh, smooth=False))
            for j, rotation in enumerate(rotations):
                pose[:3, :3] = rotation
                scene.set_pose(node, pose)
                colour, _ = renderer.render(scene, flags=pyrender.RenderFlags.RGBA)
                out[i, j] = downsample_premultiplied(colour)
            scene.remove_node(node)
    finally:
        renderer.delete()
    return out


def downsample_premultiplied(rgba: np.ndarray) -> np.ndarray:
    """Box-filter a supersampled RGBA render, premultiplying colour by alpha so edges blend correctly."""
    rgba = rgba.astype(np.float32) / 255
    rgba[..., :3] *= rgba[..., 3:]
    h, w = rgba.shape[0] // SUPERSAMPLE, rgba.shape[1] // SUPERSAMPLE
    small = rgba.reshape(h, SUPERSAMPLE, w, SUPERSAMPLE, 4).mean((1, 3))
    return (small * 255).round().astype(np.uint8)


def render_setup_help(exc: Exception) -> str:
    return (f"offscreen rendering failed ({type(exc).__name__}: {exc}). pyrender renders on the CPU through "
            "EGL with PYOPENGL_PLATFORM=egl, which needs Debian's Mesa packages libegl1 libegl-mesa0 libgl1 "
            "libgl1-mesa-dri. Fix: `sudo apt-get install libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri` "
            "(make setup installs them when run as root)")


# -- skies and pairs

def load_skies(paths: list[Path]) -> list[np.ndarray]:
    return [np.asarray(Image.open(p).convert("RGB")) for p in paths]


def sky_crop(sky: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A seeded square crop (30-100% of the shorter side) of a sky, resized to size x size."""
    h, w = sky.shape[:2]
    side = int(rng.uniform(0.3, 1.0) * min(h, w))
    top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    crop = Image.fromarray(sky[top: top + side, left: left + side])
    return np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR))


def composite(view: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """A premultiplied RGBA view over an RGB sky, (3, H, W) uint8."""
    alpha = view[..., 3:].astype(np.float32) / 255
    rgb = view[..., :3].astype(np.float32) + (1 - alpha) * sky.astype(np.float32)
    return np.clip(rgb.round(), 0, 255).astype(np.uint8).transpose(2, 0, 1)


def relative_rotation(r_a: np.ndarray, r_b: np.ndarray) -> np.ndarray:
    """g = P R_b R_a^-1 P^T: the rotation taking view a to view b, in the latent's (depth, row, column) axes."""
    return CAMERA_TO_VOXEL @ r_b @ np.swapaxes(r_a, -1, -2) @ CAMERA_TO_VOXEL.T


def split_indices(n: int, holdout: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Indices of n objects (or skies) per split: ``holdout`` of them each for val and test (at least one),
    leaving at least one to train on."""
    held = max(1, min(int(round(n * holdout)), (n - 1) // 2))
    order = rng.permutation(n)
    return {"test": np.sort(order[:held]), "val": np.sort(order[held: 2 * held]), "train": np.sort(order[2 * held:])}


def make_pairs(views: np.ndarray, rotations: np.ndarray, skies: list[np.ndarray], objects: np.ndarray,
               sky_ids: np.ndarray, n_pairs: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n_pairs`` pairs per object of ``objects``: two different views over one sky crop."""
    size = views.shape[2]
    object_of = np.repeat(objects, n_pairs)
    view_a = rng.integers(0, len(rotations), len(object_of))
    view_b = (view_a + rng.integers(1, len(rotations), len(object_of))) % len(rotations)  # b != a
    sky_of = sky_ids[rng.integers(0, len(sky_ids), len(object_of))]
    x = np.empty((len(object_of), 3, size, size), np.uint8)
    tx = np.empty_like(x)
    for i, (o, a, b, s) in enumerate(zip(object_of, view_a, view_b, sky_of)):
        background = sky_crop(skies[s], size, rng)
        x[i], tx[i] = composite(views[o, a], background), composite(views[o, b], background)
    return dict(x=x, tx=tx, g=relative_rotation(rotations[view_a], rotations[view_b]),
                y=np.full(len(object_of), -1, np.int64), object=object_of, sky=sky_of, view_a=view_a, view_b=view_b)


def visible_objects(views: np.ndarray, names: list[str], log=print) -> np.ndarray:
    """Per object, whether it covers some pixel in every view; each one that does not is reported."""
    empty = views[..., 3].reshape(*views.shape[:2], -1).max(-1) == 0  # (object, view): no object pixel
    for i in np.flatnonzero(empty.any(1)):
        log(f"skipped mesh {names[i]}: renders to no object pixels in {empty[i].sum()} of its {empty.shape[1]} "
            f"views at {views.shape[2]}x{views.shape[3]} (too small or thin once scaled into the unit sphere, "
            f"e.g. beside a stray far vertex). {REPAIR}")
    return ~empty.any(1)


def check_split(objects: dict[str, np.ndarray], pairs_per_object: int, holdout: float) -> None:
    """Refuse a split that leaves train, val or test without objects or pairs (training would divide by zero)."""
    counts = {split: len(objects[split]) for split in SPLITS}
    if min(counts.values()) > 0 and pairs_per_object > 0:
        return
    n = sum(counts.values())
    split_counts = ", ".join(f"{split} {k} objects ({k * max(pairs_per_object, 0)} pairs)"
                             for split, k in counts.items())
    fix = ("set sources.airplanes.pairs_per_object to 1 or more" if pairs_per_object <= 0 else
           f"supply at least 3 meshes that load and render ({n} did; val and test each hold "
           "max(1, round(n * holdout)) objects and train keeps the rest, so a lower holdout cannot help)")
    raise SplitError(f"sources.airplanes: {n} usable objects with holdout {holdout} and {pairs_per_object} pairs "
                     f"per object split into {split_counts}; every split needs at least one object and one pair. "
                     f"Fix: {fix}")


def render_pairs(meshes: list, object_ids: list[str], skies: list[np.ndarray], sky_names: list[str], size: int,
                 n_rotations: int, pairs_per_object: int, holdout: float, seed: int,
                 names: list[str] | None = None, log=print) -> dict[str, np.ndarray]:
    """The split arrays of a rendered dataset (``{split}_x/tx/g/y`` plus metadata), from meshes and skies.
    An object with an empty view is reported by ``names`` (default: its id) and left out (``skipped_ids``)."""
    from scipy.spatial.transform import Rotation  # here: every job imports the sources, one renders

    rotations = Rotation.random(n_rotations, random_state=seed).as_matrix()
    views = render_views(meshes, rotations, size)
    shown = visible_objects(views, names or object_ids, log)
    skipped = [object_id for object_id, ok in zip(object_ids, shown) if not ok]
    if skipped:  # else no copy: the views of a large dataset are gigabytes
        views, object_ids = views[shown], [object_id for object_id, ok in zip(object_ids, shown) if ok]
    rng = np.random.default_rng(seed)
    objects = split_indices(len(views), holdout, rng)
    check_split(objects, pairs_per_object, holdout)
    if len(skies) >= 3:
        sky_split = split_indices(len(skies), holdout, rng)
    else:  # too few to hold any out: every split uses every sky (different crops)
        sky_split = {split: np.arange(len(skies)) for split in SPLITS}
    out = {"rotations": rotations, "object_ids": np.array(object_ids), "sky_ids": np.array(sky_names),
           "skipped_ids": np.array(skipped, dtype=str)}
    for split in SPLITS:
        pairs = make_pairs(views, rotations, skies, objects[split], sky_split[split], pairs_per_object, rng)
        out.update({f"{split}_{key}": value for key, value in pairs.items()})
    return out


# -- the two sources

def folder_problems(params: dict) -> list[str]:
    """What is wrong with the user-supplied ShapeNet and SWIMSEG folders (checked before any job runs)."""
    problems = []
    for key, pattern, terms in [("shapenet", MESH_GLOB, SHAPENET_TERMS), ("swimseg", SKY_GLOB, SWIMSEG_TERMS)]:
        folder = params.get(key)
        if folder is None:
            continue  # not supplied: the dataset is left out (check_terms says why)
        path = Path(folder).expanduser()
        if not path.is_dir():
            problems.append(f"sources.airplanes.{key}: {path} is not a folder. It must hold {pattern} ({terms})")
        elif not any(path.glob(pattern)):
            problems.append(f"sources.airplanes.{key}: {path} holds no {pattern}; is it the right folder? ({terms})")
    return problems


def prepare_airplanes(shapenet: str, swimseg: str, size: int = 64, n_rotations: int = 100,
                      pairs_per_object: int = 1000, holdout: float = 0.2, max_objects: int | None = None,
                      seed: int = 0) -> dict[str, np.ndarray]:
    if problems := folder_problems({"shapenet": shapenet, "swimseg": swimseg}):
        raise FileNotFoundError("; ".join(problems))
    mesh_paths = sorted(Path(shapenet).expanduser().glob(MESH_GLOB))[:max_objects]
    log = lambda line: print(line, file=sys.stderr, flush=True)
    meshes, ids, skipped = load_meshes(mesh_paths, log=log)
    files = {path.parent.parent.name: str(path) for path in mesh_paths}
    sky_paths = sorted(Path(swimseg).expanduser().glob(SKY_GLOB))
    out = render_pairs(meshes, ids, load_skies(sky_paths), [p.stem for p in sky_paths], size, n_rotations,
                       pairs_per_object, holdout, seed, names=[f"{i}: {files[i]}" for i in ids], log=log)
    out["skipped_ids"] = np.array([*skipped, *out["skipped_ids"]], dtype=str)
    return out


COUNT = {"type": "integer", "minimum": 1}
RENDER_PARAMS = {
    "size": {"type": "integer", "minimum": 8, "description": "rendered images are size x size RGB"},
    "n_rotations": {**COUNT, "minimum": 2, "description": "views per object, one seeded SO(3) set for all objects "
                    "(at least 2: a pair is two different views)"},
    "pairs_per_object": {**COUNT, "description": "pairs (two views over one sky crop) drawn per object"},
    "holdout": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.34,
                "description": "fraction of objects (and skies) held out for each of val and test"},
    "seed": {"type": "integer"},
}
FOLDER = {"type": ["string", "null"]}
register_source(Source(
    name="airplanes", prepare=prepare_airplanes, spatial_dims=2, channels=3, labelled=False, rendered_group="SO3",
    licence=f"renders of ShapeNet ({SHAPENET_TERMS}) over SWIMSEG skies ({SWIMSEG_TERMS})",
    user_folders={"shapenet": f"ShapeNetCore v2 (airplanes, {SYNSET}): {SHAPENET_TERMS}",
                  "swimseg": f"SWIMSEG sky images: {SWIMSEG_TERMS}"},
    check_params=folder_problems,
    params_schema={"type": "object", "additionalProperties": False, "properties": {
        "shapenet": {**FOLDER, "default": None, "description": f"ShapeNetCore v2 folder holding {MESH_GLOB}"},
        "swimseg": {**FOLDER, "default": None, "description": f"SWIMSEG folder holding {SKY_GLOB}"},
        "max_objects": {**COUNT, "description": "render only the first n meshes (by id)"},
        **RENDER_PARAMS}},
))
