"""Colour cues: which pixels carry a known chroma, and every way to make them.

A :class:`Cues` holds a boolean ``mask`` and the Lab chroma ``ab`` at the masked pixels. Cues come
from a scribbled ("marked") copy of the gray image, a stroke mask, a points file, or a sampler that
reads the true colours of a colour image (for benchmarks and encoders).
"""

from __future__ import annotations

import csv
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .color import lab_to_rgb, lightness_of_gray, rgb_to_lab, to_gray
from .errors import InputError, real_array

__all__ = ["Cues", "sample_random", "sample_grid", "sample_ideepcolor", "MARKED_THRESHOLD"]

#: Levin's rule: a pixel is marked where ``Σ_c |marked_c - gray_c| > MARKED_THRESHOLD`` (RGB in [0, 1]).
MARKED_THRESHOLD = 0.01
#: ... unless the difference is at most this on every channel (2 levels at 8 bits) and the marked
#: pixel is no more colourful than the "gray" one (its channels no further apart): that is the
#: gray image's own chroma noise, not a stroke (an "RGB gray" with ±1 level of chroma noise,
#: scribbled on a clean copy, made 31 % of its pixels near-gray cues). A truly gray image (one
#: channel, or three equal ones) never has such noise: there Levin's rule alone decides.
MARKED_NOISE = 2.5 / 255
#: A warning names the noise when it is more than this share of the pixels.
NOISE_SHARE = 0.01
#: Largest |a| or |b| a cue may carry. sRGB colours lie within about ±110; far larger values are a
#: mistake (units), and beyond ~1e19 they overflow the solvers' single-precision arithmetic.
AB_LIMIT = 1000.0

#: A stroke-mask pixel counts as "not black" above half an 8-bit step.
_BLACK_LEVEL = 0.5 / 255


def _bands(shape: tuple[int, ...], pixels: int = 1 << 20):
    """Row slices of about ``pixels`` pixels each covering an image of ``shape``."""
    step = max(1, pixels // max(shape[1], 1))
    return [slice(top, top + step) for top in range(0, shape[0], step)]


@dataclass(frozen=True, eq=False)
class Cues:
    """Known chroma at some pixels.

    Parameters
    ----------
    mask : ndarray of bool, ``H×W``
        True where the pixel carries a cue.
    ab : ndarray, ``H×W×2``
        CIE Lab chroma (a, b) of the cues; read only where ``mask`` is True.
    weight : ndarray, ``H×W``, optional
        Confidence scaling soft data terms (default 1 everywhere).
    lightness : ndarray, ``H×W``, optional
        The CIE L the cue colour was given at (e.g. the marked pixel's own lightness; NaN where
        unknown), so the exact cue colour can be rebuilt; ``colorize(..., space="yiq")`` uses it
        to reproduce Levin's code, and the gray image's lightness where it is missing.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((4, 4), bool); mask[0, 0] = True
    >>> ab = np.zeros((4, 4, 2)); ab[0, 0] = (20.0, -30.0)
    >>> Cues(mask, ab).count
    1
    """

    mask: np.ndarray
    ab: np.ndarray
    weight: np.ndarray | None = None
    lightness: np.ndarray | None = None

    def __post_init__(self) -> None:
        mask = np.asarray(self.mask)
        if mask.ndim != 2 or mask.dtype != np.bool_:
            raise InputError(f"cue mask must be an H×W boolean array, got {mask.dtype} {mask.shape}")
        ab = real_array(self.ab, "cue ab").astype(np.float64)
        if ab.shape != mask.shape + (2,):
            raise InputError(f"cue ab must have shape {mask.shape + (2,)}, got {ab.shape}")
        if not np.all(np.isfinite(ab[mask])):
            raise InputError("cue ab values must be finite")
        if np.any(np.abs(ab[mask]) > AB_LIMIT):
            raise InputError(f"cue ab values must lie within ±{AB_LIMIT:g}, got {np.abs(ab[mask]).max():g}")
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "ab", ab)
        for name in ("weight", "lightness"):
            value = getattr(self, name)
            if value is None:
                continue
            value = real_array(value, f"cue {name}").astype(np.float64)
            if value.shape != mask.shape:
                raise InputError(f"cue {name} must have shape {mask.shape}, got {value.shape}")
            object.__setattr__(self, name, value)
        if self.weight is not None and not np.all(np.isfinite(self.weight[mask]) & (self.weight[mask] >= 0)):
            raise InputError("cue weights must be finite and non-negative")

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the image the cues belong to."""
        return self.mask.shape

    @property
    def count(self) -> int:
        """Number of cue pixels."""
        return int(self.mask.sum())

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Cues:
        """No cues at all on an image of ``shape``.

        Parameters
        ----------
        shape : tuple of int
            ``(height, width)`` of the image.
        """
        return cls(np.zeros(shape, bool), np.zeros(tuple(shape) + (2,)))

    @classmethod
    def from_marked(
        cls, gray: np.ndarray, marked: np.ndarray, threshold: float = MARKED_THRESHOLD, *, noise: float = MARKED_NOISE
    ) -> Cues:
        """Cues from a scribbled copy of the gray image (Levin's convention).

        A pixel is a cue where ``Σ_c |marked_c - gray_c| > threshold`` (RGB in [0, 1]), unless that is
        noise (below); its chroma is the marked pixel's. Transparent
        pixels of an RGBA marked image are never cues. The marked image must be lossless: JPEG
        noise alone makes cues of most pixels.

        Pixels that pass the threshold but differ by at most ``noise`` on every channel, where the
        gray image's channels are at least as far apart as the marked image's, are the gray
        image's chroma noise (a colour file holding the gray image with its channels a level or
        two apart, scribbled on a clean copy), not strokes: they are left out, with a warning when
        they are more than :data:`NOISE_SHARE` of the pixels. ``noise=0`` gives Levin's rule alone.

        Parameters
        ----------
        gray : ndarray, ``H×W`` or ``H×W×3``
        marked : ndarray, ``H×W×3`` or ``H×W×4``

        Examples
        --------
        >>> import numpy as np
        >>> gray = np.full((3, 3), 0.5)
        >>> marked = np.repeat(gray[..., None], 3, axis=2); marked[1, 1] = (0.8, 0.3, 0.3)
        >>> Cues.from_marked(gray, marked).mask.sum()
        np.int64(1)
        """
        gray = real_array(gray, "gray")
        marked = real_array(marked, "marked")
        if marked.ndim != 3 or marked.shape[2] not in (3, 4):
            raise InputError(f"the marked image must be colour (H×W×3), got shape {marked.shape}")
        if gray.shape[:2] != marked.shape[:2]:
            raise InputError(f"the marked image is {_size(marked)} but the gray image is {_size(gray)}")
        mask = np.zeros(marked.shape[:2], bool)
        faint_count = 0
        # Band by band, a channel at a time: a big scan's temporaries stay a band's, and NumPy's
        # reductions over a last axis of 3 (sum, max, ptp) ran 10× slower than these (issue 37).
        for rows in _bands(marked.shape):
            band = marked[rows].astype(np.float64)
            pixel = [band[..., c] for c in range(3)]
            own = gray[rows].astype(np.float64)
            level = [own] * 3 if gray.ndim == 2 else [own[..., c] for c in range(3)]
            difference = [np.abs(p - g) for p, g in zip(pixel, level)]
            strokes = difference[0] + difference[1] + difference[2] > threshold
            spread_marked = np.maximum(np.maximum(*pixel[:2]), pixel[2]) - np.minimum(np.minimum(*pixel[:2]), pixel[2])
            spread_gray = 0.0 if gray.ndim == 2 else np.ptp(np.stack(level), axis=0)
            faint = strokes & (np.maximum(np.maximum(*difference[:2]), difference[2]) <= noise)
            faint &= spread_marked <= spread_gray
            mask[rows] = strokes & ~faint
            faint_count += int(faint.sum())
        if faint_count / mask.size > NOISE_SHARE:
            warnings.warn(
                f"{faint_count} pixels ({100 * faint_count / mask.size:.0f} %) differ from the gray image by at most "
                f"{noise * 255:.1f} levels per channel: taken as noise, not strokes (is the gray image a "
                "colour file whose channels differ slightly, scribbled on a clean copy?)",
                stacklevel=2,
            )
        if marked.shape[2] == 4:
            mask &= marked[..., 3] > 0
        return cls._at_mask(mask, marked)

    @classmethod
    def _at_mask(cls, mask: np.ndarray, rgb: np.ndarray) -> Cues:
        """Cues of ``rgb``'s colours at ``mask`` (Lab computed there only: the rest is never read;
        lightness NaN there, as unknown)."""
        at = np.flatnonzero(mask)
        lab = rgb_to_lab(rgb.reshape(-1, rgb.shape[-1])[at, :3][None].astype(np.float64))[0]
        ab = np.zeros(mask.shape + (2,))
        lightness = np.full(mask.shape, np.nan)
        ab.reshape(-1, 2)[at] = lab[:, 1:]
        lightness.ravel()[at] = lab[:, 0]
        return cls(mask, ab, lightness=lightness)

    @classmethod
    def from_mask(cls, strokes: np.ndarray) -> Cues:
        """Cues from a stroke mask: every pixel that is not black (nor transparent) carries its colour.

        The mask must be lossless: JPEG ringing around strokes makes cues of near-black pixels.

        Parameters
        ----------
        strokes : ndarray, ``H×W×3`` or ``H×W×4``
            Colour strokes on black (or on a transparent background).
        """
        strokes = real_array(strokes, "strokes")
        if strokes.ndim != 3 or strokes.shape[2] not in (3, 4):
            raise InputError(f"a stroke mask must be a colour image (H×W×3 or H×W×4), got shape {strokes.shape}")
        mask = strokes[..., :3].max(axis=2) > _BLACK_LEVEL
        if strokes.shape[2] == 4:
            mask &= strokes[..., 3] > 0
        return cls._at_mask(mask, strokes)

    @classmethod
    def from_points(cls, source: str | os.PathLike | list[dict], shape: tuple[int, int]) -> Cues:
        """Cues from a points file (JSON or CSV) or a list of point records.

        Each point has ``y, x`` (pixel row and column) and either ``a, b`` (Lab chroma) or
        ``r, g, b`` (8-bit sRGB, 0–255), and optionally ``radius`` (a disk of that radius in pixels;
        default 0, one pixel). JSON is a list of objects (or ``{"points": [...]}``); CSV has a
        header row naming the columns.

        Parameters
        ----------
        source : path or list of dict
            A ``.json`` or ``.csv`` points file, or the point records themselves.
        shape : tuple of int
            ``(height, width)`` of the image the points are on; a point outside it is refused.

        Examples
        --------
        >>> Cues.from_points([{"y": 1, "x": 2, "a": 10, "b": -5, "radius": 1}], shape=(4, 4)).count
        5
        """
        name = "points"
        if isinstance(source, (str, os.PathLike)):
            name = str(source)
            records = _read_points_file(Path(source))
        else:
            records = list(source)
        return _points_to_cues(records, tuple(shape), name)

    def merged(self, other: Cues) -> Cues:
        """These cues with ``other`` added; where both mark a pixel, ``other`` wins."""
        if other.shape != self.shape:
            raise InputError(f"cannot merge cues of size {other.shape} into cues of size {self.shape}")
        mask = self.mask | other.mask
        ab = self.ab.copy()  # a copy and a scatter: a stroke marks few pixels
        ab[other.mask] = other.ab[other.mask]
        return Cues(
            mask, ab, _overlay_field(self, other, "weight", 1.0), _overlay_field(self, other, "lightness", np.nan)
        )

    def overlay(self, gray: np.ndarray) -> np.ndarray:
        """An RGB picture of the cues drawn over the gray image (for figures and ``--plot``)."""
        gray = to_gray(gray)
        lightness = lightness_of_gray(gray)
        if self.lightness is not None:
            lightness = np.where(self.mask & np.isfinite(self.lightness), self.lightness, lightness)
        lab = np.concatenate([lightness[..., None], np.where(self.mask[..., None], self.ab, 0.0)], axis=2)
        return lab_to_rgb(lab)


def _overlay_field(first: Cues, second: Cues, name: str, default: float) -> np.ndarray | None:
    mine, theirs = getattr(first, name), getattr(second, name)
    if mine is None and theirs is None:
        return None
    fill = np.full(first.shape, default)
    return np.where(second.mask, fill if theirs is None else theirs, fill if mine is None else mine)


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}×{image.shape[0]}"


#: What a points file may hold: more points than this (or a larger file) is refused before
#: parsing, not left to run for hours; a million points cover a 50-megapixel scan every 7 pixels.
MAX_POINTS = 1_000_000
MAX_POINTS_FILE_BYTES = 64 << 20


def _read_points_file(path: Path) -> list[dict]:
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
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError, ValueError) as exc:
            # ValueError: an integer of more digits than Python converts; RecursionError: deep nesting
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0][:120]
            raise InputError(f"{path}: not valid JSON ({reason})") from None
        if isinstance(data, dict):
            data = data.get("points")
        if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
            raise InputError(f'{path}: expected a list of point objects (or {{"points": [...]}})')
        return data
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
        return rows
    raise InputError(f"{path}: points files must be .json or .csv")


def _points_to_cues(records: list[dict], shape: tuple[int, int], name: str) -> Cues:
    """Paint each point's disk (later points win). The cost is the points' disk areas, each
    disk painted within its bounding box, never points × pixels."""
    height, width = shape
    if len(records) > MAX_POINTS:
        raise InputError(f"{name}: more than {MAX_POINTS:,} points")
    mask = np.zeros(shape, bool)
    ab = np.zeros(shape + (2,))
    lightness = np.full(shape, np.nan)
    diagonal = float(np.hypot(height, width))
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
        reach = int(np.floor(radius))
        top, bottom = max(y - reach, 0), min(y + reach + 1, height)
        left, right = max(x - reach, 0), min(x + reach + 1, width)
        yy, xx = np.ogrid[top:bottom, left:right]
        disk = (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
        box = (slice(top, bottom), slice(left, right))
        mask[box] |= disk
        ab[box][disk] = chroma
        lightness[box][disk] = light
    return Cues(mask, ab, lightness=lightness)


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


def _true_ab(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise InputError(f"samplers read a colour image (H×W×3), got shape {rgb.shape}")
    return rgb_to_lab(rgb[..., :3])[..., 1:]


def _patch_cues(ab_true: np.ndarray, corners: np.ndarray, patch: int) -> Cues:
    """Cues filling each ``patch×patch`` square at ``corners`` (top-left) with its mean true chroma;
    later patches overwrite earlier ones where they overlap."""
    height, width = ab_true.shape[:2]
    if patch < 1 or patch > min(height, width):
        raise InputError(f"patch must be between 1 and {min(height, width)}, got {patch}")
    mask = np.zeros((height, width), bool)
    ab = np.zeros((height, width, 2))
    for y, x in corners:
        block = (slice(y, y + patch), slice(x, x + patch))
        ab[block] = ab_true[block].mean(axis=(0, 1))
        mask[block] = True
    return Cues(mask, ab)


def sample_random(rgb: np.ndarray, n: int, patch: int = 1, rng=None) -> Cues:
    """``n`` cues at uniformly random places: ``patch×patch`` squares of the mean true chroma.

    Examples
    --------
    >>> import numpy as np
    >>> sample_random(np.random.default_rng(0).random((32, 32, 3)), n=5, rng=0).count <= 5
    True
    """
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if n < 0:
        raise InputError(f"n must be >= 0, got {n}")
    generator = np.random.default_rng(rng)
    corners = np.stack(
        [generator.integers(0, height - patch + 1, n), generator.integers(0, width - patch + 1, n)], axis=1
    )
    return _patch_cues(ab_true, corners, patch)


def sample_grid(rgb: np.ndarray, step: int, offset: int | None = None, patch: int = 1) -> Cues:
    """Cues on a regular grid every ``step`` pixels (first at ``offset``, default ``step // 2``)."""
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if step < 1:
        raise InputError(f"step must be >= 1, got {step}")
    offset = step // 2 if offset is None else offset
    if not 0 <= offset < step:
        raise InputError(f"offset must be in [0, step), got {offset}")
    ys = np.arange(offset, height - patch + 1, step)
    xs = np.arange(offset, width - patch + 1, step)
    corners = np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1).reshape(-1, 2)
    return _patch_cues(ab_true, corners, patch)


def sample_ideepcolor(rgb: np.ndarray, n: int, patch: int = 6, rng=None) -> Cues:
    """Hints drawn as in the published ideepcolor evaluation (Zhang et al. 2017, ``test_sweep.py``).

    Each hint is a ``patch×patch`` square filled with the mean true ab over it; its top-left
    corner is drawn per axis from N((S − P + 1)/2, (S − P + 1)/4), S the image side, and clipped
    to [0, S − P]; row first, then column.

    Examples
    --------
    >>> import skimage.data
    >>> cues = sample_ideepcolor(skimage.data.astronaut() / 255.0, n=10, rng=0)
    >>> 0 < cues.count <= 10 * 36
    True
    """
    ab_true = _true_ab(rgb)
    height, width = ab_true.shape[:2]
    if n < 0:
        raise InputError(f"n must be >= 0, got {n}")
    if patch < 1 or patch > min(height, width):
        raise InputError(f"patch must be between 1 and {min(height, width)}, got {patch}")
    generator = np.random.default_rng(rng)
    corners = np.array(
        [[ideepcolor_offset(generator, side, patch) for side in (height, width)] for _ in range(n)], dtype=np.int64
    ).reshape(n, 2)
    return _patch_cues(ab_true, corners, patch)


def ideepcolor_offset(generator: np.random.Generator, side: int, patch: int) -> int:
    """One coordinate of a hint's top-left corner under the ideepcolor rule:
    N((S − P + 1)/2, (S − P + 1)/4) clipped to [0, S − P]."""
    span = side - patch + 1
    return int(np.clip(generator.normal(span / 2.0, span / 4.0), 0, side - patch))
