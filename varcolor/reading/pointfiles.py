"""Points files: ``y, x`` and a colour (``a, b`` or ``r, g, b``) per point, in JSON or CSV, read
as marks (:class:`~varcolor.reading.marks.Marks`) for :meth:`varcolor.Cues.from_points` (and the cue
source ``points``, :mod:`varcolor.sources.points`), within the limits of a file from a user.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TypeGuard

import numpy as np

from ..color import rgb_to_lab
from ..common.memory import sparse_zeros
from ..errors import InputError
from ..io import safe_json
from .marks import AB_LIMIT, Marks, image_shape_of, same_aspect

__all__ = ["points_cues", "MAX_POINTS", "MAX_POINTS_FILE_BYTES", "MAX_PAINTED_IMAGES", "POINT_AB_LIMIT", "TAKEN_AS"]

#: What a points file may hold: more points than this (or a larger file) is refused before
#: parsing, not left to run for hours; a million points cover a 50-megapixel scan every 7 pixels.
MAX_POINTS = 1_000_000
MAX_POINTS_FILE_BYTES = 64 << 20
#: What a JSON points file's ``"as"`` says its points are: ``points`` (the default: hints whose
#: colour fills what no stroke's reaches) or ``strokes``.
TAKEN_AS = ("points", "strokes")


def _scaled_point(record, drawn: tuple[int, int], shape: tuple[int, int], name: str):
    """A point record placed on an image of ``drawn`` size moved onto one of ``shape`` (pixel
    centres onto pixel centres; the radius by the mean scale)."""
    if not isinstance(record, dict):
        return record  # refused by _points_to_cues, with its number
    values = _point_values(record, f"{name}: a point")
    scale = (shape[0] / drawn[0], shape[1] / drawn[1])
    moved = dict(record)
    for key, axis in (("y", 0), ("x", 1)):
        found = next((k for k in record if str(k).strip().lower() == key), None)
        if found is not None:
            moved[found] = (values[key] + 0.5) * scale[axis] - 0.5
    found = next((k for k in record if str(k).strip().lower() == "radius"), None)
    if found is not None:
        moved[found] = values["radius"] * (scale[0] + scale[1]) / 2
    return moved


def _declared_size(data: dict, path: Path | str) -> tuple[int, int] | None:
    """The ``(height, width)`` a points file declares, or None."""
    if "width" not in data and "height" not in data:
        return None
    width, height = data.get("width"), data.get("height")
    if not (_whole(width) and _whole(height)):
        raise InputError(f"{path}: width and height must both be given, as whole numbers >= 1")
    return height, width


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _unpacked(data: object, name: str) -> tuple[object, tuple[int, int] | None, bool]:
    """A JSON points file's content as ``(records, declared size, taken as strokes)``."""
    if not isinstance(data, dict):
        return data, None, False
    taken = data.get("as", TAKEN_AS[0])
    if taken not in TAKEN_AS:
        raise InputError(f'{name}: "as" must be one of {", ".join(map(repr, TAKEN_AS))}, got {taken!r}')
    return data.get("points"), _declared_size(data, name), taken == "strokes"


def _read_points_file(path: Path) -> tuple[list[dict], tuple[int, int] | None, bool]:
    try:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot read points file ({exc.strerror or exc})") from None
    if size > MAX_POINTS_FILE_BYTES:
        raise InputError(
            f"{path}: a points file of {size / 2**20:.0f} MB; at most {MAX_POINTS_FILE_BYTES >> 20} MB "
            f"({MAX_POINTS:,} points) are read"
        )
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read points file ({exc})") from None
    if suffix == ".json":
        data, drawn, strokes = _unpacked(safe_json.loads(text, str(path)), str(path))
        if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
            raise InputError(f'{path}: expected a list of point objects (or {{"points": [...]}})')
        return data, drawn, strokes
    if suffix == ".csv":
        try:
            reader = csv.DictReader(line for line in text.splitlines() if line.strip())
            header = {name.strip().lower() for name in reader.fieldnames or []}
            if not ({"y", "x", "a", "b"} <= header or {"y", "x", "r", "g", "b"} <= header):
                raise InputError(
                    f"{path}: the first line must be a header naming the columns "
                    "(y,x,a,b[,radius] or y,x,r,g,b[,radius])"
                )
            rows = []
            for row in reader:
                if None in row:
                    raise InputError(f"{path}: row {reader.line_num} has more values than the header has columns")
                rows.append({k.strip(): v for k, v in row.items()})
                if len(rows) > MAX_POINTS:
                    break
        except csv.Error as exc:
            raise InputError(f"{path}: not valid CSV ({exc})") from None
        return rows, None, False
    raise InputError(f"{path}: points files must be .json or .csv")


#: The most pixels a points file's disks may paint, in images' worth (their bounding boxes, clipped
#: to the image, after the disks that later disks cover entirely): past it, the points are refused before painting.
MAX_PAINTED_IMAGES = 64


def _points_to_cues(records: list[dict], shape: tuple[int, int], name: str) -> Marks:
    """Paint each point's disk (later points win)."""
    height, width = shape
    if len(records) > MAX_POINTS:
        raise InputError(f"{name}: more than {MAX_POINTS:,} points")
    diagonal = float(np.hypot(height, width))
    points = []
    for index, record in enumerate(records):
        where = f"{name}: point {index + 1}"
        if not isinstance(record, dict):
            raise InputError(f"{where}: must be an object with y, x and a, b or r, g, b")
        values = _point_values(record, where)
        keys = set(values)
        if not {"y", "x"} <= keys:
            raise InputError(f"{where}: needs y and x")
        if not (-1 < values["y"] < height and -1 < values["x"] < width):
            raise InputError(f"{where}: (y={values['y']:g}, x={values['x']:g}) is outside the {width}×{height} image")
        y, x = round(values["y"]), round(values["x"])
        if not (0 <= y < height and 0 <= x < width):
            raise InputError(f"{where}: (y={values['y']:g}, x={values['x']:g}) is outside the {width}×{height} image")
        radius = values.get("radius", 0.0)
        if radius < 0:
            raise InputError(f"{where}: radius must be >= 0")
        radius = min(radius, diagonal)  # a larger disk covers the image all the same
        if "a" in keys and ({"r", "g"} & keys):
            raise InputError(f"{where}: has both a (Lab) and r/g (RGB) keys; give a, b or r, g, b")
        if {"r", "g", "b"} <= keys:
            rgb = np.array([values["r"], values["g"], values["b"]]) / 255.0
            if np.any(rgb < 0) or np.any(rgb > 1):
                raise InputError(f"{where}: r, g, b must be in 0..255")
            lab = rgb_to_lab(rgb.reshape(1, 1, 3))[0, 0]
            chroma, light = lab[1:], lab[0]
        elif {"a", "b"} <= keys:
            chroma, light = np.array([values["a"], values["b"]]), np.nan
            if np.any(np.abs(chroma) > AB_LIMIT):
                raise InputError(f"{where}: a, b must lie within ±{AB_LIMIT:g}")
        else:
            raise InputError(f"{where}: needs either a, b or r, g, b")
        points.append((y, x, radius, chroma, light))
    # The farthest pixel from (y, x) is a corner: a disk that reaches all four covers the image.
    covers = (max(y, height - 1 - y) ** 2 + max(x, width - 1 - x) ** 2 <= r * r for y, x, r, _, _ in points)
    first = max((i for i, whole in enumerate(covers) if whole), default=0)
    painted = 0
    for y, x, radius, _, _ in points[first:]:
        reach = int(np.floor(radius))
        painted += (min(y + reach + 1, height) - max(y - reach, 0)) * (min(x + reach + 1, width) - max(x - reach, 0))
    if painted > MAX_PAINTED_IMAGES * height * width:
        raise InputError(
            f"{name}: the points' disks cover the {width}×{height} image {painted / (height * width):.0f} times over "
            f"(at most {MAX_PAINTED_IMAGES}); give smaller radii"
        )
    mask = np.zeros(shape, bool)
    ab = sparse_zeros(shape + (2,))  # written at the points' disks alone
    lightness = np.full(shape, np.nan)
    for y, x, radius, chroma, light in points[first:]:
        reach = int(np.floor(radius))
        top, bottom = max(y - reach, 0), min(y + reach + 1, height)
        left, right = max(x - reach, 0), min(x + reach + 1, width)
        yy, xx = np.ogrid[top:bottom, left:right]
        disk = (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
        box = (slice(top, bottom), slice(left, right))
        mask[box] |= disk
        ab[box][disk] = chroma
        lightness[box][disk] = light
    # Made here, referenced nowhere else: not copied.
    return Marks(mask, ab, lightness)


#: A point's ``a`` and ``b`` lie within ± this (Lab's 8-bit encoding range, holding sRGB's
#: gamut: its a runs from about -86 to 98, its b from -108 to 95).
POINT_AB_LIMIT = 128.0


def _check_point_scales(records: list, name: str) -> None:
    """Refuse, in one line naming the point, values on the wrong scale (entry checks of
    :meth:`Cues.from_points`)."""
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            continue  # refused by _points_to_cues, with its number
        where = f"{name}: point {index + 1}"
        values = _point_values(record, where)
        for key in ("a", "b"):
            if key in values and "r" not in values and abs(values[key]) > POINT_AB_LIMIT:
                raise InputError(
                    f"{where}: {key}={values[key]:g} is beyond Lab's ±{POINT_AB_LIMIT:g} (sRGB's colours lie within it)"
                )
        if not {"r", "g", "b"} <= set(values):
            continue
        rgb = [values[key] for key in ("r", "g", "b")]
        if all(0 <= v <= 1 for v in rgb) and any(v != round(v) for v in rgb):
            raise InputError(
                f"{where}: r, g, b are 8-bit levels (0–255), got ({', '.join(f'{v:g}' for v in rgb)}): "
                "on the 0–1 scale? multiply by 255"
            )


def _point_values(record: dict, where: str) -> dict[str, float]:
    """A point's fields as finite floats by lower-case name; a field given but empty (JSON null,
    a short CSV row) is an error, not a missing key found later."""
    values = {}
    for key, value in record.items():
        name = str(key).strip().lower()
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in ("y", "x", "a", "b", "r", "g", "radius"):
                raise InputError(f"{where}: {name} has no value")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InputError(f"{where}: values must be numbers ({name} is not)")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"{where}: values must be numbers ({name}: {str(value)[:40]!r})") from None
        if not np.isfinite(number):
            raise InputError(f"{where}: values must be finite ({name})")
        values[name] = number
    return values


def points_cues(source: str | os.PathLike | list[dict] | dict, shape: tuple[int, int]) -> Marks:
    """The cues of a points file or of point records: :meth:`varcolor.Cues.from_points`."""
    name, drawn, strokes = "points", None, False
    shape = image_shape_of(shape)
    if isinstance(source, (str, os.PathLike)):
        name = str(source)
        records, drawn, strokes = _read_points_file(Path(source))
    else:
        content, drawn, strokes = _unpacked(source, name)
        if not isinstance(content, list):
            raise InputError(f'{name}: expected a list of point objects (or {{"points": [...]}})')
        records = list(content)
    _check_point_scales(records, name)
    note = ""
    if drawn is not None and drawn != shape:
        if not same_aspect(drawn, shape):
            raise InputError(
                f"{name}: the points were placed on a {drawn[1]}×{drawn[0]} image but the photo is "
                f"{shape[1]}×{shape[0]}: not the same aspect ratio, so they cannot be scaled to it"
            )
        records = [_scaled_point(r, drawn, shape, name) for r in records]
        note = f"placed on {drawn[1]}×{drawn[0]}, scaled to {shape[1]}×{shape[0]}"
    cues = _points_to_cues(records, shape, name)
    return Marks(cues.mask, cues.ab, cues.lightness, note, None if strokes else cues.mask)
