"""Encoders: choose a few cues from a colour image (names and parameters of automatic-recolorization).

Every method returns a :class:`~varcolor.ir.format.Payload` on a cue grid of ``grid_size`` cells
per side stretched over the image. A cue's chroma is the mean true Lab (a, b) over the square of
radius ``patch`` it will colour when decoded.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.cluster.vq import kmeans2
from skimage.segmentation import slic

from ..color import rgb_to_lab
from ..errors import InputError, check_image_size
from ..gamut import GlobalHints, ab_histogram, mean_saturation
from ..options import option
from .format import Payload

__all__ = [
    "ENCODERS",
    "EncodeOptions",
    "adaptive_grid_size",
    "adaptive_palette_size",
    "check_encode_options",
    "encode",
    "encode_adaptive",
    "quantize_chroma",
    "refine_chroma",
]

ENCODERS = ("stock", "grid", "grid-exclude", "selective", "grid+selective", "global", "adaptive")
# grid-exclude compares colours quantized to the 10-unit ab bins of the ideepcolor gamut.
_BIN = 10.0


def _encoder(name: str, value) -> None:
    if value not in ENCODERS:
        raise InputError(f"unknown encoder {value!r}; available: {', '.join(ENCODERS)}")


def _at_least_one(label: str):
    """A check refusing a value below 1, naming it ``label`` (the words the command line's users know)."""

    def check(name: str, value) -> None:
        if value < 1:
            raise InputError(f"{label} must be >= 1, got {value}")

    return check


def _patch_radius(name: str, value) -> None:
    if not 0 <= value <= 255:  # the payload stores it in one byte
        raise InputError(f"patch radius must be in 0..255, got {value}")


def _palette(name: str, value) -> None:
    if value:  # 0: no palette
        _check_palette_size(value)


def _refine(name: str, value) -> None:
    if value < 0:
        raise InputError(f"--refine takes a number of iterations >= 0, got {value}")


@dataclass(frozen=True)
class EncodeOptions:
    """How to choose cues: the options of :func:`encode`, one frozen value checked when it is made
    (one line naming the option). :func:`encode`, :func:`~varcolor.ir.files.encode_file` and the
    command line (``varcolor encode``, ``recolor``: flags made from these fields) take it.

    Attributes
    ----------
    method : str
        The cue method, one of :data:`ENCODERS` (see :func:`encode`).
    grid_size : int or None
        Cells per side of the cue grid stretched over the image; at most the image size. None:
        256, and for ``adaptive`` one that grows with the budget (:func:`adaptive_grid_size`).
    spacing : int
        Grid spacing in cells (``grid`` methods).
    patch : int or None
        Radius in pixels of the square each cue colours when decoded. None: 0, and for
        ``adaptive`` up to 3 as the grid cells allow.
    segments : int
        SLIC superpixels of the ``selective`` methods.
    quantize : int or None
        Store chroma as indices into a palette of this many colours (k-means); 0 or None: no
        palette, except that ``adaptive`` defaults to :func:`adaptive_palette_size`.
    budget, target_psnr, refine
        ``adaptive`` only: payload bytes at most, the preview PSNR (dB) at which to stop adding
        cues, and CGLS iterations fitting the cue values at full resolution (see :func:`encode_adaptive`).

    Examples
    --------
    >>> EncodeOptions.build(method="adaptive", budget=512).grid_size is None
    True
    >>> EncodeOptions(spacing=0)
    Traceback (most recent call last):
    varcolor.errors.InputError: grid spacing must be >= 1, got 0
    """

    method: str = option("grid", "cue method", choices=ENCODERS, check=_encoder)
    grid_size: int | None = option(
        None,
        "cue grid cells per side (default: 256; for adaptive 64 at 256 B, growing with the budget)",
        check=_at_least_one("grid size"),
        short="-s",
    )
    spacing: int = option(
        16, "grid spacing in cells (default: %(default)s)", check=_at_least_one("grid spacing"), short="-g"
    )
    patch: int | None = option(
        None, "patch radius in pixels (default: 0; for adaptive up to 3, by cell size)", check=_patch_radius, short="-p"
    )
    segments: int = option(
        200, "superpixels for selective methods (default: %(default)s)", check=_at_least_one("--segments")
    )
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

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if spec.metadata.get("check") and value is not None:
                spec.metadata["check"](spec.name, value)
        # Only adaptive reads the budget (the other methods' payload size follows from their options).
        if self.method == "adaptive" and self.budget < 64:
            raise InputError(f"--budget must be at least 64 bytes, got {self.budget}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The options' names (the keywords :meth:`build` and :func:`encode` take)."""
        return tuple(spec.name for spec in dataclasses.fields(cls))

    @classmethod
    def build(cls, options: EncodeOptions | None = None, /, **keywords) -> EncodeOptions:
        """Options from keywords (the fields by name), or with ``options``, those changed by the
        keywords. A name that is no option is refused (ignoring it would hide the mistake).

        >>> EncodeOptions.build(EncodeOptions(method="selective"), segments=50).segments
        50
        >>> EncodeOptions.build(spacings=8)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        varcolor.errors.InputError: unknown encoder option 'spacings' (options: method, grid_size, spacing, ...)
        """
        strangers = [name for name in keywords if name not in cls.names()]
        if strangers:
            raise InputError(f"unknown encoder option {strangers[0]!r} (options: {', '.join(cls.names())})")
        return dataclasses.replace(options if options is not None else cls(), **keywords)


def check_encode_options(method: str = "grid", **keywords) -> EncodeOptions:
    """The :class:`EncodeOptions` of :func:`encode`'s keywords (the same names and defaults):
    options that no image makes right are refused with one line. The command line checks them
    once, before any image of a folder.

    >>> check_encode_options("selective", segments=0)
    Traceback (most recent call last):
    varcolor.errors.InputError: --segments must be >= 1, got 0
    """
    return EncodeOptions.build(method=method, **keywords)


def _check_palette_size(colours: int) -> None:
    if not 1 <= colours <= 256:
        raise InputError(f"--quantize takes 1..256 colours (0: no palette), got {colours}")


def _grid_shape(grid_size: int, height: int, width: int) -> tuple[int, int]:
    return min(grid_size, height), min(grid_size, width)


def _cell_centres(points: np.ndarray, grid: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    scale = np.array(shape) / np.array(grid)
    return np.minimum(np.floor((points + 0.5) * scale).astype(np.int64), np.array(shape) - 1)


def _patch_mean_image(ab: np.ndarray, patch: int) -> np.ndarray:
    """Mean chroma over the square of radius ``patch`` around every pixel (a box filter)."""
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
    method: str,
    patch: int,
    quantize: int | None,
) -> Payload:
    """Round the chroma to the stored int8 range (or a palette) and package the cues."""
    chroma = np.clip(np.round(values), -127, 127)
    palette = None
    if quantize:
        palette, chroma = quantize_chroma(chroma, quantize)
    return Payload(rgb_shape[1], rgb_shape[0], grid[1], grid[0], points, chroma, method, patch, palette)


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
        centroids, labels = kmeans2(ab.astype(np.float64), k, minit="++", seed=seed)
    palette = np.clip(np.round(centroids), -127, 127)
    palette, inverse = np.unique(palette, axis=0, return_inverse=True)
    return palette, palette[inverse.ravel()[labels]]


def refine_chroma(
    gray: np.ndarray, ab: np.ndarray, labels: np.ndarray, start: np.ndarray, iterations: int = 3, tol: float = 1e-2
) -> np.ndarray:
    """Cue chroma whose decoded image is closest, in least squares, to the true chroma.

    Levin's decode is linear in the cue values: ``x = A⁻¹ B c``, where ``B`` spreads each value over
    the pixels it colours and ``A`` depends only on the gray image and where the cues are. So the
    best values solve ``min_c ‖A⁻¹ B c − ab‖²`` over all pixels, not just under the cues; CGLS from
    ``start`` (the patch means) needs one solve with ``A`` and one with ``Aᵀ`` per iteration,
    against one LU factorisation (colorization-based coding by optimization, Lee et al. 2013).

    Parameters
    ----------
    gray : ndarray, ``H×W``
        The gray image the decoder will see.
    ab : ndarray, ``H×W×2``
        True Lab chroma.
    labels : ndarray of int, ``H×W``
        Index of the cue colouring each pixel, −1 where none (:func:`~varcolor.ir.decode.payload_labels`).
    start : ndarray, ``K×2``
        Initial values of the ``K`` cues.
    iterations : int
        CGLS iterations (3 come close to 8: docs/guide/ir.md, "How the adaptive defaults were
        chosen").
    tol : float
        Relative residual each inner solve must reach. The single-precision LU alone gives
        about 1e-6, plenty for a few iterations; a tight ``tol`` makes CGLS match the exact
        least-squares solution, at two or three times the cost.

    Returns
    -------
    ndarray, ``K×2``
        Refined values, unrounded (they may leave the Lab gamut a little to pull neighbours in).

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.tile(np.linspace(0, 1, 12), (8, 1))
    >>> ab = np.stack([np.tile(np.linspace(-20, 20, 12), (8, 1)), np.zeros((8, 12))], axis=-1)
    >>> labels = np.full((8, 12), -1); labels[4, 2], labels[4, 9] = 0, 1
    >>> start = ab[4, [2, 9]]
    >>> refined = refine_chroma(gray, ab, labels, start)
    >>> def error(c):
    ...     from varcolor.energies.levin import exact_operator
    ...     from varcolor.solvers import DirectSolver
    ...     rhs = np.zeros((8, 12, 2)); rhs[labels >= 0] = c[labels[labels >= 0]]
    ...     return float(np.sum((DirectSolver(exact_operator(gray, labels >= 0)).solve(rhs)[0] - ab) ** 2))
    >>> error(refined) < error(start)
    True
    """
    from ..energies.levin import exact_operator
    from ..solvers import DirectSolver

    labels = np.asarray(labels)
    cued = labels >= 0
    index = labels[cued]
    solver = DirectSolver(exact_operator(gray, cued), tol=tol)

    def forward(values):  # A⁻¹ B c
        rhs = np.zeros(labels.shape + (2,))
        rhs[cued] = values[index]
        return solver.solve(rhs)[0]

    def adjoint(image):  # Bᵀ A⁻ᵀ y
        spread = solver.solve(image, transpose=True)[0]
        out = np.zeros((len(start), 2))
        np.add.at(out, index, spread[cued])
        return out

    values = np.array(start, dtype=np.float64)
    residual = ab - forward(values)
    gradient = adjoint(residual)
    direction = gradient.copy()
    gamma = np.sum(gradient**2, axis=0)
    for iteration in range(iterations):
        live = gamma > 1e-18  # per channel: a channel already at its optimum stays put
        if not live.any():
            break
        step = forward(direction)
        alpha = np.where(live, gamma / np.maximum(np.sum(step**2, axis=(0, 1)), 1e-300), 0.0)
        values += alpha * direction
        if iteration == iterations - 1:  # the next direction would not be used
            break
        residual -= alpha * step
        gradient = adjoint(residual)
        new_gamma = np.sum(gradient**2, axis=0)
        direction = gradient + np.where(live, new_gamma / np.where(live, gamma, 1.0), 0.0) * direction
        gamma = new_gamma
    return values


def encode(
    rgb: np.ndarray,
    method: str | None = None,
    *,
    options: EncodeOptions | None = None,
    gray: np.ndarray | None = None,
    **keywords,
) -> Payload:
    """Choose cues from a colour image.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
    method : {"stock", "grid", "grid-exclude", "selective", "grid+selective", "global", "adaptive"}
        ``grid`` (the default): every ``spacing`` cells of the cue grid; ``grid-exclude``: the grid
        without points whose neighbourhood holds one quantized colour; ``selective``: one point per
        SLIC superpixel (``segments`` of them) with its mean chroma; ``grid+selective``: both;
        ``stock``: none; ``global``: no points, the image's ab histogram over the 313 gamut bins and
        its mean saturation (:class:`varcolor.gamut.GlobalHints`, for a network with a global-hints
        branch); ``adaptive``: see :func:`encode_adaptive`.
    options : EncodeOptions, optional
        The encoder's options as one value; ``method`` and ``keywords`` change them.
    gray : ndarray, optional
        For ``adaptive``: the gray image the decoder will see (see :func:`encode_adaptive`).
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
    if method is not None:
        keywords["method"] = method
    options = EncodeOptions.build(options, **keywords)
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise InputError(f"encoding needs a colour image (H×W×3), got shape {rgb.shape}")
    check_image_size(rgb.shape)
    if options.method == "adaptive":
        return encode_adaptive(rgb, options, gray=gray)
    method, grid_size, spacing, patch = options.method, options.grid_size, options.spacing, options.patch
    segments, quantize = options.segments, options.quantize
    patch = 0 if patch is None else patch
    height, width = rgb.shape[:2]
    grid = _grid_shape(256 if grid_size is None else grid_size, height, width)
    ab = rgb_to_lab(rgb[..., :3])[..., 1:]
    patch_means = _patch_mean_image(ab, patch)
    points = np.zeros((0, 2), np.int64)
    chroma = np.zeros((0, 2))
    if method in ("grid", "grid-exclude", "grid+selective"):
        points = _grid_points(grid, spacing)
        if method == "grid-exclude":
            points = points[~_uniform_cells(ab, points, grid, spacing)]
        chroma = _values_at(patch_means, points, grid)
    if method in ("selective", "grid+selective"):
        chosen, means = _selective_points(rgb[..., :3], ab, grid, segments)
        if patch:
            means = _values_at(patch_means, chosen, grid)
        points = np.concatenate([points, chosen])
        chroma = np.concatenate([chroma, means])
    points, chroma = _unique(points, chroma, grid[1])
    payload = _payload(rgb.shape, grid, points, chroma, method, patch, quantize)
    if method == "global":
        hints = GlobalHints(ab_histogram(ab), mean_saturation(rgb[..., :3]))  # ab is already converted
        # Weights in units of the largest bin keep the small bins.
        payload = dataclasses.replace(
            payload,
            histogram=np.round(255 * hints.histogram / hints.histogram.max()),
            saturation=round(255 * hints.saturation),
        )
    return payload


def adaptive_grid_size(budget: int) -> int:
    """Default cue grid of ``adaptive`` for a byte budget: ``64·(budget/256)^(1/3)`` cells per side
    (64 at 256 B, about 100 at 1 KB, 200 at 8 KB, at most 256).

    Finer grids place cues more precisely but spend more bits on each position; this size scored
    highest at each budget measured (docs/guide/ir.md, "How the adaptive defaults were chosen").

    Examples
    --------
    >>> [adaptive_grid_size(b) for b in (256, 1024, 8192, 10**6)]
    [64, 102, 203, 256]
    """
    return int(min(256, round(64 * (max(budget, 1) / 256) ** (1 / 3))))


def adaptive_palette_size(budget: int) -> int:
    """Default palette of ``adaptive`` for a byte budget: 32 colours up to 2 KB, none (0) above.

    A 5-bit palette index costs less than a compressed (a, b) pair (≈ 1.3 bytes), so a small
    budget holds more cues; with thousands of cues the palette's colour error costs more than the
    extra cues bring: the palette gains up to 1 KB, ties at 2 KB and loses above
    (benchmarks/results/rate_distortion.md; docs/guide/ir.md, "How the adaptive defaults were
    chosen").

    Examples
    --------
    >>> [adaptive_palette_size(b) for b in (256, 2048, 4096)]
    [32, 32, 0]
    """
    return 32 if budget <= 2048 else 0


def encode_adaptive(
    rgb: np.ndarray,
    options: EncodeOptions | None = None,
    *,
    work_side: int = 192,
    max_rounds: int = 30,
    solver: str = "auto",
    base_fraction: float = 0.75,
    smooth: float = 0.0,
    gray: np.ndarray | None = None,
    **keywords,
) -> Payload:
    """Solver in the loop: add cues where the decoded chroma is worst, until a byte budget or a PSNR.

    Starts from a coarse grid, decodes (at a working size whose longer side is ``work_side``, for
    speed), and each round adds points at the grid cells with the largest summed chroma error,
    at most one per 3×3 block of cells per round. Stops when the payload would exceed ``budget``
    bytes (the round's additions are trimmed to fit), when the working-size PSNR reaches
    ``target_psnr``, or after ``max_rounds``. Then, with ``refine`` > 0, the cue values are
    refined at full resolution (:func:`refine_chroma`, ``refine`` CGLS iterations against the
    decoder's own system) and the last-added points that no longer fit the budget are dropped.
    ``gray`` is the gray image the decoder will see (default: the same-lightness gray of ``rgb``,
    unrounded); refinement is skipped, with a warning, where the image is too large for the direct
    solver's memory.

    ``budget``, ``target_psnr``, ``refine``, ``grid_size``, ``patch`` and ``quantize`` are
    :class:`EncodeOptions` fields: given as ``options`` or as keywords (the method is ``adaptive``
    whatever ``options`` says); ``work_side``, ``max_rounds``, ``solver``, ``base_fraction`` and
    ``smooth`` tune the search.

    Defaults come from sweeps on photos (docs/guide/ir.md, "How the adaptive defaults were
    chosen"): a coarse cue grid (:func:`adaptive_grid_size`, 64 cells at 256 B) keeps each
    irregular position to a few bits, a regular base grid taking 3/4 of the budget compresses to
    almost nothing, 7×7 patches average out texture, and refining the cue values against the
    decoder's system raises the PSNR clearly.

    Examples
    --------
    >>> import skimage.data
    >>> from varcolor.ir.format import write_payload
    >>> p = encode_adaptive(skimage.data.coffee() / 255.0, budget=300, work_side=96, max_rounds=4)
    >>> len(write_payload(p)) <= 300, p.method
    (True, 'adaptive')
    """
    from skimage.transform import resize

    from ..api import colorize
    from ..color import same_lightness_gray
    from ..cues import Cues
    from ..metrics import psnr
    from ..solvers import choose_solver
    from .decode import payload_labels
    from .format import write_payload

    rgb = np.asarray(rgb, dtype=np.float64)[..., :3]
    options = EncodeOptions.build(options, **{**keywords, "method": "adaptive"})
    budget, target_psnr, refine = options.budget, options.target_psnr, options.refine
    grid_size, patch, quantize = options.grid_size, options.patch, options.quantize
    if quantize is None:
        quantize = adaptive_palette_size(budget)
    height, width = rgb.shape[:2]
    grid = _grid_shape(adaptive_grid_size(budget) if grid_size is None else grid_size, height, width)
    if patch is None:  # up to 7×7, but never wider than about a third of a grid cell
        patch = int(min(3, min(height / grid[0], width / grid[1]) // 3))
    ab = rgb_to_lab(rgb)[..., 1:]
    scale = min(1.0, work_side / max(height, width))
    small = (max(2, round(height * scale)), max(2, round(width * scale)))
    rgb_small = np.clip(resize(rgb, small, order=1, anti_aliasing=True), 0, 1) if scale < 1 else rgb
    gray_small = same_lightness_gray(rgb_small)
    ab_small = rgb_to_lab(rgb_small)[..., 1:]
    cell_of_row = np.minimum((np.arange(small[0]) * grid[0]) // small[0], grid[0] - 1)
    cell_of_col = np.minimum((np.arange(small[1]) * grid[1]) // small[1], grid[1] - 1)

    patch_means = _patch_mean_image(ab, patch)

    def build(points, values):
        return _payload(rgb.shape, grid, points, values, "adaptive", patch, quantize)

    def payload_for(points):
        return build(points, _values_at(patch_means, points, grid))

    def decoded_small(payload):
        mask = np.zeros(small, bool)
        cue_ab = np.zeros(small + (2,))
        ys = np.minimum(((payload.points[:, 0] + 0.5) * small[0] / grid[0]).astype(np.int64), small[0] - 1)
        xs = np.minimum(((payload.points[:, 1] + 0.5) * small[1] / grid[1]).astype(np.int64), small[1] - 1)
        mask[ys, xs] = True
        cue_ab[ys, xs] = payload.ab
        return colorize(gray_small, Cues(mask, cue_ab), solver=solver)

    # Start with a regular grid worth about half the budget: regular coordinates cost almost
    # nothing after compression, where each adaptively placed point costs about a byte of position.
    start = max(4, int(budget * base_fraction / 1.5))
    spacing = max(1, int(np.ceil(np.sqrt(grid[0] * grid[1] / start))))  # at most `start` points
    points = _grid_points(grid, spacing)
    payload = payload_for(points)
    while len(write_payload(payload)) > budget and len(points) > 1:
        points = points[::2]
        payload = payload_for(points)
    for _ in range(max_rounds):
        result = decoded_small(payload)
        if target_psnr is not None and psnr(result.rgb, rgb_small) >= target_psnr:
            break
        error = np.sum((result.ab - ab_small) ** 2, axis=-1)
        cell_error = np.zeros(grid)
        np.add.at(cell_error, (cell_of_row[:, None], cell_of_col[None, :]), error)
        if smooth:  # favour regions of error over single bad pixels (edges, texture)
            cell_error = ndimage.gaussian_filter(cell_error, smooth)
        taken = np.zeros(grid, bool)
        taken[points[:, 0], points[:, 1]] = True
        blocked = ndimage.binary_dilation(taken, np.ones((3, 3), bool))
        per_point = len(write_payload(payload)) / max(len(points), 1)
        room = int((budget - len(write_payload(payload))) / max(per_point, 1.0))
        want = min(max(8, len(points) // 3), max(room, 0))
        if want <= 0:
            break
        added = []
        for flat in np.argsort(cell_error, axis=None)[::-1]:
            gy, gx = divmod(int(flat), grid[1])
            if cell_error[gy, gx] <= 0 or len(added) >= want:
                break
            if blocked[gy, gx]:
                continue
            added.append((gy, gx))
            blocked[max(gy - 1, 0) : gy + 2, max(gx - 1, 0) : gx + 2] = True
        if not added:
            break
        trial = np.concatenate([points, np.array(added)])
        candidate = payload_for(trial)
        if len(write_payload(candidate)) > budget:
            low, high = 0, len(added)  # keep the largest prefix of this round that fits
            while low < high:
                middle = (low + high + 1) // 2
                if len(write_payload(payload_for(np.concatenate([points, np.array(added[:middle])])))) <= budget:
                    low = middle
                else:
                    high = middle - 1
            if low == 0:
                break
            trial = np.concatenate([points, np.array(added[:low])])
            candidate = payload_for(trial)
            points, payload = trial, candidate
            break
        points, payload = trial, candidate
    if refine <= 0 or not len(points):
        return payload
    gray = same_lightness_gray(rgb) if gray is None else np.asarray(gray, dtype=np.float64)
    if gray.shape != (height, width):
        raise InputError(f"the gray image is {gray.shape[1]}×{gray.shape[0]} but the colour image is {width}×{height}")
    try:
        choose_solver("direct", (height, width))
    except InputError as exc:
        warnings.warn(f"cue values not refined: {exc}", stacklevel=2)
        return payload
    order = np.argsort(points[:, 0] * grid[1] + points[:, 1], kind="stable")  # the payload's point order
    start = _values_at(patch_means, points, grid)
    values = np.empty_like(start)
    values[order] = refine_chroma(gray, ab, payload_labels(payload), start[order], refine)
    count = len(points)  # refined values compress a little worse: drop the latest points to fit
    while count > 1 and len(write_payload(build(points[:count], values[:count]))) > budget:
        count -= max(1, count // 100)
    return build(points[:count], values[:count])
