"""How encoders choose cues, and the cue grid they all place them on."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..common.fields import OptionValues, at_least_one, option
from ..errors import SIZES, InputError, image_size
from .format import ENCODERS, Payload

__all__ = [
    "EncodeOptions",
    "check_encode_options",
    "grid_shape",
    "grid_points",
    "cell_centres",
    "patch_means",
    "values_at",
    "package",
    "check_gray",
    "quantize_chroma",
]


def _encoder(name: str, value) -> None:
    if value not in ENCODERS:
        raise InputError(f"unknown encoder {value!r}; available: {', '.join(ENCODERS)}")


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
        The encoder, one of :data:`ENCODERS` (see :func:`~varcolor.ir.encode.encode`).
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
    varcolor.errors.InputError: spacing must be at least 1, got 0
    """

    encoder: str = option("grid", "the encoder (how cues are chosen)", choices=ENCODERS, check=_encoder)
    grid_size: int | None = option(
        None,
        "cue grid cells per side (default: 256; for adaptive 64 at 256 B, growing with the budget)",
        check=at_least_one,
        short="-s",
    )
    spacing: int = option(16, "grid spacing in cells (default: %(default)s)", check=at_least_one, short="-g")
    patch: int | None = option(
        None, "patch radius in pixels (default: 0; for adaptive up to 3, by cell size)", check=_patch_radius, short="-p"
    )
    segments: int = option(200, "superpixels for selective encoders (default: %(default)s)", check=at_least_one)
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

        Parameters
        ----------
        options : EncodeOptions, optional
            The values to change; None to start from the defaults.
        **keywords
            Fields' values by name.

        Examples
        --------
        >>> EncodeOptions.build(EncodeOptions(encoder="selective"), segments=50).segments
        50
        >>> EncodeOptions.build(spacings=8)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        varcolor.errors.InputError: unknown encoder option 'spacings' (options: encoder, grid_size, spacing, ...)
        """
        return super().build(options, **keywords)


def check_encode_options(encoder: str = "grid", **keywords) -> EncodeOptions:
    """The :class:`EncodeOptions` of :func:`encode`'s keywords (the same names and defaults):
    options that no image makes right are refused with one line. The command line checks them
    once, before any image of a folder (naming the flag where the message names the option).

    Parameters
    ----------
    encoder : str, optional
        The encoder, one of :data:`~varcolor.ir.format.ENCODERS` (default ``grid``).
    **keywords
        The other :class:`EncodeOptions` fields by name.

    Examples
    --------
    >>> check_encode_options("selective", segments=0)
    Traceback (most recent call last):
    varcolor.errors.InputError: segments must be at least 1, got 0
    """
    return EncodeOptions.build(**{"encoder": encoder, **keywords})


def _check_palette_size(colours: int) -> None:
    if not 1 <= colours <= 256:
        raise InputError(f"quantize takes 1..256 colours (0: no palette), got {colours}")


def grid_shape(grid_size: int, height: int, width: int) -> tuple[int, int]:
    """The cue grid's ``(rows, columns)``: ``grid_size`` cells per side, at most one cell per pixel.

    Parameters
    ----------
    grid_size : int
        Cells per side asked for.
    height, width : int
        The image's size in pixels.
    """
    return min(grid_size, height), min(grid_size, width)


def cell_centres(points: np.ndarray, grid: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """The pixel at the centre of each grid cell of ``points``, the grid stretched over an image of
    ``shape``.

    Parameters
    ----------
    points : ndarray of int, ``K×2``
        Grid cells, as (row, column).
    grid : tuple of int
        The grid's ``(rows, columns)``.
    shape : tuple of int
        The image's ``(height, width)``.

    Returns
    -------
    ndarray of int, ``K×2``
        Each cell's centre pixel, as (row, column), inside the image.
    """
    scale = np.array(shape) / np.array(grid)
    return np.minimum(np.floor((points + 0.5) * scale).astype(np.int64), np.array(shape) - 1)


def patch_means(ab: np.ndarray, patch: int) -> np.ndarray:
    """Mean chroma over the square of radius ``patch`` around every pixel (a box filter).

    Parameters
    ----------
    ab : ndarray, ``H×W×2``
        Chroma (Lab's a and b).
    patch : int
        The square's radius in pixels (its side ``2·patch + 1``); past the image's edges the nearest
        pixel repeats.
    """
    from scipy import ndimage  # here, not at import: the command line reads EncodeOptions for its help

    return np.stack([ndimage.uniform_filter(ab[..., c], size=2 * patch + 1, mode="nearest") for c in range(2)], axis=-1)


def values_at(means: np.ndarray, points: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """The values of a per-pixel ``means`` image at the centres of the grid cells ``points``.

    Parameters
    ----------
    means : ndarray, ``H×W×C``
        Per-pixel values (:func:`patch_means`).
    points : ndarray of int, ``K×2``
        Grid cells, as (row, column).
    grid : tuple of int
        The grid's ``(rows, columns)``, stretched over ``means``.

    Returns
    -------
    ndarray, ``K×C``
        The value at each cell's centre pixel (:func:`cell_centres`).
    """
    centres = cell_centres(points, grid, means.shape[:2])
    return means[centres[:, 0], centres[:, 1]]


def package(
    rgb_shape: tuple[int, ...],
    grid: tuple[int, int],
    points: np.ndarray,
    values: np.ndarray,
    encoder: str,
    patch: int,
    quantize: int | None,
) -> Payload:
    """Round the chroma to the stored int8 range (or a palette) and package the cues.

    Parameters
    ----------
    rgb_shape : tuple of int
        The colour image's shape (height and width first).
    grid : tuple of int
        The cue grid's ``(rows, columns)``.
    points : ndarray of int, ``K×2``
        The cues' grid cells, as (row, column).
    values : ndarray, ``K×2``
        The cues' chroma, unrounded; clipped to [−127, 127].
    encoder : str
        The encoder's name, stored in the payload.
    patch : int
        The radius in pixels of the square each cue colours.
    quantize : int or None
        Store the chroma as a palette of this many colours (:func:`quantize_chroma`); 0 or None: no
        palette.
    """
    chroma = np.clip(np.round(values), -127, 127)
    palette = None
    if quantize:
        palette, chroma = quantize_chroma(chroma, quantize)
    return Payload(rgb_shape[1], rgb_shape[0], grid[1], grid[0], points, chroma, encoder, patch, palette)


def check_gray(gray: np.ndarray, rgb_shape: tuple[int, ...]) -> np.ndarray:
    """The gray image an encoder is given, as ``H×W`` floats of the colour image's size.

    Parameters
    ----------
    gray : array_like, ``H×W``
        The gray image.
    rgb_shape : tuple of int
        The colour image's shape: a gray of another height or width is an :class:`InputError`.
    """
    gray = np.asarray(gray, dtype=np.float64)
    if gray.shape != tuple(rgb_shape[:2]):
        raise InputError(
            f"the gray image is {image_size(gray.shape)} but the colour image is {image_size(rgb_shape)} {SIZES}"
        )
    return gray


def grid_points(grid: tuple[int, int], spacing: int) -> np.ndarray:
    """A regular grid of cues: every ``spacing``-th cell in each direction, the first half a spacing
    in, row by row.

    Parameters
    ----------
    grid : tuple of int
        The grid's ``(rows, columns)``.
    spacing : int
        Cells between two cues, in each direction.

    Returns
    -------
    ndarray of int, ``K×2``
        The cues' cells, as (row, column).
    """
    ys = np.arange(spacing // 2, grid[0], spacing)
    xs = np.arange(spacing // 2, grid[1], spacing)
    return np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1).reshape(-1, 2)


def quantize_chroma(ab: np.ndarray, colours: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Vector-quantize chroma to a palette of at most ``colours`` (k-means); returns (palette, ab).

    Parameters
    ----------
    ab : ndarray, ``K×2``
        The chroma values.
    colours : int
        The most palette colours, 1 to 256 (fewer where the values hold fewer distinct colours).
    seed : int, optional
        The k-means seed (default 0).
    """
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
