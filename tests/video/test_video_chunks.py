"""Long clips in chunks (issue 40, varcolor.video.chunks): the chunked result is the streamed one
to the storage's rounding (at most one 8-bit level in a lossless output), so a chunk border
flickers no more than the frames within; --resume after a kill -9 redoes only the missing chunks
and gives the same output; a real Dask cluster gives it too; bad input is one line, exit 2."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from varcolor.batch import MANIFEST, read_manifest
from varcolor.color import rgb_to_lab, to_gray
from varcolor.methods import build_options
from varcolor.video import colorize_video, open_clip, write_clip
from varcolor.video.chunks import ChunkTask, colorize_chunked, plan_chunks, scan_cuts, work_folder

from ..conftest import dask_cluster, run, wait_until
from .test_video import SHIFT, pan, strokes, write_cues

#: The output of a chunked run against the streamed one, lossless RGB: the chunk files keep ab to
#: 1/32, which moves a channel by at most one 8-bit level.
LEVEL = 1 / 255 + 1e-9


def two_shots(shape=(48, 64)):
    """A pan over the astronaut, then a cut to a pan over the coffee cup: eighteen frames."""
    return pan("astronaut", frames=10, shape=shape) + pan("coffee", frames=8, shape=shape, top=150, left=200)


def gray_clip(folder, frames, name="gray.mkv"):
    write_clip(folder / name, [np.repeat(to_gray(f)[..., None], 3, 2) for f in frames], fps=10, codec="lossless")
    return open_clip(folder / name)


def keyframes(frames):
    return {0: strokes(frames[0], seed=1), 9: strokes(frames[9], seed=2), 12: strokes(frames[12], seed=3)}


def frames_of(path):
    return np.array(list(open_clip(path).frames()))


def flicker_per_pair(rgb):
    """Mean |Δab| between consecutive frames along the pan's motion, for each pair."""
    abs_ = [rgb_to_lab(frame)[..., 1:] for frame in rgb]
    return np.array([np.abs(b[:, :-SHIFT] - a[:, SHIFT:]).mean() for a, b in zip(abs_, abs_[1:])])


def test_plan_cuts_at_scene_cuts_and_reads_the_keyframes_that_reach_a_chunk():
    chunks = plan_chunks(40, chunk_frames=8, cuts=[6, 13, 30], keyframes=[2, 14, 20, 35])
    spans = [(c.start, c.stop) for c in chunks]
    # Shots [0, 6) [6, 13) [13, 30) [30, 40): the first two do not fit in one chunk of 8; the third
    # is split in three equal parts, the last in two.
    assert spans == [(0, 6), (6, 13), (13, 18), (18, 24), (24, 30), (30, 35), (35, 40)]
    # Chunks that go on inside a shot, and the chunk each goes on from.
    assert [c.after for c in chunks] == [None, None, None, 2, 3, None, 5]
    # What each reads: back to the last keyframe in its shot before it (and to the frame before
    # it), on to the first keyframe in its shot after it.
    assert [c.read for c in chunks] == [(0, 6), (6, 13), (13, 21), (14, 24), (20, 30), (30, 36), (34, 40)]
    # Short shots share a chunk; a chunk ends at a cut when the next shot does not fit.
    assert [(c.start, c.stop) for c in plan_chunks(20, chunk_frames=8, cuts=[3, 5, 7, 12])] == [
        (0, 7),
        (7, 12),
        (12, 20),
    ]


def test_seeking_gives_the_frames_decoding_from_the_start_gives(tmp_path):
    frames = pan(frames=12)
    write_clip(tmp_path / "c.mp4", frames, fps=10)  # H.264 with B-frames: time stamps out of decode order
    clip = open_clip(tmp_path / "c.mp4")
    every = list(clip.frames())
    for start, stop in ((5, 9), (11, 12), (0, 3)):
        part = list(clip.frames(start, stop))
        assert len(part) == stop - start and all(np.array_equal(a, b) for a, b in zip(part, every[start:stop]))


def test_scan_finds_the_cut(tmp_path):
    assert scan_cuts(gray_clip(tmp_path, two_shots())) == [10]


@pytest.mark.slow
def test_chunked_equals_streamed_and_its_borders_flicker_no_more(tmp_path):
    frames = two_shots()
    clip = gray_clip(tmp_path, frames)
    cues = keyframes(frames)
    streamed = [f.rgb for f in colorize_video(clip.frames(), cues)]
    write_clip(tmp_path / "streamed.mkv", streamed, fps=10, codec="lossless")
    report = colorize_chunked(clip, cues, build_options(), tmp_path / "chunked.mkv", chunk_frames=4, codec="lossless")
    plan = plan_chunks(18, chunk_frames=4, cuts=[10])
    assert [(c.start, c.stop) for c in plan] == [(0, 3), (3, 6), (6, 10), (10, 14), (14, 18)]
    assert len(report.done) == len(plan)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked.mkv", "gray.mkv", "streamed.mkv"]  # no work folder
    ours, theirs = frames_of(tmp_path / "chunked.mkv"), frames_of(tmp_path / "streamed.mkv")
    assert np.abs(ours - theirs).max() <= LEVEL
    # flicker[k]: frames k and k + 1. Borders inside a shot at 3, 6 and 14; the cut at 10.
    seams, within = [2, 5, 13], [k for k in range(17) if k not in (2, 5, 9, 13)]
    flicker = flicker_per_pair(ours)
    assert np.abs(flicker - flicker_per_pair(theirs)).max() < 0.05
    assert flicker[seams].max() <= 1.5 * flicker[within].max()


@pytest.mark.slow
def test_a_cold_start_would_have_shown(tmp_path):
    """Why a chunk goes on from the one before: solved from cold (its carried cues alone), the
    frames after a border are not those of the run over the clip."""
    frames = pan(frames=12)
    cues = {0: strokes(frames[0], seed=1), 11: strokes(frames[11], seed=2)}
    run = list(colorize_video(frames, cues))
    whole = [f.ab for f in run]
    cold = [f.ab for f in colorize_video(frames, cues, solve=(6, 12))]
    warm = [f.ab for f in colorize_video(frames, cues, solve=(6, 12), before=run[5].state)]
    assert max(np.abs(a - b).max() for a, b in zip(warm, whole[6:])) < 1e-9
    assert np.abs(cold[0] - whole[6]).mean() > 0.1


def command(folder, *extra):
    return [
        sys.executable,
        "-m",
        "varcolor.cli",
        "colorize",
        str(folder / "gray.mkv"),
        "--cues",
        str(folder / "cues"),
        "-o",
        str(folder / "out.mkv"),
        "--codec",
        "lossless",
        "--chunk-frames",
        "2",
        *extra,
    ]


@pytest.mark.slow  # 30–50 s: several processes started and killed; run by `make test-slow`
def test_resume_after_kill_9_redoes_only_the_missing_chunks(tmp_path):
    frames = pan(frames=12, shape=(80, 112))
    gray_clip(tmp_path, frames)
    write_cues(tmp_path / "cues", frames)
    work = work_folder(tmp_path / "out.mkv")
    process = subprocess.Popen(command(tmp_path, "-q"), stderr=subprocess.PIPE, text=True)
    wait_until(lambda: len(list(work.glob("chunk-*.mkv"))) >= 2 or process.poll() is not None, 120, 0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    kept = sorted(p.name for p in work.glob("chunk-*.mkv"))
    assert 2 <= len(kept) < 6, kept  # killed mid-run (a chunk of two frames takes ~1 s)
    assert not (tmp_path / "out.mkv").exists()
    # A chunk published just before the kill, its record not yet written, is not trusted: redone.
    recorded = [r for r in read_manifest(work / MANIFEST) if r["status"] == "done"]
    assert len(kept) - 1 <= len(recorded) <= len(kept)
    resumed = subprocess.run(command(tmp_path, "--resume"), stderr=subprocess.PIPE, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({len(recorded)} kept from an earlier run)" in resumed.stderr
    assert not work.exists()
    os.rename(tmp_path / "out.mkv", tmp_path / "resumed.mkv")
    # Uninterrupted, in a process like the others (in this one, what earlier tests loaded can move
    # a value by a rounding step, and an 8-bit level with it).
    whole = subprocess.run(command(tmp_path, "-q"), stderr=subprocess.PIPE, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr
    assert np.array_equal(frames_of(tmp_path / "resumed.mkv"), frames_of(tmp_path / "out.mkv"))


def interrupt_after(monkeypatch, count):
    """Make the chunk tasks raise Ctrl-C once ``count`` have run (in this process)."""
    real = ChunkTask.__call__
    calls = []

    def call(task):
        if len(calls) == count:
            raise KeyboardInterrupt
        calls.append(task.chunk)
        return real(task)

    monkeypatch.setattr(ChunkTask, "__call__", call)
    return calls


def interrupted_run(tmp_path, capsys, monkeypatch):
    """A run of an 8-frame pan in 4 chunks, stopped by Ctrl-C after 2: its arguments and stderr."""
    frames = pan(frames=8)
    gray_clip(tmp_path, frames)
    write_cues(tmp_path / "cues", frames)
    argv = command(tmp_path)[3:]
    interrupt_after(monkeypatch, 2)
    code, _, err = run(capsys, *argv)
    assert code == 130 and "2 of 4 chunks are done" in err
    return argv, err


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(("--gamut", "clip"), marks=pytest.mark.slow),
        ("--restraint", "off"),
        pytest.param(("--margin", "4"), marks=pytest.mark.slow),
    ],
)
def test_interrupted_run_keeps_its_chunks_and_resume_with_other_options_says_why(tmp_path, capsys, monkeypatch, other):
    """A method's own parameters count too (they were nested in what the chunks were made from,
    read as "dict": a resume with another --restraint joined chunks of both)."""
    argv, err = interrupted_run(tmp_path, capsys, monkeypatch)
    assert "--resume" in err
    assert not (tmp_path / "out.mkv").exists() and len(list(work_folder(tmp_path / "out.mkv").glob("*.mkv"))) == 2
    monkeypatch.undo()
    code, _, err = run(capsys, *argv, "--resume", *other)
    assert code == 0, err
    assert err.count("made with other options; redone") == 2 and "kept from an earlier run" not in err
    assert not work_folder(tmp_path / "out.mkv").exists()


@pytest.mark.slow
def test_without_resume_an_old_work_folder_is_not_trusted(tmp_path, capsys, monkeypatch):
    frames = pan(frames=6)
    gray_clip(tmp_path, frames)
    write_cues(tmp_path / "cues", frames)
    argv = command(tmp_path)[3:]
    interrupt_after(monkeypatch, 1)
    assert run(capsys, *argv)[0] == 130
    monkeypatch.undo()
    chunk = next(work_folder(tmp_path / "out.mkv").glob("chunk-*.mkv"))
    chunk.write_bytes(b"garbage: not trusted without --resume")
    code, _, err = run(capsys, *argv)
    assert code == 0 and "kept from" not in err
    (tmp_path / "out.mkv").unlink()
    assert run(capsys, *argv[:-2], "--chunk-frames", "6")[0] == 0  # one chunk, the same frames
    reference = frames_of(tmp_path / "out.mkv")
    (tmp_path / "out.mkv").unlink()
    assert run(capsys, *argv)[0] == 0
    assert np.array_equal(frames_of(tmp_path / "out.mkv"), reference)


@pytest.mark.parametrize(
    "make, extra, message",
    [
        (lambda f: None, ["--chunk-frames", "0"], "--chunk-frames must be at least 1, got 0"),
        (lambda f: (f / "out.mkv").write_bytes(b"old"), ["--chunk-frames", "2"], "out.mkv: exists; kept"),
        (lambda f: (f / ".out.mkv.varcolor-chunks").write_bytes(b"x"), ["--chunk-frames", "2"], "is in the way"),
        (
            lambda f: ((f / ".out.mkv.varcolor-chunks").mkdir(), (f / ".out.mkv.varcolor-chunks" / "mine.txt").touch()),
            ["--chunk-frames", "2"],
            "mine.txt, which varcolor did not write",
        ),
        (lambda f: None, ["--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler"),
    ],
)
def test_bad_chunk_input_is_one_line_exit_2(tmp_path, capsys, quick_scheduler_probe, make, extra, message):
    frames = pan(frames=4)
    gray_clip(tmp_path, frames)
    write_cues(tmp_path / "cues", frames)
    make(tmp_path)
    before = {p.name for p in tmp_path.iterdir()}
    argv = [a for a in command(tmp_path)[3:] if a not in ("--chunk-frames", "2")]
    code, _, err = run(capsys, *argv, *extra)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert {p.name for p in tmp_path.iterdir()} == before  # nothing written, nothing removed


@pytest.mark.slow
def test_chunks_on_a_real_dask_cluster(tmp_path):
    pytest.importorskip("distributed")
    frames = two_shots()
    clip = gray_clip(tmp_path, frames)
    cues = keyframes(frames)
    colorize_chunked(clip, cues, build_options(), tmp_path / "serial.mkv", chunk_frames=4, codec="lossless")
    with dask_cluster(workers=2) as (address, _):
        report = colorize_chunked(
            clip, cues, build_options(), tmp_path / "dask.mkv", chunk_frames=4, codec="lossless", scheduler=address
        )
    assert len(report.done) == 5
    assert np.array_equal(frames_of(tmp_path / "dask.mkv"), frames_of(tmp_path / "serial.mkv"))


def test_a_second_run_on_the_same_output_is_refused_and_an_input_in_the_work_folder_is_kept(tmp_path, capsys):
    import fcntl

    frames = pan(frames=4)
    gray_clip(tmp_path, frames)
    write_cues(tmp_path / "cues", frames)
    work = work_folder(tmp_path / "out.mkv")
    work.mkdir()
    with open(work / ".lock", "w") as held:  # another run holds the work folder
        fcntl.flock(held, fcntl.LOCK_EX)
        code, _, err = run(capsys, *command(tmp_path)[3:])
    assert code == 2 and "another run is colorizing into this output now" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.mkv").exists()
    # A clip that is a file of the work folder (an earlier run's chunk, say) is never removed with it.
    inside = work / "chunk-000000-000003.mkv"
    (tmp_path / "gray.mkv").rename(inside)
    code, _, err = run(
        capsys, "colorize", inside, "--cues", tmp_path / "cues", "-o", tmp_path / "out.mkv", "--chunk-frames", "2"
    )
    assert code == 2 and "is in the work folder of this output's chunks" in err
    assert inside.exists() and open_clip(inside).frame_count == 4


@pytest.mark.slow
def test_resume_with_the_other_edges_rule_redoes_the_chunks_its_keyframe_strokes_reach(tmp_path, capsys, monkeypatch):
    """``--edges`` is part of what a chunk was made from: a resumed run reading the keyframes'
    strokes by the other rule redoes the finished chunks instead of joining them to new ones."""
    argv, _ = interrupted_run(tmp_path, capsys, monkeypatch)
    monkeypatch.undo()
    code, _, err = run(capsys, *argv, "--resume", "--edges", "exact")
    assert code == 0, err
    assert err.count("made with other options; redone") == 2 and "kept from an earlier run" not in err


@pytest.mark.slow
def test_a_chunked_run_names_the_gray_frames_by_their_places_in_the_clip(tmp_path, capsys):
    """Restrained, the frames after a keyframe's stroke pans out of view are gray: a chunked run
    names them as a streamed one does (it counted from each chunk's first frame read)."""
    import re

    from varcolor.io import write_image

    frames = pan(frames=12, shape=(48, 64))
    gray_clip(tmp_path, frames)
    stroke = np.zeros((48, 64, 3))
    stroke[20:24, 0:5] = (0.8, 0.2, 0.1)  # at the left edge of frame 5: gone a few frames on
    write_image(tmp_path / "cues" / "0005_mask.png", stroke)
    argv = ("colorize", tmp_path / "gray.mkv", "--cues", tmp_path / "cues", "--codec", "lossless")

    def named(err):
        spans = re.findall(r"frames? (\d+)(?:–(\d+))?(?: \(shot \d+\))?: no cue reaches them", err)
        return {k for first, last in spans for k in range(int(first), int(last or first) + 1)}

    code, _, err = run(capsys, *argv, "-o", tmp_path / "streamed.mkv")
    assert code == 0 and named(err), err
    code, _, chunked = run(capsys, *argv, "-o", tmp_path / "chunked.mkv", "--chunk-frames", "3")
    assert code == 0 and named(chunked) == named(err), (err, chunked)
    # ... and in as many lines: a run of gray frames over several chunks is one (it was one a chunk)
    assert chunked.count("no cue reaches") == err.count("no cue reaches"), (err, chunked)
