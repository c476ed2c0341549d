"""The painter's repaints after an edit: small windows of a big image run the kernel the first
paint compiled, not the array code a small image of their size would take."""

import numpy as np
import pytest

from varcolor import color
from varcolor.common.kernels import ARRAY_CODE_PIXELS
from varcolor.painting import Painter


def _recording(monkeypatch):
    """Each paint's (pixels, whether array code ran): floats (``_srgb_of``), or levels straight
    from the kernel (``_levels_of``)."""
    seen = []
    original, levels = color._srgb_of, color._levels_of

    def recorded(lightness, ab, gamut, out, array):
        seen.append((np.size(lightness), array))
        return original(lightness, ab, gamut, out, array)

    def recorded_levels(lightness, ab, gamut, out, *scratch):
        seen.append((np.size(lightness), False))
        return levels(lightness, ab, gamut, out, *scratch)

    monkeypatch.setattr(color, "_srgb_of", recorded)
    monkeypatch.setattr(color, "_levels_of", recorded_levels)
    return seen


def test_a_window_of_a_big_image_is_painted_as_the_whole_would_be(monkeypatch, rng):
    monkeypatch.setenv("VARCOLOR_KERNELS", "array")  # array code up to ARRAY_CODE_PIXELS, kernels past it
    seen = _recording(monkeypatch)
    lightness, ab = rng.uniform(20, 80, (8, 9)), rng.normal(0, 20, (8, 9, 2))
    alone = color.chroma_to_rgb(lightness, ab, out=np.empty((8, 9, 3), np.uint8))
    assert [array for _, array in seen] == [True]
    within = color.chroma_to_rgb(lightness, ab, out=np.empty((8, 9, 3), np.uint8), image_pixels=ARRAY_CODE_PIXELS + 1)
    assert [array for _, array in seen] == [True, False]
    assert np.array_equal(alone, within)  # the same colours either way (the two held equal elsewhere)


def test_the_painters_repaint_of_a_big_images_windows_runs_the_kernel(monkeypatch, rng):
    monkeypatch.setenv("VARCOLOR_KERNELS", "array")
    height, width = 1100, 1200  # just past ARRAY_CODE_PIXELS
    assert height * width > ARRAY_CODE_PIXELS
    gray = rng.uniform(0.2, 0.8, (height, width))
    painter = Painter(gray, "lab", "chroma", bits=8)
    chroma = rng.normal(0, 15, (height, width, 2))
    last = painter.paint(chroma)
    seen = _recording(monkeypatch)
    changed = chroma.copy()
    windows = [(slice(10, 40), slice(20, 60)), (slice(500, 520), slice(0, 1200))]
    for window in windows:
        changed[window] += 5.0
    rgb, _ = painter.paint(changed, windows, last)
    assert seen and not any(array for _, array in seen)
    assert all(size < ARRAY_CODE_PIXELS for size, _ in seen)  # windows, yet the kernel
    assert np.array_equal(rgb, painter.paint(changed)[0])  # the same as a whole repaint


def test_windows_over_most_of_the_image_are_painted_whole_with_the_same_colours(monkeypatch, rng):
    """An update whose windows cover most of the image is painted as one (fewer passes, no copy of
    the last result): the pixels outside the windows come out as the last result had them."""
    from varcolor import painting

    gray = rng.uniform(0.2, 0.8, (60, 80))
    painter = Painter(gray, "lab", "chroma", bits=8)
    chroma = rng.normal(0, 40, (60, 80, 2))  # a share outside sRGB: the gamut search too
    last = painter.paint(chroma)
    changed = chroma.copy()
    most = [(slice(0, 30), slice(0, 80)), (slice(30, 50), slice(10, 80))]  # 0.79 of the image
    few = [(slice(5, 15), slice(5, 25))]
    for window in most:
        changed[window] += 3.0
    calls = []
    original = painting.Painter._paint
    monkeypatch.setattr(
        painting.Painter, "_paint", lambda self, c, w, r, a: calls.append(w) or original(self, c, w, r, a)
    )
    whole, _ = painter.paint(changed, most, (last[0].copy(), last[1]))
    assert calls == [(slice(None), slice(None))]
    monkeypatch.setattr(painting, "WHOLE_PAINT_SHARE", 1.1)  # never whole: window by window
    calls.clear()
    by_windows, _ = painter.paint(changed, most, (last[0].copy(), last[1]))
    assert calls == most
    assert np.array_equal(whole, by_windows)
    monkeypatch.setattr(painting, "WHOLE_PAINT_SHARE", 0.6)
    calls.clear()
    painter.paint(changed, few, (last[0].copy(), last[1]))
    assert calls == few  # a small window: painted alone


def _chroma(rng, shape, spread):
    """Chroma of ``spread`` (ab), many colours outside sRGB where it is large."""
    return rng.normal(0.0, spread, shape + (2,)).astype(np.float32)


@pytest.mark.parametrize("gamut", ["chroma", "clip"])
@pytest.mark.parametrize("bits", [None, 8, 16])
def test_the_paint_on_a_device_gives_the_cpus_colours(rng, gamut, bits):
    """The whole image painted by the device's array code (NumPy in CuPy's place, so the array
    code runs, not the CPU's kernel) gives the CPU painter's colours: floats within 1e-9, levels
    within one level where a value sits on a rounding edge (none here), colours outside sRGB
    (chroma 80) brought in alike."""
    from varcolor.methods.multiscale_device import numpy_device

    gray = rng.random((60, 70))
    chroma = _chroma(rng, gray.shape, 80.0)
    cpu_rgb, cpu_ab = Painter(gray, "lab", gamut, bits).paint(chroma)
    device = Painter(gray, "lab", gamut, bits, device=numpy_device())
    rgb, ab = device.paint(chroma)
    assert rgb.dtype == cpu_rgb.dtype and ab is chroma
    if bits is None:
        assert np.abs(rgb - cpu_rgb).max() <= 1e-9
    else:
        assert np.abs(rgb.astype(int) - cpu_rgb.astype(int)).max() <= 1 and np.mean(rgb == cpu_rgb) > 0.999
    again, _ = device.paint(chroma * 0.5)  # the lightness kept on the device for the next paint
    assert np.abs(again.astype(float) - Painter(gray, "lab", gamut, bits).paint(chroma * 0.5)[0]).max() <= 1


def test_a_colorizer_asked_for_a_gpu_solves_and_paints_there(monkeypatch):
    """``device="cuda"`` end to end, NumPy standing in for CuPy: the default engine's device
    path and the device's paint give the CPU's result (8-bit levels within one, floats 1e-3 ab)."""
    import varcolor
    from varcolor import api
    from varcolor.methods import multiscale_device
    from varcolor.solvers import choice

    from .methods.test_multiscale_device import ONE_TILE, scene

    stand_in = multiscale_device.numpy_device()
    for module in (api, multiscale_device, choice):
        monkeypatch.setattr(module, "backend", lambda name, **_: stand_in)
    gray, cues = scene(ONE_TILE)
    cpu = varcolor.Colorizer(gray, bits=8).solve(cues)
    colorizer = varcolor.Colorizer(gray, device="cuda", bits=8)
    assert colorizer.painter.device is stand_in and colorizer.engine.device is stand_in
    result = colorizer.solve(cues)
    assert result.info["engine"]["device"] == "numpy-device"
    assert np.abs(result.ab - cpu.ab).max() <= 1e-3
    assert np.abs(result.rgb.astype(int) - cpu.rgb.astype(int)).max() <= 1
