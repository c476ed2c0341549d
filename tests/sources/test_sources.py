"""Cue sources: a source registered from outside the package, in one module, colours a photo
through the API, the command line and a folder run as the built-in ones do; the registry is what
the command line, a folder run and a clip's keyframes ask."""

from __future__ import annotations

import importlib.util
import pickle
import subprocess
import sys

import numpy as np
import pytest

import varcolor
from varcolor import sources
from varcolor.app import run_folder
from varcolor.app.cues import cue_kinds, find_cue, is_cue_file
from varcolor.color import rgb_to_lab
from varcolor.errors import InputError

from ..conftest import install_plug_ins

#: The whole plug-in: a text format, one ``y x a b`` line per cue (a disk of radius 2). Nothing
#: else in varcolor knows of it.
# Levin's propagation as the subject (its results compared, its flood shown): unrestrained (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("unrestrained")


PLUG_IN = """
import varcolor
from varcolor.sources import CueSource


class Source(CueSource):
    name = "hints"
    summary = "a text file of cues, one 'y x a b' line each (a test source)"
    suffixes = (".hints.txt",)
    metavar = "H"
    help = "a text file of cues, one 'y x a b' line each"

    @classmethod
    def read(cls, path, gray, **context):
        records = []
        for line in path.read_text().splitlines():
            if line.strip():
                y, x, a, b = map(float, line.split())
                records.append({"y": y, "x": x, "a": a, "b": b, "radius": 2})
        return varcolor.Cues.from_points(records, gray.shape[:2])
"""

#: One cue colour: a flat photo coloured from it takes that chroma everywhere (the answer known
#: in closed form, whatever the method's weights).
A, B = 30.0, -20.0


def _photo(folder, name="g"):
    gray = np.full((24, 32), 0.55)
    varcolor.write_image(folder / f"{name}.png", gray)
    (folder / f"{name}.hints.txt").write_text(f"5 6 {A} {B}\n18 25 {A} {B}\n")
    return gray


def _chroma(path):
    """The mean Lab chroma of an output and its largest distance from the cue colour."""
    ab = rgb_to_lab(varcolor.read_image(path))[..., 1:]
    return float(np.abs(ab - [A, B]).max())


@pytest.fixture
def hints(tmp_path):
    """The plug-in imported from its own module and registered, as an entry point would; removed after."""
    module = tmp_path / "plug" / "vc_hints.py"
    module.parent.mkdir()
    module.write_text(PLUG_IN)
    spec = importlib.util.spec_from_file_location("vc_hints", module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    sources.register(loaded.Source)
    yield loaded.Source
    sources.unregister("hints")


def test_a_registered_source_colours_through_the_api(hints, tmp_path):
    gray = _photo(tmp_path)
    cues = sources.load(tmp_path / "g.hints.txt", gray)  # its kind told by its name
    assert cues.count == 2 * 13  # two disks of radius 2
    result = varcolor.colorize(gray, cues)
    assert np.abs(result.ab - [A, B]).max() < 0.5
    # found beside a photo by its name, and no input of a folder run
    assert "hints" in cue_kinds() and is_cue_file(tmp_path / "g.hints.txt")
    assert find_cue(tmp_path / "g.png", tmp_path) == ("hints", tmp_path / "g.hints.txt")


def test_a_registered_source_colours_a_folder_run(hints, tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        _photo(tmp_path / "in", name)
    rows = run_folder("colorize", tmp_path / "in", tmp_path / "out", quiet=True, warn=None)
    assert sorted((row["status"], row["input"].rsplit("/", 1)[-1]) for row in rows) == [
        ("done", "a.png"),
        ("done", "b.png"),
    ]
    for name in ("a", "b"):
        assert _chroma(tmp_path / "out" / f"{name}.png") < 1.5  # 8-bit rounding
    rows = run_folder("colorize", tmp_path / "in", tmp_path / "again", hints=True, quiet=True, warn=None)
    assert [row["status"] for row in rows] == ["done", "done"]


@pytest.mark.slow
def test_a_plug_in_source_colours_from_the_command_line_and_a_folder(tmp_path):
    environment = install_plug_ins(
        tmp_path / "site", {"vc_hints": PLUG_IN}, group="varcolor.sources", attribute="Source"
    )
    (tmp_path / "in").mkdir()
    _photo(tmp_path / "in", "a")
    _photo(tmp_path / "in", "b")
    command = [sys.executable, "-m", "varcolor.cli", "colorize"]

    def varcolor_cli(*words):
        return subprocess.run(
            command + [str(word) for word in words], env=environment, capture_output=True, text=True, timeout=300
        )

    done = varcolor_cli(
        tmp_path / "in" / "a.png", "--hints", tmp_path / "in" / "a.hints.txt", "-o", tmp_path / "one.png", "-q"
    )
    assert done.returncode == 0, done.stderr
    assert _chroma(tmp_path / "one.png") < 1.5
    done = varcolor_cli(tmp_path / "in", "-o", tmp_path / "out", "-q")  # found by name beside each photo
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in (tmp_path / "out").glob("*.png")) == ["a.png", "b.png"]
    assert max(_chroma(tmp_path / "out" / name) for name in ("a.png", "b.png")) < 1.5
    # Without the plug-in installed, neither its flag nor its files mean anything.
    plain = subprocess.run(
        command + [str(tmp_path / "in"), "--hints", "-o", str(tmp_path / "x")], capture_output=True, text=True
    )
    assert plain.returncode == 2 and "--hints" in plain.stderr


def test_the_registry_holds_every_source_and_refuses_what_is_none():
    assert set(sources.names()) >= {"marked", "mask", "points", "layered", "reference", "ir", "keyframes"}
    assert [source.name for source in sources.file_sources()][:3] == ["marked", "mask", "points"]
    assert sources.kind_of("scan_marked.png") == "marked" and sources.kind_of("scan.png") is None
    with pytest.raises(InputError, match="unknown cue source 'nope'"):
        sources.get("nope")
    with pytest.raises(TypeError):
        sources.register(int)


def test_a_source_checks_its_file_once_before_reading(tmp_path, monkeypatch):
    """A marked image of another aspect ratio is refused from its header, naming both sizes, and
    never decoded."""
    gray = np.full((24, 32), 0.5)
    varcolor.write_image(tmp_path / "g_marked.png", np.full((30, 30, 3), 0.5))
    decoded = []
    monkeypatch.setattr(sources.base, "read_image", lambda *a, **k: decoded.append(a))
    with pytest.raises(InputError, match=r"g_marked.png: the marked image is 30×30 but g_marked.png is 32×24"):
        sources.load(tmp_path / "g_marked.png", gray)
    assert decoded == []


@pytest.mark.parametrize("kind", ["marked", "mask"])
def test_marks_far_larger_than_the_photo_are_refused_from_their_header(tmp_path, monkeypatch, kind):
    """Marks of the photo's aspect ratio at another size are scaled, after being decoded whole: a
    36 MP mask of a thumbnail took a minute and 2 GB. Past 4× the photo's side (and 4 MP), refused
    from the header; 4× is read."""
    from ..conftest import png_declaring

    gray = np.full((24, 32), 0.5)
    name = tmp_path / f"g_{kind}.png"
    name.write_bytes(png_declaring(3200, 2400, color=2, data=b""))  # 100× the side: never decoded
    decoded = []
    monkeypatch.setattr(sources.base, "read_image", lambda *a, **k: decoded.append(a))
    with pytest.raises(InputError, match=rf"g_{kind}.png: the {kind} image is 3200×2400, over 4× the side"):
        sources.load(name, gray)
    assert decoded == []
    monkeypatch.undo()
    marks = np.full((96, 128, 3), 0.5 if kind == "marked" else 0.0)
    marks[40:48, 20:100] = (0.8, 0.2, 0.2)
    varcolor.write_image(name, marks)  # 4×: scaled, as before
    assert sources.load(name, gray).mask[10:12, 5:25].all()


def test_a_registered_source_gives_a_clips_keyframes(hints, tmp_path):
    """A clip's cue folder takes ``<frame><suffix>`` of every source found by name."""
    from varcolor.video import read_cue_folder

    (tmp_path / "cues").mkdir()
    (tmp_path / "cues" / "0002.hints.txt").write_text(f"5 6 {A} {B}\n")
    keyed = read_cue_folder(tmp_path / "cues", frame_count=4, shape=(24, 32))
    assert list(keyed) == [2] and keyed[2].kind == "hints"
    assert keyed[2](np.full((24, 32), 0.5)).count == 13


BAD_PLUG_INS = {
    # named like a built-in flag of varcolor colorize: left out with a warning, not every command's end
    "vc_output": PLUG_IN.replace('name = "hints"', 'name = "output"').replace(".hints.txt", ".out.txt"),
    # its read raises on one photo's file, and returns no cues on another's
    "vc_broken": PLUG_IN.replace('name = "hints"', 'name = "broken"')
    .replace(".hints.txt", ".broken.txt")
    .replace(
        "        records = []",
        "        if 'raise' in path.read_text():\n            raise ValueError('cannot read this')\n"
        "        if 'none' in path.read_text():\n            return None\n        records = []",
    ),
}


@pytest.mark.slow
def test_a_plug_in_that_clashes_or_fails_is_one_line_and_the_rest_go_on(tmp_path):
    """Issue 94, items 1 and 2: a plug-in named ``output`` made every command end in an argparse
    traceback; a plug-in whose read raises (or returns no cues) ended a folder run at that photo
    with a traceback."""
    environment = install_plug_ins(tmp_path / "site", BAD_PLUG_INS, group="varcolor.sources", attribute="Source")
    command = [sys.executable, "-m", "varcolor.cli"]

    def varcolor_cli(*words):
        return subprocess.run(
            command + [str(word) for word in words], env=environment, capture_output=True, text=True, timeout=300
        )

    (tmp_path / "in").mkdir()
    for name, text in (("a", "raise"), ("b", "none"), ("c", f"5 6 {A} {B}\n")):
        _photo(tmp_path / "in", name)
        (tmp_path / "in" / f"{name}.broken.txt").write_text(text)
    done = varcolor_cli("encode", "--help")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    done = varcolor_cli("colorize", tmp_path / "in", "--broken", "-o", tmp_path / "out", "-q")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "plug-in 'output' not loaded" in done.stderr and "--output is an option" in done.stderr
    assert "a.broken.txt: the cue source plug-in 'broken' failed: ValueError: cannot read this" in done.stderr
    assert "b.broken.txt: the cue source plug-in 'broken' returned a NoneType, not varcolor.Cues" in done.stderr
    assert sorted(path.name for path in (tmp_path / "out").glob("*.png")) == ["c.png"]  # the rest coloured


@pytest.mark.slow
def test_a_source_plans_a_photos_cues_once_and_a_job_loads_through_the_plan(hints, tmp_path):
    """A source's plan (:meth:`CueSource.plan`) is a picklable value a job holds: a plug-in's by
    the base class, the reference's (one photo, or a pool around the user's strokes) by its
    module, each reached through the registry alone."""
    from skimage import data

    from varcolor.sources.reference import read_reference

    gray = _photo(tmp_path)
    plan = sources.get("hints").plan(tmp_path / "g.hints.txt", tmp_path / "g.png")
    assert pickle.loads(pickle.dumps(plan)) == plan and plan.files == (tmp_path / "g.hints.txt",)
    plan.check()
    assert plan.load(gray).count == 2 * 13 and plan.match(gray, None) == (None, "")
    with pytest.raises(TypeError, match="takes no references"):
        sources.get("hints").plan(tmp_path / "g.hints.txt", tmp_path / "g.png", references=())

    photo = data.chelsea()[:, :400] / 255.0
    varcolor.write_image(tmp_path / "ref.png", data.chelsea()[:, 50:] / 255.0)
    lightness = photo.mean(axis=2)
    one = sources.get("reference").plan(tmp_path / "ref.png", tmp_path / "cat.png")
    assert pickle.loads(pickle.dumps(one)) == one and one.strokes is None and not one.gray_ahead
    expected = varcolor.Cues.from_reference(lightness, read_reference(tmp_path / "ref.png", None, lightness.shape))
    assert one.load(lightness).count == expected.count > 100
    around = sources.get("hints").plan(tmp_path / "g.hints.txt", tmp_path / "cat.png")
    pool = sources.get("reference").plan(
        tmp_path / "ref.png", tmp_path / "cat.png", references=(tmp_path / "ref.png",), pooled=True, around=around
    )
    assert pool.strokes == around and pool.files == (tmp_path / "g.hints.txt", tmp_path / "ref.png")
    cues, shares = pool.match(lightness, around.load(lightness), max_memory=None)
    assert (
        cues is not None
        and cues.count > 2 * 13
        and shares == f"{tmp_path / 'cat.png'}: cues from {tmp_path / 'ref.png'} 100 %"
    )


def test_a_cue_files_warning_names_it_once(tmp_path, capsys):
    """A marked image converted from its embedded profile is named once in the warning (it said
    "m.tif: m.tif: converted to sRGB ..."): a source's warning that names its file is kept as it is."""
    import imagecodecs
    import tifffile

    from ..conftest import run

    gray = np.tile(np.linspace(0.2, 0.8, 48), (32, 1))
    levels = np.repeat((gray * 65535).astype(np.uint16)[..., None], 3, axis=2)
    marked = levels.copy()
    marked[10:14, 5:40] = (50000, 8000, 8000)
    profile = imagecodecs.cms_profile("adobergb")
    tifffile.imwrite(tmp_path / "p.tif", levels, photometric="rgb", iccprofile=profile)
    tifffile.imwrite(tmp_path / "m.tif", marked, photometric="rgb", iccprofile=profile)
    code, _, err = run(capsys, "colorize", tmp_path / "p.tif", "--marked", tmp_path / "m.tif", "-o", tmp_path / "o.png")
    assert code == 0, err
    said = f"{tmp_path / 'm.tif'}: converted to sRGB from its embedded ICC profile"
    assert said in err and f"{tmp_path / 'm.tif'}: {said}" not in err, err
