"""Encoders: choose a few cues from a colour image (names and parameters of automatic-recolorization).

Every encoder returns a :class:`~varcolor.ir.format.Payload` on a cue grid of ``grid_size`` cells
per side stretched over the image (``adaptive``'s own placement is in
:mod:`varcolor.ir.adaptive`). A cue's chroma is the mean true Lab (a, b) over the square of
radius ``patch`` it will colour when decoded.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from dataclasses import dataclass

import numpy as np

from ..color import rgb_to_lab
from ..errors import InputError, check_image_size
from ..gamut import GlobalHints, ab_histogram, mean_saturation
from ..options import OptionValues, option
from .format import ENCODERS, Payload, gray_checksum, write_payload

__all__ = [
    "ENCODERS",
    "EncodeOptions",
    "check_encode_options",
    "encode",
    "quantize_chroma",
]

# grid-exclude compares colours quantized to the 10-unit ab bins of the ideepcolor gamut.
_BIN = 10.0
#: Most bytes of a ``global`` payload (histogram and saturation): bins of the rarest colours are
#: dropped until it fits.
GLOBAL_BYTES = 100

#: The encoder of ``encode`` and ``recolor`` runs unless they name another: the best quality per byte.
ENCODER = "adaptive"


def _encoder(name: str, value) -> None:
    if value not in ENCODERS:
        raise InputError(f"unknown encoder {value!r}; available: {', '.join(ENCODERS)}")


def _at_least_one(name: str, value) -> None:
    if value < 1:
        raise InputError(f"{name} must be >= 1, got {value}")


def _patch_radius(name: str, value) -> None:
    if not 0 <= value <= 255:  # the payload stores it in one byte
        raise InputError(f"patch must be in 0..255 (a radius in pixels), got {value}")


def _palette(name: str, value) -> None:
    if value:  # 0: no palette
        _check_palette_size(value)


def _refine(name: str, value) -> None:
    if value < 0:
        raise InputError(f"refine takes a number of iterations >= 0, got {value}")


@dataclass(frozen=True)
class EncodeOptions(OptionValues):
    """How to choose cues: the options of :func:`encode`, one frozen value checked when it is made
    (one line naming the option). :func:`encode`, :func:`~varcolor.ir.files.encode_file` and the
    command line (``varcolor encode``, ``recolor``: flags made from these fields) take it.

    Attributes
    ----------
    encoder : str
        The encoder, one of :data:`ENCODERS` (see :func:`encode`); ``method=``, its old name, still
        works with a ``DeprecationWarning``.
    grid_size : int or None
        Cells per side of the cue grid stretched over the image; at most the image size. None:
        256, and for ``adaptive`` one that grows with the budget (:func:`~varcolor.ir.adaptive.adaptive_grid_size`).
    spacing : int
        Grid spacing in cells (``grid`` encoders).
    patch : int or None
        Radius in pixels of the square each cue colours when decoded. None: 0, and for
        ``adaptive`` up to 3 as the grid cells allow.
    segments : int
        SLIC superpixels of the ``selective`` encoders.
    quantize : int or None
        Store chroma as indices into a palette of this many colours (k-means); 0 or None: no
        palette, except that ``adaptive`` defaults to :func:`~varcolor.ir.adaptive.adaptive_palette_size`.
    budget, target_psnr, refine
        ``adaptive`` only: payload bytes at most, the preview PSNR (dB) at which to stop adding
        cues, and CGLS iterations fitting the cue values at full resolution (see
        :func:`~varcolor.ir.adaptive.encode_adaptive`).

    Examples
    --------
    >>> EncodeOptions.build(encoder="adaptive", budget=512).grid_size is None
    True
    >>> EncodeOptions(spacing=0)
    Traceback (most recent call last):
    varcolor.errors.InputError: spacing must be >= 1, got 0
    """

    encoder: str = option("grid", "the encoder (how cues are chosen)", choices=ENCODERS, check=_encoder)
    grid_size: int | None = option(
        None,
        "cue grid cells per side (default: 256; for adaptive 64 at 256 B, growing with the budget)",
        check=_at_least_one,
        short="-s",
    )
    spacing: int = option(16, "grid spacing in cells (default: %(default)s)", check=_at_least_one, short="-g")
    patch: int | None = option(
        None, "patch radius in pixels (default: 0; for adaptive up to 3, by cell size)", check=_patch_radius, short="-p"
    )
    segments: int = option(200, "superpixels for selective encoders (default: %(default)s)", check=_at_least_one)
    quantize: int | None = option(
        None,
        "store chroma as a K-colour palette (k-means); 0: no palette (default: none; for adaptive "
        "32 colours at budgets up to 2 KB)",
        check=_palette,
        metavar="K",
    )
    budget: int = option(1024, "adaptive: payload bytes at most (default: %(default)s)")
    target_psnr: float | None = option(None, "adaptive: stop once the decoded preview reaches this PSNR (dB)")
    refine: int = option(
        3,
        "adaptive: CGLS iterations fitting the cue values to the whole image at full resolution "
        "(0: patch means; default: %(default)s)",
        check=_refine,
        metavar="N",
    )

    _WHAT = "encoder option"

    def __post_init__(self) -> None:
        self._check_fields()
        # Only adaptive reads the budget (the other encoders' payload size follows from their options).
        if self.encoder == "adaptive" and self.budget < 64:
            raise InputError(f"budget must be at least 64 bytes, got {self.budget}")

    @classmethod
    def build(cls, options: EncodeOptions | None = None, /, **keywords) -> EncodeOptions:
        """Options from keywords (the fields by name), or with ``options``, those changed by the
        keywords. A name that is no option is refused (ignoring it would hide the mistake).

        >>> EncodeOptions.build(EncodeOptions(encoder="selective"), segments=50).segments
        50
        >>> EncodeOptions.build(spacings=8)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        varcolor.errors.InputError: unknown encoder option 'spacings' (options: encoder, grid_size, spacing, ...)
        """
        return super().build(options, **_renamed_method(keywords))


def _deprecated_method(self: EncodeOptions) -> str:
    """Deprecated: :attr:`EncodeOptions.encoder`, the old name."""
    _warn_method(stacklevel=3)
    return self.encoder


def _init_taking_method(init):
    @functools.wraps(init)
    def __init__(self, *args, **keywords):
        init(self, *args, **_renamed_method(keywords))

    return __init__


# The old name of the encoder, ``method``: taken as a keyword, read as an attribute, with a
# warning each time (not a field: dataclasses.replace and the command line's flags never see it).
EncodeOptions.__init__ = _init_taking_method(EncodeOptions.__init__)
EncodeOptions.method = property(_deprecated_method)


def _warn_method(stacklevel: int = 4) -> None:
    warnings.warn(
        "an IR encoder's 'method' is now 'encoder' (method= will be removed)", DeprecationWarning, stacklevel=stacklevel
    )


def _renamed_method(keywords: dict) -> dict:
    """``keywords`` with the deprecated ``method`` (an IR encoder's old name) as ``encoder``."""
    if "method" not in keywords:
        return keywords
    _warn_method()
    keywords = dict(keywords)
    method = keywords.pop("method")
    if keywords.get("encoder", method) != method:
        raise InputError(f"encoder {keywords['encoder']!r} and method {method!r} given: give the encoder only")
    return {**keywords, "encoder": method}


def check_encode_options(encoder: str = "grid", **keywords) -> EncodeOptions:
    """The :class:`EncodeOptions` of :func:`encode`'s keywords (the same names and defaults):
    options that no image makes right are refused with one line. The command line checks them
    once, before any image of a folder (naming the flag where the message names the option).

    >>> check_encode_options("selective", segments=0)
    Traceback (most recent call last):
    varcolor.errors.InputError: segments must be >= 1, got 0
    """
    return EncodeOptions.build(**{"encoder": encoder, **_renamed_method(keywords)})


def _check_palette_size(colours: int) -> None:
    if not 1 <= colours <= 256:
        raise InputError(f"quantize takes 1..256 colours (0: no palette), got {colours}")


def _grid_shape(grid_size: int, height: int, width: int) -> tuple[int, int]:
    return min(grid_size, height), min(grid_size, width)


def _cell_centres(points: np.ndarray, grid: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    scale = np.array(shape) / np.array(grid)
    return np.minimum(np.floor((points + 0.5) * scale).astype(np.int64), np.array(shape) - 1)


def _patch_mean_image(ab: np.ndarray, patch: int) -> np.ndarray:
    """Mean chroma over the square of radius ``patch`` around every pixel (a box filter)."""
    from scipy import ndimage  # here, not at import: the command line reads EncodeOptions for its help

    return np.stack([ndimage.uniform_filter(ab[..., c], size=2 * patch + 1, mode="nearest") for c in range(2)], axis=-1)


def _values_at(means: np.ndarray, points: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """The values of a per-pixel ``means`` image at the centres of the grid cells ``points``."""
    centres = _cell_centres(points, grid, means.shape[:2])
    return means[centres[:, 0], centres[:, 1]]


def _payload(
    rgb_shape: tuple[int, ...],
    grid: tuple[int, int],
    points: np.ndarray,
    values: np.ndarray,
    encoder: str,
    patch: int,
    quantize: int | None,
) -> Payload:
    """Round the chroma to the stored int8 range (or a palette) and package the cues."""
    chroma = np.clip(np.round(values), -127, 127)
    palette = None
    if quantize:
        palette, chroma = quantize_chroma(chroma, quantize)
    return Payload(rgb_shape[1], rgb_shape[0], grid[1], grid[0], points, chroma, encoder, patch, palette)


def check_gray(gray: np.ndarray, rgb_shape: tuple[int, ...]) -> np.ndarray:
    """The gray image an encoder is given, as ``H×W`` floats of the colour image's size."""
    gray = np.asarray(gray, dtype=np.float64)
    if gray.shape != tuple(rgb_shape[:2]):
        raise InputError(f"the gray image has shape {gray.shape} but the colour image is {rgb_shape[1]}×{rgb_shape[0]}")
    return gray


def _grid_points(grid: tuple[int, int], spacing: int) -> np.ndarray:
    ys = np.arange(spacing // 2, grid[0], spacing)
    xs = np.arange(spacing // 2, grid[1], spacing)
    return np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1).reshape(-1, 2)


def _uniform_cells(ab: np.ndarray, points: np.ndarray, grid: tuple[int, int], spacing: int) -> np.ndarray:
    """True for grid points whose neighbourhood (their spacing×spacing block of cells) holds one
    quantized colour."""
    height, width = ab.shape[:2]
    bins = np.floor(ab / _BIN).astype(np.int64)
    code = bins[..., 0] * 1000 + bins[..., 1]
    scale = np.array([height, width]) / np.array(grid)
    out = np.empty(len(points), bool)
    for k, (gy, gx) in enumerate(points):
        y0, x0 = (np.array([gy, gx]) - spacing // 2) * scale
        y1, x1 = (np.array([gy, gx]) - spacing // 2 + spacing) * scale
        window = code[max(int(y0), 0) : max(int(np.ceil(y1)), 1), max(int(x0), 0) : max(int(np.ceil(x1)), 1)]
        out[k] = window.size > 0 and np.all(window == window.flat[0])
    return out


def _selective_points(rgb: np.ndarray, ab: np.ndarray, grid: tuple[int, int], segments: int):
    """One point per SLIC superpixel, at the grid cell of its centroid, with its mean chroma."""
    from scipy import ndimage  # as in _patch_mean_image
    from skimage.segmentation import slic

    labels = slic(rgb, n_segments=segments, compactness=10, start_label=0, channel_axis=-1)
    count = labels.max() + 1
    index = np.arange(count)
    centroid = np.stack(ndimage.center_of_mass(np.ones(labels.shape), labels, index), axis=0)
    means = np.stack([ndimage.mean(ab[..., c], labels, index) for c in range(2)], axis=-1)
    scale = np.array(grid) / np.array(labels.shape)
    points = np.minimum(np.floor(centroid * scale).astype(np.int64), np.array(grid) - 1)
    return points, means


def _unique(points: np.ndarray, ab: np.ndarray, grid_width: int) -> tuple[np.ndarray, np.ndarray]:
    """One point per grid cell; the last given wins."""
    key = points[:, 0] * grid_width + points[:, 1]
    _, last = np.unique(key[::-1], return_index=True)
    keep = len(key) - 1 - last
    return points[keep], ab[keep]


def quantize_chroma(ab: np.ndarray, colours: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Vector-quantize chroma to a palette of at most ``colours`` (k-means); returns (palette, ab)."""
    _check_palette_size(colours)
    if len(ab) == 0:
        return np.zeros((1, 2)), ab
    k = min(colours, len(np.unique(np.round(ab), axis=0)))
    with warnings.catch_warnings():  # an empty cluster only means a smaller palette
        warnings.filterwarnings("ignore", "One of the clusters is empty", UserWarning)
        from scipy.cluster.vq import kmeans2  # as ndimage in _patch_mean_image

        centroids, labels = kmeans2(ab.astype(np.float64), k, minit="++", seed=seed)
    palette = np.clip(np.round(centroids), -127, 127)
    palette, inverse = np.unique(palette, axis=0, return_inverse=True)
    return palette, palette[inverse.ravel()[labels]]


def encode(
    rgb: np.ndarray,
    encoder: str | None = None,
    *,
    options: EncodeOptions | None = None,
    gray: np.ndarray | None = None,
    **keywords,
) -> Payload:
    """Choose cues from a colour image.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
    encoder : {"stock", "grid", "grid-exclude", "selective", "grid+selective", "global", "adaptive"}
        ``grid`` (the default): every ``spacing`` cells of the cue grid; ``grid-exclude``: the grid
        without points whose neighbourhood holds one quantized colour; ``selective``: one point per
        SLIC superpixel (``segments`` of them) with its mean chroma; ``grid+selective``: both;
        ``stock``: none; ``global``: no points, the image's ab histogram over the 313 gamut bins and
        its mean saturation (:class:`varcolor.gamut.GlobalHints`, for a network with a global-hints
        branch); ``adaptive``: see :func:`~varcolor.ir.adaptive.encode_adaptive`.
    options : EncodeOptions, optional
        The encoder's options as one value; ``encoder`` and ``keywords`` change them (``method=``,
        ``encoder``'s old name, still works with a ``DeprecationWarning``).
    gray : ndarray, optional
        The gray image the decoder will see (its stored samples, ``H×W`` in [0, 1]): the payload
        records its :func:`~varcolor.ir.format.gray_checksum`, so that it decodes with this image
        only; ``adaptive`` also refines its cues against it (see
        :func:`~varcolor.ir.adaptive.encode_adaptive`). Without it, the payload is tied to no image.
    **keywords
        The fields of :class:`EncodeOptions` (``grid_size``, ``spacing``, ``patch``, ``segments``,
        ``quantize``, ``budget``, ``target_psnr``, ``refine``), checked before the image is looked at.

    Examples
    --------
    >>> import skimage.data
    >>> p = encode(skimage.data.astronaut() / 255.0, "grid", grid_size=64, spacing=8)
    >>> p.count, (p.grid_width, p.grid_height)
    (64, (64, 64))
    >>> encode(skimage.data.astronaut() / 255.0, options=EncodeOptions(grid_size=64, spacing=8)).count
    64
    """
    if encoder is not None:
        keywords["encoder"] = encoder
    options = EncodeOptions.build(options, **keywords)
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise InputError(f"encoding needs a colour image (H×W×3), got shape {rgb.shape}")
    check_image_size(rgb.shape)
    checksum = None if gray is None else gray_checksum(check_gray(gray, rgb.shape))
    if options.encoder == "adaptive":
        from .adaptive import encode_adaptive  # it builds on this module's cue placement

        return encode_adaptive(rgb, options, gray=gray)
    encoder, grid_size, spacing, patch = options.encoder, options.grid_size, options.spacing, options.patch
    segments, quantize = options.segments, options.quantize
    patch = 0 if patch is None else patch
    height, width = rgb.shape[:2]
    grid = _grid_shape(256 if grid_size is None else grid_size, height, width)
    ab = rgb_to_lab(rgb[..., :3])[..., 1:]
    patch_means = _patch_mean_image(ab, patch)
    points = np.zeros((0, 2), np.int64)
    chroma = np.zeros((0, 2))
    if encoder in ("grid", "grid-exclude", "grid+selective"):
        points = _grid_points(grid, spacing)
        if encoder == "grid-exclude":
            points = points[~_uniform_cells(ab, points, grid, spacing)]
        chroma = _values_at(patch_means, points, grid)
    if encoder in ("selective", "grid+selective"):
        chosen, means = _selective_points(rgb[..., :3], ab, grid, segments)
        if patch:
            means = _values_at(patch_means, chosen, grid)
        points = np.concatenate([points, chosen])
        chroma = np.concatenate([chroma, means])
    points, chroma = _unique(points, chroma, grid[1])
    payload = _payload(rgb.shape, grid, points, chroma, encoder, patch, quantize)
    payload = dataclasses.replace(payload, checksum=checksum)
    if encoder == "global":
        hints = GlobalHints(ab_histogram(ab), mean_saturation(rgb[..., :3]))  # ab is already converted
        # Weights in units of the largest bin keep the small bins.
        payload = dataclasses.replace(
            payload,
            histogram=np.round(255 * hints.histogram / hints.histogram.max()),
            saturation=round(255 * hints.saturation),
        )
        payload = _within(payload, GLOBAL_BYTES)
    return payload


def _within(payload: Payload, limit: int) -> Payload:
    """A ``global`` payload of at most ``limit`` bytes: its rarest colours' bins dropped, fewest
    pixels first, until it fits (the largest bin always stays)."""
    histogram = payload.histogram.copy()
    while len(write_payload(payload)) > limit and np.count_nonzero(histogram) > 1:
        given = np.flatnonzero(histogram)
        smallest = given[histogram[given] == histogram[given].min()]
        histogram[smallest[: max(1, len(given) // 16)]] = 0  # a few at a time: each try compresses anew
        payload = dataclasses.replace(payload, histogram=histogram.copy())
    return payload
