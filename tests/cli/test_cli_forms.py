"""The command line's forms: every input positional or with -i/--input (not both), one meaning per
flag (-m the colorization method, -e the encoder) and the old spellings still working."""

import pytest

import varcolor
from varcolor.cli import build_parser, main
from varcolor.ir.encode import ENCODERS
from varcolor.ir.files import read_ir

from ..conftest import photo
from .test_cli import make_pair, run

# Each command with its input first, then the rest of a valid command line.
COMMANDS = {
    "colorize": ["IMG", "--marked", "-o", "out.png"],
    "encode": ["IMG", "-o", "ir"],
    "decode": ["IMG", "-o", "out"],
    "recolor": ["IMG", "-o", "out"],
    "bench": ["IMG"],
    "metrics": ["IMG", "-r", "ref"],
    "ui": ["IMG"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_input_positional_or_with_i_parse_alike(command):
    rest = COMMANDS[command][1:]
    positional = vars(build_parser().parse_args([command, "photo.png", *rest]))
    for flag in ("-i", "--input"):
        named = vars(build_parser().parse_args([command, flag, "photo.png", *rest]))
        assert named == positional
    dest = "image" if command == "ui" else "input"
    assert positional[dest] == "photo.png"
    assert "input_positional" not in positional and "input_option" not in positional


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_input_given_both_ways_is_an_error_naming_both(command, capsys):
    rest = COMMANDS[command][1:]
    with pytest.raises(SystemExit) as info:
        main([command, "first.png", "-i", "second.png", *rest])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "first.png" in err and "second.png" in err and "-i/--input" in err


def test_input_is_required(capsys):
    with pytest.raises(SystemExit) as info:
        main(["encode", "-o", "ir"])
    assert info.value.code == 2 and "required: IN" in capsys.readouterr().err
    assert build_parser().parse_args(["ui"]).image is None  # the studio opens without a photo


def test_train_takes_folders_positionally_or_with_repeated_i(capsys):
    parse = build_parser().parse_args
    assert parse(["train", "a", "b", "-o", "run"]).data == ["a", "b"]
    assert parse(["train", "-i", "a", "--input", "b", "-o", "run"]).data == ["a", "b"]
    with pytest.raises(SystemExit):
        main(["train", "a", "-i", "b", "-o", "run"])
    err = capsys.readouterr().err
    assert "(a)" in err and "(b)" in err
    with pytest.raises(SystemExit):
        main(["train", "-o", "run"])
    assert "required: FOLDER" in capsys.readouterr().err


def test_colorize_with_i_writes_what_the_positional_form_writes(tmp_path, capsys):
    make_pair(tmp_path)
    code, _, _ = run(capsys, "colorize", tmp_path / "img.png", "--marked", "-o", tmp_path / "a.png")
    assert code == 0
    code, _, _ = run(capsys, "colorize", "-i", tmp_path / "img.png", "--marked", "-o", tmp_path / "b.png")
    assert code == 0 and (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_encode_defaults_to_the_same_encoder_as_recolor(tmp_path, capsys):
    parse = build_parser().parse_args
    assert parse(["encode", "x.png", "-o", "ir"]).encoder == "adaptive"
    assert parse(["recolor", "x.png", "-o", "out"]).encoder == "adaptive"
    varcolor.write_image(tmp_path / "c.png", photo("chelsea", (40, 60)))
    code, _, _ = run(capsys, "encode", tmp_path / "c.png", "-o", tmp_path / "ir", "--budget", 128)
    assert code == 0 and read_ir(tmp_path / "ir" / "c.png").encoder == "adaptive"  # what the file says


@pytest.mark.parametrize("old", ["-m", "--method"])
def test_encode_m_is_the_encoder_still_with_a_warning(tmp_path, capsys, old):
    varcolor.write_image(tmp_path / "c.png", photo("chelsea", (40, 60)))
    code, _, err = run(capsys, "encode", tmp_path / "c.png", "-o", tmp_path / "new", "-e", "grid", "-s", 20, "-g", 4)
    assert code == 0 and "warning" not in err
    code, _, err = run(capsys, "encode", tmp_path / "c.png", "-o", tmp_path / "old", old, "grid", "-s", 20, "-g", 4)
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert code == 0 and len(warnings) == 1 and f"{old} grid" in warnings[0] and "-e/--encoder" in warnings[0]
    for name in ("c.png", "c.vcir"):
        assert (tmp_path / "old" / name).read_bytes() == (tmp_path / "new" / name).read_bytes()
    assert read_ir(tmp_path / "old" / "c.png").encoder == "grid"


def test_recolor_m_names_the_method_or_the_old_encoder(capsys):
    parse = build_parser().parse_args
    args = parse(["recolor", "x.png", "-o", "out", "-m", "levin-symmetric"])
    assert (args.method, args.encoder) == ("levin-symmetric", "adaptive") and capsys.readouterr().err == ""
    args = parse(["recolor", "x.png", "-o", "out", "-m", "grid"])
    err = capsys.readouterr().err
    assert (args.method, args.encoder) == (varcolor.Options.method, "grid")
    assert err.count("\n") == 1 and "-e/--encoder" in err
    assert (
        parse(["recolor", "x.png", "-o", "out", "-e", "grid", "--method", "bilaplacian-gtv"]).method
        == "bilaplacian-gtv"
    )
    for argv in (["-m", "nope"], ["--method", "grid"]):  # --method was never the encoder in recolor
        with pytest.raises(SystemExit) as info:
            main(["recolor", "x.png", "-o", "out", *argv])
        assert info.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_m_is_the_colorization_method_where_a_command_colorizes():
    parse = build_parser().parse_args
    assert parse(["colorize", "x.png", "--marked", "-o", "y.png", "-m", "bilaplacian-gtv"]).method == "bilaplacian-gtv"
    assert parse(["decode", "x.png", "-o", "y.png", "-m", "levin-symmetric"]).method == "levin-symmetric"
    assert parse(["bench", "photos", "-m", "levin,ideepcolor"]).methods == "levin,ideepcolor"


def test_help_names_every_method_and_encoder(capsys):
    for command in ("encode", "recolor"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = "".join(capsys.readouterr().out.split())  # wrapped lines may break at a hyphen
        for name in ENCODERS:
            assert f"{name}:" in text, (command, name)
    for command in ("colorize", "decode", "recolor"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = "".join(capsys.readouterr().out.split())  # wrapped lines may break at a hyphen
        for name in varcolor.api.METHODS:
            assert f"{name}:" in text, (command, name)
