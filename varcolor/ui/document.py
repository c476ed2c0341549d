"""The studio's document: brush strokes and point hints in image coordinates, their undo history,
the stroke mask they make, and the session file that stores them.

Coordinates are those of a points file: ``x`` the column, ``y`` the row, integers at pixel
centres, always of the full-resolution image (the live view may work on a smaller copy). A
document turns into cues only through :func:`rasterize` (a stroke-mask picture, the file
``varcolor colorize --mask`` reads) and :func:`cues_from_mask`, so that the saved mask gives the
command line exactly the cues the studio solved with.

>>> doc = Document().with_stroke({"tool": "brush", "rgb": [200, 80, 40], "width": 3, "path": [[1, 1], [6, 1]]})
>>> doc = doc.with_point({"x": 2, "y": 5, "rgb": [40, 80, 200], "size": 3})
>>> mask = rasterize(doc, (8, 8))
>>> cues_from_mask(mask).count == int((mask.max(axis=2) > 0).sum()) > 0
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ..common.raster import coordinates
from ..cues import HALF_PAINT, Cues
from ..errors import InputError
from ..io import safe_json
from ..methods import with_prior
from ..options import DEFAULT_METHOD, Options
from ..reading.matching import CLEARANCE
from ..sources.mask import Mask
from .refphoto import Suggestions

__all__ = [
    "Document",
    "History",
    "rasterize",
    "cues_from_mask",
    "layer_strokes",
    "session_dict",
    "parse_session",
    "SESSION_FORMAT",
    "TOOLS",
    "PRESETS",
    "SECONDS_PER_MEGAPIXEL",
    "NEUTRAL_RGB",
]

SESSION_FORMAT = "varcolor-studio-session"
SESSION_VERSION = 1
TOOLS = ("brush", "eraser")
#: The neutral brush's colour: a gray, whose chroma is a = b = 0 (within 0.003 ab: scikit-image's
#: D65 white and sRGB matrix differ in the fifth digit), "keep this white or gray".
NEUTRAL_RGB = (128, 128, 128)
#: The studio's presets (its "method" menu; a session's ``settings["method"]``): name -> Colorizer options.
PRESETS: dict[str, dict[str, Any]] = {  # each a Colorizer's keyword options
    DEFAULT_METHOD: {"method": DEFAULT_METHOD},
    "levin": {"method": "levin"},
    with_prior("levin", "ideepcolor"): {"method": "levin", "prior": "ideepcolor"},
    "bilaplacian-gtv": {"method": "bilaplacian-gtv"},
}
#: Seconds per megapixel of a fresh solve of each preset to its final result, until a session has
#: timed its own (benchmarks/results/studio_notes.md, "Measurements behind the studio's settings").
SECONDS_PER_MEGAPIXEL = {DEFAULT_METHOD: 1.0, "levin": 3.0, "levin+ideepcolor": 4.0, "bilaplacian-gtv": 25.0}
#: The preset of a new session (the library's default method).
DEFAULT_PRESET = Options.method
#: Presets' old names, still read from the sessions saved under them.
_OLD_PRESETS = {"levin-prior": with_prior("levin", "ideepcolor")}
MAX_WIDTH = 2000.0
#: Points are 1 to this many pixels across (the page sizes them in screen pixels: on a scan at
#: Fit, a few screen pixels are tens of the photo's).
MAX_POINT_SIZE = 255
MAX_PATH = 100_000
#: The longest side a session's image record may give (a photo's pixel limit is far below it).
MAX_SIDE = 1_000_000


@dataclass(frozen=True)
class Document:
    """Strokes (painted in order; an eraser paints "no cue") and points (drawn over the strokes,
    later ones over earlier ones), with the method settings; and a reference photo's record with
    its suggestions (cue pixels under everything: strokes and points win, see :func:`rasterize`).
    Immutable: every edit makes a new one."""

    strokes: tuple = ()
    points: tuple = ()
    settings: dict = field(default_factory=lambda: {"method": DEFAULT_PRESET})
    next_id: int = 1
    #: The reference photo (``path``, ``sha256``, ``name``, ``width``, ``height``), or None.
    reference: dict | None = None
    suggestions: Suggestions | None = None

    def with_stroke(self, stroke: object, shape: tuple[int, int] | None = None) -> Document:
        """The document with ``stroke`` added; an eraser also removes the points it touches."""
        checked = _check_stroke(stroke, shape)
        points = self.points
        if checked["tool"] == "eraser":
            points = tuple(p for p in points if not _touches(checked, p))
        return replace(self, strokes=self.strokes + (checked,), points=points)

    def with_point(self, point: object, shape: tuple[int, int] | None = None) -> Document:
        """The document with a new point hint (given ``x, y, rgb, size``); it gets the next id."""
        point = _check_point({**_object(point, "a point"), "id": self.next_id}, shape)
        return replace(self, points=self.points + (point,), next_id=self.next_id + 1)

    def with_point_changed(self, point_id: int, changes: dict, shape: tuple[int, int] | None = None) -> Document:
        """The document with point ``point_id`` moved or recoloured (``x, y, rgb, size``)."""
        found = [p for p in self.points if p["id"] == point_id]
        if not found:
            raise InputError(f"no point {point_id}")
        allowed = {k: v for k, v in _object(changes, "a point's change").items() if k in ("x", "y", "rgb", "size")}
        new = _check_point({**found[0], **allowed}, shape)
        return replace(self, points=tuple(new if p["id"] == point_id else p for p in self.points))

    def without_point(self, point_id: int) -> Document:
        """The document without point ``point_id``; an unknown id is one line."""
        if not any(p["id"] == point_id for p in self.points):
            raise InputError(f"no point {point_id}")
        return replace(self, points=tuple(p for p in self.points if p["id"] != point_id))

    def cleared(self) -> Document:
        """No strokes and no points (a reference's suggestions stay: it has its own Remove)."""
        return replace(self, strokes=(), points=())

    def with_settings(self, settings: dict) -> Document:
        """The document with ``settings`` laid over its own, checked (an unknown preset is one line)."""
        settings = _object(settings, "settings")
        return replace(self, settings=_check_settings({**self.settings, **settings}))

    def with_reference(self, reference: dict | None, suggestions: Suggestions | None) -> Document:
        """The document with another reference photo's record and suggestions (None: none)."""
        return replace(self, reference=reference, suggestions=suggestions if reference is not None else None)

    @property
    def empty(self) -> bool:
        return not self.strokes and not self.points and not self.suggested

    @property
    def suggested(self) -> int:
        """How many suggestion pixels the document holds."""
        return self.suggestions.count if self.suggestions is not None else 0

    def as_dict(self) -> dict:
        """What the page is sent: the reference's record and how many suggestions, not the pixels
        (``/api/suggestions`` has them)."""
        reference = None if self.reference is None else {**self.reference, "suggestions": self.suggested}
        return {
            "strokes": list(self.strokes),
            "points": list(self.points),
            "settings": dict(self.settings),
            "reference": reference,
        }


class History:
    """Undo and redo over documents (every edit, settings included, is one step).

    >>> h = History(Document())
    >>> h.push(h.current.with_point({"x": 1, "y": 1, "rgb": [255, 0, 0], "size": 1}))
    >>> len(h.undo().points), len(h.redo().points)
    (0, 1)
    """

    def __init__(self, document: Document, limit: int = 500):
        self._docs, self._at, self.limit = [document], 0, limit

    @property
    def current(self) -> Document:
        return self._docs[self._at]

    def push(self, document: Document) -> None:
        """Make ``document`` the current step; the steps that were undone are dropped, and the oldest
        past the limit."""
        del self._docs[self._at + 1 :]
        self._docs.append(document)
        if len(self._docs) > self.limit:
            del self._docs[0]
        self._at = len(self._docs) - 1

    def undo(self) -> Document:
        self._at = max(self._at - 1, 0)
        return self.current

    def redo(self) -> Document:
        self._at = min(self._at + 1, len(self._docs) - 1)
        return self.current

    @property
    def can_undo(self) -> bool:
        return self._at > 0

    @property
    def can_redo(self) -> bool:
        return self._at < len(self._docs) - 1


def _object(value, what: str) -> dict:
    """``value`` if it is a JSON object; else one line (a list or a number where an object is
    owed would otherwise be a TypeError deep in an edit)."""
    if not isinstance(value, dict):
        raise InputError(f"{what} must be an object, got {type(value).__name__}")
    return value


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _rgb(value, what: str) -> list[int]:
    if not (isinstance(value, (list, tuple)) and len(value) == 3):
        raise InputError(f"{what}: rgb must be three numbers 0-255")
    rgb = [round(_number(v, f"{what}: rgb")) for v in value]
    if not all(0 <= v <= 255 for v in rgb):
        raise InputError(f"{what}: rgb must be three numbers 0-255")
    if max(rgb) == 0:  # black means "no cue" in a stroke mask: the darkest gray keeps its chroma (none)
        rgb = [1, 1, 1]
    return rgb


def _check_stroke(stroke: object, shape: tuple[int, int] | None) -> dict:
    if not isinstance(stroke, dict):
        raise InputError("a stroke must be an object")
    tool = stroke.get("tool", "brush")
    if tool not in TOOLS:
        raise InputError(f"unknown stroke tool {tool!r}; available: {', '.join(TOOLS)}")
    width = _number(stroke.get("width"), "stroke width")
    if not 0.5 <= width <= MAX_WIDTH:
        raise InputError(f"stroke width must be between 0.5 and {MAX_WIDTH:g} pixels, got {width:g}")
    path = stroke.get("path")
    if not isinstance(path, list) or not 1 <= len(path) <= MAX_PATH:
        raise InputError(f"a stroke path must be a list of 1 to {MAX_PATH} [x, y] pairs")
    clean = []
    for pair in path:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise InputError("a stroke path must be a list of [x, y] pairs")
        x, y = (_number(v, "stroke coordinate") for v in pair)
        if shape is not None and not (-width <= x <= shape[1] + width and -width <= y <= shape[0] + width):
            raise InputError(f"stroke point ({x:g}, {y:g}) is outside the {shape[1]}×{shape[0]} image")
        clean.append([round(x, 2), round(y, 2)])
    out = {"tool": tool, "width": width, "path": clean}
    if tool == "brush":
        out["rgb"] = _rgb(stroke.get("rgb"), "stroke")
    return out


def _check_point(point: dict, shape: tuple[int, int] | None) -> dict:
    if not isinstance(point, dict):
        raise InputError("a point must be an object")
    x, y = round(_number(point.get("x"), "point x")), round(_number(point.get("y"), "point y"))
    if shape is not None and not (0 <= x < shape[1] and 0 <= y < shape[0]):
        raise InputError(f"point ({x}, {y}) is outside the {shape[1]}×{shape[0]} image")
    size = _number(point.get("size", 1), "point size")
    if size != round(size) or not 1 <= size <= MAX_POINT_SIZE:
        raise InputError(f"point size must be a whole number of pixels from 1 to {MAX_POINT_SIZE}, got {size:g}")
    point_id = point.get("id")
    if isinstance(point_id, bool) or not isinstance(point_id, int):
        raise InputError("a point needs an integer id")
    return {"id": point_id, "x": x, "y": y, "rgb": _rgb(point.get("rgb"), "point"), "size": int(size)}


def _check_settings(settings: dict) -> dict:
    method = _object(settings, "settings").get("method", DEFAULT_PRESET)
    method = _OLD_PRESETS.get(method, method) if isinstance(method, str) else method
    if not isinstance(method, str) or method not in PRESETS:
        raise InputError(f"unknown studio preset {method!r}; available: {', '.join(PRESETS)}")
    return {"method": method}


def point_radius(point: dict) -> float:
    """The disk radius of a point of ``size`` pixels across (the points file's ``radius``)."""
    return (point["size"] - 1) / 2


def _touches(eraser: dict, point: dict) -> bool:
    """Whether an eraser stroke covers any pixel of a point's disk."""
    reach = eraser["width"] / 2 + point_radius(point)
    px, py = point["x"], point["y"]
    path = eraser["path"]
    segments = zip(path, path[1:]) if len(path) > 1 else [(path[0], path[0])]
    for (x0, y0), (x1, y1) in segments:
        dx, dy = x1 - x0, y1 - y0
        t = 0.0 if dx == dy == 0 else min(max(((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy), 0.0), 1.0)
        if math.hypot(x0 + t * dx - px, y0 + t * dy - py) <= reach:
            return True
    return False


def rasterize(doc: Document, shape: tuple[int, ...], full_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The stroke-mask picture of ``doc`` at ``shape`` (``H×W×3`` uint8: colour where a cue is,
    black elsewhere), the image being ``full_shape`` (default ``shape``) in the document's coordinates.

    At full resolution, points are the disks of the points file (``varcolor.Cues.from_points``
    with ``radius = (size - 1) / 2``), so the saved points JSON and the mask agree."""
    mask = np.zeros(tuple(shape) + (3,), np.uint8)
    draw(mask, doc.strokes, doc.points, full_shape or shape, (0, 0) + tuple(shape))
    if doc.suggestions is not None and doc.suggestions.count:
        suggest(mask, doc.suggestions, doc.strokes, full_shape or shape)
    return mask


def suggest(mask: np.ndarray, suggestions: Suggestions, strokes, full_shape: tuple[int, ...]) -> None:
    """Add ``suggestions`` to ``mask`` (the strokes and points already drawn, changed in place)
    where :func:`kept_suggestions` keeps them."""
    rows, cols, keep = kept_suggestions(mask, suggestions, strokes, full_shape)
    mask[rows[keep], cols[keep]] = suggestions.rgb[keep]


def kept_suggestions(
    mask: np.ndarray, suggestions: Suggestions, strokes, full_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels of ``mask`` (the strokes and points drawn) the suggestions fall on, and which of
    them stay under the user's cues, as ``varcolor colorize --reference`` keeps a reference's
    beside strokes: none within :data:`~varcolor.reading.matching.CLEARANCE` of the photo's pixels of a
    stroke or point, none under an eraser's pass."""
    from ..reading.matching import outside

    sx, sy, scale = _mapping(mask.shape[:2], full_shape)
    rows = np.clip(np.floor((suggestions.ys + 0.5) * sy), 0, mask.shape[0] - 1).astype(np.intp)
    cols = np.clip(np.floor((suggestions.xs + 0.5) * sx), 0, mask.shape[1] - 1).astype(np.intp)
    painted = (mask[..., 0] | mask[..., 1] | mask[..., 2]) != 0
    keep = np.ones(rows.size, bool)
    if painted.any():
        keep &= outside(painted, max(1, round(CLEARANCE * scale)))[rows, cols]
    erasers = [stroke for stroke in strokes if stroke["tool"] == "eraser"]
    if erasers:
        erased = np.zeros(mask.shape[:2] + (3,), np.uint8)
        brushes = [{**stroke, "tool": "brush", "rgb": [255, 255, 255]} for stroke in erasers]
        draw(erased, brushes, (), full_shape, (0, 0) + mask.shape[:2])
        keep &= erased[rows, cols, 0] == 0
    return rows, cols, keep


def _mapping(shape: tuple[int, ...], full_shape: tuple[int, ...]):
    sx, sy = shape[1] / full_shape[1], shape[0] / full_shape[0]
    return sx, sy, math.sqrt(sx * sy)


#: Rows of a drawn picture copied back into the mask at a time (:func:`draw`).
_COPY_ROWS = 256


def strokes_in(strokes, shape: tuple[int, ...], full_shape: tuple[int, ...], box: tuple[int, ...]) -> list:
    """The ``strokes`` that paint inside ``box`` = ``(top, left, height, width)`` of a picture of
    ``shape`` (:func:`draw`'s), in order, each as ``(stroke, line width, points in the box's
    coordinates)``: a full tile of the view draws its document in its own small box (all of it
    took a third of a tile's time), and keeps its cues while these are the same."""
    top, left, height, width = box
    sx, sy, scale = _mapping(shape, full_shape)
    found = []
    for stroke in strokes:
        line_width = max(1, round(stroke["width"] * scale))
        xy = [((x + 0.5) * sx - 0.5 - left, (y + 0.5) * sy - 0.5 - top) for x, y in stroke["path"]]
        reach = line_width / 2 + 2
        xs, ys = [x for x, _ in xy], [y for _, y in xy]
        if min(xs) <= width + reach and max(xs) >= -reach and min(ys) <= height + reach and max(ys) >= -reach:
            found.append((stroke, line_width, xy))
    return found


def draw(mask: np.ndarray, strokes, points, full_shape: tuple[int, ...], box: tuple[int, ...]) -> None:
    """Paint ``strokes`` in order, then ``points``, into ``mask`` (``H×W×3`` uint8, changed in
    place), inside ``box`` = ``(top, left, height, width)`` only; :func:`rasterize` paints it all."""
    top, left, height, width = box
    if height <= 0 or width <= 0:
        return
    sx, sy, scale = _mapping(mask.shape[:2], full_shape)
    region = mask[top : top + height, left : left + width]
    drawn = strokes_in(strokes, mask.shape[:2], full_shape, box)
    if drawn:
        picture = Image.fromarray(region)
        pen = ImageDraw.Draw(picture)
        for stroke, line_width, xy in drawn:
            colour = tuple(stroke["rgb"]) if stroke["tool"] == "brush" else (0, 0, 0)
            if len(xy) > 1:
                pen.line(xy, fill=colour, width=line_width, joint="curve")
            r = (line_width - 1) / 2
            for x, y in {tuple(xy[0]), tuple(xy[-1])}:  # round caps
                if r < 0.5:
                    pen.point((x, y), fill=colour)
                else:
                    pen.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        # Copied back a strip at a time: the whole picture as an array was another mask.
        for strip in range(0, region.shape[0], _COPY_ROWS):
            rows = min(_COPY_ROWS, region.shape[0] - strip)
            region[strip : strip + rows] = np.asarray(picture.crop((0, strip, region.shape[1], strip + rows)))
    for point in points:
        # A full-resolution pixel centre, rounded in whole-image pixels, as the points file.
        x, y = round((point["x"] + 0.5) * sx - 0.5), round((point["y"] + 0.5) * sy - 0.5)
        r = point_radius(point) * scale
        reach = int(math.floor(r))
        rows = slice(max(y - reach, top), min(y + reach + 1, top + height))
        cols = slice(max(x - reach, left), min(x + reach + 1, left + width))
        if rows.start >= rows.stop or cols.start >= cols.stop:
            continue
        yy, xx = np.mgrid[rows, cols]
        disk = (yy - y) ** 2 + (xx - x) ** 2 <= r**2
        mask[rows, cols][disk] = point["rgb"]


def strokes_box(strokes, shape: tuple[int, ...], full_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The box ``(top, left, height, width)`` of ``shape`` that ``strokes`` can paint."""
    sx, sy, scale = _mapping(shape, full_shape)
    xs = [(x + 0.5) * sx - 0.5 for stroke in strokes for x, _ in stroke["path"]]
    ys = [(y + 0.5) * sy - 0.5 for stroke in strokes for _, y in stroke["path"]]
    reach = max(max(1, round(stroke["width"] * scale)) for stroke in strokes) / 2 + 2
    top, left = max(int(math.floor(min(ys) - reach)), 0), max(int(math.floor(min(xs) - reach)), 0)
    bottom = min(int(math.ceil(max(ys) + reach)) + 1, shape[0])
    right = min(int(math.ceil(max(xs) + reach)) + 1, shape[1])
    return top, left, max(bottom - top, 0), max(right - left, 0)


#: The most runs of paint a layered file's strokes layer may open as (one stroke a run).
MAX_LAYER_RUNS = 200_000


def layer_strokes(layer: np.ndarray, name: str) -> tuple:
    """A layered file's strokes layer (``H×W×4`` straight-alpha floats) as the document's strokes:
    each row's runs of one 8-bit colour a brush stroke one pixel wide, so that :func:`rasterize`
    paints the layer's cues back exactly. Painted is what the command line reads as paint
    (:meth:`varcolor.Cues.from_mask`): alpha at least one half on transparency, else not black."""
    colours = np.round(np.clip(layer[..., :3], 0.0, 1.0) * 255).astype(np.int64)
    alpha = layer[..., 3]
    painted = alpha >= HALF_PAINT if np.any(alpha < 1) else colours.max(axis=2) > 0
    code = np.where(painted, (colours[..., 0] << 16) | (colours[..., 1] << 8) | colours[..., 2], -1)
    # A run starts where the code changes along a row (or a row starts) and is painted.
    starts = np.ones(code.shape, bool)
    starts[:, 1:] = code[:, 1:] != code[:, :-1]
    starts &= painted
    if np.count_nonzero(starts) > MAX_LAYER_RUNS:
        raise InputError(
            f"{name}: its strokes layer holds {np.count_nonzero(starts):,} runs of paint, more than the studio "
            f"edits ({MAX_LAYER_RUNS:,}); colorize it with the command line"
        )
    ends = np.ones(code.shape, bool)
    ends[:, :-1] = code[:, :-1] != code[:, 1:]
    ends &= painted
    rows, first = coordinates(starts)
    last = coordinates(ends)[1]  # row-major order: the k-th end closes the k-th start
    strokes = []
    for y, x0, x1 in zip(rows.tolist(), first.tolist(), last.tolist()):
        value = int(code[y, x0])
        path = [[x0, y]] if x0 == x1 else [[x0, y], [x1, y]]
        rgb = [value >> 16, (value >> 8) & 255, value & 255]
        strokes.append({"tool": "brush", "width": 1.0, "path": path, "rgb": rgb})
    return tuple(strokes)


def cues_from_mask(mask: np.ndarray, box: tuple[int, int, int, int] | None = None) -> Cues:
    """The cues of a stroke-mask picture (uint8), read by the ``mask`` cue source as the saved
    mask file is."""
    return Mask.cues_of_picture(mask, box)


def points_file(doc: Document, shape: tuple[int, ...]) -> dict:
    """The points as a points file's content (``varcolor colorize --points``): records of
    ``y, x, r, g, b, radius``, the photo's ``width`` and ``height``, and ``"as": "strokes"``: the
    studio paints its points into the stroke mask, so a run from the file restrains them as the
    studio's view and save do (:meth:`varcolor.Cues.from_points`)."""
    points = [
        {"y": p["y"], "x": p["x"], "r": p["rgb"][0], "g": p["rgb"][1], "b": p["rgb"][2], "radius": point_radius(p)}
        for p in doc.points
    ]
    return {"as": "strokes", "width": int(shape[1]), "height": int(shape[0]), "points": points}


def session_dict(doc: Document, image: dict) -> dict:
    """A session file's content: ``image`` (path, sha256, width, height) and the document; with a
    reference photo, its record and the suggestions as ``[x, y, r, g, b]`` rows."""
    content = {"format": SESSION_FORMAT, "version": SESSION_VERSION, "image": image, **doc.as_dict()}
    if doc.reference is None:
        del content["reference"]  # the sessions written before reference photos, unchanged
    else:
        content["reference"] = dict(doc.reference)
        content["suggestions"] = doc.suggestions.rows() if doc.suggestions is not None else []
    return content


def parse_session(text: str | bytes, name: str) -> tuple[Document, dict]:
    """A session file's document and image record; a corrupt or foreign file raises one
    :class:`~varcolor.errors.InputError` line naming ``name``."""
    try:
        data = safe_json.loads(text, name)
    except InputError as exc:
        raise InputError(f"not a studio session: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise InputError(f"{name}: not a varcolor studio session file")
    if data.get("version") != SESSION_VERSION:
        raise InputError(
            f"{name}: session version {data.get('version')!r} is not supported (this is {SESSION_VERSION})"
        )
    image = data.get("image")
    if not isinstance(image, dict):
        raise InputError(f"{name}: the session names no image")
    try:
        width, height = image["width"], image["height"]
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_SIDE for v in (width, height)):
            raise ValueError("size")
        digest = image.get("sha256")
        if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
            raise TypeError("sha256")
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{name}: the session's image record is incomplete") from None
    strokes, points = data.get("strokes", []), data.get("points", [])
    if not isinstance(strokes, list) or not isinstance(points, list):
        raise InputError(f"{name}: strokes and points must be lists")
    try:
        doc = Document(settings=_check_settings(data.get("settings") or {}))
        for stroke in strokes:
            doc = Document(doc.strokes + (_check_stroke(stroke, (height, width)),), doc.points, doc.settings)
        ids = set()
        for point in points:
            point = _check_point(point, (height, width))
            if point["id"] in ids:
                raise InputError(f"point id {point['id']} appears twice")
            ids.add(point["id"])
            doc = Document(doc.strokes, doc.points + (point,), doc.settings)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    reference, suggestions = _check_reference(data, name, (height, width))
    return Document(doc.strokes, doc.points, doc.settings, max(ids, default=0) + 1, reference, suggestions), image


def _check_reference(data: dict, name: str, shape: tuple[int, int]) -> tuple[dict | None, Suggestions | None]:
    """A session's reference record and suggestions (None, None: it has none)."""
    reference = data.get("reference")
    if reference is None:
        if data.get("suggestions"):
            raise InputError(f"{name}: suggestions without the reference photo they came from")
        return None, None
    if not isinstance(reference, dict):
        raise InputError(f"{name}: the session's reference must be an object")
    digest = reference.get("sha256")
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise InputError(f"{name}: the session's reference record is incomplete (its sha256)")
    record: dict[str, str | int] = {"sha256": digest}
    for key in ("path", "name"):
        value = reference.get(key)
        if not (isinstance(value, str) and 0 < len(value) <= 4096 and "\x00" not in value):
            raise InputError(f"{name}: the session's reference record is incomplete (its {key})")
        record[key] = value
    for key in ("width", "height"):
        value = reference.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_SIDE:
            record[key] = value
    return record, Suggestions.from_rows(data.get("suggestions", []), shape, name)
