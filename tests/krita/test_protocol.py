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
    with pytest.raises(protocol.ProtocolError, match="strokes.raw: None bytes"):
        protocol.read_request(tmp_path)
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
