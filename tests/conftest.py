"""Helpers shared by the test modules: scikit-image photos, small colorization problems, image
files on disk, the command-line runner, hand-made PNG headers, random LPIPS weights, and the mark
for tests that need the optional neural extra."""

import importlib.util
import signal
import zlib

import numpy as np
import pytest
import skimage.data
from skimage.transform import resize

import varcolor
from varcolor.color import same_lightness_gray
from varcolor.cues import sample_random

#: scikit-image photos the file-writing helpers cycle through.
PHOTOS = ("coffee", "astronaut", "chelsea")
#: The exactness bound on a and b that every solver must meet against the direct solve (issue 3).
MAX_AB = 0.05

needs_torch = pytest.mark.skipif(not importlib.util.find_spec("torch"), reason="needs the neural extra")


def photo(name: str, shape: tuple[int, int]) -> np.ndarray:
    """A scikit-image photo resized to ``shape``, RGB in [0, 1]."""
    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return resize(image[..., :3] / 255.0, shape, anti_aliasing=True)


def gray_and_cues(name, shape, count, rng):
    """A photo's same-lightness gray and ``count`` random cues of its colours."""
    rgb = photo(name, shape)
    return same_lightness_gray(rgb), sample_random(rgb, count, rng=rng)


def stroke(shape, rows, columns, ab):
    """Cues of one colour ``ab`` over ``[rows, columns]``, as a brush would paint them."""
    mask = np.zeros(shape, bool)
    mask[rows, columns] = True
    return varcolor.Cues(mask, np.where(mask[..., None], ab, 0.0))


def strokes(shape):
    """A short stroke in the middle, then one at the image's corner (its window meets the border)."""
    return (
        stroke(shape, shape[0] // 2, slice(shape[1] // 3, shape[1] // 3 + 16), (35.0, -25.0)),
        stroke(shape, slice(1, 4), 1, (-20.0, 40.0)),
    )


def make_pair(folder, name="img", shape=(24, 32), seed=0):
    """A gray image and its marked copy (a few coloured pixels), plus the colour original."""
    rgb = photo("coffee", shape)
    gray = same_lightness_gray(rgb)
    marked = np.repeat(gray[..., None], 3, axis=2)
    mask = np.random.default_rng(seed).random(shape) < 0.05
    marked[mask] = rgb[mask]
    folder.mkdir(parents=True, exist_ok=True)
    varcolor.write_image(folder / f"{name}.png", gray)
    varcolor.write_image(folder / f"{name}_marked.png", marked)
    return rgb


def colour_photos(folder, names=("a", "b"), suffix=".png", shape=(32, 40)):
    """Colour photos ``NAME + suffix`` in ``folder``; every file there, name → bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        varcolor.write_image(folder / f"{name}{suffix}", photo(PHOTOS[index % len(PHOTOS)], shape))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def run(capsys, *argv):
    """``varcolor ARGV…`` in this process: (exit code, stdout, stderr)."""
    from varcolor.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def default_sigint() -> None:
    """``preexec_fn`` of a child process that a test interrupts: SIGINT back to its default. A test
    runner started in the background (``pytest … &`` in a script) ignores SIGINT, and an ignored
    signal stays ignored in its children: they would never see the Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def png_declaring(width, height, *, color, data):
    """A PNG whose header declares ``width``×``height`` (8-bit, colour type ``color``) over the
    compressed rows ``data``, whatever their real size: how a decompression bomb looks."""

    def chunk(tag, payload):
        return len(payload).to_bytes(4, "big") + tag + payload + zlib.crc32(tag + payload).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, color, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


# torchvision's AlexNet features: index → (in, out, kernel).
ALEXNET_CONVS = {0: (3, 64, 11), 3: (64, 192, 5), 6: (192, 384, 3), 8: (384, 256, 3), 10: (256, 256, 3)}


def random_backbone(seed: int = 0) -> dict:
    """A torchvision-layout AlexNet state dict with He-scaled random weights (NumPy's generator,
    the same on every platform), plus a classifier tensor that LPIPS must ignore."""
    import torch

    rng = np.random.default_rng(seed)
    state = {}
    for index, (c_in, c_out, k) in ALEXNET_CONVS.items():
        state[f"features.{index}.weight"] = rng.normal(0, np.sqrt(2 / (c_in * k * k)), (c_out, c_in, k, k))
        state[f"features.{index}.bias"] = rng.normal(0, 0.01, c_out)
    state["classifier.6.bias"] = np.zeros(1000)
    return {key: torch.from_numpy(value.astype(np.float32)) for key, value in state.items()}


def random_calibration(seed: int = 1) -> dict:
    """LPIPS-layout calibration: non-negative channel weights, as the trained ones are."""
    import torch

    from varcolor.neural.lpips import CHANNELS

    rng = np.random.default_rng(seed)
    return {
        f"lin{i}.model.1.weight": torch.from_numpy(np.abs(rng.normal(0, 0.1, (1, c, 1, 1))).astype(np.float32))
        for i, c in enumerate(CHANNELS)
    }


@pytest.fixture
def astronaut_small():
    return photo("astronaut", (40, 48))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
