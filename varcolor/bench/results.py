"""Results computed elsewhere, scored into the benchmark's table like its own methods.

A results folder holds one image per photo and hint count under the name of its gray input in the
export (:mod:`varcolor.bench.export`: ``KEY/n.png``, any image suffix), and the export's
``manifest.json``, which says which photos, seed and resolution the results were made from. Each
result is scored as :func:`varcolor.bench.score` scores the benchmark's own (as an 8-bit image,
against the same original), so that the rows compare.

What cannot be scored is one line each, and the run goes on: a result missing, of another size,
named twice, unreadable, or not a colorization of its photo (its lightness does not follow the
photo's gray: a file of another photo); a file that is no result (an extra file); a photo the
manifest lacks or knows with another hash. A cell of the table whose photos are not all scored is
left empty and its method marked incomplete (:func:`complete`): never a mean over fewer photos.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import numpy as np

from ..color import lightness_of_gray, rgb_to_lab
from ..errors import InputError
from ..io import IMAGE_EXTENSIONS, identity, image_shape, inside, read_image
from . import sweep
from .export import MANIFEST, read_manifest

__all__ = [
    "ResultsFolder",
    "Photo",
    "FOLLOWS",
    "parse",
    "plan",
    "follows_gray",
    "score_photo",
    "complete",
]

#: A result's lightness must correlate with its photo's gray at least this well: a colorization
#: keeps the gray's lightness (up to gamut clipping: above 0.99), another photo's does not.
FOLLOWS = 0.9
#: Files a results folder may hold beside the results: the export's manifest, and the record a
#: ``varcolor colorize`` folder run keeps.
KNOWN_FILES = (MANIFEST, "varcolor-manifest.jsonl")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass(frozen=True)
class ResultsFolder:
    """A method's results: its name in the table, its folder and the export's manifest found there."""

    name: str
    folder: Path
    manifest: dict


class Photo(NamedTuple):
    """A photo of the run: its name in the input folder, its place there, its file's SHA-256."""

    name: str
    position: int  # (not ``index``: that is a tuple's method)
    sha256: str


def parse(specs: Sequence[str], methods: Sequence[str], run: dict, export: str | None = None) -> list[ResultsFolder]:
    """The ``NAME=DIR`` results of the command line, checked before any work: a name that is
    unique, not one of ``methods`` and of letters, digits and ``._+-``; a folder that exists, is
    not the export folder, and holds a manifest made with the protocol of ``run``
    (:func:`varcolor.bench.export.protocol`: the same seed, patch and resolution)."""
    found: list[ResultsFolder] = []
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise InputError(f"--results must be NAME=DIR, got {spec!r}")
        if not _NAME.match(name):
            raise InputError(f"--results {spec}: a name of letters, digits and . _ + - (first a letter or digit)")
        if name in methods or any(name == other.name for other in found):
            raise InputError(f"--results {spec}: {name!r} names two rows of the table; give another name")
        path = Path(folder)
        if not path.is_dir():
            raise InputError(f"--results {spec}: {path}: no such folder")
        if export is not None and (identity(path) == identity(export) or inside(path, export)):
            raise InputError(f"--results {spec}: {path} is the export folder this run writes; give the results' own")
        if not (path / MANIFEST).is_file():
            raise InputError(
                f"{path}: no {MANIFEST}; copy the export's beside the results (it says which photos and "
                "hints they were made from)"
            )
        manifest = read_manifest(path / MANIFEST)
        for field in ("protocol", "patch", "seed", "resolution"):
            if manifest.get(field) != run[field]:
                raise InputError(
                    f"{path / MANIFEST}: exported with {field} {manifest.get(field)!r}, this run uses "
                    f"{run[field]!r}: the results were made from other inputs"
                )
        found.append(ResultsFolder(name, path, manifest))
    return found


def plan(
    results: ResultsFolder, photos: Sequence[Photo], hints: Sequence[int]
) -> tuple[dict[tuple[str, int], Path], list[str]]:
    """The result file of each photo and hint count of the run, from the folder's listing and the
    files' headers (no pixel is decoded), and a line for each problem: a result missing, of
    another size, given twice or unreadable; an extra file; a photo the manifest lacks or knows
    with another hash or place (its hints were others)."""
    name, folder, manifest = results.name, results.folder, results.manifest
    entries = {entry["photo"]: entry for entry in manifest["photos"]}
    stems, exported = {}, set()  # a result's name without its suffix → (photo, hints); the points files
    for entry in manifest["photos"]:
        for count, files in entry["files"].items():
            stems[PurePosixPath(files["gray"]).with_suffix("").as_posix()] = (entry["photo"], int(count))
            exported.add(files["points"])
    problems, candidates = [], defaultdict(list)
    for rel, path in _listing(folder):
        if rel in KNOWN_FILES or rel in exported:
            continue
        stem = PurePosixPath(rel).with_suffix("").as_posix()
        if PurePosixPath(rel).suffix.lower() in IMAGE_EXTENSIONS and stem in stems:
            candidates[stems[stem]].append(path)
        else:
            problems.append(f"{name}: {path}: an extra file, not the result of a photo and hint count in {MANIFEST}")
    absent = [n for n in hints if n not in manifest["hints"]]
    if absent:
        problems.append(f"{name}: {folder / MANIFEST} has no {', '.join(map(str, absent))} hints: no results for them")
    files = {}
    for photo in photos:
        entry = entries.get(photo.name)
        if entry is None:
            problems.append(f"{name}: {folder / MANIFEST} has no {photo.name}: no results for it")
            continue
        if entry["sha256"] != photo.sha256 or entry["index"] != photo.position:
            changed = "its file's SHA-256" if entry["sha256"] != photo.sha256 else "its place in the folder"
            problems.append(
                f"{name}: {photo.name} is not the photo the results were made from ({changed} differs "
                "from the manifest's); its results are not scored"
            )
            continue
        for n in hints:
            if n not in manifest["hints"]:
                continue
            found = candidates.get((photo.name, n), [])
            expected = folder / entry["files"][str(n)]["gray"]
            if not found:
                problems.append(f"{name}: {expected}: missing (the result of {photo.name} with {n} hints)")
            elif len(found) > 1:
                problems.append(f"{name}: {' and '.join(map(str, found))}: two results of {photo.name} with {n} hints")
            else:
                problem = _size_problem(found[0], (entry["height"], entry["width"]))
                if problem:
                    problems.append(f"{name}: {problem}")
                else:
                    files[photo.name, n] = found[0]
    return files, problems


def _listing(folder: Path) -> list[tuple[str, Path]]:
    """Every file below ``folder`` (hidden ones left out, links to folders not followed), as its
    ``/``-separated path in the folder and its path."""
    found = []
    for top, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for file in sorted(names):
            if not file.startswith("."):
                path = Path(top) / file
                found.append((path.relative_to(folder).as_posix(), path))
    return found


def _size_problem(path: Path, shape: tuple[int, int]) -> str:
    try:
        height, width = image_shape(path)
    except InputError as exc:
        return str(exc)
    if (height, width) != shape:
        return f"{path}: {width}×{height}, but its photo is scored at {shape[1]}×{shape[0]}"
    return ""


def follows_gray(result: np.ndarray, gray: np.ndarray) -> float:
    """How well a result's CIE lightness follows a gray image's: their correlation (a flat pair:
    1 where their lightness agrees within 2, else 0).

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.linspace(0, 1, 64).reshape(8, 8)
    >>> follows_gray(np.repeat(gray[..., None], 3, axis=2), gray) > 0.99
    True
    """
    own = rgb_to_lab(result[..., :3])[..., 0].ravel()
    given = lightness_of_gray(gray).ravel()
    if own.std() < 1e-6 or given.std() < 1e-6:
        return float(abs(own.mean() - given.mean()) <= 2)
    return float(np.corrcoef(own, given)[0, 1])


def score_photo(
    rgb: np.ndarray, photo: str, resolution: str, files: Sequence[tuple[str, int, Path]], max_pixels: int | None = None
) -> tuple[list[dict], list[str]]:
    """Score one photo's results: rows as :func:`varcolor.bench.evaluate` gives them (seconds
    NaN: they were made elsewhere), and a line for each result that cannot be read or is not a
    colorization of this photo's gray (:data:`FOLLOWS`)."""
    gray = sweep.protocol_gray(rgb)
    rows, problems = [], []
    for name, n, path in files:
        try:
            image = sweep.original(read_image(path, max_pixels=max_pixels), "full")
        except InputError as exc:
            problems.append(f"{name}: {exc}" if str(path) in str(exc) else f"{name}: {path}: {exc}")
            continue
        if image.shape[:2] != rgb.shape[:2]:
            problems.append(
                f"{name}: {path}: {image.shape[1]}×{image.shape[0]} once upright, not {rgb.shape[1]}×{rgb.shape[0]}"
            )
            continue
        follows = follows_gray(image, gray)
        if follows < FOLLOWS:
            problems.append(
                f"{name}: {path}: not a colorization of {photo} (its lightness follows that photo's gray "
                f"with correlation {follows:.2f}, under {FOLLOWS}): a file of another photo?"
            )
            continue
        row = {"resolution": resolution, "method": name, "hints": n, **sweep.score(image, rgb), "seconds": float("nan")}
        rows.append({"image": photo, **row})
    return rows, problems


def complete(summary: dict, names: Sequence[str], hints: Sequence[int], resolution: str, photos: int) -> dict:
    """Take out of ``summary`` (:func:`varcolor.bench.summarize`) each cell of the results
    ``names`` that is not a mean over all ``photos``; return them, ``name → {hints: photos scored}``.

    Examples
    --------
    >>> summary = {"256/x/0": {"psnr": 20.0, "images": 2}, "256/x/5": {"psnr": 22.0, "images": 1}}
    >>> complete(summary, ["x"], [0, 5, 10], "256", 2), sorted(summary)
    ({'x': {5: 1, 10: 0}}, ['256/x/0'])
    """
    incomplete: dict[str, dict[int, int]] = {}
    for name in names:
        for n in hints:
            key = f"{resolution}/{name}/{n}"
            scored = summary[key]["images"] if key in summary else 0
            if scored < photos:
                summary.pop(key, None)
                incomplete.setdefault(name, {})[n] = scored
    return incomplete
