"""The plug-in's side of the exchange, run here as Krita's Python runs it: which layers are taken,
requests checked, the varcolor command found, colour profiles found."""

import json
import os

import pytest

from varcolor.krita.plugin.varcolor_krita import protocol

RGBA_U8 = protocol.layout("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc", ["Blue", "Green", "Red", "Alpha"])


def _pick(names, active=None, kinds=None, **chosen):
    return protocol.pick_layers(names, kinds or ["paintlayer"] * len(names), active, **chosen)


def test_the_photo_is_the_bottom_paint_layer_and_the_strokes_the_selected_one():
    assert _pick(["photo", "a", "b"], active=1) == (0, 1)
    assert _pick(["photo", "a", "b"], active=2) == (0, 2)


def test_without_a_usable_selection_the_strokes_are_the_top_paint_layer_varcolor_did_not_make():
    names = ["photo", "strokes", protocol.RESULT_LAYER]
    assert _pick(names, active=0) == (0, 1)  # the photo selected
    assert _pick(names, active=2) == (0, 1)  # varcolor's own layer selected
    kinds = ["paintlayer", "paintlayer", "grouplayer"]
    assert _pick(["photo", "strokes", "group"], active=2, kinds=kinds) == (0, 1)
    # nor its confidence map (opaque: taken as strokes, it was paint on every pixel)
    names = ["photo", protocol.RESULT_LAYER, protocol.CONFIDENCE_LAYER, "strokes", protocol.CONFIDENCE_LAYER]
    assert _pick(names, active=2) == (0, 3)
    assert _pick(names, active=4) == (0, 3)


def test_layers_named_by_the_user_win():
    assert _pick(["a", "photo", "strokes"], active=0, photo="photo", strokes="strokes") == (1, 2)


@pytest.mark.parametrize(
    ("names", "chosen", "said"),
    [
        (["photo"], {}, "no strokes layer"),
        ([], {}, "no paint layer"),
        (["photo", "strokes"], {"strokes": "nope"}, "no paint layer named 'nope'"),
        (["x", "x", "s"], {"photo": "x"}, "several paint layer named 'x'"),
        (["photo", "s"], {"photo": "s", "strokes": "s"}, "the same layer"),
    ],
)
def test_a_layer_choice_that_cannot_work_is_one_line(names, chosen, said):
    with pytest.raises(protocol.ProtocolError, match=said):
        _pick(names, **chosen)


def test_new_layers_have_krita_s_channel_order_and_a_gray_document_cannot_hold_colours():
    assert protocol.document_channels("RGBA", "U16") == ["Blue", "Green", "Red", "Alpha"]
    assert protocol.document_channels("RGBA", "F32") == ["Red", "Green", "Blue", "Alpha"]
    with pytest.raises(protocol.ProtocolError, match="GRAYA, which cannot hold colours"):
        protocol.document_channels("GRAYA", "U8")


def _request(**changed):
    values = {"width": 3, "height": 2, "photo": RGBA_U8, "strokes": RGBA_U8, "result": RGBA_U8} | changed
    return protocol.make_request(**values)


def test_a_request_read_back_checks_its_pixel_files(tmp_path):
    protocol.write_json(tmp_path / protocol.REQUEST, _request())
    (tmp_path / protocol.PHOTO).write_bytes(bytes(3 * 2 * 4))
    # issue 94, item 7: it said "strokes.raw: None bytes, not the 24 of the strokes layer"
    with pytest.raises(protocol.ProtocolError, match="strokes.raw: missing: the strokes layer was not written"):
        protocol.read_request(tmp_path)
    os.mkfifo(tmp_path / protocol.STROKES)
    with pytest.raises(protocol.ProtocolError, match="strokes.raw: not a regular file"):
        protocol.read_request(tmp_path)
    (tmp_path / protocol.STROKES).unlink()
    (tmp_path / protocol.STROKES).write_bytes(bytes(3 * 2 * 4 - 1))
    with pytest.raises(protocol.ProtocolError, match="23 bytes, not the 24"):
        protocol.read_request(tmp_path)
    (tmp_path / protocol.STROKES).write_bytes(bytes(3 * 2 * 4))
    assert protocol.read_request(tmp_path) == _request()


@pytest.mark.parametrize(
    ("changed", "said"),
    [
        ({"method": "magic"}, "unknown method 'magic'"),
        ({"prior": "dream"}, "unknown prior"),
        ({"edges": "soft"}, "unknown edge reading"),
        ({"width": 0}, "canvas width 0"),
        ({"height": 10**9}, "canvas height"),
        ({"result": protocol.layout("GRAYA", "U8", "g.icc", ["Gray", "Alpha"])}, "cannot hold colours"),
    ],
)
def test_a_bad_request_is_refused_in_one_line(changed, said):
    with pytest.raises(protocol.ProtocolError, match=said):
        _request(**changed)


@pytest.mark.parametrize(
    ("model", "depth", "channels", "said"),
    [
        ("CMYKA", "U8", ["Cyan"], "RGB and grayscale"),
        ("RGBA", "U32", ["Red", "Green", "Blue", "Alpha"], "colour depth U32"),
        ("RGBA", "U8", ["Red", "Green", "Blue"], "not those of RGBA"),
    ],
)
def test_a_layer_varcolor_cannot_read_is_refused_in_one_line(model, depth, channels, said):
    with pytest.raises(protocol.ProtocolError, match=said):
        protocol.layout(model, depth, "p.icc", channels)


def test_a_missing_or_broken_reply_is_an_error_reply(tmp_path):
    assert protocol.read_reply(tmp_path) == {"ok": False, "error": "varcolor wrote no reply"}
    (tmp_path / protocol.REPLY).write_text("[1")
    assert not protocol.read_reply(tmp_path)["ok"]
    (tmp_path / protocol.REPLY).write_text(json.dumps({"ok": False, "error": "two\nlines"}))
    assert protocol.read_reply(tmp_path)["error"] == "two lines"


def test_the_varcolor_program_is_the_setting_or_found_on_path(tmp_path, monkeypatch):
    program = tmp_path / "bin" / "varcolor"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(program.parent))
    assert protocol.varcolor_command() == [str(program)]
    assert protocol.colorize_command("", "F") == [str(program), "krita", "colorize", "F"]
    assert protocol.serve_command("") == [str(program), "krita", "serve"]
    assert protocol.varcolor_command(f"'{program}' -X") == [str(program), "-X"]
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(protocol.ProtocolError, match=r"varcolor not found \(varcolor\): install it"):
        protocol.varcolor_command("")


def test_a_profile_is_found_by_name_in_the_data_folders(tmp_path):
    icc = tmp_path / "share" / "color" / "icc" / "krita" / "Wide.icc"
    icc.parent.mkdir(parents=True)
    icc.write_bytes(b"x")
    assert protocol.find_profile("Wide.icc", [str(tmp_path / "none"), str(tmp_path / "share")]) == str(icc)
    assert protocol.find_profile("sRGB built-in", []) is None
    with pytest.raises(protocol.ProtocolError, match="'Other.icc' has no file"):
        protocol.find_profile("Other.icc", [str(tmp_path / "share")])


def test_json_is_published_whole(tmp_path):
    protocol.write_json(tmp_path / "a.json", {"x": 1})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}
    assert os.listdir(tmp_path) == ["a.json"]


def _gone_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(os.name == "nt", reason="nothing is swept on Windows")
def test_exchange_folders_left_by_a_krita_that_is_gone_are_removed_and_nothing_else(tmp_path):
    gone = _gone_pid()
    left = tmp_path / f"{protocol.FOLDER_PREFIX}{gone}-abc"
    left.mkdir()
    (left / protocol.PHOTO).write_bytes(b"\0" * 64)
    (left / "inner").mkdir()
    running = tmp_path / f"{protocol.FOLDER_PREFIX}{os.getpid()}-def"  # this process: running
    running.mkdir()
    kept = [
        running,
        tmp_path / f"{protocol.FOLDER_PREFIX}live-ghi",  # no process id in its name
        tmp_path / f"{protocol.FOLDER_PREFIX}check-jkl",
        tmp_path / f"{protocol.FOLDER_PREFIX}0-mno",
        tmp_path / f"{protocol.FOLDER_PREFIX}{'9' * 30}-pqr",  # past any process id
        tmp_path / f"other-{gone}-stu",
    ]
    for folder in kept[1:]:
        folder.mkdir()
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    link = tmp_path / f"{protocol.FOLDER_PREFIX}{gone}-link"  # a link named like a left folder
    link.symlink_to(target, target_is_directory=True)
    plain = tmp_path / f"{protocol.FOLDER_PREFIX}{gone}-file"  # a file, not a folder
    plain.write_text("x")

    assert protocol.sweep_exchange_folders(str(tmp_path)) == [str(left)]
    assert not left.exists()
    assert all(folder.is_dir() for folder in kept)
    assert link.is_symlink() and (target / "keep.txt").read_text() == "mine"
    assert plain.read_text() == "x"


@pytest.mark.skipif(os.name == "nt", reason="nothing is swept on Windows")
def test_a_new_exchange_folder_is_named_by_this_process_and_sweeps_first(tmp_path):
    left = tmp_path / f"{protocol.FOLDER_PREFIX}{_gone_pid()}-abc"
    left.mkdir()
    folder = protocol.exchange_folder(str(tmp_path))
    assert os.path.basename(folder).startswith(f"{protocol.FOLDER_PREFIX}{os.getpid()}-")
    assert os.path.isdir(folder) and (os.stat(folder).st_mode & 0o777) == 0o700
    assert not left.exists()
    assert protocol.sweep_exchange_folders(str(tmp_path)) == []  # ours: this process runs
    assert protocol.sweep_exchange_folders(str(tmp_path / "absent")) == []


def test_exchange_folders_go_where_memory_holds_them_when_it_has_room(tmp_path, monkeypatch):
    """The user's runtime folder (in memory) first, when it has room for the folder's layers twice
    over; else the next place, and at last the temporary folder."""
    import tempfile

    runtime = tmp_path / "run"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert protocol.exchange_parent(1000) == str(runtime)
    assert protocol.exchange_parent(1 << 60) == tempfile.gettempdir()  # no room anywhere for 2 EB
    request = protocol.make_request(
        4000, 3000, *(protocol.layout("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc", ["Blue", "Green", "Red", "Alpha"]),) * 3
    )
    assert protocol.exchanged_bytes(request) == 4 * 4000 * 3000 * 4
    folder = protocol.exchange_folder(needed=protocol.exchanged_bytes(request))
    try:
        assert os.path.dirname(folder) == str(runtime) and (os.stat(folder).st_mode & 0o777) == 0o700
    finally:
        os.rmdir(folder)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "absent"))
    assert protocol.exchange_parent(1000) != str(tmp_path / "absent")
    # a folder in memory only while its files are a small share of the memory available
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setattr(protocol, "_memory_to_spare", lambda needed: needed <= 10_000)
    assert protocol.exchange_parent(1000) == str(runtime)
    assert protocol.exchange_parent(20_000) == tempfile.gettempdir()


def test_memory_to_spare_is_a_share_of_what_is_available():
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("MemAvailable is Linux's")
    with open("/proc/meminfo") as file:
        available = next(int(line.split()[1]) * 1024 for line in file if line.startswith("MemAvailable:"))
    assert protocol._memory_to_spare(int(available * protocol.MEMORY_SHARE * 0.9))
    assert not protocol._memory_to_spare(int(available * protocol.MEMORY_SHARE * 1.5))


@pytest.mark.skipif(os.name == "nt", reason="nothing is swept on Windows")
def test_a_new_exchange_folder_sweeps_every_place_folders_go(tmp_path, monkeypatch):
    """A Krita that crashed left its folder in memory: the next one sweeps it wherever its own goes
    (a folder in memory holds memory until it is removed)."""
    runtime = tmp_path / "run"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    left = runtime / f"{protocol.FOLDER_PREFIX}{_gone_pid()}-abc"
    left.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = protocol.exchange_folder(str(elsewhere))
    assert os.path.dirname(folder) == str(elsewhere) and not left.exists()


def test_the_plug_ins_own_copies_of_varcolors_names_are_varcolors():
    """The plug-in runs inside Krita, where varcolor cannot be imported: its menus' names are
    copies, held equal here (the default method first, the edge readings with their default)."""
    import varcolor
    from varcolor import methods

    assert protocol.METHODS[0] == varcolor.Options.method
    assert set(protocol.METHODS) <= set(methods.METHODS)
    assert protocol.EDGES == varcolor.cues.EDGES and protocol.EDGES[0] == varcolor.cues.EDGES_DEFAULT
