"""Issue 36, the files a run touches: the stale-temporary cleanup takes only what varcolor made,
tables never replace a file of the run's folders, the manifest is a regular file or nothing
(no link, FIFO or folder; a full disk or a foreign manifest is one line), ``--resume`` skips only
what its record still proves finished, an output folder inside the input folder is never read as
input, and ``recolor --resume`` resumes without ``--ir``. Each case as a user meets it."""

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import varcolor
from varcolor import batch
from varcolor.batch import MANIFEST, read_manifest
from varcolor.errors import VarcolorError

from ..conftest import FUZZ, colour_photos, json_values, make_pair, photo, run, time_limit

HOURS_AGO = time.time() - 7200


def mtimes(folder, pattern="*.png"):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.rglob(pattern))}


def one_line(err):
    return err.count("\n") == 1 and "Traceback" not in err


# ---------------------------------------------------------------- stale temporaries


def test_the_cleanup_never_deletes_an_input_named_like_an_old_temporary(tmp_path, capsys):
    folder = tmp_path / "d"
    make_pair(folder, "m")
    scan = folder / ".scan.abcd1234.png.tmp"  # the issue's case: earlier versions' temporary pattern
    shutil.copy(folder / "m.png", scan)
    os.utime(scan, (HOURS_AGO, HOURS_AGO))
    code, _, err = run(capsys, "colorize", scan, "--marked", folder / "m_marked.png", "-o", folder / "out.png")
    assert code == 0 and scan.is_file() and "removed" not in err, err
    assert (folder / "out.png").is_file()


def test_a_folder_run_leaves_other_programs_files_in_its_output_folder(tmp_path, capsys):
    make_pair(tmp_path / "in", "a")
    out = tmp_path / "out"
    out.mkdir()
    theirs = [".syncthing.img_0001.jpg.tmp", ".budget.2024q3ab.xlsx.tmp", ".varcolor-abcdefgh.tmp"]
    for name in theirs:
        (out / name).write_bytes(b"not varcolor's")
        os.utime(out / name, (HOURS_AGO, HOURS_AGO))
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", out, "--marked")
    assert code == 0 and "removed" not in err
    assert all((out / name).read_bytes() == b"not varcolor's" for name in theirs)


# ---------------------------------------------------------------- tables


def test_a_metrics_table_never_replaces_a_result_without_reference(tmp_path, capsys):
    results, references = tmp_path / "res", tmp_path / "ref"
    colour_photos(results, ["k01", "k03"])
    colour_photos(references, ["k01"])
    before = (results / "k03.png").read_bytes()
    code, out, err = run(capsys, "metrics", results, "-r", references, "-o", results / "k03.png", "--overwrite")
    assert code == 2 and one_line(err) and "refusing to overwrite an input" in err and out == ""
    assert (results / "k03.png").read_bytes() == before
    # a reference that no result pairs with is protected too, and through a link to its folder
    colour_photos(references, ["k09"])
    (tmp_path / "link").symlink_to(references)
    code, _, err = run(capsys, "metrics", results, "-r", references, "-o", tmp_path / "link" / "k09.png", "--overwrite")
    assert code == 2 and one_line(err) and "refusing to overwrite an input" in err
    # a table beside them, in a folder of its own, is written
    code, out, _ = run(capsys, "metrics", results, "-r", references, "-o", tmp_path / "table.md")
    assert code == 1 and (tmp_path / "table.md").read_text().startswith("| image")


def test_a_bench_table_never_replaces_a_photo_it_did_not_score(tmp_path, capsys):
    photos = tmp_path / "photos"
    before = colour_photos(photos, ["a", "b"])
    code, _, err = run(capsys, "bench", photos, "--hints", "0", "--limit", "1", "-o", photos / "b.png", "--overwrite")
    assert code == 2 and one_line(err) and "refusing to overwrite an input" in err
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before


# ---------------------------------------------------------------- the manifest


def test_the_manifest_is_never_written_through_a_link(tmp_path, capsys):
    make_pair(tmp_path / "in", "a")
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).symlink_to(tmp_path / "in" / "a.png")
    before = (tmp_path / "in" / "a.png").read_bytes()
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", out, "--marked")
    assert code == 2 and one_line(err) and "a symbolic link" in err
    assert (tmp_path / "in" / "a.png").read_bytes() == before and not (out / "a.png").exists()  # before any work


@pytest.mark.parametrize("resume", [False, True])
def test_a_fifo_where_the_manifest_goes_is_one_line_not_a_hang(tmp_path, resume):
    make_pair(tmp_path / "in", "a")
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / MANIFEST)
    command = [sys.executable, "-m", "varcolor.cli", "colorize", str(tmp_path / "in"), "-o", str(out), "--marked"]
    done = subprocess.run(command + ["--resume"] * resume, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and one_line(done.stderr) and "not a regular file" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"input": "x.png", "status": "done"}\n\xff\xfe\x00 not text\n', "not UTF-8"),
        (b"[" * 100_000 + b"\n", "nests too deeply"),
        (None, "a folder"),
    ],
)
@pytest.mark.parametrize("resume", [False, True])
def test_a_manifest_varcolor_cannot_have_written_is_one_line(tmp_path, capsys, content, message, resume):
    make_pair(tmp_path / "in", "a")
    manifest = tmp_path / "out" / MANIFEST
    if content is None:
        manifest.mkdir(parents=True)
    else:
        manifest.parent.mkdir()
        manifest.write_bytes(content)
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out", "--marked", *["--resume"] * resume)
    if content is not None and not resume:  # not read: appended to, as before
        assert code == 0 and manifest.read_bytes().startswith(content)
    else:
        assert code == 2 and one_line(err) and message in err, err


def test_a_full_disk_while_appending_to_the_manifest_stops_the_run_with_one_line(tmp_path, capsys, monkeypatch):
    for name in ("a", "b", "c"):
        make_pair(tmp_path / "in", name)
    real_write = os.write
    appended = []

    def disk_fills(fd, data):  # the kernel's answer once the disk is full, for the manifest's appends
        if os.readlink(f"/proc/self/fd/{fd}").endswith(MANIFEST):
            appended.append(data)
            if len(appended) > 1:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_fills)
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", tmp_path / "out", "--marked", "-q")
    assert code == 2 and one_line(err), err
    assert "No space left on device" in err and "the run stopped: colorized 2 of 3" in err
    assert [row["input"] for row in read_manifest(tmp_path / "out" / MANIFEST)] == [str(tmp_path / "in" / "a.png")]


# ---------------------------------------------------------------- --resume


def test_resume_with_overwrite_redoes_no_finished_image(tmp_path, capsys):
    for name in ("a", "b"):
        make_pair(tmp_path / "in", name)
    out = tmp_path / "out"
    argv = ("colorize", tmp_path / "in", "-o", out, "--marked")
    assert run(capsys, *argv)[0] == 0
    assert run(capsys, *argv)[0] == 0  # appends "skipped: exists" records
    before = mtimes(out)
    code, _, err = run(capsys, *argv, "--resume", "--overwrite")
    assert code == 0 and mtimes(out) == before and "colorized 0, skipped 2" in err
    assert err.count("done by an earlier run") == 2


def test_resume_redoes_what_changed_and_says_why(tmp_path, capsys):
    for name in ("a", "b", "c", "d"):
        make_pair(tmp_path / "in", name, seed=ord(name))
    out = tmp_path / "out"
    argv = ("colorize", tmp_path / "in", "-o", out, "--marked")
    assert run(capsys, *argv)[0] == 0
    before = mtimes(out)
    # a: the input replaced (same name, new pixels); b: its output cut short; c: its cue file changed
    gray = varcolor.read_image(tmp_path / "in" / "a.png")
    gray[5:8, 5:8] = 1.0  # a dust spot retouched
    varcolor.write_image(tmp_path / "in" / "a.png", gray)
    (out / "b.png").write_bytes((out / "b.png").read_bytes()[:50])
    marked = varcolor.read_image(tmp_path / "in" / "c_marked.png")
    marked[0, 0] = (1.0, 0.0, 0.0)
    varcolor.write_image(tmp_path / "in" / "c_marked.png", marked)
    code, _, err = run(capsys, *argv, "--resume")  # without --overwrite: what exists is kept, and why is said
    assert code == 0 and "colorized 0, skipped 4" in err
    assert f"{out / 'a.png'}: exists, but {tmp_path / 'in' / 'a.png'} changed since its output was made" in err
    assert f"{out / 'b.png'}: exists, but {out / 'b.png'} changed since it was written (truncated" in err
    assert f"{tmp_path / 'in' / 'c_marked.png'} changed since its output was made" in err
    assert f"{tmp_path / 'in' / 'd.png'}: done by an earlier run" in err
    code, _, err = run(capsys, *argv, "--resume", "--overwrite")
    assert code == 0 and "colorized 3, skipped 1" in err and err.count("varcolor: redone:") == 3
    after = mtimes(out)
    assert after["d.png"] == before["d.png"] and all(after[n] != before[n] for n in ("a.png", "b.png", "c.png"))
    assert varcolor.read_image(out / "b.png").shape == (24, 32, 3)  # whole again
    # other options: everything redone, saying so
    code, _, err = run(capsys, *argv, "--resume", "--overwrite", "--gamut", "clip")
    assert code == 0 and "colorized 4" in err and err.count("made with other options") == 4
    code, _, err = run(capsys, *argv, "--resume", "--gamut", "clip")
    assert code == 0 and "colorized 0, skipped 4" in err and err.count("done by an earlier run") == 4


def test_resume_redoes_an_output_whose_record_is_missing_or_foreign(tmp_path, capsys):
    make_pair(tmp_path / "in", "a")
    out = tmp_path / "out"
    out.mkdir()
    varcolor.write_image(out / "a.png", np.zeros((24, 32, 3)))  # someone else's file, "recorded" by hand
    (out / MANIFEST).write_text(f'{{"input": "{tmp_path / "in" / "a.png"}", "status": "done"}}\n')
    code, _, err = run(capsys, "colorize", tmp_path / "in", "-o", out, "--marked", "--resume", "--overwrite")
    assert code == 0 and "colorized 1" in err and "does not say what the output was made from" in err
    assert varcolor.read_image(out / "a.png").std() > 0


# ---------------------------------------------------------------- an output folder inside the input folder


def test_an_output_folder_inside_the_input_folder_is_never_read_as_input(tmp_path, capsys):
    source = tmp_path / "in"
    colour_photos(source, ["a", "b"])
    for _ in range(2):  # each rerun would take the earlier IRs as photos
        code, _, err = run(capsys, "encode", source, "-o", source / "ir", "-e", "grid", "--overwrite")
        assert code == 0 and "encoded 2" in err, err
    assert sorted(p.relative_to(source).as_posix() for p in source.rglob("*.png")) == [
        "a.png",
        "b.png",
        "ir/a.png",
        "ir/b.png",
    ]
    make_pair(tmp_path / "c", "x")
    for _ in range(2):
        code, _, err = run(capsys, "colorize", tmp_path / "c", "-o", tmp_path / "c" / "out", "--marked", "--overwrite")
        assert code == 0 and "colorized 1, skipped 0" in err, err
    # decode and recolor, their IR folder and output folder inside
    code, _, err = run(capsys, "decode", source / "ir", "-o", source / "ir" / "dec")
    assert code == 0 and "decoded 2, skipped 0" in err
    photos = tmp_path / "photos"
    colour_photos(photos, ["a", "b"])
    for _ in range(2):
        code, _, err = run(capsys, "recolor", photos, "-o", photos / "rec", "--ir", photos / "ir", "-e", "grid")
        assert code == 0, err
    assert sorted(p.relative_to(photos).as_posix() for p in photos.rglob("*.png")) == [
        "a.png",
        "b.png",
        "ir/a.png",
        "ir/b.png",
        "rec/a.png",
        "rec/b.png",
    ]


# ---------------------------------------------------------------- recolor --resume


def test_recolor_resumes_without_an_ir_folder(tmp_path, capsys):
    photos = tmp_path / "photos"
    colour_photos(photos, ["a", "b", "c"])
    out = tmp_path / "out"
    argv = ("recolor", photos, "-o", out, "-e", "grid", "-q")
    assert run(capsys, *argv)[0] == 0
    rows = read_manifest(out / MANIFEST)
    assert sorted(row["input"] for row in rows) == sorted(str(photos / f"{n}.png") for n in "abc")  # not temporary
    before = mtimes(out)
    varcolor.write_image(photos / "b.png", photo("astronaut", (32, 40)))  # one photo changed
    code, _, err = run(capsys, *argv[:-1], "--resume", "--overwrite")
    assert code == 0 and "encoded 1" in err and "decoded 1, skipped 2" in err, err
    assert f"{photos / 'b.png'}: {photos / 'b.png'} changed since its output was made" in err
    after = mtimes(out)
    assert after["a.png"] == before["a.png"] and after["c.png"] == before["c.png"] and after["b.png"] != before["b.png"]
    code, _, err = run(capsys, *argv[:-1], "--resume")
    assert code == 0 and "encoded" not in err and "decoded 0, skipped 3" in err, err


def test_a_manifest_row_is_written_on_python_3_10(tmp_path, monkeypatch):
    """Python 3.10 (the oldest the package supports) has no ``datetime.UTC``: a run's manifest row
    is still written, its time in UTC."""
    import datetime

    from varcolor.batch.jobs import Job
    from varcolor.batch.manifest import ManifestWriter

    monkeypatch.delattr(datetime, "UTC")
    writer = ManifestWriter(tmp_path / "manifest.jsonl")
    try:
        row = writer.write(Job(inputs=[tmp_path / "a.png"], outputs=[tmp_path / "out.png"], run=print), "failed")
    finally:
        writer.close()
    assert row["time"].endswith("+00:00")
    assert read_manifest(tmp_path / "manifest.jsonl")[0]["time"] == row["time"]


def _write_output(path, text):
    """A job's work: one output, published as every output is."""
    with varcolor.io.atomic_path(path) as tmp:
        tmp.write_text(text)
    return ""


def _jobs(folder):
    source, out = folder / "in", folder / "out"
    source.mkdir(exist_ok=True)
    jobs = []
    for name in ("a", "b"):
        if not (source / f"{name}.png").exists():
            (source / f"{name}.png").write_bytes(f"photo {name}".encode())
        jobs.append(
            batch.Job(
                [source / f"{name}.png"], [out / f"{name}.txt"], partial(_write_output, out / f"{name}.txt", name)
            )
        )
    return jobs


MANIFEST_PLACES = [
    "missing",
    "regular",
    "link to an input",
    "dangling link",
    "link to a folder",
    "hard link to an input",
]
MANIFEST_PLACES += ["FIFO", "FIFO with a reader", "folder", "link to a FIFO"]


@FUZZ
@given(place=st.sampled_from(MANIFEST_PLACES), resume=st.booleans(), overwrite=st.booleans())
def test_the_manifest_is_a_regular_file_of_its_own_or_one_line(tmp_path_factory, place, resume, overwrite):
    folder = tmp_path_factory.mktemp("m")
    jobs = _jobs(folder)
    photo = jobs[0].inputs[0]
    manifest = folder / "out" / batch.MANIFEST
    manifest.parent.mkdir()
    elsewhere = folder / "elsewhere"
    reader = None
    if place == "regular":
        manifest.write_text("")
    elif place == "link to an input":
        manifest.symlink_to(photo)
    elif place == "hard link to an input":
        os.link(photo, manifest)
    elif place == "dangling link":
        manifest.symlink_to(elsewhere)
    elif place == "link to a folder":
        elsewhere.mkdir()
        manifest.symlink_to(elsewhere)
    elif place.startswith("FIFO"):
        os.mkfifo(manifest)
        if place == "FIFO with a reader":
            reader = os.open(manifest, os.O_RDONLY | os.O_NONBLOCK)
    elif place == "link to a FIFO":
        os.mkfifo(elsewhere)
        manifest.symlink_to(elsewhere)
    elif place == "folder":
        manifest.mkdir()
    photos = {job.inputs[0]: job.inputs[0].read_bytes() for job in jobs}
    try:
        with time_limit(20):
            report = batch.run(jobs, verb="made", overwrite=overwrite, quiet=True, manifest=manifest, resume=resume)
    except VarcolorError as exc:
        assert place not in ("missing", "regular") and "\n" not in str(exc)
        assert not (folder / "out" / "a.txt").exists()  # refused before any work
    else:
        assert place in ("missing", "regular") and len(report.done) == 2
        rows = batch.read_manifest(manifest)
        assert stat.S_ISREG(os.lstat(manifest).st_mode) and [r["status"] for r in rows] == ["done", "done"]
    finally:
        if reader is not None:
            os.close(reader)
    assert {path: path.read_bytes() for path in photos} == photos  # no input touched
    assert not os.path.exists(elsewhere) or os.path.isdir(elsewhere) or stat.S_ISFIFO(os.stat(elsewhere).st_mode)


manifest_lines = st.one_of(
    st.just("GENUINE"),  # the record the run wrote for a.png, as written
    st.binary(max_size=40),
    st.builds(lambda n: b"[" * n, st.integers(0, 50_000)),
    st.builds(
        lambda extra: json.dumps({"input": "IN_A", "status": "done", **extra}).encode(),
        st.dictionaries(st.sampled_from(["sources", "made", "options", "outputs"]), json_values, max_size=4),
    ),
    st.builds(
        lambda status: json.dumps({"input": "IN_A", "status": status}).encode(),
        st.sampled_from(["skipped", "failed", "done", None]),
    ),
    json_values.map(lambda value: json.dumps(value).encode()),
)


@FUZZ
@given(lines=st.lists(manifest_lines, max_size=6), tail=st.binary(max_size=12))
@pytest.mark.slow
def test_resume_skips_only_what_its_last_done_record_proves(tmp_path_factory, lines, tail):
    folder = tmp_path_factory.mktemp("r")
    jobs = _jobs(folder)
    manifest = folder / "out" / batch.MANIFEST
    batch.run(jobs[:1], verb="made", overwrite=False, quiet=True, manifest=manifest)
    genuine = manifest.read_bytes().rstrip(b"\n")
    key = str(jobs[0].inputs[0]).encode()
    content = [genuine if line == "GENUINE" else line.replace(b"IN_A", key) for line in lines]
    manifest.write_bytes(b"\n".join(content) + b"\n" + tail)
    try:
        rows = batch.read_manifest(manifest)
    except VarcolorError as exc:  # refused: not UTF-8, or nested past the parser's depth
        assert "not a varcolor manifest" in str(exc)
        return
    last = [row for row in rows if row["input"] == str(jobs[0].inputs[0]) and row.get("status") == "done"]
    proven = bool(last) and last[-1] == json.loads(genuine)
    fresh = _jobs(folder)  # planned again, as a rerun plans
    report = batch.run(fresh, verb="made", overwrite=True, quiet=True, manifest=manifest, resume=True)
    assert [job.inputs[0].name for job in report.resumed] == (["a.png"] if proven else [])
    assert len(report.done) == (1 if proven else 2)
