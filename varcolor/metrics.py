"""Full-reference image-quality metrics for colorization results.

Every function takes the result first and the reference second, both sRGB in [0, 1]
(``H×W×3``; gray ``H×W`` images count as R = G = B).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.color import deltaE_ciede2000
from skimage.metrics import structural_similarity

from .color import lab_to_rgb, rgb_to_lab
from .errors import InputError

__all__ = ["psnr", "ssim", "ms_ssim", "ciede2000", "ab_rmse", "colorfulness", "score", "METRICS"]

#: Column order of :func:`score`.
METRICS = ("psnr", "ssim", "ms_ssim", "ciede2000", "ciede2000_p95", "ab_rmse", "colorfulness")

# Wang et al.'s constants: an 11-tap Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, and the
# five-scale weights of MS-SSIM (2003).
_SIGMA = 1.5
_TRUNCATE = 3.5
_WINDOW = 11
_C1 = 0.01**2
_C2 = 0.03**2
_MS_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def _pair(result: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    def rgb(image, name):
        image = np.asarray(image)
        if image.dtype == np.uint8:
            image = image / 255.0
        image = np.asarray(image, dtype=np.float64)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] not in (3, 4):
            raise InputError(f"{name} must be an H×W×3 image, got shape {image.shape}")
        return image[..., :3]

    result, reference = rgb(result, "result"), rgb(reference, "reference")
    if result.shape != reference.shape:
        raise InputError(f"the result is {result.shape[1]}×{result.shape[0]} but the reference is "
                         f"{reference.shape[1]}×{reference.shape[0]}")
    return result, reference


def psnr(result: np.ndarray, reference: np.ndarray, quantize: bool = True) -> float:
    """Peak signal-to-noise ratio in dB.

    With ``quantize=True`` (the convention of the colorization literature) both images are rounded
    to 8-bit and PSNR = 20·log10(255 / √MSE); otherwise it is computed on the floats with peak 1.
    Identical images give ``inf``.

    >>> import numpy as np
    >>> round(psnr(np.full((4, 4, 3), 0.5), np.full((4, 4, 3), 0.5 + 10 / 255)), 2)
    28.13
    """
    result, reference = _pair(result, reference)
    if quantize:
        diff = np.round(result * 255.0) - np.round(reference * 255.0)
        peak = 255.0
    else:
        diff = result - reference
        peak = 1.0
    mse = float(np.mean(diff**2))
    return float("inf") if mse == 0 else float(20.0 * np.log10(peak / np.sqrt(mse)))


def ssim(result: np.ndarray, reference: np.ndarray) -> float:
    """Mean structural similarity (Wang et al. 2004: Gaussian window, σ = 1.5), averaged over RGB."""
    result, reference = _pair(result, reference)
    return float(structural_similarity(result, reference, data_range=1.0, channel_axis=-1,
                                       gaussian_weights=True, sigma=_SIGMA, use_sample_covariance=False))


def _ssim_terms(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Means of SSIM's luminance and contrast–structure maps for one channel (same filtering and
    border crop as scikit-image's ``structural_similarity``)."""
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


def ms_ssim(result: np.ndarray, reference: np.ndarray, scales: int = 5) -> float:
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003), averaged over RGB.

    ``Π_{j<M} cs_j^{w_j} · ssim_M^{w_M}`` over ``M = scales`` dyadic scales (2×2 averaging), with the
    published weights renormalised when fewer than 5 scales are asked for. The smallest scale must
    still hold an 11×11 window: at 5 scales the image needs a side of at least 176 pixels.
    """
    result, reference = _pair(result, reference)
    if not 1 <= scales <= len(_MS_WEIGHTS):
        raise InputError(f"scales must be between 1 and {len(_MS_WEIGHTS)}, got {scales}")
    need = _WINDOW * 2 ** (scales - 1)
    if min(result.shape[:2]) < need:
        raise InputError(f"MS-SSIM with {scales} scales needs images of at least {need}×{need} pixels, "
                         f"got {result.shape[1]}×{result.shape[0]}")
    weights = _MS_WEIGHTS[:scales] / _MS_WEIGHTS[:scales].sum()
    values = []
    for c in range(3):
        x, y = result[..., c], reference[..., c]
        value = 1.0
        for j in range(scales):
            full, cs = _ssim_terms(x, y)
            term = full if j == scales - 1 else cs
            value *= max(term, 0.0) ** weights[j]
            h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
            x = x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
            y = y[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        values.append(value)
    return float(np.mean(values))


def ciede2000(result: np.ndarray, reference: np.ndarray, percentile: float | None = None) -> float:
    """CIEDE2000 colour difference: the mean over pixels, or the given ``percentile`` (e.g. 95)."""
    result, reference = _pair(result, reference)
    delta = deltaE_ciede2000(rgb_to_lab(result), rgb_to_lab(reference), channel_axis=-1)
    return float(np.mean(delta) if percentile is None else np.percentile(delta, percentile))


def ab_rmse(result: np.ndarray, reference: np.ndarray) -> float:
    """Root-mean-square difference of the Lab chroma, over pixels and both channels a, b."""
    result, reference = _pair(result, reference)
    diff = rgb_to_lab(result)[..., 1:] - rgb_to_lab(reference)[..., 1:]
    return float(np.sqrt(np.mean(diff**2)))


def colorfulness(image: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness ``M = σ_rgyb + 0.3 μ_rgyb`` on the 0–255 scale.

    ``rg = R − G``, ``yb = (R + G)/2 − B``; ``σ_rgyb = √(σ_rg² + σ_yb²)``, ``μ_rgyb = √(μ_rg² + μ_yb²)``.

    >>> import numpy as np
    >>> colorfulness(np.full((2, 2, 3), 0.3))
    0.0
    """
    rgb, _ = _pair(image, image)
    r, g, b = (rgb[..., c] * 255.0 for c in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def relight(result: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The result's chroma with the reference's lightness, so that a score measures colour alone."""
    result, reference = _pair(result, reference)
    lab = rgb_to_lab(result)
    lab[..., 0] = rgb_to_lab(reference)[..., 0]
    return lab_to_rgb(lab)


def score(result: np.ndarray, reference: np.ndarray, ab_only: bool = False) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one pair (``colorfulness`` is the result's).

    ``ab_only=True`` scores the result re-lit with the reference's lightness (:func:`relight`).
    MS-SSIM is NaN for images too small for its five scales.
    """
    result, reference = _pair(result, reference)
    if ab_only:
        result = relight(result, reference)
    try:
        multi = ms_ssim(result, reference)
    except InputError:
        multi = float("nan")
    return {
        "psnr": psnr(result, reference),
        "ssim": ssim(result, reference),
        "ms_ssim": multi,
        "ciede2000": ciede2000(result, reference),
        "ciede2000_p95": ciede2000(result, reference, percentile=95),
        "ab_rmse": ab_rmse(result, reference),
        "colorfulness": colorfulness(result),
    }
