import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from varcolor import metrics
from varcolor.color import lab_to_rgb
from varcolor.errors import InputError

from .conftest import photo


def test_psnr_hand_case():
    reference = np.zeros((2, 2, 3))
    result = reference.copy()
    result[0, 0, 0] = 12 / 255  # one sample off by 12 levels: MSE = 144 / 12 = 12
    assert metrics.psnr(result, reference) == pytest.approx(20 * np.log10(255 / np.sqrt(12)))
    assert metrics.psnr(reference, reference) == float("inf")


def test_psnr_against_scikit_image(rng):
    reference = rng.random((20, 30, 3))
    result = np.clip(reference + rng.normal(0, 0.05, reference.shape), 0, 1)
    as_uint8 = lambda x: np.round(x * 255).astype(np.uint8)  # noqa: E731
    assert metrics.psnr(result, reference) == pytest.approx(
        peak_signal_noise_ratio(as_uint8(reference), as_uint8(result), data_range=255))
    assert metrics.psnr(result, reference, quantize=False) == pytest.approx(
        peak_signal_noise_ratio(reference, result, data_range=1.0))


def test_ssim_and_single_scale_ms_ssim_agree():
    reference = photo("astronaut", (200, 200))
    result = np.clip(reference + np.random.default_rng(0).normal(0, 0.04, reference.shape), 0, 1)
    assert metrics.ssim(reference, reference) == pytest.approx(1.0)
    # The MS-SSIM code computes SSIM's terms itself; at one scale it must equal scikit-image's SSIM.
    assert metrics.ms_ssim(result, reference, scales=1) == pytest.approx(metrics.ssim(result, reference), rel=1e-9)


def test_ms_ssim_properties():
    reference = photo("astronaut", (192, 192))
    assert metrics.ms_ssim(reference, reference) == pytest.approx(1.0)
    noise = np.random.default_rng(0).normal(0, 1, reference.shape)
    scores = [metrics.ms_ssim(np.clip(reference + s * noise, 0, 1), reference) for s in (0.01, 0.05, 0.2)]
    assert scores[0] > scores[1] > scores[2]
    # Blur hurts fine scales only, so MS-SSIM penalises it less than single-scale SSIM does.
    from scipy.ndimage import gaussian_filter
    blurred = gaussian_filter(reference, (1.5, 1.5, 0))
    assert metrics.ms_ssim(blurred, reference) > metrics.ssim(blurred, reference)
    with pytest.raises(InputError, match="176"):
        metrics.ms_ssim(reference[:100, :100], reference[:100, :100])


# Sharma, Wu & Dalal (2005), CIEDE2000 test data: pairs 7, 17, 18, 19, 20 (all inside sRGB).
SHARMA = [((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
          ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
          ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
          ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
          ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535)]


def test_ciede2000_published_pairs():
    first = lab_to_rgb(np.array([[p[0] for p in SHARMA]]))
    second = lab_to_rgb(np.array([[p[1] for p in SHARMA]]))
    expected = np.array([p[2] for p in SHARMA])
    for k in range(len(SHARMA)):
        assert metrics.ciede2000(first[:, k:k + 1], second[:, k:k + 1]) == pytest.approx(expected[k], abs=2e-4)
    assert metrics.ciede2000(first, second) == pytest.approx(expected.mean(), abs=2e-4)
    assert metrics.ciede2000(first, second, percentile=100) == pytest.approx(expected.max(), abs=2e-4)


def test_ab_rmse_hand_case():
    lab = np.zeros((4, 4, 3))
    lab[..., 0] = 60
    shifted = lab.copy()
    shifted[..., 1] += 3
    shifted[..., 2] += 4
    assert metrics.ab_rmse(lab_to_rgb(shifted), lab_to_rgb(lab)) == pytest.approx(np.sqrt(12.5), abs=1e-4)


def test_colorfulness_hand_case():
    image = np.zeros((2, 2, 3))
    image[0, :, 0] = 1.0  # half pure red, half black
    # rg = (255, 0): mean 127.5, std 127.5; yb = (127.5, 0): mean 63.75, std 63.75
    expected = 1.3 * np.hypot(127.5, 63.75)
    assert metrics.colorfulness(image) == pytest.approx(expected)


def test_score_and_ab_only():
    reference = photo("coffee", (180, 200))
    darker = np.clip(reference * 0.8, 0, 1)
    plain = metrics.score(darker, reference)
    assert set(plain) == set(metrics.METRICS)
    # Re-lit with the reference's lightness, a pure lightness change nearly vanishes.
    colour_only = metrics.score(darker, reference, ab_only=True)
    assert colour_only["psnr"] > plain["psnr"] + 5
    with pytest.raises(InputError, match="reference is"):
        metrics.psnr(reference, reference[:10])
