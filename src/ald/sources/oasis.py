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

Checksums: the server the file comes from publishes none. Every fetch and prepare verifies the file against
the md5 listed in adalca/medical-datasets (neurite-oasis.md); the sha256 of the first verified copy is then
written to ``<raw dir>/neurite-oasis.v1.0.tar.sha256`` and every later fetch or prepare also refuses a file
that differs from it. Before anything is extracted, every member is checked (plain files and folders inside
the extraction folder only) and the archive's size and member count are bounded; a volume's header is
checked against its file's size before its data is read.
torch_em lists sha256 86dd117d...; prepare compares it as a note only (another project's listing).

Volumes are padded to a 224^3 cube and area-averaged to ``size``^3 (uint8); the split is seeded and by
subject, and ``{split}_subjects`` names each volume's session folder, so every volume can be traced.
A subject whose folder lacks ``aligned_norm.nii.gz``, or whose volume cannot be read (or is not a 3-D
volume in [0, 1]), is skipped: the archive is pinned by its checksums, so the skipped set is the same on
every run, and it is printed with the count and each id and reason. Too few readable subjects for the
requested splits is fatal.
"""

from __future__ import annotations

import gzip
import math
import re
import sys
import tarfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from ..acquire import RemoteFile, archive_bounds_problem, verify_official
from .base import SPLITS, Source, fit_to_size, register_source

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
# Bounds on the archive, checked before anything is extracted. The official tar is 6.6 GB of 414 session
# folders; neurite-oasis.md lists about a dozen files in each, so some 5,000-6,000 members (an estimate: the
# tar itself is not in the shared mirror). Members other than sparse ones cannot hold more than the file.
MAX_TAR_MEMBERS = 100_000
MAX_TAR_BYTES = 32 * 2**30
# Bounds on one volume, checked from its header before nibabel allocates anything. aligned_norm is 160x192x224
# (6.9 M voxels), orig/norm 256^3 (16.8 M); 512^3 leaves room. Deflate never expands more than 1032:1.
MAX_VOXELS = 512**3
MAX_NIFTI_OFFSET = 1 << 20  # header and extensions; nibabel writes 352 bytes
GZIP_MAX_RATIO = 1032
TERMS = ("OASIS Data Use Agreement, http://oasis-brains.org/#access; cite HyperMorph (Hoopes et al., "
         "MELBA 2022) and OASIS (Marcus et al., J Cogn Neurosci 2007)")


class UnsafeArchiveError(ValueError):
    """The tar cannot be read, exceeds the bounds, or holds a member that is not a plain file or folder inside
    the extraction folder (a link, a device, an absolute or escaping path, a NUL in its name)."""


class OasisDataError(ValueError):
    """The archive holds too few readable subjects for the requested splits."""


class VolumeFileError(ValueError):
    """A NIfTI volume's header is unreadable or asks for more data than the file can hold."""


def verify_archive(tar_path: Path) -> None:
    """The official md5 of the tar, then its sha256 lock (recorded on the first verified prepare or fetch)."""
    sha256 = verify_official(tar_path, OASIS_FILES[OASIS_TAR])
    if sha256 != TORCH_EM_SHA256:
        print(f"note: {tar_path.name} sha256 {sha256} differs from the one torch_em lists ({TORCH_EM_SHA256})",
              file=sys.stderr, flush=True)


FETCH_AGAIN = "The official neurite-OASIS tar has no such member. Fix: delete it and fetch it again."
TAR_ERRORS = (tarfile.TarError, ValueError, OSError, EOFError, zlib.error)


def open_tar(tar_path: Path) -> tarfile.TarFile:
    """The tar, read as an uncompressed tar (what the official file is), so that no decompression can balloon."""
    try:
        return tarfile.open(tar_path, "r:")
    except TAR_ERRORS as exc:
        raise UnsafeArchiveError(f"{tar_path}: cannot be read as an uncompressed tar ({exc}); nothing was "
                                 f"extracted. Fix: delete it and fetch it again.") from exc


def next_member(tar: tarfile.TarFile, tar_path: Path, read: list[tarfile.TarInfo]) -> tarfile.TarInfo | None:
    try:
        return tar.next()
    except TAR_ERRORS as exc:
        where = f"the member after {read[-1].name!r}" if read else "its first member"
        raise UnsafeArchiveError(f"{tar_path}: cannot read {where} ({exc}); nothing was extracted. "
                                 f"{FETCH_AGAIN}") from exc


def safe_members(tar: tarfile.TarFile, tar_path: Path, dest: Path) -> list[tarfile.TarInfo]:
    """Every member, each checked as it is read (``member_problem``), the whole within MAX_TAR_MEMBERS and
    MAX_TAR_BYTES, before anything is extracted.

    The whole archive is checked, not only the members used: an unsafe member means it is not the official file.
    """
    archive_bytes, members, total = tar_path.stat().st_size, [], 0
    while (member := next_member(tar, tar_path, members)) is not None:
        if problem := member_problem(member, dest, archive_bytes):
            raise unsafe(tar_path, member, problem)
        members.append(member)
        total += member.size
        if problem := archive_bounds_problem(len(members), total, MAX_TAR_MEMBERS, MAX_TAR_BYTES):
            raise UnsafeArchiveError(f"{tar_path}: at least {problem} (MAX_TAR_MEMBERS or MAX_TAR_BYTES in "
                                     f"{__name__}), reached at member {member.name!r}; nothing was extracted. "
                                     f"The official 6.6 GB tar is well within both. Fix: delete it and fetch it again.")
    return members


def member_problem(member: tarfile.TarInfo, dest: Path, archive_bytes: int) -> str | None:
    """Why ``member`` must not be extracted into ``dest``, or None; tarfile's "data" filter checks the path last
    (it would quietly strip a leading "/", so absolute names are refused first)."""
    if "\0" in member.name or "\0" in member.linkname:
        return "a NUL byte in its name"
    if PurePosixPath(member.name).is_absolute():
        return "an absolute path"
    if not (member.isfile() or member.isdir()):
        return "a link, device or pipe, not a plain file or folder"
    if not member.issparse() and member.offset_data + member.size > archive_bytes:
        return f"it declares {member.size} bytes, past the end of the {archive_bytes}-byte archive"
    try:
        tarfile.data_filter(member, str(dest))
    except (tarfile.FilterError, ValueError, OSError) as exc:
        return str(exc)
    return None


def unsafe(tar_path: Path, member: tarfile.TarInfo, problem: object) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"{tar_path}: refusing member {member.name!r} ({problem}); nothing was extracted "
                              f"from it. {FETCH_AGAIN}")


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
    with open_tar(tar_path) as tar:
        sessions = session_volumes(safe_members(tar, tar_path, dest))
        ids = sorted(sessions)[:max_subjects]
        wanted = [sessions[i] for i in ids if sessions[i] is not None]
        try:
            tar.extractall(dest, members=wanted, filter="data")
        except tarfile.FilterError as exc:  # already checked above; kept as the last line of defence
            raise unsafe(tar_path, exc.tarinfo, exc) from exc
    found = {i: dest / sessions[i].name for i in ids if sessions[i] is not None}
    return found, {i: f"no {VOLUME_FILE} in its folder" for i in ids if sessions[i] is None}


# What reading raises on a missing, truncated or corrupt file (read_volume turns nibabel's errors into ValueError).
READ_ERRORS = (OSError, EOFError, ValueError, zlib.error)


def nifti_header(path: Path):
    """The NIfTI-1 or -2 header of ``path``, parsed from its first bytes alone.

    nibabel.load would also read the header extensions, as far as the header's data offset claims (to the end
    of the stream if it says 0), before any check could see them.
    """
    import nibabel

    with (gzip.open if path.name.endswith(".gz") else open)(path, "rb") as handle:
        head = handle.read(544)
    for klass in (nibabel.Nifti1Header, nibabel.Nifti2Header):
        size = klass.template_dtype.itemsize  # 348 or 540, the value of sizeof_hdr, in either byte order
        if head[:4] in (size.to_bytes(4, "little"), size.to_bytes(4, "big")) and len(head) >= size:
            return klass(head[:size], check=False), head[size:size + 1] not in (b"", b"\0")
    raise VolumeFileError(f"{path}: not a NIfTI file (header starts {head[:4].hex()})")


NOT_OFFICIAL = "The file is corrupt or not an official volume: fetch the archive again."


def check_volume_header(path: Path, fix: str = NOT_OFFICIAL) -> None:
    """Refuse a volume whose header asks for more voxels than MAX_VOXELS, or more data than the file can hold
    (its size, or GZIP_MAX_RATIO times it once decompressed), before anything is allocated; ``fix`` ends the
    message."""
    import nibabel

    try:
        header, extended = nifti_header(path)
        shape, dtype, offset = header.get_data_shape(), header.get_data_dtype(), float(header["vox_offset"])
    except (nibabel.spatialimages.HeaderDataError, KeyError) as exc:
        raise VolumeFileError(f"{path}: unreadable NIfTI header ({exc})") from exc
    if not shape or min(shape) < 1:
        problem = f"shape {shape} has a dimension below 1"
    elif dtype.kind not in "biuf":
        problem = f"data type {dtype} is not a plain number"
    elif math.prod(shape) > MAX_VOXELS:
        problem = f"shape {shape} is {math.prod(shape)} voxels, more than MAX_VOXELS = {MAX_VOXELS}"
    elif not 0 <= offset <= MAX_NIFTI_OFFSET or (extended and offset < header.sizeof_hdr + 4):
        problem = f"data offset {offset:g} is outside [{header.sizeof_hdr + 4}, MAX_NIFTI_OFFSET = {MAX_NIFTI_OFFSET}]"
    else:
        needed = max(offset, header.sizeof_hdr + 4) + math.prod(shape) * dtype.itemsize
        available = path.stat().st_size * (GZIP_MAX_RATIO if path.name.endswith(".gz") else 1)
        if needed <= available:
            return
        problem = f"shape {shape} of {dtype} needs {needed:.0f} bytes, more than the file can hold ({available})"
    raise VolumeFileError(f"{path}: the header's {problem}; refused before reading its data. {fix}")


def load_nifti(path: Path, fix: str = NOT_OFFICIAL) -> np.ndarray:
    """A 3-D float32 volume of a NIfTI-1 or -2 file, its header checked first (``check_volume_header``);
    VolumeFileError (naming the file, ending with ``fix``) if it is unreadable or not 3-D."""
    import nibabel  # here, not at the top: every import of ald.sources would pay for it

    path = Path(path)
    nibabel_errors = (nibabel.filebasedimages.ImageFileError, nibabel.spatialimages.HeaderDataError,
                      nibabel.spatialimages.ImageDataError)
    try:
        check_volume_header(path, fix)
        volume = np.asarray(nibabel.load(path).dataobj, dtype=np.float32)
    except VolumeFileError:
        raise
    except nibabel_errors + READ_ERRORS as exc:
        raise VolumeFileError(f"{path}: cannot read it ({type(exc).__name__}: {exc})") from exc
    while volume.ndim > 3 and volume.shape[-1] == 1:  # NIfTI allows trailing axes of length 1
        volume = volume[..., 0]
    if volume.ndim != 3:
        raise VolumeFileError(f"{path}: shape {volume.shape} is not a 3-D volume")
    return volume


def read_volume(path: Path) -> np.ndarray:
    """A 3-D float32 volume in [0, 1]; ValueError (naming the file) if the file holds anything else."""
    volume = load_nifti(path)
    low, high = float(volume.min()), float(volume.max())
    if low < 0 or high > 1 + 1e-3 or not np.isfinite(volume).all():
        raise VolumeFileError(f"{path}: intensities in [{low:g}, {high:g}], not [0, 1]")
    return volume


def resample_cube(volume: np.ndarray, size: int) -> np.ndarray:
    """``volume`` zero-padded, centred, to a cube of its longest edge, then area-averaged to ``size``^3.

    Padding keeps the 1 mm voxels isotropic (no stretching); zeros are the background of a skull-stripped
    scan. Area averaging is the anti-aliased downsampling (trilinear at 224 -> 32 would skip 6 of every 7
    voxels), and as a mean of values in [0, 1] it stays in [0, 1].
    """
    return fit_to_size(volume[None], size, "pad")[0]


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
    licence="the OASIS Data Use Agreement (http://oasis-brains.org/#access)",
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
