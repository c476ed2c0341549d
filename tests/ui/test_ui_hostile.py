"""Hostile input to the studio (issues 51 and 52): file names that look like options, request
bodies and session files built to break a JSON parser, and two studios sharing a data folder.
The attacks are generated (from the command line's own options, from depth and size
parameters), not listed by hand."""

import json
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
    from starlette.testclient import TestClient

from varcolor import cli
from varcolor.color import rgb_to_lab
from varcolor.ui.saving import command_line
from varcolor.ui.server import create_app
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


# -- request bodies and session files built to break a JSON parser -----------------------------

DEEP = 100_000
#: Raw JSON text for a value: nested 100,000 deep (lists, objects), integers of 10^400 and of
#: 4,301 digits (past Python's int() limit), floats that overflow to infinity, the non-JSON
#: constants json.loads accepts.
HOSTILE = {
    "deep list": "[" * DEEP + "]" * DEEP,
    "deep object": '{"a":' * DEEP + "1" + "}" * DEEP,
    "10^400": "1" + "0" * 400,
    "4301 digits": "9" * 4301,
    "-10^400": "-1" + "0" * 400,
    "1e400": "1e400",
    "-1e400": "-1e400",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
}
#: Values of the wrong kind for any field: the schema checks answer them in one line.
WRONG_KINDS = {"list": "[1, 2]", "object": '{"x": 1}', "string": '"x"', "null": "null", "true": "true", "zero": "0"}

TEMPLATES = {
    "/api/edit": [
        STROKE,
        {"op": "point", "point": {"x": 5, "y": 6, "rgb": [50, 90, 200], "size": 3}},
        {"op": "point-change", "id": 1, "point": {"x": 7, "y": 8, "rgb": [50, 90, 200], "size": 3}},
        {"op": "point-delete", "id": 1},
        {"op": "settings", "settings": {"method": "levin"}},
    ],
    "/api/save": [{"name": "taken", "format": "png", "overwrite": False}],
}


def _places(value, path=()):
    """The path to every value inside ``value`` (itself included)."""
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _places(child, path + (key,))


def mutations(template, tokens: dict):
    """``template`` as JSON text with each of its values in turn replaced by each raw token."""
    marker = "\x00HOSTILE\x00"
    for path in _places(template):
        copy = json.loads(json.dumps(template))
        if path:
            parent = copy
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = marker
        else:
            copy = marker
        text = json.dumps(copy)
        for name, token in tokens.items():
            yield f"{'/'.join(map(str, path)) or 'body'} = {name}", text.replace(json.dumps(marker), token)


@pytest.fixture
def client(tmp_path, monkeypatch):
    from varcolor.ui.saving import SaveJob

    # A save a mutation happens to make valid is not run (no child process): it ends at once.
    monkeypatch.setattr(SaveJob, "start", lambda job: (setattr(job, "state", "cancelled"), job)[1])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "taken.png").write_bytes(b"there")
    photo = tmp_path / "photo.png"
    varcolor.write_image(photo, _gray(1))
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False)
    studio.open_path(photo)
    studio.edit(TEMPLATES["/api/edit"][1])  # point 1, for the templates that name it
    with TestClient(create_app(studio, TOKEN, hosts=None), headers={"X-Varcolor-Token": TOKEN}) as c:
        c.studio, c.tmp = studio, tmp_path
        yield c
    studio.close()


def _one_line_4xx(response, case):
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error and "\n" not in error and "Traceback" not in error, (case, error)


@pytest.mark.parametrize("route", list(TEMPLATES))
def test_hostile_json_anywhere_in_a_request_is_a_one_line_4xx(client, route):
    for template in TEMPLATES[route]:
        for case, text in mutations(template, HOSTILE):
            r = client.post(route, content=text, headers={"content-type": "application/json"})
            _one_line_4xx(r, f"{route} {case}")
    assert client.post("/api/edit", json=STROKE).status_code == 200  # the studio goes on


@pytest.mark.parametrize("route", list(TEMPLATES))
def test_values_of_the_wrong_kind_are_answered_not_500(client, route):
    for template in TEMPLATES[route]:
        for case, text in mutations(template, WRONG_KINDS):
            r = client.post(route, content=text, headers={"content-type": "application/json"})
            assert r.status_code != 500, (route, case, r.text[:300])
            if r.status_code != 200:
                _one_line_4xx(r, f"{route} {case}")
    assert client.post("/api/edit", json=STROKE).status_code == 200


@pytest.mark.parametrize("length", [250, 300, 5000])
def test_a_save_name_too_long_for_the_file_system_is_a_one_line_400(client, length):
    r = client.post("/api/save", json={"name": "n" * length})
    _one_line_4xx(r, length)
    assert "too long" in r.json()["error"]


def _session(client, **image) -> dict:
    doc = client.studio.history.current
    from varcolor.ui.document import session_dict

    return session_dict(doc, {**client.studio.image.record(), **image})


def hostile_sessions(client):
    """A real session with each value in turn replaced by each hostile token."""
    yield from mutations(_session(client), HOSTILE)


def test_an_uploaded_session_built_to_break_the_parser_is_a_one_line_4xx(client):
    for case, text in hostile_sessions(client):
        r = client.post("/api/open", content=text.encode(), headers={"X-Filename": "s.studio.json"})
        _one_line_4xx(r, case)
    r = client.post("/api/open", content=json.dumps(_session(client)).encode(), headers={"X-Filename": "s.studio.json"})
    assert r.status_code == 200  # the real one opens


# -- session files, autosaves and the command line's checks ------------------------------------


def _saved_session(tmp_path) -> tuple[Path, dict]:
    photo = tmp_path / "photo.png"
    varcolor.write_image(photo, _gray(1))
    studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
    studio.open_path(photo)
    studio.edit(STROKE)
    studio.flush()
    autosave = studio.autosave_path()
    studio.close()
    return autosave, json.loads(autosave.read_text())


def _broken_sessions(session: dict):
    """The session with its width, then its height, replaced by each hostile token, nested deep
    as a whole, and not UTF-8."""
    for case, text in mutations(session, HOSTILE):
        if case.split(" = ")[0] in ("image/width", "image/height", "body"):
            yield case, text.encode()
    yield "not UTF-8", json.dumps(session).replace("brush", "br\udcffush").encode("utf-8", "surrogateescape")


def test_bad_session_files_on_the_command_line_are_one_line_exit_2(tmp_path, capsys):
    _, session = _saved_session(tmp_path)
    for case, data in _broken_sessions(session):
        path = tmp_path / "broken.studio.json"
        path.write_bytes(data)
        assert cli.main(["ui", "--session", str(path), "--no-browser"]) == 2, case
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "broken.studio.json" in err and "Traceback" not in err, (case, err)


def test_an_unreadable_autosave_is_set_aside_with_a_note_and_the_studio_starts(tmp_path):
    autosave, session = _saved_session(tmp_path)
    for case, data in _broken_sessions(session):
        for old in autosave.parent.glob("autosave.json.bad*"):
            old.unlink()
        autosave.write_bytes(data)
        studio = Studio(data_dir=tmp_path / "data", out_dir=tmp_path, warm=False)
        try:
            state = studio.open_path(tmp_path / "photo.png")
        finally:
            studio.close()
        assert "unreadable autosave" in state["message"], case
        assert state["restorable"] is None and state["doc"]["strokes"] == []
        assert (autosave.parent / "autosave.json.bad").read_bytes() == data, case  # kept, not deleted


@pytest.mark.parametrize("argv", [["--port", "70000"], ["--port", "-1"], ["--preview-megapixels", "nan"]])
def test_bad_ui_arguments_are_refused_before_the_photo_is_opened(tmp_path, monkeypatch, capsys, argv):
    import varcolor.ui.studio

    photo = tmp_path / "photo.png"
    varcolor.write_image(photo, _gray(1))

    def never(*args, **kwargs):
        raise AssertionError("the studio was started before the arguments were checked")

    monkeypatch.setattr(varcolor.ui.studio, "Studio", never)
    assert cli.main(["ui", str(photo), "--no-browser", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and argv[0] in err


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400"])
def test_a_preview_size_that_is_no_finite_number_is_one_line(tmp_path, capsys, value):
    assert cli.main(["ui", "--no-browser", "--out-dir", str(tmp_path), f"--preview-megapixels={value}"]) == 2
    assert "--preview-megapixels" in capsys.readouterr().err


def test_the_notice_of_a_save_taken_back_reaches_the_page_when_the_photo_is_given_on_the_command_line(tmp_path):
    import hashlib

    from varcolor.ui import open_given

    out, saving = tmp_path / "out", tmp_path / "data" / "saving"
    out.mkdir()
    saving.mkdir(parents=True)
    photo = tmp_path / "photo.png"
    varcolor.write_image(photo, _gray(1))
    # What a save killed after publishing its result and before its marker leaves behind.
    (out / "gone.png").write_bytes(b"result")
    record = {"files": [str(out / "gone.png"), str(out / "gone.studio.json")]}
    record["sha256"] = [hashlib.sha256(b"result").hexdigest(), "0" * 64]
    (saving / "0123456789ab.json").write_text(json.dumps(record))  # (named by the save's id)
    studio = Studio(data_dir=tmp_path / "data", out_dir=out, warm=False)
    open_given(studio, str(photo), None)
    with TestClient(create_app(studio, TOKEN, hosts=None), headers={"X-Varcolor-Token": TOKEN}) as c:
        first = c.get("/api/state").json()
        second = c.get("/api/state").json()
    studio.close()
    assert "interrupted save of gone.studio.json" in first["message"]
    assert not second["message"]  # said once
    assert not (out / "gone.png").exists()


def test_what_a_user_keeps_in_the_data_folders_saving_folder_stays(tmp_path):
    """A data folder given as one where a user keeps a ``saving`` folder of their own: recovery took
    each name there for a save, deleting folders and any JSON it could not read as a journal."""
    saving = tmp_path / "data" / "saving"
    (saving / "receipts").mkdir(parents=True)
    (saving / "receipts" / "jan.txt").write_text("mine")
    (saving / "budget.json").write_text("{}")
    (saving / "notes.txt").write_text("mine")
    before = sorted(p.relative_to(saving).as_posix() for p in saving.rglob("*"))
    Studio(data_dir=tmp_path / "data", out_dir=tmp_path / "out", warm=False).close()
    assert sorted(p.relative_to(saving).as_posix() for p in saving.rglob("*")) == before


# -- two studios sharing one data folder (issue 52) ---------------------------------------------

STUDIO = """
import os, signal, sys
from pathlib import Path
import varcolor.io.atomic as atomic

stop_after = os.environ.get("STOP_AFTER")  # pause this whole studio right after that file is published
if stop_after:
    real = atomic._publish_temporary
    def publish(tmp, fd, path, overwrite):
        real(tmp, fd, path, overwrite)
        if Path(path).name == stop_after:
            os.kill(os.getpid(), signal.SIGSTOP)
    atomic._publish_temporary = publish
from varcolor.cli import main
sys.exit(main(sys.argv[1:]))
"""


class _Studio:
    """A studio in its own process (``varcolor ui --no-browser`` on loopback) and a client for it."""

    def __init__(self, tmp: Path, out: str, stop_after: str | None = None):
        import os
        import queue
        import subprocess
        import sys
        import threading

        import httpx

        (tmp / out).mkdir(exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        if stop_after:
            env["STOP_AFTER"] = stop_after
        argv = ["ui", str(tmp / "photo.png"), "--no-browser", "--out-dir", str(tmp / out), "--data-dir", str(tmp / "D")]
        self.process = subprocess.Popen(
            [sys.executable, "-c", STUDIO, *argv],
            stdout=subprocess.PIPE,
            stderr=open(tmp / f"{out}.log", "w"),
            text=True,
            env=env,
        )
        lines = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        line = lines.get(timeout=120)
        assert line.startswith("varcolor studio: http://127.0.0.1:"), (line, (tmp / f"{out}.log").read_text())
        url = line.split()[-1]
        self.http = httpx.Client(
            base_url=url.split("/?")[0], headers={"X-Varcolor-Token": url.split("token=")[1]}, timeout=60
        )

    def save(self, name: str) -> dict:
        assert self.http.post("/api/edit", json=STROKE).status_code == 200
        status = self.http.post("/api/save", json={"name": name}).json()
        assert status["state"] == "solving", status
        return status

    def finished_save(self, seconds: float = 120) -> dict:
        import time

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            status = self.http.get("/api/save-status").json()
            if status["state"] not in ("solving", "publishing"):
                return status
            time.sleep(0.2)
        raise AssertionError("the save did not end")

    def stop(self) -> None:
        import signal

        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except Exception:  # noqa: BLE001 - bounded: a studio that does not stop is killed
            self.process.kill()
            self.process.wait(10)


def _wait_for(predicate, seconds: float = 120) -> None:
    import time

    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


@pytest.mark.slow
def test_a_second_studio_on_the_same_data_folder_leaves_a_save_under_way_alone(tmp_path):
    import os
    import signal

    varcolor.write_image(tmp_path / "photo.png", _gray(1))
    a = _Studio(tmp_path, "outA")
    b = None
    try:
        a.save("fromA")
        _wait_for(lambda: _children(a.process.pid))
        child = _children(a.process.pid)[0]
        os.kill(child, signal.SIGSTOP)  # A's save is solving, held there while B starts
        work = [p for p in (tmp_path / "D" / "saving").iterdir() if p.is_dir()]
        b = _Studio(tmp_path, "outB")
        assert all(p.is_dir() for p in work) and work  # B left A's work folder alone
        os.kill(child, signal.SIGCONT)
        status = a.finished_save()
        assert status["state"] == "done", status
        assert all(Path(p).is_file() for p in status["paths"].values())
    finally:
        a.stop()
        if b is not None:
            b.stop()


@pytest.mark.slow
def test_a_second_studio_never_takes_back_a_paused_studios_half_published_save(tmp_path):
    import signal

    varcolor.write_image(tmp_path / "photo.png", _gray(1))
    a = _Studio(tmp_path, "outA", stop_after="fromA2.png")
    b = None
    try:
        a.save("fromA2")
        _wait_for(lambda: _stopped(a.process.pid))  # paused right after its result was renamed into place
        assert (tmp_path / "outA" / "fromA2.png").is_file()
        b = _Studio(tmp_path, "outB")
        assert (tmp_path / "outA" / "fromA2.png").is_file()  # not "taken back" under A's feet
        a.process.send_signal(signal.SIGCONT)
        status = a.finished_save()
        assert status["state"] == "done", status
        session = json.loads(Path(status["paths"]["session"]).read_text())
        assert session["image"]["sha256"] and all(Path(p).is_file() for p in status["paths"].values())
        assert b.http.get("/api/state").json()["message"] is None  # B took back nothing
    finally:
        a.stop()
        if b is not None:
            b.stop()
