"""Two cue files of one kind beside an image (issue 52): refused in one line naming both, never
one of them silently ignored. The pairs come from the cue names the application knows."""

import itertools
import zlib

import numpy as np
import pytest

import varcolor
from varcolor import cli
from varcolor.app.cues import CUE_SUFFIXES

from ..conftest import make_pair, png_declaring, run


def _pairs():
    for kind, suffixes in CUE_SUFFIXES.items():
        for first, second in itertools.combinations(suffixes, 2):
            yield kind, first, second


def _write_cue(path, kind):
    if kind == "points":
        if path.suffix == ".csv":
            path.write_text("y,x,a,b\n2,2,20,10\n")
        else:
            path.write_text('[{"y": 2, "x": 2, "a": 20, "b": 10}]')
        return
    marked = np.full((16, 16, 3), 0.5)
    marked[2:5, 2:5] = (0.8, 0.3, 0.2)
    if kind == "mask":
        marked[:] = 0
        marked[2:5, 2:5] = (0.8, 0.3, 0.2)
    from PIL import Image

    Image.fromarray(np.round(marked * 255).astype(np.uint8)).save(path)  # .bmp too, which varcolor only reads


@pytest.mark.parametrize(("kind", "first", "second"), list(_pairs()))
def test_two_cue_files_of_one_kind_are_refused_in_one_line(tmp_path, capsys, kind, first, second):
    varcolor.write_image(tmp_path / "a.png", np.full((16, 16), 0.5))
    for suffix in (first, second):
        _write_cue(tmp_path / f"a{suffix}", kind)
    code = cli.main(["colorize", str(tmp_path / "a.png"), f"--{kind}", "-o", str(tmp_path / "out.png"), "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0, err
    assert f"a{first}" in err and f"a{second}" in err and "ambiguous" in err
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("kind", ["marked", "mask"])
def test_a_cue_image_of_another_size_is_refused_from_its_header(tmp_path, capsys, monkeypatch, kind):
    from varcolor.sources import base as cues  # where cue images are read

    make_pair(tmp_path, "g")
    bomb = tmp_path / f"bomb_{kind}.png"  # 64 MP declared in a few bytes: nothing to decode
    bomb.write_bytes(png_declaring(8000, 8000, color=2, data=zlib.compress(b"\0" * 1000)))
    read = cues.read_image

    def never_the_bomb(path, *args, **kwargs):
        assert path != bomb, "the bomb was decoded"
        return read(path, *args, **kwargs)

    monkeypatch.setattr(cues, "read_image", never_the_bomb)
    code, out, err = run(capsys, "colorize", tmp_path / "g.png", f"--{kind}", bomb, "-o", tmp_path / "out.png")
    assert code == 2 and err.count("\n") == 1, err
    assert f"{bomb}: the {kind} image is 8000×8000 but g.png is 32×24" in err
