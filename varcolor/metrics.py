"""Full-reference image-quality metrics for colorization results.

Every function takes the result first and the original second, both sRGB in [0, 1] (``H×W×3``;
gray ``H×W`` images count as R = G = B; uint8 and uint16 levels are scaled to [0, 1]).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .color import lab_to_rgb, rgb_to_lab
from .common.threads import shared_pool, usable_cores
from .errors import SIZES, InputError, check_unit_range, image_size, real_array

__all__ = [
    "psnr",
    "ssim",
    "ms_ssim",
    "vif",
    "ciede2000",
    "ab_rmse",
    "colorfulness",
    "score",
    "score_bytes",
    "check_pair",
    "METRICS",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _refusing_reference(function: _F) -> _F:
    """``function`` refusing its ground truth's former keyword ``reference=`` (the word now means
    the cue photo) with a :class:`TypeError` naming ``original=``."""

    @functools.wraps(function)
    def taking(*args: Any, **kwargs: Any) -> Any:
        if "reference" in kwargs:
            raise TypeError(
                f"{function.__name__}(reference=...) is now {function.__name__}(original=...): "
                "a reference is a photo whose colours become cues"
            )
        return function(*args, **kwargs)

    return taking  # type: ignore[return-value]


#: Column order of :func:`score`.
METRICS = ("psnr", "ssim", "ms_ssim", "vif", "ciede2000", "ciede2000_p95", "ab_rmse", "colorfulness")

# Wang et al.'s constants: an 11-tap Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, and the
# five-scale weights of MS-SSIM (2003).
_SIGMA = 1.5
_TRUNCATE = 3.5
_WINDOW = 11
_C1 = 0.01**2
_C2 = 0.03**2
_MS_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def _rgb(image, name: str) -> np.ndarray:
    """``image`` as an ``H×W×3`` float64 sRGB array in [0, 1], refused in one line naming
    ``name`` where :func:`varcolor.colorize` would refuse it: not real numbers."""
    image = real_array(image, name)
    if image.dtype == bool:
        raise InputError(
            f"{name} is a bool array (a mask?), not an image: give floats in [0, 1] or 8- or 16-bit levels"
        )
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise InputError(f"{name} must be an H×W×3 (or H×W gray) image, got shape {image.shape}")
    if image.size == 0:
        raise InputError(f"{name} is empty (shape {image.shape})")
    if image.dtype in (np.uint8, np.uint16):
        image = image / float(np.iinfo(image.dtype).max)
    image = np.asarray(image[..., :3] if image.ndim == 3 else image, dtype=np.float64)
    check_unit_range(image, name)
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def check_pair(result: np.ndarray, original: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two images every score takes, checked (as the module says) and as ``H×W×3`` floats:
    of one size; a colour result against a gray (``H×W``) original is refused, its colour would
    be scored as error against no colour.

    Parameters
    ----------
    result, original : ndarray
        The colorized image and the original.
    """
    gray_original = np.ndim(original) == 2
    result, original = _rgb(result, "result"), _rgb(original, "original")
    if gray_original and not _equal_channels(result):
        raise InputError(
            "the original is gray (H×W) but the result is in colour: score a colorization against the colour original"
        )
    if result.shape != original.shape:
        raise InputError(
            f"the result is {image_size(result.shape)} but the original is {image_size(original.shape)} {SIZES}"
        )
    return result, original


@_refusing_reference
def psnr(result: np.ndarray, original: np.ndarray, quantize: bool = True) -> float:
    """Peak signal-to-noise ratio in dB.

    With ``quantize=True`` (the convention of the colorization literature) both images are rounded
    to 8-bit and PSNR = 20·log10(255 / √MSE); otherwise it is computed on the floats with peak 1.
    Identical images give ``inf``.

    Parameters
    ----------
    result, original : ndarray
        The colorized image and the original: ``H×W×3`` sRGB in [0, 1] (a gray ``H×W`` is
        taken as three equal channels), the same size.
    quantize : bool
        Round both to 8 bits first, the literature's convention (default True).

    Examples
    --------
    >>> import numpy as np
    >>> round(psnr(np.full((4, 4, 3), 0.5), np.full((4, 4, 3), 0.5 + 10 / 255)), 2)
    28.13
    """
    result, original = check_pair(result, original)
    if quantize:
        diff = np.round(result * 255.0) - np.round(original * 255.0)
        peak = 255.0
    else:
        diff = result - original
        peak = 1.0
    mse = float(np.mean(diff**2))
    return float("inf") if mse == 0 else float(20.0 * np.log10(peak / np.sqrt(mse)))


@_refusing_reference
def ssim(result: np.ndarray, original: np.ndarray) -> float:
    """Mean structural similarity (Wang et al. 2004: Gaussian window, σ = 1.5), averaged over RGB.

    Images smaller than its 11×11 window have none: one line (:func:`score` says NaN, shown n/a).

    Parameters
    ----------
    result, original : ndarray
        As :func:`psnr` takes them.
    """
    from skimage.metrics import structural_similarity

    result, original = check_pair(result, original)
    if min(result.shape[:2]) < _WINDOW:
        raise InputError(
            f"SSIM needs images of at least {_WINDOW}×{_WINDOW} pixels (its window), "
            f"got {result.shape[1]}×{result.shape[0]}"
        )
    return float(
        structural_similarity(
            result,
            original,
            data_range=1.0,
            channel_axis=-1,
            gaussian_weights=True,
            sigma=_SIGMA,
            use_sample_covariance=False,
        )
    )


def _ssim_terms(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Means of SSIM's luminance and contrast–structure maps for one channel (same filtering and
    border crop as scikit-image's ``structural_similarity``)."""
    from scipy import ndimage  # here, not at import: `varcolor metrics --help` must start fast

    blur = lambda v: ndimage.gaussian_filter(v, _SIGMA, truncate=_TRUNCATE)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    luminance = (2 * mx * my + _C1) / (mx * mx + my * my + _C1)
    contrast_structure = (2 * cxy + _C2) / (vx + vy + _C2)
    pad = (_WINDOW - 1) // 2
    crop = (slice(pad, -pad), slice(pad, -pad))
    return float((luminance * contrast_structure)[crop].mean()), float(contrast_structure[crop].mean())


@_refusing_reference
def ms_ssim(result: np.ndarray, original: np.ndarray, scales: int = 5) -> float:
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003), averaged over RGB.

    ``Π_{j<M} cs_j^{w_j} · ssim_M^{w_M}`` over ``M = scales`` dyadic scales (2×2 averaging), with the
    published weights renormalised when fewer than 5 scales are asked for. The smallest scale must
    still hold an 11×11 window: at 5 scales the image needs a side of at least 176 pixels.

    Parameters
    ----------
    result, original : ndarray
        As :func:`psnr` takes them.
    scales : int
        Dyadic scales, 1 to 5 (default 5).
    """
    result, original = check_pair(result, original)
    if not 1 <= scales <= len(_MS_WEIGHTS):
        raise InputError(f"scales must be between 1 and {len(_MS_WEIGHTS)}, got {scales}")
    need = _WINDOW * 2 ** (scales - 1)
    if min(result.shape[:2]) < need:
        raise InputError(
            f"MS-SSIM with {scales} scales needs images of at least {need}×{need} pixels, "
            f"got {result.shape[1]}×{result.shape[0]}"
        )
    # The published weights are used as published (as Wang's code does); a shorter prefix is renormalised.
    return _ms_ssim_and_ssim(result, original, scales)[0]


def _ms_ssim_and_ssim(result: np.ndarray, original: np.ndarray, scales: int) -> tuple[float, float]:
    """MS-SSIM over ``scales`` scales and SSIM."""
    channels = [_ms_ssim_channel(result[..., c], original[..., c], scales) for c in range(3)]
    return _channels_mean(channels)


def _channels_mean(channels: list[tuple[float, float]]) -> tuple[float, float]:
    """MS-SSIM and SSIM averaged over the channels' :func:`_ms_ssim_channel` values."""
    return float(np.mean([c[0] for c in channels])), float(np.mean([c[1] for c in channels]))


def _ms_ssim_channel(x: np.ndarray, y: np.ndarray, scales: int) -> tuple[float, float]:
    """One channel's MS-SSIM over ``scales`` scales and its SSIM (the first scale's full term)."""
    weights = _MS_WEIGHTS if scales == len(_MS_WEIGHTS) else _MS_WEIGHTS[:scales] / _MS_WEIGHTS[:scales].sum()
    value, first = 1.0, float("nan")
    for j in range(scales):
        full, cs = _ssim_terms(x, y)
        if j == 0:
            first = full
        term = full if j == scales - 1 else cs
        value *= max(term, 0.0) ** weights[j]
        h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
        x = x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        y = y[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    return value, first


# Pixel-domain VIF as in Sheikh & Bovik's own pixel-domain code (vifp_mscale) and the libraries that
# follow it: four scales, window side 2^(5-s)+1 with sigma side/5, "valid" filtering.
_VIF_SCALES = 4
_VIF_SIGMA_NSQ = 2.0
_VIF_EPS = 1e-10
_VIF_STRIP = 256  # output rows per strip: the statistics of a 20 MP image are never all in memory
_LUMA = np.array([0.299, 0.587, 0.114])  # BT.601 luma of the sRGB values, as the reference libraries


def _gaussian_taps(side: int) -> np.ndarray:
    """1-D taps whose outer product is MATLAB's ``fspecial('gaussian', side, side / 5)``."""
    r = np.arange(side) - (side - 1) / 2
    taps = np.exp(-(r * r) / (2 * (side / 5) ** 2))
    return taps / taps.sum()


def _filter_valid(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """``filter2(outer(taps, taps), image, 'valid')``: only windows wholly inside the image."""
    half = len(taps) // 2
    from scipy import ndimage

    rows = ndimage.correlate1d(image, taps, axis=0, mode="constant")[half : image.shape[0] - half]
    return ndimage.correlate1d(rows, taps, axis=1, mode="constant")[:, half : image.shape[1] - half]


def _luma255(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma on the 0–255 scale, float32, made strip by strip (no full-size float64 temporary)."""
    out = np.empty(rgb.shape[:2], dtype=np.float32)
    for a in range(0, rgb.shape[0], _VIF_STRIP):
        out[a : a + _VIF_STRIP] = rgb[a : a + _VIF_STRIP] @ (_LUMA * 255.0)
    return out


def _vif_sides(side: int) -> list[int]:
    """The side of the statistics map at each of the four scales (≤ 0: too small)."""
    sides = []
    for scale in range(_VIF_SCALES):
        window = 2 ** (_VIF_SCALES - scale) + 1
        if scale:
            side = (side - window + 2) // 2  # valid filtering, then every other sample
        sides.append(side - window + 1)
    return sides


def _vif_downsample(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Valid low-pass then every other row and column, strip by strip (float32 out)."""
    n = len(taps)
    rows = image.shape[0] - n + 1
    parts = [
        _filter_valid(image[a : min(a + 2 * _VIF_STRIP, rows) + n - 1].astype(np.float64), taps)[::2, ::2]
        for a in range(0, rows, 2 * _VIF_STRIP)
    ]  # an even strip keeps the sampling phase
    return np.concatenate(parts).astype(np.float32)


def _vif_sums(original: np.ndarray, result: np.ndarray, taps: np.ndarray) -> tuple[float, float]:
    """One scale's numerator and denominator: the information the result keeps, and the
    original's own, summed over every window (float64 within a strip)."""
    n = len(taps)
    rows = original.shape[0] - n + 1
    num = den = 0.0
    for a in range(0, rows, _VIF_STRIP):
        part = slice(a, min(a + _VIF_STRIP, rows) + n - 1)
        x = original[part].astype(np.float64)
        y = result[part].astype(np.float64)
        mx, my = _filter_valid(x, taps), _filter_valid(y, taps)
        sxx = np.maximum(_filter_valid(x * x, taps) - mx * mx, 0)
        syy = np.maximum(_filter_valid(y * y, taps) - my * my, 0)
        sxy = _filter_valid(x * y, taps) - mx * my
        del x, y, mx, my
        # The result as a gain times the original plus noise, with the reference code's rules.
        g = sxy / (sxx + _VIF_EPS)
        sv = syy - g * sxy
        flat = sxx < _VIF_EPS
        g[flat] = 0
        sv[flat] = syy[flat]
        sxx[flat] = 0
        flat = syy < _VIF_EPS
        g[flat] = 0
        sv[flat] = 0
        negative = g < 0
        sv[negative] = syy[negative]
        g[negative] = 0
        np.maximum(sv, _VIF_EPS, out=sv)
        num += float(np.log10(1 + g * g * sxx / (sv + _VIF_SIGMA_NSQ)).sum())
        den += float(np.log10(1 + sxx / _VIF_SIGMA_NSQ).sum())
    return num, den


@_refusing_reference
def vif(result: np.ndarray, original: np.ndarray) -> float:
    """Visual information fidelity in the pixel domain (Sheikh & Bovik 2006), on luminance.

    The share of the original's visual information (a Gaussian scale mixture seen through
    noise of variance 2, on the 0–255 scale) that survives in the result, over four dyadic
    scales: 1 for identical images, toward 0 as detail is lost.

    Parameters
    ----------
    result, original : ndarray
        As :func:`psnr` takes them.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.random.default_rng(0).random((80, 80, 3))
    >>> round(vif(image, image), 6)
    1.0
    """
    result, original = check_pair(result, original)
    if min(min(_vif_sides(side)) for side in result.shape[:2]) < 1:
        raise InputError(f"VIF needs images of at least 41×41 pixels, got {result.shape[1]}×{result.shape[0]}")
    y_ref, y_res = _luma255(original), _luma255(result)
    num = den = 0.0
    for scale in range(_VIF_SCALES):
        taps = _gaussian_taps(2 ** (_VIF_SCALES - scale) + 1)
        if scale:
            y_ref, y_res = _vif_downsample(y_ref, taps), _vif_downsample(y_res, taps)
        n, d = _vif_sums(y_ref, y_res, taps)
        num, den = num + n, den + d
    return float(num / den) if den > 0 else float("nan")


@_refusing_reference
def ciede2000(result: np.ndarray, original: np.ndarray, percentile: float | None = None) -> float:
    """CIEDE2000 colour difference: the mean over pixels, or the given ``percentile`` (e.g. 95).

    Computed on standard CIE Lab (D65, scikit-image's ``rgb2lab``), as published colorization
    scores are, not on varcolor's Lab, whose L* is the ICC connection space's (:mod:`varcolor.color`).

    Parameters
    ----------
    result, original : ndarray
        As :func:`psnr` takes them.
    percentile : float, optional
        Report this percentile of the per-pixel differences instead of their mean (e.g. 95).
    """
    result, original = check_pair(result, original)
    from skimage.color import deltaE_ciede2000, rgb2lab

    delta = deltaE_ciede2000(rgb2lab(result[..., :3]), rgb2lab(original[..., :3]), channel_axis=-1)
    return float(np.mean(delta) if percentile is None else np.percentile(delta, percentile))


@_refusing_reference
def ab_rmse(result: np.ndarray, original: np.ndarray) -> float:
    """Root-mean-square difference of the Lab chroma, over pixels and both channels a, b.

    Parameters
    ----------
    result, original : ndarray
        As :func:`psnr` takes them.
    """
    result, original = check_pair(result, original)
    diff = rgb_to_lab(result)[..., 1:] - rgb_to_lab(original)[..., 1:]
    return float(np.sqrt(np.mean(diff**2)))


def _equal_channels(rgb: np.ndarray) -> bool:
    """Whether the ``H×W×3`` image's channels are all equal (a gray image)."""
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def colorfulness(image: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness ``M = σ_rgyb + 0.3 μ_rgyb`` on the 0–255 scale.

    ``rg = R − G``, ``yb = (R + G)/2 − B``; ``σ_rgyb = √(σ_rg² + σ_yb²)``, ``μ_rgyb = √(μ_rg² + μ_yb²)``.

    Parameters
    ----------
    image : ndarray
        ``H×W×3`` sRGB in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> colorfulness(np.full((2, 2, 3), 0.3))
    0.0
    """
    rgb = _rgb(image, "image")
    r, g, b = (rgb[..., c] * 255.0 for c in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


@_refusing_reference
def relight(result: np.ndarray, original: np.ndarray) -> np.ndarray:
    """The result's chroma with the original's lightness, so that a score measures colour alone.

    Parameters
    ----------
    result, original : ndarray
        The colorized image and the original, ``H×W×3`` sRGB in [0, 1] of the same size.
    """
    result, original = check_pair(result, original)
    lab = rgb_to_lab(result)
    lab[..., 0] = rgb_to_lab(original)[..., 0]
    return lab_to_rgb(lab)


#: Peak memory of scoring one pair from files, per pixel: reading both images as float64 (48 B) plus
#: :func:`score`'s temporaries beyond the two images.
SCORE_BYTES_PER_PIXEL = 400


def score_bytes(shape: tuple[int, int]) -> int:
    """Peak memory (bytes) that scoring a result against its original of ``shape`` (``(H, W)``)
    is expected to need, the two images included (for a check before reading them).

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` of the pair.

    Examples
    --------
    >>> score_bytes((2000, 5000)) / 1e9  # a 10 MP pair: a little above its peak
    4.0
    """
    return int(shape[0]) * int(shape[1]) * SCORE_BYTES_PER_PIXEL


#: Rows of a strip of :func:`score`'s colour difference (each strip one task on the cores).
_DELTA_STRIP = 512


def _pool():
    """The threads :func:`score`'s parts run on: one a core this process may use, at most four."""
    return shared_pool("metrics", max(1, min(4, usable_cores())))


def _vif_or_nan(result: np.ndarray, original: np.ndarray) -> float:
    """:func:`vif`, NaN where the images are too small or the original flat (:func:`score`)."""
    try:
        return vif(result, original)
    except InputError:
        return float("nan")


def _colour_difference(result: np.ndarray, original: np.ndarray) -> tuple[np.ndarray, float]:
    """CIEDE2000 of each pixel of a strip (scikit-image's, on its Lab) and the sum of the squared
    a, b differences (the same a, b as varcolor's Lab: only L* differs)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    lab_result, lab_original = rgb2lab(result[..., :3]), rgb2lab(original[..., :3])
    chroma = lab_result[..., 1:] - lab_original[..., 1:]
    return deltaE_ciede2000(lab_result, lab_original, channel_axis=-1), float(np.sum(chroma * chroma))


#: The steps :func:`score` reports to its ``progress`` as each ends.
SCORE_STEPS = ("ssim", "vif", "ciede2000", "lpips")


@_refusing_reference
def score(
    result: np.ndarray,
    original: np.ndarray,
    ab_only: bool = False,
    *,
    lpips_net=None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one pair (``colorfulness`` is the result's), and
    ``lpips`` too when an LPIPS network (:func:`varcolor.neural.lpips.load`) is given.

    ``ab_only=True`` scores the result re-lit with the original's lightness (:func:`relight`).
    SSIM, MS-SSIM, VIF and LPIPS are NaN for images too small for them (VIF also for a flat
    original), so that a folder's run goes on past a tiny image.

    Parameters
    ----------
    result, original : ndarray
        As :func:`psnr` takes them.
    ab_only : bool
        Score the result re-lit with the original's lightness: colour alone (default False).
    lpips_net : optional
        An LPIPS network (:func:`varcolor.neural.lpips.load`); without it, no ``lpips`` entry.
    progress : callable, optional
        Called with each of :data:`SCORE_STEPS` as it ends (``lpips`` only with ``lpips_net``):
        a big pair's scores take a while.
    """
    said = progress if progress is not None else (lambda step: None)

    result, original = check_pair(result, original)
    if ab_only:
        result = relight(result, original)
    # What the metrics share is computed once: SSIM's filtering and each image's Lab.
    side = min(result.shape[:2])
    multi = single = float("nan")
    pool = _pool()
    ssim_jobs = []
    if side >= _WINDOW * 2 ** (len(_MS_WEIGHTS) - 1):
        ssim_jobs = [
            pool.submit(_ms_ssim_channel, result[..., c], original[..., c], len(_MS_WEIGHTS)) for c in range(3)
        ]
    strips = range(0, result.shape[0], _DELTA_STRIP)
    delta_jobs = [
        pool.submit(_colour_difference, result[a : a + _DELTA_STRIP], original[a : a + _DELTA_STRIP]) for a in strips
    ]
    vif_job = pool.submit(_vif_or_nan, result, original)
    if ssim_jobs:
        multi, single = _channels_mean([job.result() for job in ssim_jobs])
    elif side >= _WINDOW:
        single = ssim(result, original)
    said("ssim")
    fidelity = vif_job.result()
    said("vif")
    parts = [job.result() for job in delta_jobs]
    delta = np.concatenate([part[0] for part in parts])
    chroma_squares = float(sum(part[1] for part in parts))
    said("ciede2000")
    scores = {
        "psnr": psnr(result, original),
        "ssim": single,
        "ms_ssim": multi,
        "vif": fidelity,
        "ciede2000": float(np.mean(delta)),
        "ciede2000_p95": float(np.percentile(delta, 95)),
        "ab_rmse": float(np.sqrt(chroma_squares / (2 * delta.size))),
        "colorfulness": colorfulness(result),
        **(
            {}
            if lpips_net is None
            else {
                "lpips": float("nan")
                if min(result.shape[:2]) < lpips_net.MIN_SIDE
                else lpips_net.distance(result, original)
            }
        ),
    }
    if lpips_net is not None:
        said("lpips")
    return scores
