"""Restraint (:mod:`varcolor.restraint`): strokes colour what they lie on, the rest stays neutral;
the confidence map and the sources say where the colour is known (issue 93)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from skimage.transform import resize

import varcolor
import varcolor.restraint as restraint_module
from varcolor.methods import levin_multiscale
from varcolor.restraint import SOURCES, Restraint

from .conftest import run, stroke


def _two_things(scale: int = 1) -> tuple[np.ndarray, varcolor.Cues]:
    """A mid-gray thing and a light one beside it (a step of 0.35 in gray, a little grain), a red
    stroke along the first alone."""
    rng = np.random.default_rng(0)
    height, width = 96 * scale, 144 * scale
    gray = np.full((height, width), 0.45)
    gray[:, width // 2 :] = 0.8
    gray = np.clip(gray + resize(rng.normal(0, 0.01, (96, 144)), (height, width), order=1), 0, 1)
    mask = np.zeros((height, width), bool)
    mask[44 * scale : 48 * scale, 10 * scale : 60 * scale] = True
    ab = np.zeros((height, width, 2))
    ab[mask] = (45.0, 30.0)
    return gray, varcolor.Cues(mask, ab)


def _chroma(result) -> np.ndarray:
    return np.hypot(result.ab[..., 0], result.ab[..., 1])


def test_a_stroke_colours_its_thing_and_the_other_stays_neutral():
    gray, cues = _two_things()
    restrained, flood = varcolor.colorize(gray, cues), varcolor.colorize(gray, cues, restraint="off")
    width = gray.shape[1]
    other = (slice(None), slice(width // 2 + 8, None))
    own = (slice(30, 62), slice(8, 62))
    assert _chroma(flood)[other].mean() > 40  # Levin's flood: the stroke's colour everywhere
    assert _chroma(restrained)[other].mean() < 3
    assert _chroma(restrained)[own].mean() > 0.9 * _chroma(flood)[own].mean()
    confidence = restrained.confidence
    assert confidence.shape == gray.shape and confidence.dtype == np.float32
    assert np.all(confidence[cues.mask] == 1.0)
    assert confidence[own].mean() - confidence[other].mean() > 0.6
    sources = restrained.source
    assert SOURCES[int(np.bincount(sources[own].ravel()).argmax())] == "stroke"
    assert SOURCES[int(np.bincount(sources[other].ravel()).argmax())] == "none"


def test_one_colour_of_cues_is_restrained_too():
    # All cues of one colour: without restraint that colour is the answer everywhere, unsolved.
    gray, cues = _two_things()
    result = varcolor.colorize(gray, cues)
    assert _chroma(result)[:, -20:].mean() < 3 and result.info["solver"] != "none (one colour: the answer everywhere)"


def test_the_reach_is_scale_free():
    """The same things and stroke four times larger a side: the same confidence map, scaled."""
    gray, cues = _two_things()
    big_gray, big_cues = _two_things(4)
    small = varcolor.colorize(gray, cues).confidence
    big = varcolor.colorize(big_gray, big_cues).confidence
    shrunk = resize(big, small.shape, order=1, anti_aliasing=True)
    assert np.abs(shrunk - small)[4:-4, 4:-4].mean() < 0.05


def test_the_reach_is_read_where_its_cells_lie_in_the_photo():
    """A photo whose side is not a whole number of the reach's blocks: its last cells cover part
    of a block, and each pixel (or engine block) reads the grid where it lies, not where the
    shapes' ratio puts it (2× and 3× copies of a photo differed there)."""
    from varcolor.restraint import FULL_SHARE, Reach, grid_factor

    shape = (330, 4 * 117 + 1)  # blocks of 4: 118 columns, the last of one pixel
    factor = grid_factor(shape)
    cells = (-(-shape[0] // factor), -(-shape[1] // factor))
    ramp = np.broadcast_to(np.arange(cells[1]) / (cells[1] - 1), cells) * FULL_SHARE  # (a linear reach)
    reach = Reach(ramp.copy(), np.zeros(cells), np.ones(cells), shape)
    for block in (1, 2, 3):
        target = (-(-shape[0] // block), -(-shape[1] // block))
        centres = (np.arange(target[1]) + 0.5) * block / factor - 0.5
        expected = np.clip(centres, 0, cells[1] - 1) / (cells[1] - 1)
        assert np.abs(reach.at(target, block) - expected).max() < 1e-6, block


def test_unrestrained_at_a_small_size_is_levins_exact_solve():
    gray, cues = _two_things()
    off = varcolor.colorize(gray[:60, :80], varcolor.Cues(cues.mask[:60, :80], cues.ab[:60, :80]), restraint="off")
    exact = varcolor.colorize(gray[:60, :80], varcolor.Cues(cues.mask[:60, :80], cues.ab[:60, :80]), method="levin")
    assert np.abs(off.ab - exact.ab).max() < 1e-6


def test_reference_cues_and_no_cues_are_told_apart():
    gray, cues = _two_things()
    weight = np.where(cues.mask, 0.8, 1.0)  # a matched reference's confidence
    matched = varcolor.colorize(gray, varcolor.Cues(cues.mask, cues.ab, weight=weight))
    own = (slice(30, 62), slice(8, 62))
    assert SOURCES[int(np.bincount(matched.source[own].ravel()).argmax())] == "reference"
    # a stroke inside a patch of reference cues: each cue pixel says its own kind (the reach is
    # solved on blocks of 4×4 pixels here, each of them mostly reference cues)
    gray, _ = _two_things(scale=3)
    patch = np.zeros(gray.shape, bool)
    patch[90:186, 24:186] = True
    stroked = np.zeros(gray.shape, bool)
    stroked[135, 60:150] = True
    mixed = varcolor.Cues(patch, np.where(patch[..., None], (45.0, 30.0), 0.0), weight=np.where(stroked, 1.0, 0.8))
    sources = varcolor.colorize(gray, mixed).source
    assert np.all(sources[stroked] == SOURCES.index("stroke"))
    assert np.all(sources[patch & ~stroked] == SOURCES.index("reference"))
    with pytest.warns(UserWarning, match="no colour cues"):
        empty = varcolor.colorize(gray, varcolor.Cues.empty(gray.shape))
    assert float(empty.confidence.max()) == 0.0 and not empty.source.any()


def test_exact_levin_is_not_restrained_but_says_where_its_colour_is_known():
    gray, cues = _two_things()
    exact = varcolor.colorize(gray, cues, method="levin")
    assert _chroma(exact)[:, -20:].mean() > 40  # the reference: Levin's system as it is
    assert exact.confidence[:, -20:].mean() < 0.2  # and its map says the colour there is guessed


def test_an_edit_gives_a_fresh_solves_colours():
    gray = resize(varcolor.data.chelsea(), (300, 450), anti_aliasing=True)  # above the exact solve's size
    first = np.zeros(gray.shape, bool)
    first[100:104, 40:200] = True
    ab = np.zeros(gray.shape + (2,))
    ab[first] = (30.0, 40.0)
    stroke = np.zeros(gray.shape, bool)
    stroke[220:224, 250:400] = True
    more = np.zeros(gray.shape + (2,))
    more[stroke] = (-20.0, -30.0)
    cz = varcolor.Colorizer(gray)
    cz.solve(varcolor.Cues(first, ab))
    edited = cz.update(varcolor.Cues(stroke, more))
    fresh = varcolor.colorize(gray, cz.cues)
    assert np.abs(edited.ab - fresh.ab).max() < 0.5
    assert np.abs(edited.confidence - fresh.confidence).max() < 1e-3


def test_restraint_is_refused_when_misspelt():
    gray, cues = _two_things()
    with pytest.raises(varcolor.InputError, match="restraint must be on or off"):
        varcolor.colorize(gray, cues, restraint="yes")


def test_the_reach_of_restraint_alone():
    gray, cues = _two_things()
    reach = Restraint(gray).reach(cues.mask)
    assert reach.confidence().shape == gray.shape
    assert 0.0 <= float(reach.scale().min()) and float(reach.scale().max()) <= 1.0


def test_the_command_line_writes_the_confidence_map(tmp_path, capsys):
    from varcolor.io.layers import read_layers

    gray, cues = _two_things()
    varcolor.write_image(tmp_path / "photo.png", gray)
    mask = np.zeros(gray.shape + (3,))
    mask[cues.mask] = (0.8, 0.2, 0.15)
    varcolor.write_image(tmp_path / "photo_mask.png", mask)
    argv = ("colorize", tmp_path / "photo.png", "--mask", tmp_path / "photo_mask.png", "-o", tmp_path / "out.png")
    code, _, err = run(capsys, *argv, "--confidence-map", tmp_path / "map.png")
    assert code == 0, err
    written = varcolor.read_image(tmp_path / "map.png")
    expected = varcolor.colorize(
        varcolor.read_image(tmp_path / "photo.png"),
        varcolor.Cues.from_mask(varcolor.read_image(tmp_path / "photo_mask.png")),
    ).confidence
    assert written.shape == gray.shape and np.abs(written - expected).max() <= 1 / 65535 + 1e-6
    # a folder: X_confidence.png beside each; a layered output: a hidden layer
    (tmp_path / "in").mkdir()
    for name in ("photo.png", "photo_mask.png"):
        (tmp_path / "in" / name).write_bytes((tmp_path / name).read_bytes())
    code, _, err = run(
        capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out", "--confidence-map", tmp_path / "maps"
    )
    assert code == 0 and (tmp_path / "maps" / "photo_confidence.png").exists(), err
    code, _, err = run(capsys, *argv[:-1], tmp_path / "out.ora")
    assert code == 0, err
    layers = {layer.name: layer for layer in read_layers(tmp_path / "out.ora")[0]}
    assert "confidence" in layers and not layers["confidence"].visible


def _photo_and_mask(tmp_path) -> np.ndarray:
    """The two things' gray and a mask of their strokes written as photo.png and photo_mask.png."""
    gray, cues = _two_things()
    varcolor.write_image(tmp_path / "photo.png", gray)
    mask = np.zeros(gray.shape + (3,))
    mask[cues.mask] = (0.8, 0.2, 0.15)
    varcolor.write_image(tmp_path / "photo_mask.png", mask)
    return gray


def _full_disk_at(monkeypatch, out: Path):
    """The command's writes of ``out`` fail as on a full disk; returns the real writer."""
    import varcolor.app.solve as solve
    from varcolor.errors import OutputError

    write = solve.write_image

    def full_disk(path, *args, **kwargs):
        if Path(path) == out:
            raise OutputError(f"{path}: cannot write (No space left on device)")
        return write(path, *args, **kwargs)

    monkeypatch.setattr(solve, "write_image", full_disk)
    return write


def test_a_confidence_map_at_the_colour_outputs_path_is_refused_before_any_work(tmp_path, capsys):
    """``-o out.png --confidence-map out.png``: refused in one line naming the path, nothing
    written (the colours were written, then the map refused as existing, exit 2); a map at an
    input's path is refused naming ``--confidence-map``, not ``-o``."""
    _photo_and_mask(tmp_path)
    out = tmp_path / "out.png"
    argv = ("colorize", tmp_path / "photo.png", "--mask", tmp_path / "photo_mask.png", "-o", out)
    code, _, err = run(capsys, *argv, "--confidence-map", tmp_path / "." / "out.png")
    assert code == 2 and "out.png" in err and "confidence map" in err and not out.exists(), err
    assert err.count("error:") == 1
    code, _, err = run(capsys, *argv, "--confidence-map", tmp_path / "photo_mask.png")  # an input: not "-o"
    assert code == 2 and "give --confidence-map another path" in err and "give -o" not in err and not out.exists(), err


def test_a_photos_map_goes_with_its_colours_or_not_at_all(tmp_path, capsys, monkeypatch):
    """Its colours failing to be written (a full disk), the confidence map written before them is
    taken back: left, it stopped the rerun ("exists; kept"). A ``.vcir`` output, which colorize
    cannot write, is refused before any work (the map was written, then the colours refused)."""
    import varcolor.app.solve as solve

    _photo_and_mask(tmp_path)
    out, conf = tmp_path / "out.png", tmp_path / "map.png"
    argv = ("colorize", tmp_path / "photo.png", "--mask", tmp_path / "photo_mask.png", "--confidence-map", conf)
    write = _full_disk_at(monkeypatch, out)
    code, _, err = run(capsys, *argv, "-o", out)
    assert code != 0 and "No space left" in err and not out.exists() and not conf.exists(), err
    monkeypatch.setattr(solve, "write_image", write)
    code, _, err = run(capsys, *argv, "-o", out)
    assert code == 0 and out.exists() and conf.exists(), err
    conf.unlink()
    code, _, err = run(capsys, *argv, "-o", tmp_path / "out.vcir")
    assert code == 2 and ".vcir" in err and not conf.exists() and not (tmp_path / "out.vcir").exists(), err


def test_a_map_left_alone_or_of_a_wrong_kind_is_said_before_the_solve_and_never_taken_back(
    tmp_path, capsys, monkeypatch
):
    """A map without its colours (a run killed between the two) is said at once, not after the
    solve, and --overwrite replaces it; a .jpg or layered map is refused before any work; a map
    that an --overwrite run replaced is not taken back when that run's colours fail."""
    import varcolor.app.solve as solve

    gray = _photo_and_mask(tmp_path)
    out, conf = tmp_path / "out.png", tmp_path / "map.png"
    argv = ("colorize", tmp_path / "photo.png", "--mask", tmp_path / "photo_mask.png", "-o", out)
    conf.write_bytes(b"left by a killed run")
    colorized = []
    colorize = solve.colorize
    monkeypatch.setattr(solve, "colorize", lambda *a, **k: colorized.append(1) or colorize(*a, **k))
    code, _, err = run(capsys, *argv, "--confidence-map", conf)
    assert code == 2 and "map.png: exists" in err and not colorized and not out.exists(), err
    code, _, err = run(capsys, *argv, "--confidence-map", conf, "--overwrite")
    assert code == 0 and out.exists() and varcolor.read_image(conf).shape == gray.shape, err
    for bad in ("map.jpg", "map.ora"):
        code, _, err = run(capsys, *argv[:-1], tmp_path / "other.png", "--confidence-map", tmp_path / bad)
        assert code == 2 and bad in err and not (tmp_path / bad).exists() and not (tmp_path / "other.png").exists()
    assert len(colorized) == 1
    _full_disk_at(monkeypatch, out)
    code, _, err = run(capsys, *argv, "--confidence-map", conf, "--overwrite")
    assert code != 0 and conf.exists(), err  # the earlier map, replaced, is not taken back


@pytest.mark.slow
def test_a_run_killed_while_writing_its_colours_leaves_no_map_to_stop_the_rerun(tmp_path, capsys):
    """A run killed (SIGKILL: no cleanup) while its colours were being encoded left their map
    published alone: the rerun was refused ("map.png: exists; kept", exit 2; a folder run's
    --resume failed that photo) until --overwrite. The map is published right after its colours."""
    import os
    import subprocess
    import sys

    _photo_and_mask(tmp_path)
    out, conf = tmp_path / "out.png", tmp_path / "map.png"
    argv = ["colorize", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "photo_mask.png"), "-o", str(out)]
    argv += ["--confidence-map", str(conf)]
    killed = f"""
import os, signal, sys
from pathlib import Path
import varcolor.app.solve as solve
from varcolor.cli import main
write = solve.write_image
def killed(path, *args, **kwargs):
    if Path(path) == Path({str(out)!r}):
        os.kill(os.getpid(), signal.SIGKILL)  # killed while the colours are encoded
    return write(path, *args, **kwargs)
solve.write_image = killed
sys.exit(main({argv!r}))
"""
    root = str(Path(varcolor.__file__).parent.parent)
    child = subprocess.run([sys.executable, "-c", killed], env={**os.environ, "PYTHONPATH": root}, timeout=300)
    assert child.returncode == -9 and not out.exists() and not conf.exists()
    code, _, err = run(capsys, *argv)
    assert code == 0 and out.exists() and conf.exists(), err


def _between_two_blues() -> tuple[np.ndarray, varcolor.Cues]:
    """A dark thing with a deep blue stroke (a cap), a light one with a pale blue stroke (the sky),
    and between them a mid-gray thing no stroke lies on (a face)."""
    rng = np.random.default_rng(1)
    gray = np.full((90, 150), 0.5)
    gray[:, :50], gray[:, 100:] = 0.2, 0.85
    gray = np.clip(gray + rng.normal(0, 0.005, gray.shape), 0, 1)
    mask = np.zeros(gray.shape, bool)
    ab = np.zeros(gray.shape + (2,))
    mask[40:44, 10:40], mask[40:44, 110:140] = True, True
    ab[40:44, 10:40], ab[40:44, 110:140] = (5.0, -45.0), (-10.0, -22.0)
    return gray, varcolor.Cues(mask, ab)


def test_a_thing_unlike_each_colours_gray_keeps_little_of_it():
    """Likeness is read per colour: the face is like neither the cap's dark gray nor the sky's
    light one, though it is like their mean (all cues taken as one colour)."""
    gray, cues = _between_two_blues()
    restraint = Restraint(gray)
    face = (slice(None), slice(62, 88))
    per_colour = restraint.reach(cues.mask, ab=cues.ab).confidence()
    # (the reach as solved, not made whole over things: the face, a thing no cue lies on, would fade either way)
    as_one = dataclasses.replace(restraint.reach(cues.mask), things=None).confidence()
    assert per_colour[face].mean() < 0.1 < 0.2 < as_one[face].mean()
    cap, sky = (slice(None), slice(5, 45)), (slice(None), slice(105, 145))
    assert per_colour[cap].mean() > 0.8 and per_colour[sky].mean() > 0.8
    result = varcolor.colorize(gray, cues)
    assert _chroma(result)[face].mean() < 0.2 * _chroma(result)[sky].mean()


def _smooth_and_woven(woven: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smooth mid-gray with columns ``woven`` of a pixel checkerboard of the same mean gray (a
    texture no block mean sees), and a stroke on the smooth left."""
    gray = np.full((120, 240), 0.5)
    gray[:, woven] += ((np.indices(gray.shape).sum(axis=0) % 2) * 0.4 - 0.2)[:, woven]
    mask = np.zeros(gray.shape, bool)
    mask[55:65, 10:50] = True
    return gray, mask, np.where(mask[..., None], np.array([30.0, 10.0]), 0.0)


def test_colour_stops_at_a_texture_of_its_things_gray(monkeypatch):
    """A woven thing of the stroked one's gray takes little of its colour: the walk dies in it; the
    gray's level alone (texture not compared, the walk not stopped) floods it."""
    gray, mask, ab = _smooth_and_woven(np.s_[120:])
    reach = Restraint(gray).reach(mask, ab=ab).confidence()
    assert reach[:, 60:90].mean() > 0.85 and reach[:, 180:].mean() < 0.2
    monkeypatch.setattr(restraint_module, "TEXTURE", 0.0)
    monkeypatch.setattr(restraint_module, "UNLIKE", 0.0)
    assert Restraint(gray).reach(mask, ab=ab).confidence()[:, 180:].mean() > 0.8


def test_a_colour_does_not_walk_through_a_thing_unlike_its_cues(monkeypatch):
    """A woven band between the stroked smooth thing and another smooth one: the colour's walk
    dies in the band, so less of it reaches the far side than a walk the band does not stop."""
    gray, mask, ab = _smooth_and_woven(np.s_[100:140])
    far = (slice(None), slice(180, None))
    walked = Restraint(gray).reach(mask, ab=ab).confidence()[far].mean()
    monkeypatch.setattr(restraint_module, "UNLIKE", 0.0)
    free = Restraint(gray).reach(mask, ab=ab).confidence()[far].mean()
    assert walked < free - 0.2 and free > 0.8


def test_shades_of_one_thing_are_one_colour(monkeypatch):
    """A textured thing (fur) painted in a deep and a pale orange, their cues' gray ranges meeting:
    one colour to the likeness, so its mid-tones between the strokes keep more of it than with
    the two shades taken as two colours; the cap and the sky above stay two."""
    from scipy import ndimage

    rng = np.random.default_rng(2)
    gray = np.full((90, 150), 0.92)
    fur = np.linspace(0.42, 0.56, 110)[None, :] + ndimage.gaussian_filter(rng.normal(0, 0.25, (60, 110)), 1.5)
    gray[15:75, 20:130] = fur
    gray = np.clip(gray, 0, 1)
    mask = np.zeros(gray.shape, bool)
    ab = np.zeros(gray.shape + (2,))
    mask[43:47, 25:45], mask[43:47, 105:125] = True, True
    ab[43:47, 25:45], ab[43:47, 105:125] = (22.0, 48.0), (9.0, 24.0)
    groups = varcolor.restraint.colour_groups(ab[mask], gray[mask])
    assert len(set(groups.tolist())) == 1
    middle = (slice(20, 70), slice(65, 85))
    joined = Restraint(gray).reach(mask, ab=ab).confidence()[middle].mean()
    monkeypatch.setattr(varcolor.restraint, "GROUP_HUE", 0.0)
    assert len(set(varcolor.restraint.colour_groups(ab[mask], gray[mask]).tolist())) == 2
    apart = Restraint(gray).reach(mask, ab=ab).confidence()[middle].mean()
    assert joined > apart + 0.03
    monkeypatch.undo()
    blues_gray, blues = _between_two_blues()
    assert len(set(varcolor.restraint.colour_groups(blues.ab[blues.mask], blues_gray[blues.mask]).tolist())) == 2


def test_point_hints_fill_what_no_stroke_holds_as_levins_flood():
    """ideepcolor's hints are points: the default engine fills around them as Levin's method does;
    the same cues taken as strokes keep their colour to what they reach."""
    import dataclasses

    rgb = resize(skimage_astronaut(), (128, 128), anti_aliasing=True)
    gray = varcolor.color.same_lightness_gray(rgb)
    cues = varcolor.cues.sample_ideepcolor(rgb, n=10, rng=0)
    assert cues.points is not None and np.array_equal(cues.points, cues.mask)
    points = varcolor.colorize(gray, cues)
    flood = varcolor.colorize(gray, cues, restraint="off")
    strokes = varcolor.colorize(gray, dataclasses.replace(cues, points=None))
    assert np.abs(points.ab - flood.ab).mean() < 0.5
    assert _chroma(strokes).mean() < 0.8 * _chroma(flood).mean()
    assert points.confidence.mean() > strokes.confidence.mean()


def skimage_astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut() / 255.0


def test_a_stroke_over_a_point_is_a_stroke_and_points_are_checked():
    shape = (20, 30)
    point = varcolor.Cues.from_points([{"y": 5, "x": 5, "a": 20, "b": 5, "radius": 2}], shape)
    assert point.points is not None and np.array_equal(point.points, point.mask)
    mask = np.zeros(shape, bool)
    mask[5, :] = True
    stroke = varcolor.Cues(mask, np.where(mask[..., None], (-20.0, 5.0), 0.0))
    merged = point.merged(stroke)
    assert merged.points is not None
    assert not merged.points[5, 5] and merged.points[4, 5] and not merged.points[5, 20]
    assert stroke.merged(point).points[5, 5]  # the later cue is what it is
    with pytest.raises(varcolor.InputError, match="cue points"):
        varcolor.Cues(mask, np.zeros(shape + (2,)), points=np.zeros((3, 3), bool))


@pytest.mark.slow
def test_a_restrained_first_stroke_of_one_colour_needs_no_coarse_factorisation(monkeypatch):
    """One colour's coarse answer is that colour everywhere (Levin's system keeps constants): the
    restrained engine takes it without factoring the grid, then restrains, lifts and corrects as
    ever; the result is the solved one's, and the next edit factors the grid."""
    from .methods.test_multiscale_device import grainy_scene

    gray, _ = grainy_scene()
    first = stroke(gray.shape, slice(100, 104), slice(50, 400), (25.0, -30.0))
    second = stroke(gray.shape, slice(400, 404), slice(100, 500), (-20.0, 30.0))
    colorizer = varcolor.Colorizer(gray, method="levin-multiscale")
    taken = colorizer.solve(first)
    assert taken.info["engine"]["coarse_solver"] == levin_multiscale.ONE_COLOUR
    monkeypatch.setattr(levin_multiscale, "one_value", lambda values: None)
    solved = varcolor.Colorizer(gray, method="levin-multiscale").solve(first)
    assert solved.info["engine"]["coarse_solver"] == "direct"
    assert np.abs(taken.ab - solved.ab).max() <= 1e-4 and np.abs(taken.ab).max() > 10  # restrained, not flat
    assert np.abs(taken.ab).max(axis=2).min() < 1.0  # neutral far from the stroke
    edited = colorizer.update(second)
    assert edited.info["update"] == "full" and edited.info["engine"]["coarse_solver"] == "direct"
    fresh = varcolor.Colorizer(gray, method="levin-multiscale").solve(colorizer.cues)
    assert np.abs(edited.ab - fresh.ab).max() <= 0.1


def test_a_16_bit_jpeg_asked_for_is_refused_before_the_solve(tmp_path, capsys, monkeypatch):
    import varcolor.app.solve as solve

    _photo_and_mask(tmp_path)
    colorized = []
    colorize = solve.colorize
    monkeypatch.setattr(solve, "colorize", lambda *a, **k: colorized.append(1) or colorize(*a, **k))
    argv = ("colorize", tmp_path / "photo.png", "--mask", tmp_path / "photo_mask.png", "-o", tmp_path / "out.jpg")
    code, _, err = run(capsys, *argv, "--bits", "16")
    assert code == 2 and "JPEG holds 8 bits" in err and not colorized and not (tmp_path / "out.jpg").exists()
    code, _, err = run(capsys, *argv)
    assert code == 0 and colorized, err


def test_a_map_folder_inside_the_inputs_is_no_input_and_its_stale_temporaries_are_swept(tmp_path, capsys):
    """Maps kept inside the input folder are not read as photos by the next run (it failed the
    photo: its map "an input"); the input folder itself, or a --reference folder holding them, is
    refused in one line; a temporary file left there by a run killed while writing a map is
    removed like those of the results' folder."""
    import os
    import time

    from varcolor.io.atomic import _temporary_beside

    folder = tmp_path / "in"
    folder.mkdir()
    _photo_and_mask(folder)
    maps = folder / "maps"
    argv = ("colorize", folder, "-o", tmp_path / "out", "--confidence-map", maps)
    code, _, err = run(capsys, *argv)
    assert code == 0 and (maps / "photo_confidence.png").is_file(), err
    stale, fd = _temporary_beside(maps / "photo_confidence.png")  # as a killed run leaves it
    os.write(fd, b"half a map")
    os.close(fd)
    os.utime(stale, (time.time() - 3600,) * 2)
    code, _, err = run(capsys, *argv[:3], tmp_path / "again", *argv[4:], "--overwrite")
    assert code == 0 and "colorized 1, skipped 0, failed 0" in err and "confidence" not in err.split("colorized")[0]
    assert not stale.exists() and "removed 1 temporary file" in err, err
    code, _, err = run(capsys, *argv[:3], tmp_path / "third", "--confidence-map", folder)
    assert code == 2 and "cannot be the input folder" in err and err.count("\n") == 1, err
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "photo.png").write_bytes((folder / "photo.png").read_bytes())
    code, _, err = run(
        capsys, *argv[:3], tmp_path / "fourth", "--reference", tmp_path / "refs",
        "--confidence-map", tmp_path / "refs" / "m",
    )  # fmt: skip
    assert code == 2 and "give --confidence-map another place" in err and not (tmp_path / "fourth").exists(), err


def _two_things_files(tmp_path):
    """:func:`_two_things` as a photo and its stroke mask on disk: a colorize command into out.png."""
    gray, cues = _two_things()
    varcolor.write_image(tmp_path / "photo.png", gray)
    mask = np.zeros(gray.shape + (3,))
    mask[cues.mask] = (0.8, 0.2, 0.15)
    varcolor.write_image(tmp_path / "photo_mask.png", mask)
    return ("colorize", tmp_path / "photo.png", "--mask", tmp_path / "photo_mask.png", "-o", tmp_path / "out.png")


@pytest.mark.parametrize("name", ["c", "c.webp", "c.jpg", "c.ora"])
def test_a_confidence_map_of_another_kind_is_refused_naming_what_it_may_be(tmp_path, capsys, name):
    """One 16-bit gray image: the refusal lists .png and .tif only (it listed .jpg and .ora, then refused them)."""
    argv = _two_things_files(tmp_path)
    code, _, err = run(capsys, *argv, "--confidence-map", tmp_path / name)
    assert code == 2 and err.rstrip().endswith("give .png, .tif, .tiff"), err
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("given", [("--method", "levin"), ("--restraint", "off")])
def test_a_confidence_map_of_an_unrestrained_photo_is_refused_as_a_clips_is(tmp_path, capsys, given):
    """One rule for photos and clips: the map would not say what the result shows."""
    argv = _two_things_files(tmp_path)
    code, _, err = run(capsys, *argv, *given, "--confidence-map", tmp_path / "map.png")
    assert code == 2 and "unrestrained" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out.png").exists() and not (tmp_path / "map.png").exists()


def _beside_a_stroked_thing(step: float) -> tuple[np.ndarray, varcolor.Cues]:
    """Two things the gray barely separates (``step`` apart: a slate car beside a stroked pole)."""
    rng = np.random.default_rng(3)
    gray = np.full((120, 240), 0.50)
    gray[:, 120:] += step
    gray = np.clip(gray + rng.normal(0, 0.004, gray.shape), 0, 1)
    mask = np.zeros(gray.shape, bool)
    mask[55:65, 20:100] = True
    ab = np.zeros(gray.shape + (2,))
    ab[mask] = (30.0, 40.0)
    return gray, varcolor.Cues(mask, ab)


def test_colour_that_crossed_into_a_thing_no_stroke_lies_on_fades(monkeypatch):
    """Issue 107: the colour that crossed into the thing beside the stroked one fades over it (the
    reach made whole over things), the stroked one keeps all of its own."""
    gray, cues = _beside_a_stroked_thing(0.06)
    made_whole = _chroma(varcolor.colorize(gray, cues))
    monkeypatch.setattr(restraint_module, "THING_SPAN", 0.0)
    as_solved = _chroma(varcolor.colorize(gray, cues))
    other, far, own = (slice(None), slice(130, 240)), (slice(None), slice(180, 240)), (slice(None), slice(0, 110))
    assert made_whole[other].mean() < 0.75 * as_solved[other].mean()
    assert made_whole[far].mean() < 0.5 * as_solved[far].mean()
    assert made_whole[own].mean() >= 0.99 * as_solved[own].mean() > 45.0


def test_things_do_not_move_with_the_photos_noise():
    """A photo and its copy with one level of noise get the same colours (within 4/255 but on a
    few pixels): things found by hard segments moved whole with such noise (results/restraint_objects.md)."""
    from .conftest import photo

    clean = np.round(varcolor.color.same_lightness_gray(photo("astronaut", (200, 250))) * 255) / 255
    noisy = np.clip(clean + np.random.default_rng(0).integers(-1, 2, clean.shape) / 255, 0, 1)
    mask = np.zeros(clean.shape, bool)
    mask[30:35, 30:190] = mask[95:155, 125:131] = mask[170:176, 15:95] = True
    cues = varcolor.Cues(mask, np.where(mask[..., None], np.array([40.0, 30.0]), 0.0))
    apart = np.abs(varcolor.colorize(clean, cues).rgb - varcolor.colorize(noisy, cues).rgb).max(axis=-1)
    assert (apart > 4 / 255).mean() < 0.002 and apart.max() < 0.06


def test_a_reach_travels_to_another_process_and_solves_there():
    """A result's reach is pickled where a worker sends it: the things' factors stay behind and are
    made again, the same."""
    import pickle

    gray, cues = _beside_a_stroked_thing(0.06)
    reach = Restraint(gray).reach(cues.mask, ab=cues.ab)
    travelled = pickle.loads(pickle.dumps(reach))
    assert np.array_equal(travelled.confidence(), reach.confidence())
    values = np.random.default_rng(0).random(travelled.guide.grid.shape + (2,))
    assert np.allclose(travelled.guide.things(values), reach.guide.things(values))


def test_colorizers_of_one_photo_share_its_restraint_and_factor_its_things_once():
    """The studio makes a colorizer a re-solve and a preview: given one restraint they colour as
    each with its own does, and the things are factored by the first only."""
    from varcolor.errors import InputError

    gray, cues = _beside_a_stroked_thing(0.06)
    shared = Restraint(gray)
    first = varcolor.Colorizer(gray, restrained_by=shared).solve(cues)
    factors = shared._things
    assert factors is not None
    second = varcolor.Colorizer(gray, restrained_by=shared).solve(cues)
    assert shared._things is factors
    alone = varcolor.Colorizer(gray).solve(cues)
    assert np.array_equal(first.ab, alone.ab) and np.array_equal(second.ab, alone.ab)
    assert np.array_equal(second.confidence, alone.confidence)
    with pytest.raises(InputError, match=r"^restrained_by must be .* not \(10, 10\)"):
        varcolor.Colorizer(gray, restrained_by=Restraint(np.zeros((10, 10))))
    with pytest.raises(InputError, match=r"^restrained_by must be .* not ndarray"):
        varcolor.Colorizer(gray, restrained_by=gray)
    with pytest.raises(InputError, match=r"^restrained_by was made for another gray"):
        varcolor.Colorizer(gray, restrained_by=Restraint(np.flipud(gray)))
    assert varcolor.Colorizer(gray.astype(np.float32), restrained_by=shared).solve(cues).ab.shape == first.ab.shape


@pytest.mark.parametrize("ratio", [3.0, 3.4, 1.0])
def test_the_map_follows_edges_as_a_joint_bilateral_upsampling_of_every_grid_cell(ratio):
    """:func:`follow_edges` against its definition summed over every grid cell (Kopf et al. 2007:
    bilinear tents of ``UPSAMPLE_CELLS`` cells times the grays' likeness), a fine pixel whose gray
    no cell near it has taking the plain tents' average."""
    rng = np.random.default_rng(3)
    grid_gray, grid = rng.uniform(0, 1, (6, 8)), rng.uniform(0, 1, (6, 8))
    height, width = int(6 * ratio) - 1, int(8 * ratio)
    gray = rng.uniform(0, 1, (height, width))
    gray[: height // 3, : width // 3] = 3.0  # lonely: far from every cell's gray
    got = restraint_module.follow_edges(grid, grid_gray, gray, ratio)

    cells = restraint_module.UPSAMPLE_CELLS
    two_range2 = 2 * restraint_module.UPSAMPLE_RANGE**2
    want = np.empty(gray.shape)
    rows, columns = np.mgrid[0:6, 0:8]
    for i in range(height):
        for j in range(width):
            at_y, at_x = (i + 0.5) / ratio - 0.5, (j + 0.5) / ratio - 0.5
            tents = np.maximum(0, 1 - np.abs(at_y - rows) / cells) * np.maximum(0, 1 - np.abs(at_x - columns) / cells)
            weights = tents * np.exp(-((gray[i, j] - grid_gray) ** 2) / two_range2)
            if weights.sum() < 1e-4 * tents.sum():
                want[i, j] = (tents * grid).sum() / tents.sum()
            else:
                want[i, j] = (weights * grid).sum() / weights.sum()
    assert got.shape == gray.shape
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_results_sources_read_its_map_once_and_are_the_reachs_own(monkeypatch):
    """``Result.source`` after ``Result.confidence`` does not resample the reach again (0.2 s at
    1.5 MP), and gives the codes the reach gives by itself."""
    gray, cues = _two_things()
    result = varcolor.colorize(gray, cues)
    reach = result.provenance.reach()
    fresh = reach.source()
    calls = []
    real = restraint_module.Reach.at
    monkeypatch.setattr(restraint_module.Reach, "at", lambda self, *a, **k: calls.append(a) or real(self, *a, **k))
    assert result.confidence is not None
    assert np.array_equal(result.source, fresh)
    assert len(calls) == 1


def _strokes_of_colours(shape, count, seed):
    """``count`` short strokes, each of its own colour (ab at least 10 apart), at random places
    apart from each other (each one part of the cues)."""
    rng = np.random.default_rng(seed)
    mask, ab = np.zeros(shape, bool), np.zeros(shape + (2,))
    k = 0
    while k < count:
        y, x = rng.integers(2, shape[0] - 3), rng.integers(2, shape[1] - 8)
        if mask[max(y - 1, 0) : y + 3, max(x - 1, 0) : x + 7].any():
            continue
        mask[y : y + 2, x : x + 6] = True
        ab[y : y + 2, x : x + 6] = (10.0 * k - 40.0, 25.0 if k % 2 else -25.0)
        k += 1
    return mask, ab


def test_among_many_strokes_is_the_share_of_directions_with_strokes_where_many_colours_are_near():
    """:meth:`Restraint._among` against its definition, cell by cell (a photo as small as its grid):
    the directions (8 sectors) holding a stroke within AMONG_SPAN of the side, from 3 to 6, where
    strokes of at least AMONG_COLOURS colours lie within it; none among a restorer's few strokes."""
    shape = (48, 64)
    gray = np.random.default_rng(0).random(shape)
    mask, ab = _strokes_of_colours(shape, 12, 1)
    reach = Restraint(gray).reach(mask, ab=ab)
    assert reach.among is not None
    radius = restraint_module.AMONG_SPAN * np.sqrt(gray.size)
    ys, xs = np.nonzero(mask)
    colours = np.unique(ab[mask], axis=0)
    expected = np.zeros(shape)
    for y in range(shape[0]):
        for x in range(shape[1]):
            dy, dx = ys - y, xs - x
            near = (dy**2 + dx**2 <= radius**2) & ((dy != 0) | (dx != 0))
            sectors = np.unique(np.floor((np.arctan2(dy[near], dx[near]) + np.pi) / (np.pi / 4)).astype(int) % 8)
            seen = {tuple(c) for c in ab[ys[near], xs[near]]}
            if len(seen) >= restraint_module.AMONG_COLOURS:
                low, high = restraint_module.AMONG_SECTORS
                expected[y, x] = np.clip((sectors.size - low) / (high - low), 0, 1)
    assert len(colours) == 12 and expected.max() == 1.0 and expected.min() == 0.0
    np.testing.assert_allclose(reach.among, expected)
    assert (reach.scale() >= expected - 1e-12).all()  # the reach keeps at least that much
    few, few_ab = _strokes_of_colours(shape, restraint_module.AMONG_COLOURS - 1, 1)
    assert Restraint(gray).reach(few, ab=few_ab).among is None
