"""A layered file of more than :data:`~varcolor.io.layers.MAX_LAYERS` layers is refused in one line
from its headers (issue 71: 20,000 hidden 1×1 layers on a 200×200 canvas, an 84 kB ``.ora``,
took 89 s), before any layer's own header is read."""

import zipfile

import numpy as np
import pytest

import varcolor
import varcolor.io.layers
from varcolor.io import encode_image
from varcolor.io.layers import open_stack

from ..conftest import photo, run

SHAPE = (40, 48)


def _many_layers_ora(path, hidden: int) -> None:
    """A photo layer, a strokes layer and ``hidden`` hidden 1×1 layers above them, written by hand
    (OpenRaster)."""
    gray = photo("coffee", SHAPE).mean(axis=2)
    dot = encode_image(np.array([[[1.0, 0.0, 0.0, 1.0]]]), ".png")
    stack = ['<layer name="photo" src="data/photo.png" x="0" y="0"/>']
    stack.insert(0, '<layer name="strokes" src="data/strokes.png" x="4" y="8"/>')
    with zipfile.ZipFile(path, "w") as ora:
        ora.writestr(zipfile.ZipInfo("mimetype"), "image/openraster")
        ora.writestr("data/photo.png", encode_image(np.dstack([gray] * 3 + [np.ones(SHAPE)]), ".png"))
        ora.writestr("data/strokes.png", encode_image(np.tile([[[0.9, 0.3, 0.2, 1.0]]], (3, 36, 1)), ".png"))
        for index in range(hidden):
            ora.writestr(f"data/{index}.png", dot)
            stack.insert(
                0, f'<layer name="h{index}" src="data/{index}.png" x="{index % 40}" y="0" visibility="hidden"/>'
            )
        ora.writestr(
            "stack.xml",
            f'<?xml version="1.0"?><image w="{SHAPE[1]}" h="{SHAPE[0]}"><stack>{"".join(stack)}</stack></image>',
        )
        ora.writestr("mergedimage.png", encode_image(np.dstack([gray] * 3), ".png"))


@pytest.fixture
def no_layer_headers(monkeypatch):
    def read(*args, **kwargs):
        raise AssertionError("a layer's header was read")

    monkeypatch.setattr(varcolor.io.layers, "_png_header", read)


def test_an_ora_of_more_layers_than_the_cap_is_refused_from_stack_xml(tmp_path, capsys, no_layer_headers):
    path = tmp_path / "many.ora"
    _many_layers_ora(path, 999)  # and the photo and the strokes: one more than the cap
    code, _, err = run(capsys, "colorize", path, "-o", tmp_path / "o.png")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{path}: 1,001 layers, more than the 1,000 read" in err
    with pytest.raises(varcolor.InputError, match="1,001 layers"):
        varcolor.read_image(path)  # the composite too


def test_an_ora_of_as_many_layers_as_the_cap_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(varcolor.io.layers, "MAX_LAYERS", 3)
    path = tmp_path / "three.ora"
    _many_layers_ora(path, 1)
    assert len(open_stack(path).entries) == 3
    _many_layers_ora(path, 2)
    with pytest.raises(varcolor.InputError, match="4 layers, more than the 3 read"):
        open_stack(path)


def test_a_psd_of_more_layers_than_the_cap_is_refused_before_psd_tools_parses_it(tmp_path, monkeypatch):
    pytest.importorskip("psd_tools")
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer

    psd = PSDImage.new("RGB", (SHAPE[1], SHAPE[0]), depth=8)
    for index in range(3):
        pixels = np.zeros(SHAPE + (4,), np.uint8)
        pixels[index, index] = (255, 0, 0, 255)
        PixelLayer.fromarray(pixels, psd, name=f"l{index}")
    psd.save(tmp_path / "three.psd")
    assert varcolor.io.layers._psd_layer_count(tmp_path / "three.psd") == 3
    monkeypatch.setattr(varcolor.io.layers, "MAX_LAYERS", 2)

    def parsed(*args, **kwargs):
        raise AssertionError("psd-tools parsed the file")

    monkeypatch.setattr(PSDImage, "open", parsed)
    with pytest.raises(varcolor.InputError, match="3 layers, more than the 2 read"):
        open_stack(tmp_path / "three.psd")
