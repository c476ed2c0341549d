"""Hostile input to the studio (issues 51 and 52): file names that look like options, request
bodies and session files built to break a JSON parser, and two studios sharing a data folder.
The attacks are generated (from the command line's own options, from depth and size
parameters), not listed by hand."""

import shlex
import warnings
from pathlib import Path

import numpy as np
import pytest

import varcolor

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")

from varcolor import cli
from varcolor.color import rgb_to_lab
from varcolor.ui.saving import command_line
from varcolor.ui.studio import Studio

TOKEN = "test-token"
STROKE = {"op": "stroke", "stroke": {"tool": "brush", "rgb": [200, 60, 50], "width": 3, "path": [[5, 10], [20, 10]]}}


def option_like_names(command: str = "colorize") -> list[str]:
    """File names that a parser could read as options: every short option of ``command`` glued
    to a name (``-ifoo.png`` is ``-i foo.png``), its long options with ``=``, a lone dash's, and
    the same with spaces, quotes and non-ASCII letters."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    options = sorted({s for action in sub._actions for s in action.option_strings})
    shorts = [s for s in options if len(s) == 2]
    longs = [s for s in options if s.startswith("--")]
    names = [f"{s}foo.png" for s in shorts] + [f"{s}=foo.png" for s in longs[:3]] + ["-dash.png", "--.png"]
    odd = [" with space", "'quote", '"double', "ünïcødé", "$(echo x)"]
    return names + [f"-{word}.png" for word in odd] + [f"{word}.png" for word in odd]


def _gray(seed: int, shape=(40, 60)) -> np.ndarray:
    """A picture with a vertical edge, a different level per seed."""
    gray = np.full(shape, 0.3 + 0.1 * seed)
    gray[:, : shape[1] // 2] = 0.1 + 0.05 * seed
    return gray


@pytest.mark.parametrize("name", option_like_names())
def test_the_save_command_reads_every_path_as_a_path(name):
    argv = command_line(Path(name), Path(name + "_mask.png"), Path(name + "_out.png"), {"method": "levin"}, "direct", 8)
    args = cli.build_parser().parse_args(argv)
    assert Path(args.input) == Path(name)  # Path("./x") == Path("x"): the same file
    assert Path(args.mask) == Path(name + "_mask.png") and Path(args.output) == Path(name + "_out.png")
    assert shlex.split(shlex.join(argv)) == argv


@pytest.mark.parametrize("name", ["-ifoo.png", "-o 'q\" ü.png"])
def test_a_photo_named_like_an_option_is_the_one_saved_and_its_command_reproduces_it(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    varcolor.write_image("foo.png", _gray(0))  # what "-i foo.png" would read instead
    varcolor.write_image(name, _gray(3))
    (tmp_path / "out").mkdir()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        studio.open_path(Path(name))
        studio.edit(STROKE)
        status = studio.save("saved")
    finally:
        studio.close()
    saved = varcolor.read_image(status["paths"]["result"])
    shown = rgb_to_lab(np.repeat(_gray(3)[..., None], 3, axis=2))[..., 0]
    assert np.abs(rgb_to_lab(saved)[..., 0] - shown).max() < 0.5  # the photo shown, not foo.png
    argv = shlex.split(status["command"])
    argv[argv.index("-o") + 1] = "again.png"
    assert cli.main(argv[1:]) == 0
    assert np.array_equal(varcolor.read_image("again.png"), saved)
