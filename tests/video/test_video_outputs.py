"""A clip colorized into a folder of frames and run again with ``--overwrite`` (issue 52): the
output stays a folder of frames, replaced as a unit (no clip written among stale frames)."""

import numpy as np
import pytest

from varcolor.io import write_image

from ..conftest import run
from .test_video import pan, write_cues


@pytest.mark.parametrize("chunked", [[], pytest.param(["--chunk-frames", "2"], marks=pytest.mark.slow)])
def test_rerun_into_a_frames_folder_replaces_its_frames(tmp_path, capsys, chunked):
    frames = pan(frames=4)
    for k, frame in enumerate(frames):
        write_image(tmp_path / "in" / f"f{k:03d}.png", frame)
    write_cues(tmp_path / "cues", frames)
    argv = ["colorize", tmp_path / "in", "--cues", tmp_path / "cues", "-o", tmp_path / "framesout", "-q", *chunked]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    first = sorted(p.name for p in (tmp_path / "framesout").iterdir())
    assert first == [f"frame_{k:06d}.png" for k in range(4)]
    write_image(tmp_path / "framesout" / "frame_000099.png", np.zeros((4, 4)))  # a stale frame
    code, _, err = run(capsys, *argv, "--overwrite")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "framesout").iterdir()) == first  # no clip inside, no stale frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cues", "framesout", "in"]


def test_overwrite_never_replaces_a_folder_that_holds_more_than_frames(tmp_path, capsys):
    """A folder holding a frame and the clip's own frames and cues, given as the output with
    ``--overwrite``: it was replaced whole, the input and its cues deleted with it. Refused in one
    line, nothing touched; a new frames folder is made as a plain mkdir would make it."""
    import os

    frames = pan(frames=3)
    work = tmp_path / "work"
    for k, frame in enumerate(frames):
        write_image(work / "in" / f"f{k:03d}.png", frame)
    write_cues(work / "cues", frames)
    write_image(work / "frame_000000.png", frames[0])
    (work / "notes.txt").write_text("mine")
    before = sorted(str(p.relative_to(work)) for p in work.rglob("*"))
    code, _, err = run(capsys, "colorize", work / "in", "--cues", work / "cues", "-o", work, "--overwrite", "-q")
    assert code == 2 and err.count("\n") == 1 and "holds" in err, err  # (its inputs, or more than frames)
    assert sorted(str(p.relative_to(work)) for p in work.rglob("*")) == before
    code, _, err = run(capsys, "colorize", work / "in", "--cues", work / "cues", "-o", tmp_path / "frames", "-q")
    umask = os.umask(0)
    os.umask(umask)
    assert code == 0 and (tmp_path / "frames").stat().st_mode & 0o777 == 0o777 & ~umask, err


def test_a_frames_folder_holding_an_input_or_a_folder_named_as_a_frame_is_not_replaced(tmp_path, capsys):
    """Replaced whole, the folder took with it a cue folder named as a frame, and a reference
    still named as one: both refused; everything stays."""
    frames = pan(frames=3)
    for k, frame in enumerate(frames):
        write_image(tmp_path / "in" / f"f{k:03d}.png", frame)
    write_cues(tmp_path / "cues", frames)
    out = tmp_path / "out"
    (out / "frame_000009.png").mkdir(parents=True)
    (out / "frame_000009.png" / "notes.txt").write_text("mine")
    argv = ["colorize", tmp_path / "in", "--cues", tmp_path / "cues", "-o", out, "--overwrite", "-q"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "holds more than frames (frame_000009.png)" in err, err
    assert (out / "frame_000009.png" / "notes.txt").read_text() == "mine"
    (out / "frame_000009.png" / "notes.txt").unlink()
    (out / "frame_000009.png").rmdir()
    write_image(out / "frame_000000.png", frames[0])  # (a still, named as a frame)
    code, _, err = run(capsys, *argv, "--reference", out / "frame_000000.png")
    assert code == 2 and err.count("\n") == 1 and "an input of this run" in err, err
    assert sorted(p.name for p in out.iterdir()) == ["frame_000000.png"]
