"""The benchmark's inputs as files, for a method run elsewhere: each photo's gray and hints, and a
manifest saying how they were made.

For every photo and hint count ``n`` an export folder holds ``KEY/n.png`` (the protocol's 8-bit gray,
:func:`varcolor.bench.protocol_gray`) and ``KEY/n.points.json`` (its hints as a points file,
``{"width", "height", "points": [{"y", "x", "a", "b"}, ...]}``: one point per hint pixel, what
``--points`` and :meth:`~varcolor.cues.Cues.from_points` read), ``KEY`` the photo's path in its
folder without the suffix; a method writes its result for ``KEY/n.png`` under the same name in a
folder of its own (:mod:`varcolor.bench.results` scores it). ``manifest.json``, written last (the
export's marker: a folder without it is an unfinished export), lists the protocol (seed, patch,
resolution, hint counts), each photo with the SHA-256 of its file and of its gray, and the
varcolor version.

Examples
--------
>>> photo_key("sub/b.png"), gray_name("sub/b", 10), points_name("sub/b", 10)
('sub/b', 'sub/b/10.png', 'sub/b/10.points.json')
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import InputError
from ..io import atomic_path, encode_image, identity, inside, publish, safe_json
from ..io.atomic import file_sha256 as _file_sha256
from ..version import __version__
from . import sweep

__all__ = [
    "MANIFEST",
    "FORMAT",
    "photo_key",
    "gray_name",
    "points_name",
    "check_keys",
    "file_sha256",
    "protocol",
    "check_folder",
    "clear_earlier",
    "export_photo",
    "write_manifest",
    "read_manifest",
]

#: The export's marker, written last.
MANIFEST = "manifest.json"
#: What a manifest says it is, and the version of its layout.
FORMAT, FORMAT_VERSION = "varcolor-bench-hints", 1
#: A manifest is read within this size (a million photos' entries fit).
MAX_MANIFEST_BYTES = 256 << 20
GRAY = "8-bit gray PNG with the photo's CIE lightness, at the protocol's resolution"


def photo_key(name: str) -> str:
    """Where a photo's files go in an export: its path in its folder (``/``-separated) without the
    suffix."""
    return PurePosixPath(name).with_suffix("").as_posix()


def gray_name(key: str, n: int) -> str:
    """The gray input of photo ``key`` with ``n`` hints; a result is written under the same name."""
    return f"{key}/{n}.png"


def points_name(key: str, n: int) -> str:
    """The points file of photo ``key`` with ``n`` hints (``X.points.json`` beside ``X.png``: the
    name ``varcolor colorize`` looks for beside an image)."""
    return f"{key}/{n}.points.json"


def check_keys(names: Sequence[str]) -> dict[str, str]:
    """Each photo's key (:func:`photo_key`) by name; two photos with one key (``a.png`` and
    ``a.jpg``) are an :class:`InputError`: their files would be one."""
    keys: dict[str, str] = {}
    for name in names:
        key = photo_key(name)
        if key in keys:
            raise InputError(f"{keys[key]} and {name} would share the files {key}/…: rename one of them")
        keys[key] = name
    return {name: key for key, name in keys.items()}


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, read in blocks (hex)."""
    try:
        return _file_sha256(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def protocol(
    seed: int,
    resolution: str,
    hints: Sequence[int],
    methods: Sequence[str] = (),
    network_file: str | None = None,
    fid_file: str | None = None,
) -> dict:
    """What makes the inputs and the scores, as a reader reproducing a row needs them: the
    protocol, its patch, seed and resolution, the hint counts, how the hints are seeded (by the
    photo's content, :func:`varcolor.bench.content_seed`), NumPy's version (its random streams
    change across versions), the resize filter (:data:`varcolor.bench.RESIZE`), what the scores
    compare (:data:`varcolor.bench.SCORED`), and the versions that shaped the numbers
    (``versions``: :func:`varcolor.bench.versions`, the network's weights' hash where ``methods``
    run it)."""
    return {
        "protocol": "ideepcolor",
        "patch": sweep.PATCH,
        "seed": seed,
        "resolution": resolution,
        "hints": list(hints),
        "hint_seed": "[seed, content_seed(photo), n]: BLAKE2b of the photo's 8-bit protocol gray; numpy default_rng",
        "numpy": np.__version__,
        "resize": sweep.RESIZE,
        "scored": sweep.SCORED,
        "versions": sweep.versions(methods, network_file, fid_file),
    }


def check_folder(folder: str | os.PathLike, overwrite: bool, inputs: Sequence[str | os.PathLike]) -> None:
    """Refuse, before any work, an export folder that is or holds an input, or lies in an input
    folder (a later run would read the grays as photos); one that holds an earlier export (its
    manifest) unless ``overwrite``; and a folder with other files in it (no file is ever replaced
    that an export did not write)."""
    folder = Path(folder)
    for given in map(Path, inputs):
        if identity(folder) == identity(given) or inside(folder, given) or inside(given, folder):
            raise InputError(f"{folder}: the export folder must lie apart from the photos ({given})")
    if os.path.lexists(folder) and not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    if not folder.is_dir():
        return
    if (folder / MANIFEST).is_file():
        if not overwrite:
            raise InputError(f"{folder}: holds an export ({MANIFEST}); kept (use --overwrite to replace it)")
        read_manifest(folder / MANIFEST)  # what clear_earlier removes must be an export's files
        return
    try:
        busy = next(iter(folder.iterdir()), None)
    except OSError as exc:
        raise InputError(f"{folder}: cannot list ({exc.strerror or exc})") from None
    if busy is not None:
        raise InputError(
            f"{folder}: not empty and no export's {MANIFEST} in it (an unfinished export has none): "
            "give a new or empty folder"
        )


def clear_earlier(folder: str | os.PathLike) -> None:
    """Remove an earlier export from ``folder``: its manifest first (the folder then reads as an
    unfinished export), then the files it lists; nothing else (results written beside it stay)."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        return
    manifest = read_manifest(folder / MANIFEST)
    (folder / MANIFEST).unlink()
    for photo in manifest["photos"]:
        for files in photo["files"].values():
            for name, suffix in ((files["gray"], ".png"), (files["points"], ".points.json")):
                path = folder / name
                # Only what an export writes: a manifest edited by hand removes nothing else.
                if name.endswith(suffix) and inside(path, folder) and path.is_file() and not path.is_symlink():
                    path.unlink()


def export_photo(folder: str | os.PathLike, rgb: np.ndarray, key: str, hints: Sequence[int], index: int, seed: int):
    """Write one photo's inputs, for every hint count, as one unit (the last points file published
    last); return its manifest entry (less the photo's name and file hash, which the caller adds)."""
    folder = Path(folder)
    height, width = rgb.shape[:2]
    gray = encode_image(sweep.protocol_gray(rgb))
    files, listed = [], {}
    for n in hints:
        points = {"width": width, "height": height, "points": sweep.hint_points(rgb, n, seed)}
        text = json.dumps(points, separators=(",", ":")).encode()
        files += [(folder / gray_name(key, n), gray), (folder / points_name(key, n), text)]
        listed[str(n)] = {"gray": gray_name(key, n), "points": points_name(key, n)}
    publish(files)
    return {
        "index": index,
        "width": width,
        "height": height,
        "gray_sha256": hashlib.sha256(gray).hexdigest(),
        "files": listed,
    }


def write_manifest(folder: str | os.PathLike, run: dict, photos: Sequence[dict]) -> Path:
    """Publish the export's manifest (its marker) atomically: ``run`` (:func:`protocol`) and the
    photos' entries (:func:`export_photo`, with ``photo`` and ``sha256``), in their order."""
    path = Path(folder) / MANIFEST
    data = {"format": FORMAT, "version": FORMAT_VERSION, "varcolor": __version__, **run, "gray": GRAY}
    data["photos"] = sorted(photos, key=lambda photo: photo["index"])
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path


def read_manifest(path: str | os.PathLike) -> dict:
    """An export's manifest, checked: its format, protocol fields and photo entries (names, index,
    hashes, sizes, files); anything else is one :class:`InputError` line naming the file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise InputError(f"{path}: {size:,} bytes; a manifest is read up to {MAX_MANIFEST_BYTES:,}")
        data = safe_json.loads(path.read_bytes(), str(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'{path}: not a manifest of exported hints (no "format": "{FORMAT}")')
    if data.get("version") != FORMAT_VERSION:
        raise InputError(f"{path}: manifest version {data.get('version')!r}; this varcolor reads {FORMAT_VERSION}")
    ok = (
        isinstance(data.get("seed"), int)
        and isinstance(data.get("patch"), int)
        and isinstance(data.get("resolution"), str)
        and isinstance(data.get("hints"), list)
        and all(isinstance(n, int) for n in data["hints"])
        and isinstance(data.get("photos"), list)
        and all(_good_entry(photo, data["hints"]) for photo in data["photos"])
    )
    if not ok:
        raise InputError(
            f"{path}: a manifest with missing or malformed fields (seed, patch, resolution, hints, photos)"
        )
    return data


def _good_entry(photo, hints: list) -> bool:
    """A photo's entry names its files for every hint count, and nothing else."""
    texts = ("photo", "sha256", "gray_sha256")
    return (
        isinstance(photo, dict)
        and all(isinstance(photo.get(name), str) for name in texts)
        and all(isinstance(photo.get(name), int) for name in ("index", "width", "height"))
        and isinstance(photo.get("files"), dict)
        and sorted(photo["files"]) == sorted(str(n) for n in hints)
        and all(
            isinstance(files, dict) and all(isinstance(files.get(k), str) for k in ("gray", "points"))
            for files in photo["files"].values()
        )
    )
