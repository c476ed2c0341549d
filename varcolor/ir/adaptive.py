"""The ``adaptive`` encoder: cues placed where a preview decode is worst, within a byte budget."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..color import rgb_to_lab
from ..errors import InputError, tell
from .format import Payload, gray_checksum
from .grid import EncodeOptions, check_gray, grid_points, grid_shape, package, patch_means, values_at

__all__ = ["adaptive_grid_size", "adaptive_palette_size", "encode_adaptive", "refine_chroma"]


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
        CGLS iterations (3 come close to 8: benchmarks/results/ir_notes.md, "How the adaptive defaults were
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


def adaptive_grid_size(budget: int) -> int:
    """Default cue grid of ``adaptive`` for a byte budget: ``64·(budget/256)^(1/3)`` cells per side
    (at most 256).

    Finer grids place cues more precisely but spend more bits on each position; this size scored
    highest at each budget tried (benchmarks/results/ir_notes.md, "How the adaptive defaults were chosen").

    Parameters
    ----------
    budget : int
        The payload's byte budget.

    Examples
    --------
    >>> [adaptive_grid_size(b) for b in (256, 1024, 8192, 10**6)]
    [64, 102, 203, 256]
    """
    return int(min(256, round(64 * (max(budget, 1) / 256) ** (1 / 3))))


def adaptive_palette_size(budget: int) -> int:
    """Default palette of ``adaptive`` for a byte budget: 32 colours up to 2048 bytes, none (0) above.

    A palette index costs less than a compressed (a, b) pair, so a small budget holds more cues; with
    thousands of cues the palette's colour error costs more than the extra cues bring
    (benchmarks/results/rate_distortion.md; benchmarks/results/ir_notes.md, "How the adaptive defaults were
    chosen").

    Parameters
    ----------
    budget : int
        As :func:`adaptive_grid_size` takes it.

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
    :class:`EncodeOptions` fields: given as ``options`` or as keywords (the encoder is ``adaptive``
    whatever ``options`` says); ``work_side``, ``max_rounds``, ``solver``, ``base_fraction`` and
    ``smooth`` tune the search.

    Defaults come from sweeps on photos (benchmarks/results/ir_notes.md, "How the adaptive defaults were
    chosen"): a coarse cue grid (:func:`adaptive_grid_size`, 64 cells at 256 B) keeps each
    irregular position to a few bits, a regular base grid taking 3/4 of the budget compresses to
    almost nothing, 7×7 patches average out texture, and refining the cue values against the
    decoder's system raises the PSNR clearly.

    Parameters
    ----------
    rgb : ndarray, ``H×W×3``
        The colour image, floats in [0, 1] (a fourth channel is ignored).
    options : EncodeOptions, optional
        The encoder options (their encoder is taken as ``adaptive``); None: the defaults.
    work_side : int, optional
        The longer side, in pixels, of the working size the previews are decoded at (default 192;
        a smaller image is decoded at its own size).
    max_rounds : int, optional
        The most rounds of adding cues (default 30).
    solver : str, optional
        The previews' solver, as :func:`~varcolor.api.colorize` takes it (default ``auto``).
    base_fraction : float, optional
        The share of the budget the starting regular grid is sized for (default 0.75).
    smooth : float, optional
        The standard deviation, in grid cells, of a Gaussian blur of the cells' errors before the
        worst are picked (default 0: none); it favours regions of error over single bad pixels.
    gray : ndarray, ``H×W``, optional
        The gray image the decoder will see; given, the payload holds its checksum (default None:
        the same-lightness gray of ``rgb``, no checksum).
    **keywords
        :class:`EncodeOptions` fields by name (``budget``, ``target_psnr``, ``refine``, ...), changing
        ``options``.

    Returns
    -------
    Payload
        The chosen cues and their values.

    Examples
    --------
    >>> import skimage.data
    >>> from varcolor.ir.format import write_payload
    >>> p = encode_adaptive(skimage.data.coffee() / 255.0, budget=300, work_side=96, max_rounds=4)
    >>> len(write_payload(p)) <= 300, p.encoder
    (True, 'adaptive')
    """
    from scipy import ndimage  # the image stack loads where used: `varcolor --help` imports the encoders
    from skimage.transform import resize

    from ..api import colorize
    from ..color import same_lightness_gray
    from ..cues import Cues
    from ..metrics import psnr
    from ..solvers import plan_solver
    from .decode import payload_labels
    from .format import write_payload

    rgb = np.asarray(rgb, dtype=np.float64)[..., :3]
    options = EncodeOptions.build(options, **{**keywords, "encoder": "adaptive"})
    budget, target_psnr, refine = options.budget, options.target_psnr, options.refine
    grid_size, patch, quantize = options.grid_size, options.patch, options.quantize
    if quantize is None:
        quantize = adaptive_palette_size(budget)
    height, width = rgb.shape[:2]
    grid = grid_shape(adaptive_grid_size(budget) if grid_size is None else grid_size, height, width)
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

    chroma_means = patch_means(ab, patch)
    # Tied to the gray image the decoder will see, the budget counting the checksum's 4 bytes.
    checksum = None if gray is None else gray_checksum(check_gray(gray, rgb.shape))

    def build(points, values):
        return dataclasses.replace(
            package(rgb.shape, grid, points, values, "adaptive", patch, quantize), checksum=checksum
        )

    def payload_for(points):
        return build(points, values_at(chroma_means, points, grid))

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
    first = max(4, int(budget * base_fraction / 1.5))
    spacing = max(1, int(np.ceil(np.sqrt(grid[0] * grid[1] / first))))  # at most `first` points
    points = grid_points(grid, spacing)
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
        per_point = len(write_payload(payload)) / max(len(points), 1)
        room = int((budget - len(write_payload(payload))) / max(per_point, 1.0))
        want = min(max(8, len(points) // 3), max(room, 0))
        if want <= 0:
            break
        added = _worst_cells(cell_error, points, grid, want)
        if not added:
            break
        trial = np.concatenate([points, np.array(added)])
        candidate = payload_for(trial)
        if len(write_payload(candidate)) > budget:
            low = _fitting_prefix(points, added, payload_for, budget)
            if low == 0:
                break
            trial = np.concatenate([points, np.array(added[:low])])
            candidate = payload_for(trial)
            points, payload = trial, candidate
            break
        points, payload = trial, candidate
    if refine <= 0 or not len(points):
        return payload
    gray = same_lightness_gray(rgb) if gray is None else check_gray(gray, rgb.shape)
    try:
        plan_solver("direct", (height, width))
    except InputError as exc:
        tell(f"cue values not refined: {exc}", stacklevel=2)
        return payload
    order = np.argsort(points[:, 0] * grid[1] + points[:, 1], kind="stable")  # the payload's point order
    start = values_at(chroma_means, points, grid)
    values = np.empty_like(start)
    values[order] = refine_chroma(gray, ab, payload_labels(payload), start[order], refine)
    count = len(points)  # refined values compress a little worse: drop the latest points to fit
    while count > 1 and len(write_payload(build(points[:count], values[:count]))) > budget:
        count -= max(1, count // 100)
    return build(points[:count], values[:count])


def _worst_cells(cell_error: np.ndarray, points: np.ndarray, grid: tuple[int, int], want: int) -> list[tuple[int, int]]:
    """Up to ``want`` cells of largest error, none next to a cue or to another one picked."""
    from scipy import ndimage

    taken = np.zeros(grid, bool)
    taken[points[:, 0], points[:, 1]] = True
    blocked = ndimage.binary_dilation(taken, np.ones((3, 3), bool))
    added: list[tuple[int, int]] = []
    for flat in np.argsort(cell_error, axis=None)[::-1]:
        gy, gx = divmod(int(flat), grid[1])
        if cell_error[gy, gx] <= 0 or len(added) >= want:
            break
        if blocked[gy, gx]:
            continue
        added.append((gy, gx))
        blocked[max(gy - 1, 0) : gy + 2, max(gx - 1, 0) : gx + 2] = True
    return added


def _fitting_prefix(points: np.ndarray, added: list, payload_for, budget: int) -> int:
    """How many of ``added`` (the largest prefix) fit in ``budget`` beside ``points``."""
    from .format import write_payload

    low, high = 0, len(added)
    while low < high:
        middle = (low + high + 1) // 2
        if len(write_payload(payload_for(np.concatenate([points, np.array(added[:middle])])))) <= budget:
            low = middle
        else:
            high = middle - 1
    return low
