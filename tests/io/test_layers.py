"""Layered files in and out (issue 50): a stroke layer painted in an OpenRaster or Photoshop file
colorizes as the same strokes given as a marked image; a layered result's composite is the flat
result; which layers are taken, and what is refused in one line."""

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

import varcolor
from varcolor.color import same_lightness_gray
from varcolor.errors import InputError

from ..conftest import photo, png_declaring, run

SHAPE = (40, 48)


def _gray_and_strokes():
    """An 8-bit gray photo and a stroke layer (two strokes of saturated colour on transparency)."""
    gray = np.round(same_lightness_gray(photo("coffee", SHAPE)) * 255) / 255
    strokes = np.zeros(SHAPE + (4,))
    strokes[8:11, 4:40] = [220 / 255, 60 / 255, 40 / 255, 1.0]
    strokes[27:30, 10:44] = [40 / 255, 90 / 255, 210 / 255, 1.0]
    return gray, strokes


def _png(pixels):
    return varcolor.io.encode_image(pixels, ".png")


def _rgba(gray):
    return np.dstack([gray, gray, gray, np.ones_like(gray)])


def _ora(path, layers):
    """An OpenRaster file written by hand from its specification: (name, RGBA, visible), bottom
    first; each layer stored cropped to its painted box at its offset, as Krita and GIMP store it."""
    stack = []
    with zipfile.ZipFile(path, "w") as ora:
        ora.writestr(zipfile.ZipInfo("mimetype"), "image/openraster")
        for index, (name, pixels, visible) in enumerate(layers):
            rows, cols = np.nonzero(pixels[..., 3] > 0)
            top, left = rows.min(), cols.min()
            crop = pixels[top : rows.max() + 1, left : cols.max() + 1]
            ora.writestr(f"data/{index}.png", _png(crop))
            shown = "visible" if visible else "hidden"
            stack.insert(0, f'<layer name="{name}" src="data/{index}.png" x="{left}" y="{top}" visibility="{shown}"/>')
        ora.writestr(
            "stack.xml",
            f'<?xml version="1.0"?><image w="{SHAPE[1]}" h="{SHAPE[0]}"><stack>{"".join(stack)}</stack></image>',
        )
        ora.writestr("mergedimage.png", _png(layers[0][1]))


def _psd(path, layers):
    """A Photoshop file made with psd-tools' own API: (name, RGBA, visible), bottom first."""
    pytest.importorskip("psd_tools")
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer

    psd = PSDImage.new("RGB", (SHAPE[1], SHAPE[0]), depth=8)
    for name, pixels, visible in layers:
        PixelLayer.fromarray(np.round(pixels * 255).astype(np.uint8), psd, name=name).visible = visible
    psd.save(path)


@pytest.mark.parametrize("kind", ["ora", "psd"])
def test_a_painted_stroke_layer_colorizes_as_the_same_marked_strokes(tmp_path, capsys, kind):
    gray, strokes = _gray_and_strokes()
    marked = np.repeat(gray[..., None], 3, axis=2)
    painted = strokes[..., 3] > 0
    marked[painted] = strokes[painted, :3]
    varcolor.write_image(tmp_path / "gray.png", gray)
    varcolor.write_image(tmp_path / "marked.png", marked)
    code, _, err = run(
        capsys, "colorize", tmp_path / "gray.png", "--marked", tmp_path / "marked.png", "-o", tmp_path / "flat.png"
    )
    assert code == 0, err
    decoy = np.zeros(SHAPE + (4,))
    decoy[15:20, 5:30] = [0.1, 0.9, 0.1, 1.0]  # hidden: ignored
    layers = [("scan", _rgba(gray), True), ("old strokes", decoy, False), ("strokes", strokes, True)]
    (_ora if kind == "ora" else _psd)(tmp_path / f"work.{kind}", layers)
    code, _, err = run(capsys, "colorize", tmp_path / f"work.{kind}", "-o", tmp_path / "layered.png")
    assert code == 0, err
    flat, layered = varcolor.read_image(tmp_path / "flat.png"), varcolor.read_image(tmp_path / "layered.png")
    assert np.abs(flat - layered).max() <= 1 / 255 and np.ptp(flat[..., 0] - flat[..., 2]) > 0.1
    code, _, err = run(
        capsys,
        "colorize",
        tmp_path / f"work.{kind}",
        "-o",
        tmp_path / "named.png",
        "--layer",
        "scan",
        "--strokes-layer",
        "strokes",
    )
    assert code == 0 and np.array_equal(varcolor.read_image(tmp_path / "named.png"), layered), err


@pytest.mark.parametrize("kind", ["ora", "psd"])
def test_a_layered_result_holds_the_photo_the_result_and_hidden_strokes(tmp_path, capsys, kind):
    gray, strokes = _gray_and_strokes()
    varcolor.write_image(tmp_path / "gray.png", gray)
    varcolor.write_image(tmp_path / "mask.png", strokes)
    common = ("colorize", tmp_path / "gray.png", "--mask", tmp_path / "mask.png", "-o")
    assert run(capsys, *common, tmp_path / "flat.png")[0] == 0
    code, _, err = run(capsys, *common, tmp_path / f"result.{kind}")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["gray.png", "mask.png", "flat.png", f"result.{kind}"])
    flat = varcolor.read_image(tmp_path / "flat.png")
    if kind == "ora":  # read back by hand: the zip's stack and PNGs
        unzipped = tmp_path / "unzipped"
        with zipfile.ZipFile(tmp_path / "result.ora") as ora:
            assert ora.namelist()[0] == "mimetype" and ora.read("mimetype") == b"image/openraster"
            ora.extractall(unzipped)
        stack = (unzipped / "stack.xml").read_text()
        names = [part.split('"')[0] for part in stack.split('name="')[1:]]
        hidden = ['visibility="hidden"' in part for part in stack.split("<layer")[1:]]
        pictures = [varcolor.read_image(unzipped / src) for src in _sources(stack)]
        composite = varcolor.read_image(unzipped / "mergedimage.png")
        assert names == ["confidence", "strokes", "colorized", "photo"] and hidden == [True, True, False, False]
        bottom, middle, top, known = pictures[3], pictures[2], pictures[1], pictures[0]
    else:
        psd = pytest.importorskip("psd_tools").PSDImage.open(tmp_path / "result.psd")
        assert [(layer.name, layer.visible) for layer in psd] == [
            ("photo", True),
            ("colorized", True),
            ("strokes", False),
            ("confidence", False),
        ]
        bottom, middle, top, known = (layer.numpy() for layer in psd)
        composite = psd.numpy()
    assert np.abs(composite[..., :3] - flat).max() <= 1 / 255  # the file shows the flat result
    assert np.abs(middle[..., :3] - flat).max() <= 1 / 255
    assert np.abs(bottom[..., 0] - gray).max() <= 1 / 255  # the photo, untouched
    assert np.array_equal(top[..., 3] > 0, strokes[..., 3] > 0)  # the strokes where they were painted
    # the confidence map, white where the strokes' colour is known (the result's own)
    expected = varcolor.colorize(gray, varcolor.Cues.from_mask(strokes)).confidence
    assert np.abs(known[..., 0] - expected).max() <= 1 / 255 + 1e-6


def _sources(stack: str) -> list[str]:
    return [part.split('"')[0] for part in stack.split('src="')[1:]]


def test_which_layers_and_what_is_refused(tmp_path, capsys):
    gray, strokes = _gray_and_strokes()
    other = strokes.copy()
    other[..., :3] = other[..., 2::-1]
    _ora(tmp_path / "three.ora", [("scan", _rgba(gray), True), ("a", strokes, True), ("b", other, True)])
    code, out, err = run(capsys, "colorize", tmp_path / "three.ora", "-o", tmp_path / "out.png")
    assert code == 2 and out == "" and err.count("\n") == 1 and "'scan'" in err and "'b'" in err
    assert "--layer" in err and not (tmp_path / "out.png").exists()
    code, _, err = run(capsys, "colorize", tmp_path / "three.ora", "-o", tmp_path / "out.png", "--strokes-layer", "c")
    assert code == 2 and err.count("\n") == 1 and "no layer named 'c'" in err
    code, _, err = run(capsys, "colorize", tmp_path / "three.ora", "-o", tmp_path / "b.png", "--strokes-layer", "b")
    assert code == 0, err
    (tmp_path / "broken.ora").write_bytes(b"PK\x03\x04 not a zip")
    code, _, err = run(capsys, "colorize", tmp_path / "broken.ora", "-o", tmp_path / "x.png")
    assert code == 2 and err.count("\n") == 1 and "broken.ora" in err and "Traceback" not in err


def test_a_folder_run_takes_layered_files_and_other_commands_read_their_composite(tmp_path, capsys):
    gray, strokes = _gray_and_strokes()
    (tmp_path / "in").mkdir()
    _ora(tmp_path / "in" / "work.ora", [("scan", _rgba(gray), True), ("strokes", strokes, True)])
    varcolor.write_image(tmp_path / "in" / "plain.png", gray)  # no cues beside it: skipped
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["work.png"]
    assert run(capsys, "colorize", tmp_path / "in" / "work.ora", "-o", tmp_path / "result.ora")[0] == 0
    composite = varcolor.read_image(tmp_path / "result.ora")
    assert np.abs(composite - varcolor.read_image(tmp_path / "out" / "work.png")).max() <= 1 / 255
    code, out, err = run(capsys, "metrics", tmp_path / "result.ora", "-r", tmp_path / "out" / "work.png")
    assert code == 0 and "result.ora" in out, err


def test_a_16_bit_psd_is_read_through_its_profile_at_full_precision(tmp_path):
    pytest.importorskip("psd_tools")
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer
    from psd_tools.constants import Resource
    from psd_tools.psd.image_resources import ImageResource

    from varcolor.io.layers import read_layers

    from ..conftest import icc_profile, srgb_from_icc_rgb

    values = np.random.default_rng(2).integers(0, 65536, size=(12, 16, 3)).astype(np.uint16)
    psd = PSDImage.new("RGB", (16, 12), depth=16)
    PixelLayer.fromarray(values, psd, name="scan")
    psd.image_resources[Resource.ICC_PROFILE] = ImageResource(key=Resource.ICC_PROFILE, data=icc_profile())
    psd.save(tmp_path / "scan.psd")
    with pytest.warns(UserWarning, match="converted to sRGB from its embedded ICC profile"):
        (layer,), bits = read_layers(tmp_path / "scan.psd")
    expected = srgb_from_icc_rgb(values / 65535.0)
    assert bits == 16 and np.abs(layer.pixels[..., :3] - expected).max() <= 0.5 / 255
    assert np.abs(layer.pixels[..., :3] - values / 65535.0).max() > 20 / 255  # the numbers alone were wrong


def _flat_and_layered(tmp_path, capsys, kind: str, bits: int = 8) -> None:
    """``varcolor colorize`` of a gray photo of ``bits`` bits and a stroke mask, twice: to
    ``flat.png`` and to the layered ``result.KIND``, in ``tmp_path``."""
    gray, strokes = _gray_and_strokes()
    if bits == 16:  # detail below one 8-bit level, which a result kept at 16 bits keeps
        gray = np.clip(gray + np.random.default_rng(5).uniform(-0.5, 0.5, gray.shape) / 255, 0, 1)
    varcolor.write_image(tmp_path / "gray.png", gray, bits=bits)
    varcolor.write_image(tmp_path / "mask.png", strokes)
    common = ("colorize", tmp_path / "gray.png", "--mask", tmp_path / "mask.png", "-o")
    assert run(capsys, *common, tmp_path / "flat.png")[0] == 0
    assert run(capsys, *common, tmp_path / f"result.{kind}")[0] == 0


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("krita") and shutil.which("xvfb-run")), reason="needs Krita and xvfb-run")
@pytest.mark.parametrize("kind", ["ora", "psd"])
def test_krita_shows_the_layered_result_as_the_flat_one(tmp_path, capsys, kind):
    """A real editor opens the file: Krita's own composite of it is the flat result within a level
    (measured: 0 levels for both formats)."""
    if kind == "psd":
        pytest.importorskip("psd_tools")
    _flat_and_layered(tmp_path, capsys, kind)
    export = ["xvfb-run", "-a", "krita", f"result.{kind}", "--export", "--export-filename", "krita.png"]
    subprocess.run(export, cwd=tmp_path, capture_output=True, timeout=300, check=True)
    shown = varcolor.read_image(tmp_path / "krita.png")
    assert np.abs(shown[..., :3] - varcolor.read_image(tmp_path / "flat.png")).max() <= 1 / 255


def _gimp() -> str | None:
    """GIMP's batch program (``gimp-console`` needs no display), or None where GIMP is missing."""
    return shutil.which("gimp-console") or shutil.which("gimp")


def _gimp_version() -> tuple[int, int] | None:
    said = subprocess.run([_gimp(), "--version"], capture_output=True, text=True, timeout=60).stdout
    found = re.search(r"version (\d+)\.(\d+)", said)
    return (int(found[1]), int(found[2])) if found else None


def _scheme(path) -> str:
    """``path`` as a Script-Fu string literal."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


# GIMP 2.10's Script-Fu: load the file with GIMP's own loader, write each layer's name and visibility
# (top first) to a report, then flatten (the visible layers composited, hidden ones dropped) and
# export that as PNG. GIMP's exit code is 0 even when a batch command fails, so the test asks for
# the files it writes, not the exit code. No loader (Debian's GIMP 2.10 has no OpenRaster plug-in:
# it is written in Python 2) is reported as such, to skip on.
_GIMP_SCRIPT = r"""
(let ((port (open-output-file {report})))
  (if (= 0 (car (gimp-procedural-db-proc-exists {loader})))
      (display "no loader" port)
      (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE {layered} {layered}))))
        (for-each (lambda (layer)
                    (display (car (gimp-item-get-name layer)) port)
                    (display "\t" port)
                    (display (car (gimp-item-get-visible layer)) port)
                    (newline port))
                  (vector->list (cadr (gimp-image-get-layers image))))
        (let ((flat (car (gimp-image-flatten image))))
          (file-png-save-defaults RUN-NONINTERACTIVE image flat {shown} {shown}))))
  (close-output-port port))
"""


@pytest.mark.slow
@pytest.mark.skipif(not _gimp(), reason="needs GIMP (gimp-console or gimp)")
@pytest.mark.parametrize(("kind", "bits"), [("ora", 8), ("psd", 8), ("psd", 16)])
def test_gimp_shows_the_layered_result_as_the_flat_one(tmp_path, capsys, kind, bits):
    """GIMP opens the file with its own loader and sees the four layers, the confidence map and the
    strokes hidden on top;
    its composite of the visible ones is the flat result within one level of the file's depth
    (measured with GIMP 2.10.34: 0 levels at 8 bits, at most one 16-bit level at 16 bits)."""
    if _gimp_version() != (2, 10):
        pytest.skip("the script is GIMP 2.10's Script-Fu")
    if kind == "psd":
        pytest.importorskip("psd_tools")
    _flat_and_layered(tmp_path, capsys, kind, bits)
    names = {"layered": tmp_path / f"result.{kind}", "shown": tmp_path / "gimp.png", "report": tmp_path / "layers.txt"}
    script = _GIMP_SCRIPT.format(
        loader=_scheme(f"file-{'openraster' if kind == 'ora' else 'psd'}-load"),
        **{key: _scheme(path) for key, path in names.items()},
    )
    batch = [_gimp(), "-i", "-d", "-f", "-b", script, "-b", "(gimp-quit 0)"]
    env = {**os.environ, "GIMP2_DIRECTORY": str(tmp_path / "gimp-profile")}  # not the user's settings
    done = subprocess.run(batch, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert names["report"].exists(), done.stderr
    report = names["report"].read_text()
    if report == "no loader":
        pytest.skip(f"this GIMP reads no .{kind} files")
    layers = [line.split("\t") for line in report.splitlines()]
    assert layers == [["confidence", "0"], ["strokes", "0"], ["colorized", "1"], ["photo", "1"]]
    assert names["shown"].exists(), done.stderr
    flat = varcolor.read_image(tmp_path / "flat.png")
    assert varcolor.io.image_bits(names["shown"]) == varcolor.io.image_bits(tmp_path / "flat.png") == bits
    shown = varcolor.read_image(names["shown"])
    assert np.abs(shown[..., :3] - flat).max() <= 1 / (2**bits - 1) + 1e-9


def test_varcolor_s_own_layered_result_fed_back_in_uses_its_strokes_layer(tmp_path, capsys):
    """The restorer's round trip: colorize into .ora, edit the (hidden) strokes layer, run again."""
    from varcolor.io.layers import Layer, read_layers
    from varcolor.io.stack import write_layers

    gray, strokes = _gray_and_strokes()
    varcolor.write_image(tmp_path / "gray.png", gray)
    varcolor.write_image(tmp_path / "mask.png", strokes)
    common = ("colorize", tmp_path / "gray.png", "--mask", tmp_path / "mask.png", "-o")
    assert run(capsys, *common, tmp_path / "flat.png")[0] == 0
    assert run(capsys, *common, tmp_path / "result.ora")[0] == 0
    code, _, err = run(capsys, "colorize", tmp_path / "result.ora", "-o", tmp_path / "again.png")
    assert code == 0 and "% of the pixels are cues" not in err, err
    flat = varcolor.read_image(tmp_path / "flat.png")
    assert np.abs(varcolor.read_image(tmp_path / "again.png") - flat).max() <= 2 / 255
    # Named, the hidden strokes layer is taken too.
    named = ("--layer", "photo", "--strokes-layer", "strokes")
    code, _, err = run(capsys, "colorize", tmp_path / "result.ora", "-o", tmp_path / "named.png", *named)
    assert code == 0 and np.abs(varcolor.read_image(tmp_path / "named.png") - flat).max() <= 2 / 255, err
    # Edited in the editor: a third stroke painted on the strokes layer, saved; run again.
    layers, bits = read_layers(tmp_path / "result.ora")
    edited = layers[2].pixels.copy()
    edited[16:20, 6:42] = [60 / 255, 170 / 255, 60 / 255, 1.0]
    layers[2] = Layer("strokes", edited, visible=True)  # shown while painting, as an editor leaves it
    write_layers(tmp_path / "edited.ora", layers, bits)
    more = strokes.copy()
    more[16:20, 6:42] = [60 / 255, 170 / 255, 60 / 255, 1.0]
    varcolor.write_image(tmp_path / "more.png", more)
    code, _, err = run(
        capsys, "colorize", tmp_path / "gray.png", "--mask", tmp_path / "more.png", "-o", tmp_path / "m.png"
    )
    assert code == 0, err
    code, _, err = run(capsys, "colorize", tmp_path / "edited.ora", "-o", tmp_path / "edited.png")
    assert code == 0, err
    expected, got = varcolor.read_image(tmp_path / "m.png"), varcolor.read_image(tmp_path / "edited.png")
    assert np.abs(got - expected).max() <= 2 / 255 and np.abs(got - flat).max() > 20 / 255


@pytest.mark.parametrize("kind", ["ora", "psd"])
def test_a_stroke_layer_s_coverage_is_its_alpha(tmp_path, capsys, kind):
    """Opaque hard-edged strokes are paint as drawn (no edge read as a blend, black paint too);
    partly transparent edges are partial paint; a note names the file."""
    gray, strokes = _gray_and_strokes()
    strokes[18:21, 10:40] = [0.0, 0.0, 0.0, 1.0]  # black paint
    (_ora if kind == "ora" else _psd)(tmp_path / f"hard.{kind}", [("scan", _rgba(gray), True), ("s", strokes, True)])
    code, _, err = run(capsys, "colorize", tmp_path / f"hard.{kind}", "-o", tmp_path / "hard.png")
    assert code == 0 and "blended" not in err and "None" not in err, err
    from varcolor.io.layers import pick_layers, read_layers

    cues = varcolor.Cues.from_mask(pick_layers(read_layers(tmp_path / f"hard.{kind}")[0], "x")[1].pixels)
    assert np.array_equal(cues.mask, strokes[..., 3] > 0)  # the black stroke included
    soft = strokes.copy()
    soft[7, 4:40, 3] = soft[11, 4:40, 3] = 0.3  # antialiased rims: partial alpha, the paint's colour
    soft[7, 4:40, :3] = soft[11, 4:40, :3] = strokes[8, 4, :3]
    (_ora if kind == "ora" else _psd)(tmp_path / f"soft.{kind}", [("scan", _rgba(gray), True), ("s", soft, True)])
    code, _, err = run(capsys, "colorize", tmp_path / f"soft.{kind}", "-o", tmp_path / "soft.png")
    assert code == 0 and f"soft.{kind}: " in err and "partly transparent" in err and "None" not in err, err
    # under half paint is no cue: the result is the hard strokes'
    assert (
        np.abs(varcolor.read_image(tmp_path / "soft.png") - varcolor.read_image(tmp_path / "hard.png")).max() <= 1 / 255
    )


@pytest.mark.parametrize("suffix", [".ora", ".psd"])
def test_layers_at_a_depth_neither_format_holds_are_refused_in_one_line(tmp_path, suffix):
    """``write_layers`` writes 8 or 16 bits per sample: 12 is refused, naming the file, and
    nothing is written (never a file of another depth than asked)."""
    pytest.importorskip("psd_tools")
    from varcolor.errors import InputError
    from varcolor.io.layers import Layer
    from varcolor.io.stack import write_layers

    layers = [Layer("photo", np.full((8, 8, 4), 0.5), visible=True)]
    with pytest.raises(InputError, match=r"x\.(ora|psd): bits must be 8 or 16, not 12"):
        write_layers(tmp_path / f"x{suffix}", layers, 12)
    assert not list(tmp_path.iterdir())


def _ora_of(path, shape, layers, *, tail: bytes = b""):
    """An OpenRaster file of a ``shape`` canvas from (name, PNG bytes, x, y, visible), bottom first;
    ``tail``: bytes after the last layer's PNG, in its zip member."""
    entries = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as ora:
        ora.writestr(zipfile.ZipInfo("mimetype"), "image/openraster")
        for index, (name, data, x, y, visible) in enumerate(layers):
            last = index == len(layers) - 1
            ora.writestr(f"data/{index}.png", data + (tail if last else b""))
            shown = "visible" if visible else "hidden"
            entries.insert(0, f'<layer name="{name}" src="data/{index}.png" x="{x}" y="{y}" visibility="{shown}"/>')
        stack = f'<image w="{shape[1]}" h="{shape[0]}"><stack>{"".join(entries)}</stack></image>'
        ora.writestr("stack.xml", stack)


def _peak_bytes(work):
    """``work()``'s result and the peak of the memory it allocated (tracemalloc: NumPy reports its arrays)."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _png_of(pixels):
    return varcolor.io.encode_image(pixels, ".png")


def test_an_ora_s_composite_decodes_one_layer_at_a_time_over_its_own_box(tmp_path):
    # 40 visible 1×1 layers on a 500×500 canvas: the old reader made each a full float64 canvas
    # (8 MB apiece: 320 MB here, 5.3 GB for 300 on 1 MP).
    shape, rng = (500, 500), np.random.default_rng(0)
    dots = [(int(y), int(x), rng.random(3)) for y, x in rng.integers(0, 500, (40, 2))]
    layers = [("photo", _png_of(np.full(shape + (3,), 0.5)), 0, 0, True)]
    layers += [(f"dot {i}", _png_of(np.append(c, 1.0)[None, None]), x, y, True) for i, (y, x, c) in enumerate(dots)]
    _ora_of(tmp_path / "dots.ora", shape, layers)
    composite, peak = _peak_bytes(lambda: varcolor.read_image(tmp_path / "dots.ora"))
    assert peak < 6 * shape[0] * shape[1] * 32, peak  # a few canvases, not one per layer
    expected = np.full(shape + (3,), 0.5)
    for y, x, colour in dots:
        expected[y, x] = colour
    assert np.abs(composite - expected).max() <= 0.5 / 255


def test_an_ora_decodes_only_the_photo_and_stroke_layers(tmp_path):
    from varcolor.app.solve import read_layered

    shape = (200, 200)
    gray = np.linspace(0.2, 0.8, shape[1])[None].repeat(shape[0], 0)
    strokes = np.zeros(shape + (4,))
    strokes[50:60, 20:180] = (0.9, 0.2, 0.1, 1.0)
    hidden = [(f"old {i}", _png_of(np.array([[[0.1, 0.9, 0.1, 1.0]]])), i % 200, 0, False) for i in range(500)]
    layers = [("photo", _png_of(gray), 0, 0, True), *hidden, ("strokes", _png_of(strokes), 0, 0, True)]
    _ora_of(tmp_path / "work.ora", shape, layers)
    (photo, marks, bits, _), peak = _peak_bytes(lambda: read_layered(tmp_path / "work.ora", varcolor.Options(), None))
    # 500 hidden layers were 500 canvases (640 MB here; 25 GB for 20,000 on 200×200)
    assert peak < 20 * shape[0] * shape[1] * 32, peak
    assert np.abs(photo - gray).max() <= 0.5 / 255 and np.array_equal(marks[..., 3] > 0, strokes[..., 3] > 0)


def test_an_ora_layer_declaring_far_more_than_its_canvas_is_refused_from_its_header(tmp_path, capsys):
    bomb = png_declaring(12000, 12000, color=6, data=zlib.compress(b"\0" * 64))
    _ora_of(
        tmp_path / "bomb.ora",
        (10, 10),
        [("photo", _png_of(np.full((10, 10), 0.5)), 0, 0, True), ("strokes", bomb, 0, 0, True)],
    )
    start = time.monotonic()
    code, out, err = run(capsys, "colorize", tmp_path / "bomb.ora", "-o", tmp_path / "out.png")
    assert code == 2 and err.count("\n") == 1 and "bomb.ora" in err and "12000×12000" in err, err
    assert time.monotonic() - start < 10 and not (tmp_path / "out.png").exists()


def test_an_ora_member_with_gigabytes_after_its_png_is_refused_unread(tmp_path, capsys):
    shape = (16, 16)
    strokes = np.zeros(shape + (4,))
    strokes[4:8, 2:14] = (0.9, 0.2, 0.1, 1.0)
    layers = [("photo", _png_of(np.full(shape, 0.5)), 0, 0, True), ("strokes", _png_of(strokes), 0, 0, True)]
    _ora_of(tmp_path / "tail.ora", shape, layers, tail=b"\0" * (64 << 20))  # 64 MB of zeros, 64 kB deflated
    assert (tmp_path / "tail.ora").stat().st_size < 1 << 20
    (code, _, err), peak = _peak_bytes(
        lambda: run(capsys, "colorize", tmp_path / "tail.ora", "-o", tmp_path / "out.png")
    )
    assert code == 2 and err.count("\n") == 1 and "tail.ora" in err and "data/1.png" in err, err
    assert peak < 16 << 20 and not (tmp_path / "out.png").exists()


def test_a_psd_output_without_psd_tools_is_refused_before_the_solve(tmp_path, capsys, monkeypatch):
    from varcolor.app import solve

    varcolor.write_image(tmp_path / "gray.png", np.full((8, 8), 0.5))
    mask = np.zeros((8, 8, 3))
    mask[2:4, 2:6] = (0.9, 0.1, 0.1)
    varcolor.write_image(tmp_path / "mask.png", mask)
    monkeypatch.setitem(sys.modules, "psd_tools", None)  # not installed: importing it fails
    solved = []
    monkeypatch.setattr(solve, "colorize", lambda *a, **k: solved.append(1))
    argv = ["colorize", tmp_path / "gray.png", "--mask", tmp_path / "mask.png", "-o", tmp_path / "out.psd"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "psd-tools" in err and "out.psd" in err, err
    assert not solved and not (tmp_path / "out.psd").exists()
    with pytest.raises(InputError, match="psd-tools"):  # from Python too, before the solve
        solve.colorize_and_write(
            tmp_path / "gray.png",
            np.full((8, 8), 0.5),
            varcolor.Cues.empty((8, 8)),
            tmp_path / "o.psd",
            varcolor.Options(),
        )
    assert not solved


@pytest.mark.parametrize("profile", ["file", "input"])
def test_an_ora_result_in_another_colour_space_is_refused_before_the_solve(tmp_path, capsys, monkeypatch, profile):
    from varcolor.app import solve

    from ..conftest import icc_profile

    (tmp_path / "adobe.icc").write_bytes(icc_profile())
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(tmp_path / "scan.png", icc_profile=icc_profile())
    mask = np.zeros((8, 8, 3))
    mask[2:4, 2:6] = (0.9, 0.1, 0.1)
    varcolor.write_image(tmp_path / "scan_mask.png", mask)
    solved = []
    monkeypatch.setattr(solve, "colorize", lambda *a, **k: solved.append(1))
    choice = tmp_path / "adobe.icc" if profile == "file" else "input"
    argv = ["colorize", tmp_path / "scan.png", "--mask", tmp_path / "scan_mask.png", "-o", tmp_path / "out.ora"]
    code, _, err = run(capsys, *argv, "--profile", choice)
    assert code == 2 and "OpenRaster carries no colour profile" in err and err.count("\n") == 1, err
    assert not solved and not (tmp_path / "out.ora").exists()


def test_an_ora_result_with_another_programs_srgb_profile_is_written(tmp_path, capsys):
    """An sRGB profile made by Pillow (not varcolor's bytes, the same colours) was refused as
    "another colour space"."""
    from PIL import ImageCms

    (tmp_path / "srgb.icc").write_bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    gray, strokes = _gray_and_strokes()
    varcolor.write_image(tmp_path / "gray.png", gray)
    varcolor.write_image(tmp_path / "gray_mask.png", strokes[..., :3] * strokes[..., 3:])
    argv = ["colorize", tmp_path / "gray.png", "--mask", tmp_path / "gray_mask.png", "-o", tmp_path / "out.ora"]
    code, _, err = run(capsys, *argv, "--profile", tmp_path / "srgb.icc", "-q")
    assert code == 0 and (tmp_path / "out.ora").is_file(), err


def test_a_photo_layer_that_leaves_the_canvas_transparent_is_said_and_an_empty_one_refused(tmp_path, capsys):
    """A photo layer smaller than its canvas was read as black round it, and an empty (transparent)
    one gave a black result: exit 0, not a word. The first is said; the second refused in one line."""
    gray, strokes = _gray_and_strokes()
    small = _rgba(gray)
    small[:, 24:, 3] = 0  # the scan covers the canvas's left half
    _ora(tmp_path / "half.ora", [("scan", small, True), ("strokes", strokes, True)])
    code, _, err = run(capsys, "colorize", tmp_path / "half.ora", "-o", tmp_path / "half.png")
    assert code == 0 and "960 pixels (50 %) are transparent" in err, err
    with zipfile.ZipFile(tmp_path / "half.ora") as ora:  # the scan's layer, cleared to transparent black
        members = {name: ora.read(name) for name in ora.namelist()}
    members["data/0.png"] = _png(np.zeros(SHAPE + (4,)))
    with zipfile.ZipFile(tmp_path / "empty.ora", "w") as ora:
        for name, data in members.items():
            ora.writestr(name, data)
    code, _, err = run(capsys, "colorize", tmp_path / "empty.ora", "-o", tmp_path / "empty.png")
    assert code == 2 and err.count("\n") == 1 and "every pixel is transparent" in err, err
    assert not (tmp_path / "empty.png").exists()
