"""Brains: neurite-OASIS T1 brain MRI volumes (no class labels; Brains are left out of Table 3).

414 OASIS-1 subjects processed with FreeSurfer and SAMSEG for HyperMorph (A. Hoopes, M. Hoffmann,
D. N. Greve, B. Fischl, J. Guttag and A. V. Dalca, MELBA 2022), from the OASIS-1 cross-sectional MRI
collection (D. S. Marcus et al., J. Cogn. Neurosci. 19(9), 2007). Using the data means agreeing to the
OASIS Data Use Agreement (http://oasis-brains.org/#access) and citing both papers: the config must say
``accept_terms: true`` before anything is downloaded.

One official file, ``neurite-oasis.v1.0.tar`` (6.6 GB); per subject, ``OASIS_OAS1_xxxx_MR1/`` holds
``aligned_norm.nii.gz``: skull-stripped, bias-corrected, affinely aligned, 160x192x224 at 1 mm, in [0, 1].
Only those files are extracted and used. The release has segmentations but no clinical labels this
project relies on, and segmentations are not class labels: ``{split}_y`` is -1 throughout, never invented.

Checksums: the server the file comes from publishes none. The file is verified against the md5 listed in
adalca/medical-datasets (neurite-oasis.md); the sha256 of the first verified copy is then written to
``<raw dir>/neurite-oasis.v1.0.tar.sha256`` and every later fetch or prepare refuses a file that differs.
torch_em lists sha256 86dd117d...; prepare compares it as a note only (another project's listing).

Volumes are padded to a 224^3 cube and area-averaged to ``size``^3 (uint8); the split is seeded and by
subject, and ``{split}_subjects`` names each volume's session folder, so every volume can be traced.
A subject whose folder lacks ``aligned_norm.nii.gz``, or whose volume cannot be read (or is not a 3-D
volume in [0, 1]), is skipped: the archive is pinned by its checksums, so the skipped set is the same on
every run, and it is printed with the count and each id and reason. Too few readable subjects for the
requested splits is fatal.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from ..acquire import AcquisitionError, RemoteFile, check_sha256_lock, md5sum, sha256_lock
from . import SPLITS, Source, register_source

OASIS_TAR = "neurite-oasis.v1.0.tar"
OASIS_FILES = {OASIS_TAR: RemoteFile(
    OASIS_TAR, "081392a8150ff99ab7a64a9ded377835",
    ("https://surfer.nmr.mgh.harvard.edu/ftp/data/neurite/data/neurite-oasis.v1.0.tar",),
    deadline_seconds=3 * 3600.0,  # 6.6 GB: about 2 h at 1 MB/s; an interrupted download resumes on the next run
    lock_sha256=True,
)}
TORCH_EM_SHA256 = "86dd117dda17f736ade8a4088d7e98e066e1181950fe8b406f1a35f7fb743e78"
VOLUME_FILE = "aligned_norm.nii.gz"
SESSION = re.compile(r"OASIS_(OAS1_\d+)_MR\d+")  # a session folder; group 1 names the subject
TERMS = ("OASIS Data Use Agreement, http://oasis-brains.org/#access; cite HyperMorph (Hoopes et al., "
         "MELBA 2022) and OASIS (Marcus et al., J Cogn Neurosci 2007)")


class UnsafeArchiveError(ValueError):
    """A tar member would write outside the extraction folder, or is a link out of it or a device file."""


class OasisDataError(ValueError):
    """The archive holds too few readable subjects for the requested splits."""


def verify_archive(tar_path: Path) -> None:
    """The tar's sha256 lock (md5 first, if no verified copy was pinned yet, e.g. a file placed by hand)."""
    spec = OASIS_FILES[OASIS_TAR]
    if not sha256_lock(tar_path).exists() and (actual := md5sum(tar_path)) != spec.md5:
        raise AcquisitionError(f"{tar_path}: md5 {actual}, expected {spec.md5}: not the official file. "
                               "Fix: delete it and run the fetch rule.")
    sha256 = check_sha256_lock(tar_path)
    if sha256 != TORCH_EM_SHA256:
        print(f"note: {tar_path.name} sha256 {sha256} differs from the one torch_em lists ({TORCH_EM_SHA256})",
              file=sys.stderr, flush=True)


def safe_members(tar: tarfile.TarFile, tar_path: Path, dest: Path) -> list[tarfile.TarInfo]:
    """Every member, checked as tarfile's "data" filter would extract it; absolute names refused too.

    The whole archive is checked, not only the members used: an unsafe member means it is not the
    official file. (The filter would quietly strip a leading "/", so that is refused here.)
    """
    members = tar.getmembers()
    for member in members:
        try:
            if PurePosixPath(member.name).is_absolute():
                raise tarfile.AbsolutePathError(member)
            tarfile.data_filter(member, str(dest))
        except tarfile.FilterError as exc:
            raise unsafe(tar_path, member, exc) from exc
    return members


def unsafe(tar_path: Path, member: tarfile.TarInfo, exc: Exception) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"{tar_path}: refusing member {member.name!r} ({exc}); nothing was extracted "
                              "from it. The official neurite-OASIS tar has no such member: fetch it again.")


def session_volumes(members: list[tarfile.TarInfo]) -> dict[str, tarfile.TarInfo | None]:
    """Each session folder (OASIS_OAS1_xxxx_MRy) in the archive -> its aligned_norm member, or None."""
    sessions: dict[str, tarfile.TarInfo | None] = {}
    for member in members:
        parts = PurePosixPath(member.name).parts
        for depth, part in enumerate(parts):
            if SESSION.fullmatch(part):
                sessions.setdefault(part, None)
                if parts[depth + 1:] == (VOLUME_FILE,) and member.isfile():
                    sessions[part] = member
                break
    return sessions


def extract_volumes(tar_path: Path, dest: Path, max_subjects: int | None) -> tuple[dict[str, Path], dict[str, str]]:
    """Extract the first ``max_subjects`` sessions' volumes (all if None) into ``dest``.

    Returns session id -> extracted volume, and session id -> why it has none.
    """
    with tarfile.open(tar_path) as tar:
        sessions = session_volumes(safe_members(tar, tar_path, dest))
        ids = sorted(sessions)[:max_subjects]
        wanted = [sessions[i] for i in ids if sessions[i] is not None]
        try:
            tar.extractall(dest, members=wanted, filter="data")
        except tarfile.FilterError as exc:  # already checked above; kept as the last line of defence
            raise unsafe(tar_path, exc.tarinfo, exc) from exc
    found = {i: dest / sessions[i].name for i in ids if sessions[i] is not None}
    return found, {i: f"no {VOLUME_FILE} in its folder" for i in ids if sessions[i] is None}


# What reading raises on a missing, truncated or corrupt file (read_volume turns ImageFileError into ValueError).
READ_ERRORS = (OSError, EOFError, ValueError, zlib.error)


def read_volume(path: Path) -> np.ndarray:
    """A 3-D float32 volume in [0, 1]; ValueError if the file holds anything else."""
    import nibabel  # here, not at the top: every import of ald.sources would pay for it

    try:
        volume = np.asarray(nibabel.load(path).dataobj, dtype=np.float32)
    except nibabel.filebasedimages.ImageFileError as exc:
        raise ValueError(exc) from exc
    while volume.ndim > 3 and volume.shape[-1] == 1:  # NIfTI allows trailing axes of length 1
        volume = volume[..., 0]
    if volume.ndim != 3:
        raise ValueError(f"shape {volume.shape} is not a 3-D volume")
    low, high = float(volume.min()), float(volume.max())
    if low < 0 or high > 1 + 1e-3 or not np.isfinite(volume).all():
        raise ValueError(f"intensities in [{low:g}, {high:g}], not [0, 1]")
    return volume


def resample_cube(volume: np.ndarray, size: int) -> np.ndarray:
    """``volume`` zero-padded, centred, to a cube of its longest edge, then area-averaged to ``size``^3.

    Padding keeps the 1 mm voxels isotropic (no stretching); zeros are the background of a skull-stripped
    scan. Area averaging is the anti-aliased downsampling (trilinear at 224 -> 32 would skip 6 of every 7
    voxels), and as a mean of values in [0, 1] it stays in [0, 1].
    """
    import torch

    edge = max(volume.shape)
    cube = np.pad(volume, [((edge - n) // 2, edge - n - (edge - n) // 2) for n in volume.shape])
    resampled = torch.nn.functional.interpolate(torch.from_numpy(cube)[None, None], size=(size,) * 3, mode="area")
    return resampled[0, 0].numpy()


def subject_of(session: str) -> str:
    match = SESSION.fullmatch(session)
    return match.group(1) if match else session


def split_sessions(sessions: list[str], n_val: int, n_test: int, seed: int) -> dict[str, list[str]]:
    """Seeded split by subject: every session of a subject (MR1, MR2, ...) lands in the same split."""
    subjects = sorted({subject_of(s) for s in sessions})
    if len(subjects) < n_val + n_test + 1:
        raise OasisDataError(f"oasis: {len(subjects)} readable subjects, fewer than n_val + n_test + 1 = "
                             f"{n_val + n_test + 1}. Fix: lower n_val/n_test, or raise max_subjects.")
    order = [subjects[i] for i in np.random.default_rng(seed).permutation(len(subjects))]
    groups = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    return {split: sorted(s for s in sessions if subject_of(s) in set(groups[split])) for split in SPLITS}


def report_skipped(problems: dict[str, str]) -> None:
    if problems:
        lines = "".join(f"\n  {session}: {why}" for session, why in sorted(problems.items()))
        print(f"oasis: skipped {len(problems)} subject(s):{lines}", file=sys.stderr, flush=True)


def prepare_oasis(raw_dir: Path, size: int, n_val: int, n_test: int, split_seed: int,
                  max_subjects: int | None = None) -> dict[str, np.ndarray]:
    """uint8 volumes (N, 1, size, size, size), y = -1, and ``{split}_subjects``: the session ids, in order."""
    raw_dir = Path(raw_dir)
    tar_path = raw_dir / OASIS_TAR
    verify_archive(tar_path)
    paths, problems = extract_volumes(tar_path, raw_dir / "extracted", max_subjects)
    volumes = {}
    for session, path in paths.items():
        try:
            volumes[session] = np.round(resample_cube(read_volume(path), size) * 255).astype(np.uint8)
        except READ_ERRORS as exc:
            problems[session] = f"unreadable {VOLUME_FILE}: {exc}"
    report_skipped(problems)
    arrays = {}
    for split, sessions in split_sessions(sorted(volumes), n_val, n_test, split_seed).items():
        arrays[f"{split}_x"] = np.stack([volumes[s] for s in sessions])[:, None]
        arrays[f"{split}_y"] = np.full(len(sessions), -1, dtype=np.int64)
        arrays[f"{split}_subjects"] = np.array(sessions)
    return arrays


register_source(Source(
    name="oasis", prepare=prepare_oasis, spatial_dims=3, channels=1, files=OASIS_FILES, labelled=False, terms=TERMS,
    params_schema={"type": "object", "additionalProperties": False, "properties": {
        "accept_terms": {"type": "boolean", "default": False,
                         "description": f"true: you accept the data's terms ({TERMS})"},
        "size": {"type": "integer", "minimum": 8, "maximum": 224, "default": 32,
                 "description": "edge of the cube every volume is resampled to (the 224 mm cube, area-averaged). "
                                "32 (7 mm voxels, 32^3 = 32768 voxels) keeps a CPU run feasible: 64 is 8x "
                                "the compute and memory per volume; the 3-D convolutions scale with voxels"},
        "n_val": {"type": "integer", "minimum": 1, "default": 40, "description": "validation subjects"},
        "n_test": {"type": "integer", "minimum": 1, "default": 80, "description": "test subjects"},
        "split_seed": {"type": "integer", "default": 42},
        "max_subjects": {"type": ["integer", "null"], "minimum": 3, "default": None,
                         "description": "null: all; else only the first (by id) this many, for quick runs"},
    }},
))
