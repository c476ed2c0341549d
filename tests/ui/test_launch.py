"""Launching the studio (varcolor.ui.run): bad input refused before serving, the address taking
connections before the server runs, saves in the current folder's ``colorized``."""

from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from varcolor import cli
from varcolor.ui.studio import Studio

from .conftest import edge_photo, stroke_edit


def test_command_line_refuses_bad_input_before_serving(tmp_path, capsys):
    (tmp_path / "notes.png").write_bytes(b"no image")
    (tmp_path / "bad.studio.json").write_text("{}")
    # (a folder --out-dir names that does not exist yet is made by the first save: no refusal)
    for argv in (
        ["ui", str(tmp_path / "missing.png"), "--no-browser"],
        ["ui", str(tmp_path / "notes.png"), "--no-browser", "--data-dir", str(tmp_path / "d")],
        ["ui", "--session", str(tmp_path / "bad.studio.json"), "--no-browser", "--data-dir", str(tmp_path)],
        ["ui", "--no-browser", "--out-dir", str(tmp_path / "notes.png")],
        ["ui", "--no-browser", "--out-dir", str(tmp_path / "notes.png" / "sub")],
        # (a file as the data folder: each autosave failed and a save answered 500)
        ["ui", "--no-browser", "--data-dir", str(tmp_path / "notes.png")],
    ):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "notes.png: not a folder to keep autosaves and uploads in" in err


def test_saves_go_to_colorized_in_the_current_folder_not_the_photos(tmp_path, capsys, monkeypatch):
    # `varcolor ui examples/data/chelsea.png` saved into the bundled data folder (a source tree);
    # without --out-dir the studio now saves into ./colorized, made by the first save.
    import varcolor.ui.studio

    photos, work = tmp_path / "photos", tmp_path / "work"
    photos.mkdir(), work.mkdir()
    photo = edge_photo(photos)
    seen = {}

    class Recorded(Studio):
        def __init__(self, **keywords):
            seen.update(keywords)
            super().__init__(**{**keywords, "warm": False})

        def open_path(self, path, *args, **keywords):
            raise varcolor.InputError("stopped before serving")  # the test needs no server

    monkeypatch.setattr(varcolor.ui.studio, "Studio", Recorded)
    monkeypatch.setattr("sys.setswitchinterval", lambda seconds: None)
    monkeypatch.setattr("logging.basicConfig", lambda **keywords: None)
    monkeypatch.chdir(work)
    assert cli.main(["ui", str(photo), "--no-browser", "--data-dir", str(tmp_path / "data")]) == 2
    assert "stopped before serving" in capsys.readouterr().err
    assert Path(seen["out_dir"]).resolve() == work / "colorized"
    # The folder is made by the first save, with the whole unit in it; the photo's folder keeps its one file.
    studio = Studio(data_dir=tmp_path / "data", out_dir=seen["out_dir"], warm=False)
    try:
        studio.open_path(photo)
        studio.edit(stroke_edit([200, 60, 50], [[5, 10], [20, 10]]))
        saved = studio.save("photo_colorized")
    finally:
        studio.close()
    assert {Path(p).parent for p in saved["paths"].values()} == {work / "colorized"}
    assert sorted(p.name for p in photos.iterdir()) == ["photo.png"]


def test_the_printed_address_takes_connections_before_the_server_runs(tmp_path, monkeypatch, capsys):
    # A client reading the printed address may connect before the server's loop has started (a
    # loaded machine): it must wait in the backlog, not be refused.
    import socket

    import uvicorn

    import varcolor.ui

    answers = []

    def connect_instead(self, sockets=None):
        port = sockets[0].getsockname()[1]
        with socket.socket() as client:
            answers.append(client.connect_ex(("127.0.0.1", port)))

    monkeypatch.setattr(uvicorn.Server, "run", connect_instead)
    code = varcolor.ui.run(None, open_browser=False, data_dir=str(tmp_path / "d"), out_dir=str(tmp_path))
    assert code == 0 and answers == [0] and "varcolor studio: http://127.0.0.1:" in capsys.readouterr().out
