"""Colour cues from a reference photo: a colour picture of the same scene.

The gray image and the reference are each reduced to about :data:`WORK_PIXELS` pixels; the
reference's lightness is remapped to the gray image's histogram (Welsh, Ashikhmin & Mueller
2002: another exposure or tone curve must not decide the match); every pixel is described by its
neighbourhood (a small blurred patch and the mean and spread of the lightness at two larger
scales, projected on their principal axes) and matched to its nearest reference pixel in that
space, in both directions (a k-d tree each way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..color import lightness_of_gray, rgb_to_lab, to_gray
from ..common.raster import coordinates
from ..errors import InputError, check_unit_range, real_array

if TYPE_CHECKING:
    from skimage.transform import AffineTransform

__all__ = [
    "match_reference",
    "check_reference",
    "GrayReference",
    "check_target",
    "decode_reduction",
    "outside",
    "Signature",
    "signature",
    "target_signature",
    "verified",
    "MIN_INLIERS",
    "match_pool",
    "PoolMatch",
    "POOL_KEEP",
    "POOL_CANDIDATES",
    "WORK_PIXELS",
    "MIN_CONFIDENCE",
    "KNOWN_ALPHA",
    "MIN_SHARE",
    "SHARE_PIXELS",
    "min_share",
    "CLEARANCE",
]

#: Both images are matched at about this many pixels: the matching's cost does not grow with the photo.
WORK_PIXELS = 60_000
#: A reference's alpha below this: its colour there is not known, no cue takes it.
KNOWN_ALPHA = 0.5
#: A cue needs at least this confidence (the share of checks its match passes, 0–1).
MIN_CONFIDENCE = 0.6
#: ... and only where at least this share of the gray's reduced pixels is trusted: below it, chance.
MIN_SHARE = 0.008
#: ... for a reduced gray of this many pixels; a smaller one needs more, as √(this / its pixels).
SHARE_PIXELS = 38_400
#: Cues are placed at most one per this many reduced pixels each way: propagation fills between.
CUE_STEP = 3
#: A reference (or a gray at its working size) smaller than this on a side has no colour to give.
MIN_SIDE = 16
MIN_CHROMA = 4.0
#: The user's strokes win where they are: no matched cue within this many pixels of one.
CLEARANCE = 16
#: Neighbours whose matches must agree, at these distances, within these pixels plus this share.
_RINGS = (2, 5)
_SLACK, _SLACK_SHARE = 1.5, 0.3
#: A match is back-consistent when the reverse match lands within this many reduced pixels.
_CYCLE = 3.0
#: Chroma spread (ab units) among the nearest reference pixels at which colour agreement is 1/2.
_AB_SPREAD = 8.0
#: Dimensions the descriptions are projected to, and how many nearest reference pixels vote.
_DIMENSIONS, _VOTES = 8, 4
#: Growing trusted matches (:func:`_grown`): seeds needed, rounds, and the jumps carried.
_GROW_SEEDS, _GROW_ROUNDS, _GROW_JUMPS, _GROW_QUANTILE = 20, 8, (8, 4, 2, 1), 0.75
#: Geometric verification (:func:`verified`): keypoints, ratio test, RANSAC's inlier distance and trials.
_KEYPOINTS, _RATIO, _RESIDUAL, _TRIALS = 500, 0.85, 2.5, 1000
MIN_INLIERS, _INLIER_SHARE, _MAX_SCALE, _MAX_ANISOTROPY = 10, 0.2, 4.0, 1.5
#: RANSAC stops once a transform this likely to be the best has been drawn (:func:`_trials`).
_FOUND = 0.999
#: A pool (:func:`match_pool`): how many of the first ranked are matched in full, and how many used.
POOL_CANDIDATES, POOL_KEEP, _POOL_REACH, _POOL_AGREE = 5, 3, 2, 10.0
#: An aligned pixel is a seed when its description is within this quantile of the inliers', times this.
_SEED_QUANTILE, _SEED_SLACK = 0.9, 1.5


class GrayReference(InputError):
    """A reference with no colour to take (:func:`check_reference`): a folder that holds a run's
    inputs lends its colour photos alone, and its gray ones are told apart by this."""


def check_reference(reference: np.ndarray, name: str = "reference") -> np.ndarray:
    """The reference as an ``H×W×3`` RGB array in [0, 1], or one line saying why it cannot be
    one.

    Parameters
    ----------
    reference : ndarray
        ``H×W×3`` (or ``×4``: its alpha left off here; :func:`match_reference` reads it) RGB in [0, 1].
    name : str
        How messages name it (a file's path).
    """
    reference = real_array(reference, name)
    if reference.ndim != 3 or reference.shape[2] not in (3, 4):
        raise InputError(f"{name}: a reference must be a colour (RGB) image, got shape {reference.shape}")
    if min(reference.shape[:2]) < MIN_SIDE:
        raise InputError(
            f"{name}: a reference must be at least {MIN_SIDE}×{MIN_SIDE} pixels, "
            f"got {reference.shape[1]}×{reference.shape[0]}"
        )
    reference = reference[..., :3]
    # The range first: 0-255 levels clipped to [0, 1] read as gray, and [-0.5, 0.5] as half of it.
    check_unit_range(reference, name, " (a reference is RGB floats in [0, 1]; integer levels: divide by their maximum)")
    small = _reduced(reference, _factor(reference.shape[:2], WORK_PIXELS))
    lab = rgb_to_lab(np.clip(small, 0, 1).astype(np.float64))
    if np.percentile(np.hypot(lab[..., 1], lab[..., 2]), 99) < MIN_CHROMA:
        raise GrayReference(f"{name}: the reference is gray (no colour to take)")
    return reference


def check_target(shape: tuple[int, ...], name: str = "gray", work_pixels: int = WORK_PIXELS) -> None:
    """Refuse, in one line naming ``name``, a gray image of ``shape`` (``(H, W, …)``) too narrow
    to match against a reference.

    Parameters
    ----------
    shape : tuple of int
        The gray image's shape.
    name : str
        How the message names it (a file's path).
    work_pixels : int
        Pixels of the reduced copy the matching runs on.

    Examples
    --------
    >>> check_target((3, 400))
    Traceback (most recent call last):
    varcolor.errors.InputError: gray: a 400×3 image is too narrow to match against a reference ...
    """
    factor = _factor(shape, work_pixels)
    if min(shape[:2]) // factor < MIN_SIDE:
        raise InputError(
            f"{name}: a {shape[1]}×{shape[0]} image is too narrow to match against a reference "
            f"(matched at {shape[1] // factor}×{shape[0] // factor}; at least {MIN_SIDE} pixels a side)"
        )


def match_reference(
    gray: np.ndarray,
    reference: np.ndarray,
    *,
    min_confidence: float = MIN_CONFIDENCE,
    work_pixels: int = WORK_PIXELS,
    name: str = "reference",
    target: Signature | None = None,
    geometry: Geometry | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cue pixels for ``gray`` from the colour photo ``reference`` of the same scene."""
    gray = real_array(gray, "gray")
    if gray.ndim == 3:
        gray = to_gray(gray)
    if gray.ndim != 2:
        raise InputError(f"gray must be an H×W image, got shape {gray.shape}")
    # As colorize checks it (a NaN reached SciPy's k-d tree; 0-255 levels gave no cue, silently).
    check_unit_range(gray, "gray", " (floats in [0, 1]; integer levels: divide by their maximum)")
    number = not isinstance(min_confidence, bool) and isinstance(min_confidence, (int, float, np.number))
    if not (number and 0 <= min_confidence <= 1):
        raise InputError(f"min_confidence must lie in [0, 1], got {min_confidence!r}")
    check_target(gray.shape, "gray", work_pixels)
    target_factor = _factor(gray.shape, work_pixels)
    reference = real_array(reference, name)
    alpha = reference[..., 3] if reference.ndim == 3 and reference.shape[2] == 4 else None
    reference = check_reference(reference, name)
    known = None if alpha is None else np.asarray(alpha, np.float32)
    lightness = lightness_of_gray(np.clip(_reduced(gray, target_factor), 0, 1).astype(np.float64))
    if geometry is None:
        described = target if target is not None else signature(lightness, factor=target_factor)
        geometry = verified(described, signature(reference, work_pixels))
    if geometry.trusted:
        confidence, ab, share = _aligned(lightness, reference, geometry, min_confidence, work_pixels, known)
    else:
        best: tuple[np.ndarray, np.ndarray, float] | None = None
        for factor in _reference_factors(reference.shape[:2], target_factor, work_pixels):
            ref_lab = rgb_to_lab(np.clip(_reduced(reference, factor), 0, 1).astype(np.float64))
            ours, theirs = _projected(_described(lightness), _described(_remapped(ref_lab[..., 0], lightness)))
            its_known = None if known is None else _reduced(known, factor)
            confidence, ab, share = _confident(ours, theirs, ref_lab[..., 1:], min_confidence, known=its_known)
            if best is None or share > best[2]:
                best = confidence, ab, share
        assert best is not None  # at least one reduction is tried
        confidence, ab, share = best
    confidence[confidence < min_confidence] = 0
    mask = np.zeros(gray.shape, bool)
    out_ab = np.zeros(gray.shape + (2,), np.float32)
    weight = np.zeros(gray.shape, np.float32)
    # The patch statistics alone must trust enough of the image; a verified geometry is decisive.
    if share < min_share(lightness.size) and not geometry.trusted:
        return mask, out_ab, weight
    rows, cols = _sites(confidence, lightness)
    full_rows, full_cols = _lifted(gray, rows, cols, target_factor)
    mask[full_rows, full_cols] = True
    out_ab[full_rows, full_cols] = ab[rows, cols]
    weight[full_rows, full_cols] = confidence[rows, cols]
    return mask, out_ab, weight


@dataclass(frozen=True)
class Signature:
    """An image's keypoints and their ORB descriptors on its reduced copy (:func:`signature`):
    what geometric verification (:func:`verified`) and a pool's ranking compare.

    Attributes
    ----------
    keypoints : ndarray of float32, ``N×2``
        (row, column) in reduced pixels.
    descriptors : ndarray of bool, ``N×256``
        Their binary descriptors.
    factor : int
        The block side the image was reduced by.
    shape : tuple of int
        The reduced copy's ``(rows, columns)``.

    Examples
    --------
    >>> import pickle
    >>> from skimage import data
    >>> described = signature(data.chelsea() / 255.0)
    >>> again = pickle.loads(pickle.dumps(described))
    >>> np.array_equal(again.descriptors, described.descriptors), len(pickle.dumps(described)) < 24_000
    (True, True)
    """

    keypoints: np.ndarray
    descriptors: np.ndarray
    factor: int
    shape: tuple[int, int]

    def __reduce__(self):
        # a descriptor's 256 bits in 32 bytes, not 256 booleans: each job's plan carries its pool's
        packed = np.packbits(np.asarray(self.descriptors, bool), axis=1)
        return _unpacked, (self.keypoints, packed, self.descriptors.shape[1], self.factor, self.shape)


def _unpacked(keypoints: np.ndarray, packed: np.ndarray, bits: int, factor: int, shape: tuple[int, int]) -> Signature:
    """A :class:`Signature` from its pickled form (its descriptors' bits packed)."""
    descriptors = np.unpackbits(packed, axis=1, count=bits).astype(bool)
    return Signature(keypoints, descriptors, factor, shape)


@dataclass(frozen=True)
class Geometry:
    """What :func:`verified` found: the transform from the target's reduced pixels to the
    reference's."""

    transform: AffineTransform | None
    inliers: int
    matches: int
    trusted: bool
    #: The inlier keypoints in the target's reduced pixels, (row, column).
    points: np.ndarray


def signature(image: np.ndarray, work_pixels: int = WORK_PIXELS, *, factor: int | None = None) -> Signature:
    """The :class:`Signature` of ``image``: an ``H×W×3`` RGB photo in [0, 1] or an ``H×W``
    lightness (0–100) already reduced (``factor``: by how much)."""
    from skimage.feature import ORB

    if image.ndim == 3:
        factor = _factor(image.shape[:2], work_pixels)
        lightness = rgb_to_lab(np.clip(_reduced(image[..., :3], factor), 0, 1).astype(np.float64))[..., 0]
    else:
        factor, lightness = factor or 1, np.asarray(image, np.float64)
    low, high = np.percentile(lightness, (1, 99))
    stretched = np.clip((lightness - low) / max(high - low, 1e-6), 0, 1)
    empty = Signature(np.zeros((0, 2), np.float32), np.zeros((0, 256), bool), factor, lightness.shape)
    if min(lightness.shape) < 4 * MIN_SIDE or high - low < 1.0:
        return empty
    # A low FAST threshold: plain backgrounds have few strong corners; RANSAC tells right from chance.
    orb = ORB(n_keypoints=_KEYPOINTS, fast_threshold=0.03, downscale=1.25, n_scales=6)
    try:
        orb.detect_and_extract(stretched)
    except (RuntimeError, ValueError, IndexError):  # no keypoint at all (a flat image)
        return empty
    return Signature(orb.keypoints.astype(np.float32), orb.descriptors.astype(bool), factor, lightness.shape)


def min_share(pixels: int) -> float:
    """The share of a reduced gray image of ``pixels`` pixels the patch statistics must trust
    before a reference without a verified geometry gives cues: :data:`MIN_SHARE`.

    Parameters
    ----------
    pixels : int
        Pixels of the gray image's reduced copy.

    Examples
    --------
    >>> min_share(60_000) == MIN_SHARE, round(min_share(9_600), 3)
    (True, 0.016)
    """
    return MIN_SHARE * float(np.sqrt(max(1.0, SHARE_PIXELS / max(int(pixels), 1))))


def target_signature(gray: np.ndarray, work_pixels: int = WORK_PIXELS) -> Signature:
    """The :class:`Signature` of a gray image (``H×W`` in [0, 1]) as a target is matched: its
    lightness on the reduced copy :func:`match_reference` works on.

    Parameters
    ----------
    gray : ndarray
        The gray image.
    work_pixels : int
        Pixels of the reduced copy.
    """
    factor = _factor(gray.shape, work_pixels)
    return signature(lightness_of_gray(np.clip(_reduced(gray, factor), 0, 1).astype(np.float64)), factor=factor)


def verified(ours: Signature, theirs: Signature) -> Geometry:
    """Geometric verification of two signatures: their descriptors matched (both ways, with a
    ratio test), an affine transform fitted to the matches by RANSAC.

    Parameters
    ----------
    ours, theirs : Signature
        The target's and the reference's.
    """
    from skimage.feature import match_descriptors
    from skimage.measure import ransac
    from skimage.transform import AffineTransform

    none = Geometry(None, 0, 0, False, np.zeros((0, 2), np.float32))
    if len(ours.keypoints) < 3 or len(theirs.keypoints) < 3:
        return none
    pairs = match_descriptors(ours.descriptors, theirs.descriptors, cross_check=True, max_ratio=_RATIO)
    if len(pairs) < MIN_INLIERS:  # too few to be trusted: no transform fitted (a pool ranks by matches)
        return Geometry(None, 0, len(pairs), False, none.points)
    source, target = ours.keypoints[pairs[:, 0]][:, ::-1], theirs.keypoints[pairs[:, 1]][:, ::-1]
    model, inliers = ransac(
        (source.astype(np.float64), target.astype(np.float64)),
        AffineTransform,
        min_samples=3,
        residual_threshold=_RESIDUAL,
        max_trials=_trials(len(pairs)),
        stop_probability=_FOUND,
        rng=0,
    )
    if model is None or inliers is None:
        return Geometry(None, 0, len(pairs), False, none.points)
    count = int(inliers.sum())
    scales = np.linalg.svd(model.params[:2, :2], compute_uv=False)
    plausible = (
        np.linalg.det(model.params[:2, :2]) > 0
        and 1 / _MAX_SCALE <= scales.min()
        and scales.max() <= _MAX_SCALE
        and scales.max() <= _MAX_ANISOTROPY * scales.min()
    )
    trusted = bool(plausible and count >= MIN_INLIERS and count >= _INLIER_SHARE * len(pairs))
    return Geometry(model, count, len(pairs), trusted, ours.keypoints[pairs[inliers, 0]])


def _trials(matches: int) -> int:
    """RANSAC's trials among ``matches`` matches: enough to draw three inliers at least once with
    probability :data:`_FOUND` where just enough of them fit for the pair to be trusted."""
    ratio = max(MIN_INLIERS / matches, _INLIER_SHARE)
    if ratio >= 1:  # every match must fit: any three draw the transform
        return 1
    return int(min(_TRIALS, np.ceil(np.log(1 - _FOUND) / np.log1p(-(ratio**3)))))


def _aligned(
    lightness: np.ndarray,
    reference: np.ndarray,
    geometry: Geometry,
    min_confidence: float,
    work_pixels: int,
    known: np.ndarray | None = None,
):
    """:func:`_confident` for a pair whose geometry is verified: the reference reduced to the
    target's scale (the transform says it)."""
    transform = geometry.transform
    assert transform is not None
    base = _factor(reference.shape[:2], work_pixels)
    scale = float(np.sqrt(abs(np.linalg.det(transform.params[:2, :2]))))
    # The reference's reduction that brings it to the target's scale, within 4 working sizes.
    factor = max(int(round(base * scale)), _factor(reference.shape[:2], 4 * work_pixels), 1)
    while min(reference.shape[:2]) // factor < MIN_SIDE and factor > 1:
        factor -= 1
    ref_lab = rgb_to_lab(np.clip(_reduced(reference, factor), 0, 1).astype(np.float64))
    ours, theirs = _projected(_described(lightness), _described(_remapped(ref_lab[..., 0], lightness)))
    height, width = lightness.shape
    rows, cols = np.indices((height, width))
    # (column, row) of each target pixel in the reference reduced by ``factor`` (a block's centre).
    placed = transform(np.stack([cols.ravel(), rows.ravel()], axis=1).astype(np.float64))
    placed = (placed + 0.5) * base / factor - 0.5
    seeds = np.rint(placed[:, ::-1]).astype(np.int64).reshape(height, width, 2)
    inside = (
        (seeds[..., 0] >= 0)
        & (seeds[..., 0] < theirs.shape[0])
        & (seeds[..., 1] >= 0)
        & (seeds[..., 1] < theirs.shape[1])
    )
    clipped = np.stack(
        [np.clip(seeds[..., 0], 0, theirs.shape[0] - 1), np.clip(seeds[..., 1], 0, theirs.shape[1] - 1)], axis=-1
    )
    cost = ((ours - theirs[clipped[..., 0], clipped[..., 1]]) ** 2).sum(axis=-1)
    points = np.clip(np.rint(geometry.points).astype(int), 0, [height - 1, width - 1])
    at_points = cost[points[:, 0], points[:, 1]][inside[points[:, 0], points[:, 1]]]
    limit = _SEED_SLACK * np.quantile(at_points, _SEED_QUANTILE) if at_points.size else 0.0
    seeded = inside & (cost <= limit)
    its_known = None if known is None else _reduced(known, factor)
    seeds = np.where(seeded[..., None], clipped, -1)
    return _confident(ours, theirs, ref_lab[..., 1:], min_confidence, seeds=seeds, known=its_known)


def _reference_factors(shape: tuple[int, int], target_factor: int, work_pixels: int) -> list[int]:
    """The reductions of the reference tried: to the working size (a postcard of the whole scene
    at another resolution), and to the gray image's own scale."""
    factors = [_factor(shape, work_pixels)]
    if target_factor != factors[0] and shape[0] * shape[1] / target_factor**2 <= 4 * work_pixels:
        if min(shape) // target_factor >= MIN_SIDE:
            factors.append(target_factor)
    return factors


def decode_reduction(
    shape: tuple[int, int], gray_shape: tuple[int, ...] | None = None, work_pixels: int = WORK_PIXELS
) -> int:
    """How many times smaller a side of a reference of ``shape`` may be decoded.

    Parameters
    ----------
    shape : tuple of int
        The reference's ``(H, W)`` (from its header).
    gray_shape : tuple of int, optional
        The gray image's shape.
    work_pixels : int
        Pixels of the reduced copies the matching runs on.

    Examples
    --------
    >>> decode_reduction((10000, 20000), (300, 450))
    8
    >>> decode_reduction((600, 800), (300, 450))
    1
    """
    height, width = int(shape[0]), int(shape[1])
    target_factor = None if gray_shape is None else _factor(gray_shape, work_pixels)
    if target_factor is not None and len(_reference_factors((height, width), target_factor, work_pixels)) > 1:
        return 1
    whole = _factor((height, width), work_pixels)
    for scale in (8, 4, 2):
        reduced = (-(-height // scale), -(-width // scale))
        if _factor(reduced, work_pixels) * scale > 1.25 * whole or min(reduced) < MIN_SIDE:
            continue
        if target_factor is None or len(_reference_factors(reduced, target_factor, work_pixels)) == 1:
            return scale
    return 1


def outside(strokes: np.ndarray, clearance: int = CLEARANCE) -> np.ndarray:
    """Where a matched cue may go beside the user's ``strokes`` (an ``H×W`` mask): further than
    ``clearance`` pixels from each (a square's reach: separable, linear in the image)."""
    from scipy import ndimage  # SciPy's filters load when a match is made, not with `varcolor --help`

    return ~ndimage.maximum_filter(strokes.astype(np.uint8), size=2 * clearance + 1).astype(bool)


def _factor(shape: tuple[int, ...], work_pixels: int) -> int:
    """The whole block side that brings ``shape`` to at most ``work_pixels`` pixels."""
    return max(1, int(np.ceil(np.sqrt(shape[0] * shape[1] / max(work_pixels, 1)))))


def _reduced(image: np.ndarray, factor: int) -> np.ndarray:
    """Block means of ``factor``² pixels (the last partial blocks dropped), in float32, band by
    band: a 40 MP scan is reduced without a float64 copy of it."""
    if factor == 1:
        return image.astype(np.float32)
    rows, cols = image.shape[0] // factor, image.shape[1] // factor
    out = np.empty((rows, cols) + image.shape[2:], np.float32)
    band = max(1, (1 << 22) // max(image.shape[1], 1) // factor)
    for top in range(0, rows, band):
        bottom = min(rows, top + band)
        # No copy of a float32 band (a reference as read): the mean makes the block's floats.
        block = image[top * factor : bottom * factor, : cols * factor].astype(np.float32, copy=False)
        out[top:bottom] = block.reshape(bottom - top, factor, cols, factor, *image.shape[2:]).mean(axis=(1, 3))
    return out


def _remapped(lightness: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``lightness`` with the histogram of ``target`` (its ranks kept): luminance remapping."""
    order = np.argsort(lightness, axis=None, kind="stable")
    ranks = np.sort(target, axis=None)
    quantiles = np.interp(np.linspace(0, 1, order.size), np.linspace(0, 1, ranks.size), ranks)
    out = np.empty(lightness.size, np.float64)
    out[order] = quantiles
    return out.reshape(lightness.shape)


def _described(lightness: np.ndarray) -> np.ndarray:
    """Each pixel's neighbourhood as a vector: a 5×5 patch (every other pixel of a 9×9 window of the
    lightness blurred by 1 pixel), and the local mean and spread at 4 and 8 pixels."""
    from scipy import ndimage

    blurred = ndimage.gaussian_filter(lightness, 1.0, mode="reflect")
    padded = np.pad(blurred, 4, mode="reflect")
    height, width = lightness.shape
    features = [
        padded[4 + dy : 4 + dy + height, 4 + dx : 4 + dx + width] for dy in range(-4, 5, 2) for dx in range(-4, 5, 2)
    ]
    for sigma in (4.0, 8.0):
        mean = ndimage.gaussian_filter(lightness, sigma, mode="reflect")
        spread = np.sqrt(np.maximum(ndimage.gaussian_filter(lightness**2, sigma, mode="reflect") - mean**2, 0))
        features += [mean, 2.0 * spread]
    return np.stack(features, axis=-1).astype(np.float32)


def _projected(ours: np.ndarray, theirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both descriptions on their joint principal axes (the first :data:`_DIMENSIONS`): a k-d tree
    is fast in a dozen dimensions, and the patch's pixels are strongly correlated."""
    flat_ours, flat_theirs = ours.reshape(-1, ours.shape[-1]), theirs.reshape(-1, theirs.shape[-1])
    rng = np.random.default_rng(0)
    sample = np.concatenate(
        [flat_ours[rng.integers(0, len(flat_ours), 20_000)], flat_theirs[rng.integers(0, len(flat_theirs), 20_000)]]
    ).astype(np.float64)
    centre = sample.mean(axis=0)
    # The covariance's eigenvectors (a 29×29 matrix): an SVD of the samples themselves is slower.
    values, vectors = np.linalg.eigh(np.cov(sample, rowvar=False))
    basis = vectors[:, np.argsort(values)[::-1][:_DIMENSIONS]].astype(np.float32)
    project = lambda flat, shape: ((flat - centre.astype(np.float32)) @ basis).reshape(shape[:2] + (-1,))  # noqa: E731
    return project(flat_ours, ours.shape), project(flat_theirs, theirs.shape)


def _confident(
    ours: np.ndarray,
    theirs: np.ndarray,
    ref_ab: np.ndarray,
    min_confidence: float = MIN_CONFIDENCE,
    seeds: np.ndarray | None = None,
    known: np.ndarray | None = None,
):
    """Each reduced pixel's confidence and the chroma it takes from its match: the nearest
    neighbours' matches checked, then grown from the trusted ones."""
    from scipy import ndimage
    from scipy.spatial import cKDTree

    height, width = ours.shape[:2]
    ref_height, ref_width = theirs.shape[:2]
    tree = cKDTree(theirs.reshape(-1, theirs.shape[-1]))
    _, nearest = tree.query(ours.reshape(-1, ours.shape[-1]), k=_VOTES, eps=1.0, workers=-1)
    matched = np.stack(np.unravel_index(nearest[:, 0], (ref_height, ref_width)), axis=-1).reshape(height, width, 2)
    smooth_ab = np.stack([ndimage.gaussian_filter(ref_ab[..., c], 1.0) for c in range(2)], axis=-1)
    votes = smooth_ab.reshape(-1, 2)[nearest]  # pixels × votes × 2
    ab = votes[:, 0].reshape(height, width, 2)
    spread = np.sqrt(((votes - votes.mean(axis=1, keepdims=True)) ** 2).sum(axis=2).mean(axis=1))
    agree_colour = _agreement(spread).reshape(height, width)
    back_tree = cKDTree(ours.reshape(-1, ours.shape[-1]))
    _, back = back_tree.query(theirs.reshape(-1, theirs.shape[-1]), k=1, eps=1.0, workers=-1)
    returned = np.stack(np.unravel_index(back, (height, width)), axis=-1).reshape(ref_height, ref_width, 2)
    confidence = _checked(matched, returned, agree_colour)
    share = float(np.mean(confidence >= min_confidence))
    trusted = confidence >= min_confidence
    seeded = np.zeros(trusted.shape, bool)
    if seeds is not None:
        seeded = (seeds[..., 0] >= 0) & ~trusted
        matched = np.where(seeded[..., None], seeds, matched)
        trusted = trusted | seeded
    matched, grown = _grown(ours, theirs, matched, trusted)
    grown |= seeded
    if grown.any():
        # A grown match has no votes: its colour agreement is the reference's chroma spread around it.
        local = np.sqrt(
            sum(
                ndimage.uniform_filter(smooth_ab[..., c] ** 2, 3) - ndimage.uniform_filter(smooth_ab[..., c], 3) ** 2
                for c in range(2)
            ).clip(0)
        )
        agree_colour[grown] = _agreement(local[matched[grown, 0], matched[grown, 1]])
        ab[grown] = smooth_ab[matched[grown, 0], matched[grown, 1]]
        rechecked = _checked(matched, returned, agree_colour)
        confidence[grown] = rechecked[grown]
    if known is not None:
        confidence[known[matched[..., 0], matched[..., 1]] < KNOWN_ALPHA] = 0
    return confidence.astype(np.float32), ab.astype(np.float32), share


def _agreement(spread: np.ndarray) -> np.ndarray:
    """Colour agreement (0–1) from a chroma spread: 1/2 at :data:`_AB_SPREAD`."""
    return 1.0 / (1.0 + (spread / _AB_SPREAD) ** 2)


def _checked(matched: np.ndarray, returned: np.ndarray, agree_colour: np.ndarray) -> np.ndarray:
    """The confidence of each match (``H×W×2`` reference pixels) from its three checks: its
    neighbours' matches displaced alike, the reverse match ``returned`` back near it."""
    from scipy import ndimage

    grid = np.stack(list(np.indices(matched.shape[:2])), axis=-1)
    home = returned[matched[..., 0], matched[..., 1]]
    cycle = (np.hypot(*(home - grid).transpose(2, 0, 1)) <= _CYCLE).astype(np.float32)
    confidence = _coherence(matched) * (0.75 + 0.25 * cycle) * (0.5 + 0.5 * agree_colour)
    # Neighbours' consistency once more: a trusted pixel among untrusted ones is chance.
    return np.minimum(confidence, ndimage.uniform_filter(confidence, 5, mode="constant") * 2.0)


def _grown(ours: np.ndarray, theirs: np.ndarray, matched: np.ndarray, trusted: np.ndarray):
    """Trusted matches carried to their untrusted neighbours (PatchMatch's propagation)."""
    grown = np.zeros(trusted.shape, bool)
    if trusted.sum() < _GROW_SEEDS:
        return matched, grown
    height, width = trusted.shape
    ref_height, ref_width = theirs.shape[:2]
    flat_ours, flat_theirs = ours.reshape(-1, ours.shape[-1]), theirs.reshape(-1, theirs.shape[-1])
    matched = matched.reshape(-1, 2).copy()
    trusted = trusted.copy()
    trusted_flat = trusted.reshape(-1)  # a view: updated with ``trusted``

    def cost(pixels, candidates):
        return np.einsum(
            "ij,ij->i", *(2 * [flat_ours[pixels] - flat_theirs[candidates[:, 0] * ref_width + candidates[:, 1]]])
        )

    limit = np.quantile(cost(np.flatnonzero(trusted_flat), matched[trusted_flat]), _GROW_QUANTILE)
    jitters = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)])
    for _ in range(_GROW_ROUNDS):
        before = trusted_flat.sum()
        for jump in _GROW_JUMPS:
            for dy, dx in ((jump, 0), (-jump, 0), (0, jump), (0, -jump)):
                # Only the frontier is tried: untrusted pixels whose neighbour (dy, dx) back is trusted.
                pixels = np.flatnonzero(_shifted(trusted, dy, dx, False) & ~trusted)
                if not pixels.size:
                    continue
                proposal = matched[pixels - dy * width - dx] + np.array([dy, dx])
                best, best_cost = proposal, np.full(pixels.size, np.inf)
                for jitter in jitters:
                    candidate = proposal + jitter
                    inside = (
                        (candidate[:, 0] >= 0)
                        & (candidate[:, 0] < ref_height)
                        & (candidate[:, 1] >= 0)
                        & (candidate[:, 1] < ref_width)
                    )
                    fit = np.where(inside, cost(pixels, np.where(inside[:, None], candidate, 0)), np.inf)
                    better = fit < best_cost
                    best = np.where(better[:, None], candidate, best)
                    best_cost = np.where(better, fit, best_cost)
                take = best_cost <= limit
                matched[pixels[take]] = best[take]
                trusted_flat[pixels[take]] = True
                grown.reshape(-1)[pixels[take]] = True
        if trusted_flat.sum() == before:
            break
    return matched.reshape(height, width, 2), grown


def _shifted(array: np.ndarray, dy: int, dx: int, fill) -> np.ndarray:
    """``array`` moved by ``(dy, dx)`` pixels (``out[p] = array[p - (dy, dx)]``), ``fill`` where
    nothing moved in."""
    out = np.full_like(array, fill)
    height, width = array.shape[:2]
    out[max(0, dy) : height + min(0, dy), max(0, dx) : width + min(0, dx)] = array[
        max(0, -dy) : height + min(0, -dy), max(0, -dx) : width + min(0, -dx)
    ]
    return out


def _coherence(matched: np.ndarray) -> np.ndarray:
    """The share of a pixel's neighbours (8 on each ring of :data:`_RINGS`) whose matches lie
    where its own match, displaced the same, says they should."""
    height, width = matched.shape[:2]
    agree = np.zeros((height, width), np.float32)
    count = np.zeros((height, width), np.float32)
    offsets = [(dy * r, dx * r) for r in _RINGS for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    for dy, dx in offsets:
        ys, yt = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height + min(0, dy))
        xs, xt = slice(max(0, -dx), width - max(0, dx)), slice(max(0, dx), width + min(0, dx))
        moved = matched[yt, xt] - matched[ys, xs] - np.array([dy, dx])
        slack = _SLACK + _SLACK_SHARE * np.hypot(dy, dx)
        agree[ys, xs] += np.hypot(moved[..., 0], moved[..., 1]) <= slack
        count[ys, xs] += 1
    return agree / np.maximum(count, 1)


def _sites(confidence: np.ndarray, lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reduced pixels that become cues: in each cell of :data:`CUE_STEP`² pixels, the trusted
    one in the flattest spot (a cue on an edge would give one side the other's colour)."""
    from scipy import ndimage

    edges = ndimage.gaussian_gradient_magnitude(lightness, 1.0)
    score = np.where(confidence > 0, confidence - edges / (edges.max() + 1e-9), -np.inf)
    height, width = confidence.shape
    rows_cells, cols_cells = -(-height // CUE_STEP), -(-width // CUE_STEP)
    padded = np.full((rows_cells * CUE_STEP, cols_cells * CUE_STEP), -np.inf)
    padded[:height, :width] = score
    cells = (
        padded.reshape(rows_cells, CUE_STEP, cols_cells, CUE_STEP)
        .transpose(0, 2, 1, 3)
        .reshape(rows_cells, cols_cells, -1)
    )
    best = cells.argmax(axis=2)
    keep = np.isfinite(np.take_along_axis(cells, best[..., None], axis=2)[..., 0])
    cell_rows, cell_cols = coordinates(keep)
    pick = best[keep]
    return cell_rows * CUE_STEP + pick // CUE_STEP, cell_cols * CUE_STEP + pick % CUE_STEP


def _lifted(gray: np.ndarray, rows: np.ndarray, cols: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Each reduced site's full-resolution pixel: in its block, the one whose gray is nearest the
    block's mean (not a speck of grain or a thin line's pixel)."""
    if factor == 1:
        return rows, cols
    blocks = np.stack(
        [gray[rows * factor + dy, cols * factor + dx] for dy in range(factor) for dx in range(factor)], axis=1
    ).astype(np.float32)
    pick = np.abs(blocks - blocks.mean(axis=1, keepdims=True)).argmin(axis=1)
    return rows * factor + pick // factor, cols * factor + pick % factor


def match_pool(
    gray: np.ndarray,
    pool: Sequence[np.ndarray | Callable[[], np.ndarray]],
    *,
    signatures: Sequence[Signature] | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    keep: int = POOL_KEEP,
    candidates: int = POOL_CANDIDATES,
    work_pixels: int = WORK_PIXELS,
    names: Sequence[str] | None = None,
    verified_only: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Cue pixels for ``gray`` from the best-matching photos of a pool of colour references."""
    gray = real_array(gray, "gray")
    if gray.ndim == 3:
        gray = to_gray(gray)
    load = [(item if callable(item) else (lambda item=item: item)) for item in pool]
    names = list(names) if names is not None else [f"reference {i + 1}" for i in range(len(load))]
    if signatures is None:
        signatures = [signature(check_reference(item(), names[i]), work_pixels) for i, item in enumerate(load)]
    matched = PoolMatch(
        gray,
        signatures,
        names=names,
        min_confidence=min_confidence,
        keep=keep,
        candidates=candidates,
        work_pixels=work_pixels,
        verified_only=verified_only,
    )
    while (index := matched.wanted()) is not None:
        matched.add(load[index]())
    return matched.result()


class PoolMatch:
    """A pool's match against one gray image, made a photo at a time (the steps of
    :func:`match_pool`): ranked by the pool's ``signatures`` when made.

    Parameters
    ----------
    gray : ndarray
        ``H×W`` gray image in [0, 1] (``H×W×3``: read as its gray).
    signatures : sequence of Signature
        The pool's signatures (:func:`signature`), one a photo, in the pool's order.
    names : sequence of str, optional
        How messages name the photos, one a photo (default "reference 1", …).
    min_confidence, keep, candidates, work_pixels, verified_only : optional
        As for :func:`match_pool`.
    target : Signature, optional
        The gray image's :func:`target_signature` at ``work_pixels``, made where the gray was read
        to rank it (a chain's photo; default: made here).
    found : sequence of Geometry, optional
        What :func:`verified` found between ``target`` and each of ``signatures``, in the pool's
        order (default: verified here).

    Raises
    ------
    InputError
        ``signatures`` not one a name.
    ValueError
        ``found`` not one a signature.

    Examples
    --------
    >>> from skimage import data
    >>> photo = data.chelsea() / 255.0
    >>> pool = [data.rocket() / 255.0, photo[:, 50:]]
    >>> matched = PoolMatch(photo[:, :400].mean(axis=2), [signature(p) for p in pool], names=["rocket", "cat"])
    >>> while (index := matched.wanted()) is not None:
    ...     matched.add(pool[index])  # read here, as the caller reads its files
    >>> mask, ab, confidence, shares = matched.result()
    >>> [matched.names[index] for index, _ in shares]
    ['cat']
    """

    def __init__(
        self,
        gray: np.ndarray,
        signatures: Sequence[Signature],
        *,
        names: Sequence[str] | None = None,
        min_confidence: float = MIN_CONFIDENCE,
        keep: int = POOL_KEEP,
        candidates: int = POOL_CANDIDATES,
        work_pixels: int = WORK_PIXELS,
        verified_only: bool = False,
        target: Signature | None = None,
        found: Sequence[Geometry] | None = None,
    ) -> None:
        gray = real_array(gray, "gray")
        if gray.ndim == 3:
            gray = to_gray(gray)
        self.names = list(names) if names is not None else [f"reference {i + 1}" for i in range(len(signatures))]
        if len(self.names) != len(signatures):
            raise InputError(f"signatures: {len(signatures)} given for {len(self.names)} references (one a reference)")
        self.gray, self.keep = gray, keep
        #: The gray image's ``(H, W)``.
        self.shape: tuple[int, int] = (gray.shape[0], gray.shape[1])
        self.min_confidence, self.work_pixels = min_confidence, work_pixels
        factor = _factor(gray.shape, work_pixels)
        # the gray's signature and its checks, made once: each photo matched in full takes them
        self._ours = target if target is not None else target_signature(gray, work_pixels)
        found = list(found) if found is not None else [verified(self._ours, theirs) for theirs in signatures]
        if len(found) != len(signatures):
            raise ValueError(f"found: {len(found)} checks for {len(signatures)} signatures")
        self._found = found
        order = sorted(
            range(len(signatures)), key=lambda i: (not found[i].trusted, -found[i].inliers, -found[i].matches, i)
        )
        # Verified references only, where any is; else the first, for scenes too plain for keypoints.
        chosen = [i for i in order[:candidates] if found[i].trusted]
        if not chosen and not verified_only:
            chosen = order[:1]
        self._left = chosen
        self.mask = np.zeros(gray.shape, bool)
        self.ab = np.zeros(gray.shape + (2,), np.float32)
        self.weight = np.zeros(gray.shape, np.float32)
        #: The cues from photos without an alpha: references known everywhere, whose colour is
        #: "this colour here" (:attr:`varcolor.Cues.points`); a chain's passed photo has an alpha.
        self.points = np.zeros(gray.shape, bool)
        self.shares: list[tuple[int, int]] = []
        self._reach = _POOL_REACH * CUE_STEP * factor

    def wanted(self) -> int | None:
        """The index in the pool of the next photo to match in full; None: the match is done
        (``keep`` photos gave cues, or every photo chosen was matched)."""
        if len(self.shares) >= self.keep or not self._left:
            return None
        return self._left[0]

    def add(self, photo: np.ndarray, *, described: bool = False) -> None:
        """Match the photo :meth:`wanted` named and keep its cues where no better photo's lie near
        them with another colour."""
        from scipy.spatial import cKDTree

        if self.wanted() is None:
            raise ValueError("the pool's match is done: it wants no more photo")
        index = self._left.pop(0)
        their_mask, their_ab, their_weight = match_reference(
            self.gray,
            photo,
            min_confidence=self.min_confidence,
            work_pixels=self.work_pixels,
            name=self.names[index],
            target=self._ours,
            geometry=self._found[index] if described else None,
        )
        if not their_mask.any():
            return
        rows, cols = coordinates(their_mask)
        if self.mask.any():
            earlier = np.stack(coordinates(self.mask), axis=1)
            distance, nearest = cKDTree(earlier).query(np.stack([rows, cols], axis=1), k=1)
            near = earlier[nearest]
            differ = np.hypot(*(their_ab[rows, cols] - self.ab[near[:, 0], near[:, 1]]).T) > _POOL_AGREE
            take = ~((distance <= self._reach) & differ) & ~self.mask[rows, cols]
            rows, cols = rows[take], cols[take]
        if not rows.size:
            return
        self.mask[rows, cols] = True
        self.ab[rows, cols] = their_ab[rows, cols]
        self.weight[rows, cols] = their_weight[rows, cols]
        if photo.shape[-1] == 3:
            self.points[rows, cols] = True
        self.shares.append((index, int(rows.size)))

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """The combined match, as :func:`match_pool` returns it: the cue mask, chroma and
        confidence, and each photo used with how many of the cues it gave, best first."""
        return self.mask, self.ab, self.weight, self.shares
