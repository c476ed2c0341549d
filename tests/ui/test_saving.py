"""Saving a studio document (varcolor.ui.saving): the printed command reproduces the save, the
unit is published whole or not at all, cancelled and killed saves leave nothing."""

import time
from pathlib import Path

import numpy as np
import pytest

import varcolor.common.memory

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from varcolor import cli
from varcolor.color import rgb_to_lab
from varcolor.ui.document import Document, cues_from_mask, rasterize
from varcolor.ui.studio import Studio

from ..conftest import wait_until
from .conftest import (
    assert_the_printed_command_gives_the_result,
    chroma_of,
    edge_photo,
    many_images,
    open_upload,
    save_as_the_page_does,
    stroke_edit,
    studio_with_a_spare_child,
)


@pytest.mark.slow
def test_save_reproduces_through_the_command_line(client, tmp_path):
    open_upload(client, edge_photo(client.tmp))
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    client.post("/api/edit", json={"op": "point", "point": {"x": 50, "y": 30, "rgb": [50, 90, 200], "size": 5}})
    status = save_as_the_page_does(client, "photo_colorized", format="png")
    assert status["state"] == "done", status
    paths = {k: Path(v) for k, v in status["paths"].items()}
    assert all(p.is_file() and p.parent == tmp_path / "out" for p in paths.values())
    saved = varcolor.read_image(paths["result"])
    out = tmp_path / "cli.png"
    assert cli.main(["colorize", str(tmp_path / "photo.png"), "--mask", str(paths["mask"]), "-o", str(out)]) == 0
    assert np.abs(rgb_to_lab(varcolor.read_image(out)) - rgb_to_lab(saved)).max() <= 0.01
    # The points file alone gives the point's cues exactly as the mask holds them.
    doc = client.studio.history.current
    from_points = varcolor.Cues.from_points(paths["points"], (40, 60))
    only_points = cues_from_mask(rasterize(Document(points=doc.points), (40, 60)))
    assert np.array_equal(from_points.mask, only_points.mask)
    assert np.allclose(from_points.ab[from_points.mask], only_points.ab[only_points.mask], atol=1e-9)
    # ... and colours as the studio colours them: its points are dabs of paint (restrained), not hints.
    gray = varcolor.read_image(tmp_path / "photo.png")
    by_file, by_mask = varcolor.colorize(gray, from_points), varcolor.colorize(gray, only_points)
    assert from_points.points is None and np.abs(by_file.ab - by_mask.ab).max() <= 1e-6
    # A second save under the same name asks first (409), then replaces when told to.
    assert client.post("/api/save", json={"name": "photo_colorized"}).status_code == 409
    assert save_as_the_page_does(client, "photo_colorized", overwrite=True)["state"] == "done"


def test_save_outside_the_folder_or_over_the_photo_is_refused(client, tmp_path):
    open_upload(client, edge_photo(client.tmp))
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    for name in ("../escape", "/tmp/escape", "sub/../../escape"):
        r = client.post("/api/save", json={"name": name})
        assert r.status_code == 403, name
    assert not (tmp_path / "escape.png").exists()
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "out" / "door").symlink_to(tmp_path)  # a link inside the folder that leads out of it
    assert client.post("/api/save", json={"name": "door/escape"}).status_code == 403
    assert client.post("/api/save", json={"name": "."}).status_code == 403  # the folder itself
    assert not (tmp_path / "escape.png").exists()
    assert save_as_the_page_does(client, "sub/ok")["state"] == "done"
    assert (tmp_path / "out" / "sub" / "ok.png").is_file()


def test_saving_never_replaces_the_photo(tmp_path):
    photo = edge_photo(tmp_path)
    before = photo.read_bytes()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    try:
        studio.open_path(photo)
        with pytest.raises(varcolor.InputError):
            studio.save("photo", "png", overwrite=True)
    finally:
        studio.close()
    assert photo.read_bytes() == before


def test_a_hard_link_to_the_photo_is_the_photo(client, tmp_path):
    photo = edge_photo(client.tmp)
    open_upload(client, photo)
    client.studio.open_path(photo)  # the photo itself, not the uploaded copy
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    link = tmp_path / "out" / "linked_mask.png"
    link.hardlink_to(photo)
    before = photo.read_bytes()
    r = client.post("/api/save", json={"name": "linked", "overwrite": True})
    assert r.status_code == 400 and "the photo itself" in r.json()["error"]
    assert photo.read_bytes() == before and link.read_bytes() == before
    assert not (tmp_path / "out" / "linked.png").exists()


def _folder_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_printed_command_names_the_solver_and_reproduces_the_save_exactly(client, tmp_path):
    import shlex

    open_upload(client, edge_photo(client.tmp))
    client.studio.open_path(client.tmp / "photo.png")  # the photo on disk: the command reads it
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    client.post("/api/edit", json={"op": "point", "point": {"x": 50, "y": 30, "rgb": [50, 90, 200], "size": 5}})
    status = save_as_the_page_does(client, "same")
    assert status["state"] == "done" and status["solver"]
    argv = shlex.split(status["command"])
    assert argv[:2] == ["varcolor", "colorize"] and argv[argv.index("--solver") + 1] == status["solver"]
    assert argv[argv.index("--method") + 1] == "levin-multiscale"
    assert argv[argv.index("--mask") + 1] == status["paths"]["mask"]
    out = tmp_path / "again.png"
    argv[argv.index("-o") + 1] = str(out)
    assert cli.main(argv[1:]) == 0
    assert np.array_equal(varcolor.read_image(out), varcolor.read_image(status["paths"]["result"]))


def test_cancelled_save_writes_nothing(client):
    open_upload(client, edge_photo(client.tmp))
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    started = client.post("/api/save", json={"name": "never"}).json()
    assert started["state"] == "solving" and started["estimate"] > 0 and 0 <= started["fraction"] < 1
    # A second save while one runs is refused.
    assert client.post("/api/save", json={"name": "other"}).status_code == 400
    status = client.post("/api/save-cancel").json()
    assert status["state"] == "cancelled"
    assert _folder_files(client.tmp / "out") == []
    assert not list((client.tmp / "data" / "saving").iterdir())  # the work folder went too
    assert save_as_the_page_does(client, "after")["state"] == "done"  # the studio saves again afterwards


KILL_MID_PUBLISH = """
import os, sys, numpy as np
from pathlib import Path
import varcolor.io.atomic as atomic
from varcolor.ui.studio import Studio

folder = Path(sys.argv[1])
studio = Studio(data_dir=folder / "data", out_dir=folder / "out", warm=False)
studio.open_path(folder / "photo.png")
stroke = {"tool": "brush", "rgb": [200, 60, 50], "width": 3, "path": [[5, 10], [20, 10]]}
studio.edit({"op": "stroke", "stroke": stroke})
published = []
real = atomic._publish_temporary
def publish_then_die(tmp, fd, path, overwrite):
    if Path(path).parent != folder / "out":  # an autosave
        return real(tmp, fd, path, overwrite)
    if len(published) == int(sys.argv[2]):
        os._exit(9)  # killed: the rest of the unit is never published
    real(tmp, fd, path, overwrite)
    published.append(path)
if len(sys.argv) > 3:  # an earlier save of the same strokes: the killed one, by another method, is a re-save
    studio.save("killed", overwrite=True)
    __import__("shutil").copytree(folder / "out", folder / "earlier")
    studio.edit({"op": "settings", "settings": {"method": "levin"}})
atomic._publish_temporary = publish_then_die
studio.save("killed", overwrite=True)
"""


@pytest.mark.slow  # a child killed mid-save, then a studio restarted on its leftovers: `make test-slow`
@pytest.mark.parametrize("published", [0, 2])
def test_a_killed_save_leaves_no_part_of_its_unit_after_a_restart(tmp_path, published):
    import subprocess
    import sys

    (tmp_path / "out").mkdir()
    edge_photo(tmp_path)
    older = tmp_path / "out" / "killed_mask.png"
    older.write_bytes(b"an older mask, kept")  # not the save's: never taken
    script = tmp_path / "kill.py"
    script.write_text(KILL_MID_PUBLISH)
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, str(script), str(tmp_path), str(published)], env=env, capture_output=True)
    assert done.returncode == 9, done.stderr.decode()[-2000:]
    left = _folder_files(tmp_path / "out")
    assert len(left) > 1  # the killed save's leftovers: published files or temporaries
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        remaining = _folder_files(tmp_path / "out")
        # Whatever the save had published is gone, and the older mask it had replaced is back.
        assert remaining == ["killed_mask.png"] and older.read_bytes() == b"an older mask, kept"
        assert "interrupted save" in studio.state()["message"]
        assert not list((tmp_path / "data" / "saving").iterdir())
    finally:
        studio.close()


@pytest.mark.slow  # as above
def test_a_killed_re_save_leaves_the_earlier_save_whole(tmp_path):
    """The same strokes saved again by another method with overwrite, killed after its result and
    mask: the mask held the same bytes as the earlier save's, and was taken back as its own, so the
    earlier save lost its mask (and its result was the new one's). Both are now put back."""
    import subprocess
    import sys

    (tmp_path / "out").mkdir()
    edge_photo(tmp_path)
    script = tmp_path / "kill.py"
    script.write_text(KILL_MID_PUBLISH)
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, str(script), str(tmp_path), "2", "twice"], env=env, capture_output=True)
    assert done.returncode == 9, done.stderr.decode()[-2000:]

    def saved(folder: Path) -> dict[str, bytes]:
        return {name: (folder / name).read_bytes() for name in _folder_files(folder)}

    earlier = saved(tmp_path / "earlier")  # the earlier save's files, as the script found them
    assert len(earlier) == 4 and saved(tmp_path / "out")["killed.png"] != earlier["killed.png"]
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        assert saved(tmp_path / "out") == earlier
        assert "interrupted save" in studio.state()["message"]
        assert not list((tmp_path / "data" / "saving").iterdir())
    finally:
        studio.close()


@pytest.mark.parametrize(
    "across, stays_full",
    [
        pytest.param(False, False, id="one"),
        pytest.param(True, False, id="across", marks=pytest.mark.slow),
        pytest.param(True, True, id="across, full", marks=pytest.mark.slow),
    ],
)
def test_a_save_that_fails_while_publishing_leaves_the_earlier_save_as_it_was(
    tmp_path, monkeypatch, across, stays_full
):
    """One file system or two (the data folder's and the output's); a disk full for a moment, or
    until the next start (then what was replaced waits in the data folder, and is put back then)."""
    import errno
    import os

    import varcolor.io.atomic as atomic
    from varcolor.ui import saving

    if across:  # the data folder on another file system than the output's: no link, no rename between them
        real_replace = os.replace

        def no_link(*args, **keywords):
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        def replace(source, target, **keywords):
            if "saving" in Path(source).parts:
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            return real_replace(source, target, **keywords)

        monkeypatch.setattr(saving.os, "link", no_link)
        monkeypatch.setattr(saving.os, "replace", replace)

    photo = edge_photo(tmp_path)
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        studio.open_path(photo)
        studio.edit(stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
        studio.save("again", overwrite=True)
        earlier = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
        assert len(earlier) == 4
        studio.edit(stroke_edit([50, 90, 200], [[30, 20], [50, 20]]))  # a new result; the same name
        real, published = atomic._publish_temporary, []

        def full_disk_at_the_third(tmp, fd, path, overwrite):
            if len(published) == 2 or (stays_full and len(published) > 2):
                published.append(None)
                raise OSError(28, "No space left on device", str(path))
            real(tmp, fd, path, overwrite)
            published.append(path)

        monkeypatch.setattr(atomic, "_publish_temporary", full_disk_at_the_third)
        with pytest.raises(varcolor.OutputError, match="No space left"):
            studio.save("again", overwrite=True)
        assert published
    finally:
        studio.close()
    if stays_full:
        assert list((tmp_path / "data" / "saving").iterdir())  # the journal, and what it had replaced
        monkeypatch.setattr(atomic, "_publish_temporary", real)  # room again: the next start
        Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False).close()
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == earlier
    assert not list((tmp_path / "data" / "saving").iterdir())


def test_a_killed_save_that_cannot_be_taken_back_yet_is_kept_and_the_studio_starts(tmp_path):
    """Its output folder moved away (or its drive unplugged): the studio failed to start at all,
    on every start. Now it starts, says so, and keeps the journal and what the save replaced until
    a start can put them back."""
    import hashlib
    import json

    from varcolor.ui import saving

    out, folder = tmp_path / "out" / "sub", tmp_path / "data" / "saving"
    kept = folder / "0123456789ab" / "before" / "0"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"the earlier mask")
    record = {
        "files": [str(out / "k_mask.png"), str(out / "k.studio.json")],
        "sha256": [hashlib.sha256(b"the new mask").hexdigest(), "0" * 64],
        "before": [str(kept), None],
    }
    (folder / "0123456789ab.json").write_text(json.dumps(record))
    said = saving.recover(folder)  # out/sub is gone
    assert len(said) == 1 and "could not be taken back yet" in said[0], said
    assert kept.read_bytes() == b"the earlier mask" and (folder / "0123456789ab.json").exists()
    out.mkdir(parents=True)  # back
    (out / "k_mask.png").write_bytes(b"the new mask")
    said = saving.recover(folder)
    assert "interrupted save of k.studio.json was taken back" in said[0], said
    assert (out / "k_mask.png").read_bytes() == b"the earlier mask" and not list(folder.iterdir())


@pytest.mark.slow  # a studio process stopped by Ctrl-C mid-save: `make test-slow`
def test_ctrl_c_during_a_save_stops_cleanly(tmp_path):
    """Ctrl-C while a save solves: exit code 0, no traceback, nothing of the save written."""
    import os
    import signal
    import subprocess
    import sys

    import httpx

    photo = edge_photo(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "varcolor.cli", "ui", str(photo), "--no-browser", "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=open(log, "w"),
        text=True,
        env=env,
    )
    try:
        url = process.stdout.readline().split()[-1]
        base, token = url.split("/?token=")
        with httpx.Client(base_url=base, headers={"X-Varcolor-Token": token}, timeout=60) as http:
            assert http.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]])).status_code == 200
            assert http.post("/api/save", json={"name": "interrupted"}).json()["state"] == "solving"
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text()
    assert "Traceback" not in text and "CancelledError" not in text, text
    files = _folder_files(tmp_path)
    assert [f for f in files if not f.startswith("d/")] == ["photo.png", "server.log"]  # no result, no temporary
    assert not [f for f in files if f.startswith("d/saving")]  # the save's work folder went too


@pytest.mark.slow
def test_printed_command_reproduces_a_12_megapixel_save(tmp_path):
    """At scan size (12 MP) the printed command, run from a fresh process while the studio still
    holds its photo, gives the saved result exactly (the solver is named in it)."""

    from skimage import data
    from skimage.transform import resize

    photo = tmp_path / "scan12.png"
    varcolor.write_image(photo, resize(data.astronaut().mean(axis=2) / 255.0, (2828, 4243), order=1))
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    try:
        studio.open_path(photo)
        rng = np.random.default_rng(0)
        for _ in range(12):
            x, y = int(rng.integers(100, 4000)), int(rng.integers(100, 2700))
            rgb = [int(v) for v in rng.integers(40, 220, 3)]
            studio.edit(stroke_edit(rgb, [[x, y], [x + 120, y + 40]], width=12))
        status = studio.save("scan12_colorized")
    finally:
        studio.close()
    assert_the_printed_command_gives_the_result(status, tmp_path)


@pytest.mark.slow
def test_a_dead_spare_or_a_killed_save_child_loses_nothing_and_says_what_happened(tmp_path, monkeypatch):
    """A spare child dead before Ctrl+S: the save runs in a fresh child, once, whole. A save child
    killed mid-save (kill -9, the OOM killer): the save fails in one line saying so (it quoted the
    child's last line of output, whatever that was), nothing of it is published, and the next
    save works."""
    import os
    import signal

    from varcolor.ui import saving

    (tmp_path / "out").mkdir()
    studio, spare = studio_with_a_spare_child(tmp_path, monkeypatch, tmp_path / "out")
    try:
        os.kill(spare.pid, signal.SIGKILL)
        spare.wait()
        status = studio.save("first")
        assert studio.saves.job._child is not spare
        assert _folder_files(tmp_path / "out") == sorted(Path(path).name for path in status["paths"].values())
        assert len(status["paths"]) == 4  # result, mask, points, session: the whole unit
        assert varcolor.read_image(status["paths"]["result"]).shape == (40, 60, 3)

        many_images(tmp_path / "in")
        long = {"command": "encode", "source": str(tmp_path / "in"), "output": str(tmp_path / "ir"), "workers": 1}
        long.update(grid_size=16, spacing=4)
        monkeypatch.setattr(saving, "save_request", lambda *args, **keywords: long)  # a save that takes long
        studio.start_save("second")
        wait_until(lambda: list((tmp_path / "ir").glob("*.png")), 60, 0.05)  # its child is at work
        os.kill(studio.saves.job._child.pid, signal.SIGKILL)
        studio.saves.job.wait(30)
        status = studio.save_status()
        assert status["state"] == "failed" and "killed by SIGKILL" in status["error"] and "\n" not in status["error"]
        assert not any(name.startswith("second") for name in _folder_files(tmp_path / "out"))
        assert not list((tmp_path / "data" / "saving").iterdir())
        monkeypatch.undo()
        assert studio.save("third")["state"] == "done"
    finally:
        studio.close()


def test_a_save_reads_the_studios_mask_as_the_live_view_does(tmp_path):
    """A one-pixel dark line beside a bright stroke of the same hue: the live view takes every
    stroke pixel in its own colour; the save's command read its mask with the default ``--edges
    unmix``, the line as the bright stroke blended towards black, and saved it in the bright one's
    colours (26 ab off what was painted and shown). The command now says ``--edges exact``."""
    (tmp_path / "out").mkdir()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    try:
        studio.open_path(edge_photo(tmp_path))
        studio.edit(stroke_edit([220, 60, 40], [[10, 10], [50, 10]], width=6))
        studio.edit(stroke_edit([110, 30, 20], [[10, 14], [50, 14]], width=1))
        status = studio.save("shades")
    finally:
        studio.close()
    assert "--edges exact" in status["command"]
    result = chroma_of(np.round(varcolor.read_image(status["paths"]["result"]) * 255))
    painted = rgb_to_lab(np.array([[[110, 30, 20]]]) / 255.0)[0, 0, 1:]
    assert np.abs(result[14, 12:28] - painted).max() < 1  # the line on the photo's dark half, as painted


@pytest.mark.slow
def test_two_saves_asked_for_at_once_start_one(tmp_path, monkeypatch):
    """Ctrl+S twice fast (two tabs, a double key press): both requests passed the "a save is under
    way" check before either had started its save, so two children solved the same unit at once
    (twice the memory of a scan's solve) and the first was no longer followed nor cancellable."""
    import threading

    from varcolor.ui import saving

    real = saving.memory_budget

    def slow_budget(*args, **keywords):  # the seconds a scan's mask takes to draw, between check and start
        time.sleep(0.3)
        return real(*args, **keywords)

    monkeypatch.setattr(saving, "memory_budget", slow_budget)
    (tmp_path / "out").mkdir()
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    outcomes = []

    def save():
        try:
            outcomes.append(studio.start_save("twice")["state"])
        except varcolor.InputError as exc:
            outcomes.append(str(exc))

    try:
        studio.open_path(edge_photo(tmp_path))
        studio.edit(stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
        threads = [threading.Thread(target=save) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["a save is under way: wait for it or cancel it", "solving"]
        studio.saves.job.wait(60)
        assert studio.save_status()["state"] == "done"
    finally:
        studio.close()


@pytest.mark.parametrize("kind", ["pipe", "folder"])
def test_a_save_name_that_cannot_be_published_is_refused_before_the_solve(client, tmp_path, kind):
    """A pipe (or a folder) in the way of one of the save's files, with overwrite: refused at once
    in one line, no save started (it had solved the photo, then failed to publish)."""
    import os

    open_upload(client, edge_photo(client.tmp))
    client.post("/api/edit", json=stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
    (tmp_path / "out").mkdir(exist_ok=True)
    in_the_way = tmp_path / "out" / "piped_mask.png"
    os.mkfifo(in_the_way) if kind == "pipe" else in_the_way.mkdir()
    r = client.post("/api/save", json={"name": "piped", "overwrite": True})
    expected = "a device, pipe or socket" if kind == "pipe" else "a folder is in the way"
    assert r.status_code == 400 and expected in r.json()["error"] and "\n" not in r.json()["error"], r.text
    assert client.get("/api/save-status").json()["state"] not in ("solving", "publishing", "done")
    assert not (tmp_path / "out" / "piped.png").exists()


def test_a_journal_naming_files_no_save_writes_touches_nothing(tmp_path):
    """A hand-written journal in the data folder named any file whose digest it knew, and the next
    start deleted it (a dead save's published file). Only a save unit's names are taken back."""
    import hashlib
    import json

    from varcolor.ui import saving

    folder, out = tmp_path / "data" / "saving", tmp_path / "out"
    folder.mkdir(parents=True)
    out.mkdir()
    victims = [tmp_path / "thesis.txt", out / "k.png", out / "other.png"]
    for victim in victims:
        victim.write_bytes(b"keep me " + victim.name.encode())
    digest = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    journals = [  # a file elsewhere; a result whose session is named otherwise; a result of another name
        [victims[0], out / "k.studio.json"],
        [victims[1], out / "k.studio.txt"],
        [victims[2], out / "k.studio.json"],
    ]
    for index, files in enumerate(journals):
        record = {"files": [str(p) for p in files], "sha256": [digest(files[0]), "0" * 64]}
        (folder / f"0123456789a{index}.json").write_text(json.dumps(record))
    assert saving.recover(folder) == []
    assert all(victim.read_bytes() == b"keep me " + victim.name.encode() for victim in victims)
    assert not list(folder.iterdir())
    # the same journal naming the unit's own result is taken back (the dead save's file goes)
    record = {"files": [str(out / "k.png"), str(out / "k.studio.json")], "sha256": [digest(out / "k.png"), "0" * 64]}
    (folder / "0123456789ab.json").write_text(json.dumps(record))
    assert "interrupted save of k.studio.json" in saving.recover(folder)[0]
    assert not (out / "k.png").exists()
