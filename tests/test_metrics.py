import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio

import varcolor
from varcolor import metrics
from varcolor.color import lab_to_rgb
from varcolor.errors import InputError

from .conftest import one_torch_thread, photo, run


def test_psnr_hand_case():
    original = np.zeros((2, 2, 3))
    result = original.copy()
    result[0, 0, 0] = 12 / 255  # one sample off by 12 levels: MSE = 144 / 12 = 12
    assert metrics.psnr(result, original) == pytest.approx(20 * np.log10(255 / np.sqrt(12)))
    assert metrics.psnr(original, original) == float("inf")


def test_psnr_against_scikit_image(rng):
    original = rng.random((20, 30, 3))
    result = np.clip(original + rng.normal(0, 0.05, original.shape), 0, 1)
    as_uint8 = lambda x: np.round(x * 255).astype(np.uint8)  # noqa: E731
    assert metrics.psnr(result, original) == pytest.approx(
        peak_signal_noise_ratio(as_uint8(original), as_uint8(result), data_range=255)
    )
    assert metrics.psnr(result, original, quantize=False) == pytest.approx(
        peak_signal_noise_ratio(original, result, data_range=1.0)
    )


def test_ssim_and_single_scale_ms_ssim_agree():
    original = photo("astronaut", (200, 200))
    result = np.clip(original + np.random.default_rng(0).normal(0, 0.04, original.shape), 0, 1)
    assert metrics.ssim(original, original) == pytest.approx(1.0)
    # The MS-SSIM code computes SSIM's terms itself; at one scale it must equal scikit-image's SSIM.
    assert metrics.ms_ssim(result, original, scales=1) == pytest.approx(metrics.ssim(result, original), rel=1e-9)


def test_ms_ssim_properties():
    original = photo("astronaut", (192, 192))
    assert metrics.ms_ssim(original, original) == pytest.approx(1.0)
    noise = np.random.default_rng(0).normal(0, 1, original.shape)
    scores = [metrics.ms_ssim(np.clip(original + s * noise, 0, 1), original) for s in (0.01, 0.05, 0.2)]
    assert scores[0] > scores[1] > scores[2]
    # Blur hurts fine scales only, so MS-SSIM penalises it less than single-scale SSIM does.
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(original, (1.5, 1.5, 0))
    assert metrics.ms_ssim(blurred, original) > metrics.ssim(blurred, original)
    with pytest.raises(InputError, match="176"):
        metrics.ms_ssim(original[:100, :100], original[:100, :100])


# Sharma, Wu & Dalal (2005), CIEDE2000 test data: pairs 7, 17, 18, 19, 20 (all inside sRGB).
SHARMA = [
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
]


def test_ciede2000_published_pairs():
    # The pairs are standard CIELAB (D65), which the metric is computed on (not varcolor's Lab,
    # whose L* is the ICC connection space's): their colours by scikit-image's lab2rgb.
    from skimage.color import lab2rgb

    first = lab2rgb(np.array([[p[0] for p in SHARMA]]))
    second = lab2rgb(np.array([[p[1] for p in SHARMA]]))
    expected = np.array([p[2] for p in SHARMA])
    for k in range(len(SHARMA)):
        assert metrics.ciede2000(first[:, k : k + 1], second[:, k : k + 1]) == pytest.approx(expected[k], abs=2e-4)
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
    original = photo("coffee", (180, 200))
    darker = np.clip(original * 0.8, 0, 1)
    plain = metrics.score(darker, original)
    assert set(plain) == set(metrics.METRICS)
    # Re-lit with the original's lightness, a pure lightness change nearly vanishes.
    colour_only = metrics.score(darker, original, ab_only=True)
    assert colour_only["psnr"] > plain["psnr"] + 5
    with pytest.raises(InputError, match="original is"):
        metrics.psnr(original, original[:10])


# ---------------------------------------------------------------- VIF

#: Photos and distortions on which VIF is checked against the reference implementations.
VIF_CASES = [
    (name, kind)
    for name in ("astronaut", "coffee", "chelsea", "camera")
    for kind in ("blur1", "blur3", "noise", "jpeg20", "colour")
]


def vif_case(name: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(distorted, original): a scikit-image photo at full size and one distortion of it."""
    original = getattr(skimage.data, name)()
    if original.ndim == 2:
        original = np.repeat(original[..., None], 3, axis=2)
    original = original[..., :3] / 255.0
    if kind.startswith("blur"):
        result = ndimage.gaussian_filter(original, (int(kind[4:]), int(kind[4:]), 0))
    elif kind == "noise":
        result = np.clip(original + np.random.default_rng(0).normal(0, 0.05, original.shape), 0, 1)
    elif kind == "jpeg20":
        buffer = io.BytesIO()
        Image.fromarray(np.round(original * 255).astype(np.uint8)).save(buffer, "JPEG", quality=20)
        result = np.asarray(Image.open(buffer)) / 255.0
    else:  # a colour cast
        result = np.clip(original + [0.06, -0.04, 0.03], 0, 1)
    return result, original


def test_ms_ssim_matches_pytorch_msssim():
    # pytorch-msssim (an independent PyTorch implementation) follows the same conventions: an 11-tap
    # Gaussian of sigma 1.5 with "valid" filtering (ours filters then crops the 5-pixel border: the
    # same pixels), K1 = 0.01, K2 = 0.03, the published weights, 2×2 averaging between scales, the
    # per-channel product averaged over RGB. Its 2×2 pooling zero-pads an odd side where ours drops
    # the last row, so the photos are cropped to sides divisible by 16 (every scale even).
    torch = pytest.importorskip("torch")
    reference_ms_ssim = pytest.importorskip("pytorch_msssim").ms_ssim
    taps = np.exp(-(np.arange(-5, 6) ** 2) / (2 * 1.5**2))
    window = torch.from_numpy(taps / taps.sum())[None, None].repeat(3, 1, 1, 1)  # its window, in float64
    as_tensor = lambda x: torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))  # noqa: E731
    with one_torch_thread():
        _ms_ssim_cases(reference_ms_ssim, window, as_tensor)


def _ms_ssim_cases(reference_ms_ssim, window, as_tensor):
    for name, kind in VIF_CASES[::2]:
        result, reference = vif_case(name, kind)
        # 256² of each (its last scale 16², past the window's 11): a quarter of the whole photos'
        # float64 convolutions, the same arithmetic compared.
        crop = (slice(min(256, reference.shape[0] // 16 * 16)), slice(min(256, reference.shape[1] // 16 * 16)))
        ours = metrics.ms_ssim(result[crop], reference[crop])
        x, y = as_tensor(result[crop]), as_tensor(reference[crop])
        # The same float64 arithmetic in another order: equal to rounding (measured: 1e-14 at worst).
        assert ours == pytest.approx(float(reference_ms_ssim(x, y, data_range=1.0, win=window)), abs=1e-12), (
            name,
            kind,
        )
        # Its default window is built in float32 (taps rounded to ~6e-8): measured 3e-6 at worst.
        assert ours == pytest.approx(float(reference_ms_ssim(x, y, data_range=1.0)), abs=2e-5), (name, kind)


def test_vif_of_an_image_with_itself_is_one():
    original = photo("astronaut", (200, 240))
    assert metrics.vif(original, original) == pytest.approx(1.0, abs=1e-6)
    gray = photo("camera", (100, 100))[..., 0]
    assert metrics.vif(gray, gray) == pytest.approx(1.0, abs=1e-6)


def test_vif_falls_as_blur_and_noise_grow():
    original = photo("chelsea", (240, 320))
    blurred = [metrics.vif(ndimage.gaussian_filter(original, (s, s, 0)), original) for s in (0.5, 1, 2, 4)]
    assert 1 > blurred[0] > blurred[1] > blurred[2] > blurred[3] > 0
    noise = np.random.default_rng(0).normal(0, 1, original.shape)
    noisy = [metrics.vif(np.clip(original + s * noise, 0, 1), original) for s in (0.01, 0.03, 0.1, 0.3)]
    assert 1 > noisy[0] > noisy[1] > noisy[2] > noisy[3] > 0


@pytest.mark.slow  # 7-8 s (sewar's Python loops); make test keeps the recorded piq rows, every case
def test_vif_matches_sewar_vifp_on_luma():
    # sewar's vifp is a line-by-line port of the authors' pixel-domain code: on the same luma
    # (0–255) it must agree with ours to rounding.
    sewar = pytest.importorskip("sewar.full_ref")
    luma = np.array([0.299, 0.587, 0.114])
    for name, kind in VIF_CASES[::3]:
        result, original = vif_case(name, kind)
        expected = sewar.vifp(original @ luma * 255, result @ luma * 255)
        assert metrics.vif(result, original) == pytest.approx(expected, rel=1e-6), (name, kind)


def test_vif_matches_recorded_piq_vif_p():
    # piq's vif_p (float32, EPS 1e-8) on these photos, recorded by tests/data/make_vif_piq.py.
    recorded = json.loads((Path(__file__).parent / "data" / "vif_piq.json").read_text())["rows"]
    assert len(recorded) == len(VIF_CASES)
    for row in recorded:
        result, original = vif_case(row["image"], row["distortion"])
        assert metrics.vif(result, original) == pytest.approx(row["vif_p"], rel=5e-3), row


def test_vif_is_computed_in_strips_without_changing_it(monkeypatch):
    result, original = vif_case("coffee", "noise")
    whole = metrics.vif(result, original)
    monkeypatch.setattr(metrics, "_VIF_STRIP", 7)  # many strips, odd boundaries
    assert metrics.vif(result, original) == pytest.approx(whole, rel=1e-12)


def test_vif_edge_cases():
    image = photo("astronaut", (41, 70))
    assert metrics.vif(image * 0.5, image) < 1  # 41 pixels: the smallest size with every scale
    with pytest.raises(InputError, match="41×41"):
        metrics.vif(image[:40], image[:40])
    flat = np.full((80, 80, 3), 0.4)
    textured = photo("astronaut", (80, 80))
    assert np.isnan(metrics.vif(textured, flat))  # a flat original holds no information
    assert metrics.vif(flat, textured) == 0.0  # a flat result keeps none of it
    assert np.isnan(metrics.score(image[:40], image[:40])["vif"])
    assert metrics.score(image, image)["vif"] == pytest.approx(1.0, abs=1e-6)


# --- ambiguous originals and pairs too large for memory (issue 36) ---


def test_metrics_refuses_an_original_named_twice(tmp_path, capsys):
    import varcolor

    from .conftest import run

    (tmp_path / "res").mkdir()
    (tmp_path / "orig").mkdir()
    image = photo("coffee", (32, 40))
    varcolor.write_image(tmp_path / "res" / "k01.png", image)
    varcolor.write_image(tmp_path / "res" / "k02.png", image)
    varcolor.write_image(tmp_path / "orig" / "k01.png", image)
    varcolor.write_image(tmp_path / "orig" / "k01.jpg", image[::-1])  # which one is k01's original?
    varcolor.write_image(tmp_path / "orig" / "k02.png", image)
    code, out, err = run(capsys, "metrics", tmp_path / "res", "-r", tmp_path / "orig")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "k01.jpg" in err and "k01.png" in err and "ambiguous original" in err
    # With one of them gone, both images are scored (k01 against its identical twin: no error).
    (tmp_path / "orig" / "k01.jpg").unlink()
    code, out, err = run(capsys, "metrics", tmp_path / "res", "-r", tmp_path / "orig", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [row["image"] for row in rows[:2]] == ["k01.png", "k02.png"] and rows[0]["ciede2000"] == 0


def test_metrics_refuses_a_pair_too_large_for_memory_before_reading_it(tmp_path, capsys, monkeypatch):
    import zlib

    import varcolor

    from .conftest import png_declaring, run

    rows = zlib.compress(b"".join(b"\x00" + bytes(7000 * 3) for _ in range(8)))
    for folder in ("res", "orig"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "big.png").write_bytes(png_declaring(7000, 10000, color=2, data=rows))  # 70 MP
        varcolor.write_image(tmp_path / folder / "small.png", photo("coffee", (32, 40)))
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("pixels decoded"))
    monkeypatch.setattr(varcolor.common.memory, "available_bytes", lambda: 16 << 30)  # a large machine
    single = ["metrics", tmp_path / "res" / "big.png", "-r", tmp_path / "orig" / "big.png"]
    code, out, err = run(capsys, *single)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "big.png: scoring a 7000×10000 pair needs about 28.0 GB of memory" in err
    monkeypatch.undo()  # the small pair is read; the big one is still refused, the run goes on
    monkeypatch.setattr(varcolor.common.memory, "available_bytes", lambda: 16 << 30)
    code, out, err = run(capsys, "metrics", tmp_path / "res", "-r", tmp_path / "orig", "--format", "json")
    assert code == 1 and [row["image"] for row in json.loads(out)] == ["small.png", "mean (1)"]
    assert "big.png: scoring a 7000×10000 pair needs about" in err
    code, _, err = run(capsys, *single, "--max-memory", "1")
    assert code == 2 and "more than the budget of 1.0 GB" in err
    assert metrics.score_bytes((7000, 10000)) > 10 * 7000 * 10000  # at least the images and a few copies


PUBLIC = [
    name for name in metrics.__all__ if callable(getattr(metrics, name)) and name not in ("score_bytes", "check_pair")
]


def _call(name, result, original):
    function = getattr(metrics, name)
    value = function(result) if name == "colorfulness" else function(result, original)
    return value["ciede2000"] if name == "score" else value


@pytest.mark.parametrize("name", PUBLIC)
def test_every_metric_refuses_what_colorize_refuses_in_one_line(name):
    rgb = photo("coffee", (180, 200))  # MS-SSIM needs a side of 176
    gray = rgb.mean(axis=2)
    with_nan = rgb.copy()
    with_nan[3, 4, 1] = np.nan
    with_inf = rgb.copy()
    with_inf[5, 6, 0] = np.inf
    for bad, says in (
        (rgb * 255, "values in [0, 1], got"),  # 8-bit levels as floats: PSNR would be -38.9 dB
        (rgb - 0.5, "values in [0, 1], got"),
        (with_nan, "non-finite"),
        (with_inf, "non-finite"),
        (rgb.astype(complex), "real numbers"),
        (rgb[..., :2], "H×W×3"),
        (rgb[None], "H×W×3"),
        (np.zeros((0, 0, 3)), "empty"),
    ):
        for spoilt in ("result", "original") if name != "colorfulness" else ("result",):
            pair = (bad, rgb) if spoilt == "result" else (rgb, bad)
            with pytest.raises(InputError, match=re.escape(says)) as refused:
                _call(name, *pair)
            message = str(refused.value)
            assert "\n" not in message and message.startswith(spoilt if name != "colorfulness" else "image")
            # colorize refuses the same values as a gray image
            if bad.ndim == 3 and bad.shape[-1] == 3 and bad.size and not np.iscomplexobj(bad):
                with pytest.raises(InputError):
                    varcolor.colorize(bad, varcolor.Cues.from_points([], rgb.shape[:2]))
    # What it takes: floats in [0, 1], gray H×W, RGBA (alpha dropped), 8- and 16-bit levels.
    other = np.clip(rgb * 0.8 + 0.1, 0, 1)
    original = _call(name, rgb, other)
    levels8 = np.round(rgb * 255).astype(np.uint8)
    levels16 = np.round(rgb * 65535).astype(np.uint16)
    rgba = np.concatenate([rgb, np.ones(rgb.shape[:2] + (1,))], axis=2)
    assert _call(name, rgba, other) == pytest.approx(original, nan_ok=True)
    assert _call(name, levels16, other) == pytest.approx(original, rel=1e-3, abs=1e-3, nan_ok=True)
    assert np.isfinite(_call(name, levels8, other)) or name == "vif"
    assert np.isfinite(_call(name, gray, rgb)) or name == "vif"  # a gray result against its colour original


def test_metrics_of_a_result_folder_against_an_original_file_names_the_mismatch(tmp_path, capsys):
    """A folder of results (here one named like an image) with an original *file*: one line that
    says a folder of originals is needed, not '<original file>: no such folder' (it exists)."""
    (tmp_path / "results.png").mkdir()
    varcolor.write_image(tmp_path / "results.png" / "a.png", np.full((20, 20, 3), 0.5))
    varcolor.write_image(tmp_path / "orig.png", np.full((20, 20, 3), 0.5))
    code, _, err = run(capsys, "metrics", tmp_path / "results.png", "-r", tmp_path / "orig.png")
    assert code == 2 and err.count("\n") == 1, err
    assert f"{tmp_path / 'orig.png'}: " in err and "no such folder" not in err and "folder of originals" in err, err


@pytest.mark.parametrize("name", ["psnr", "score", "ciede2000"])
def test_the_former_keyword_reference_is_refused_naming_original(name):
    """The ground truth is ``original=``; ``reference=`` (the word means the cue photo) is refused
    in one line naming the new keyword, never taken for the ground truth."""
    original = photo("astronaut", (64, 64))
    result = np.clip(original * 0.9 + 0.05, 0, 1)
    with pytest.raises(TypeError, match=rf"{name}\(reference=...\) is now {name}\(original=...\)"):
        getattr(metrics, name)(result, reference=original)
    assert np.isfinite(metrics.psnr(result, original=original))


def test_score_shares_its_work_and_gives_each_metrics_own_value():
    """Issue 96, item 5: score filters each image once for SSIM and MS-SSIM and converts each to
    Lab once (CIEDE2000's mean and 95th percentile, the ab RMSE): the same values as each metric's
    own function, and its steps said as they end."""
    import skimage.data
    from skimage.transform import resize

    original = resize(skimage.data.astronaut() / 255.0, (200, 240), anti_aliasing=True)
    result = np.clip(original + np.random.default_rng(3).normal(0, 0.04, original.shape), 0, 1)
    steps = []
    scores = varcolor.metrics.score(result, original, progress=steps.append)
    m = varcolor.metrics
    assert scores["ssim"] == m.ssim(result, original) and scores["ms_ssim"] == m.ms_ssim(result, original)
    assert scores["ciede2000"] == m.ciede2000(result, original)
    assert scores["ciede2000_p95"] == m.ciede2000(result, original, percentile=95)
    assert abs(scores["ab_rmse"] - m.ab_rmse(result, original)) < 1e-12
    assert steps == ["ssim", "vif", "ciede2000"]
    small = varcolor.metrics.score(result[:60, :80], original[:60, :80])  # too small for MS-SSIM, not for SSIM
    assert np.isnan(small["ms_ssim"]) and small["ssim"] == m.ssim(result[:60, :80], original[:60, :80])


def test_metrics_names_a_bad_file_once(tmp_path, capsys):
    """A truncated result was named twice ("bad.png: bad.png: ...")."""
    varcolor.write_image(tmp_path / "orig.png", skimage.data.astronaut()[:64, :64] / 255.0)
    (tmp_path / "bad.png").write_bytes((tmp_path / "orig.png").read_bytes()[:200])
    code, _, err = run(capsys, "metrics", tmp_path / "bad.png", "-r", tmp_path / "orig.png")
    assert code == 2 and err.count("\n") == 1 and err.count("bad.png") == 1, err
