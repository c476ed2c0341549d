"""The command line for a newcomer: the help in groups with the essentials first, an argument
error as one line, a mistyped option with the closest ones, a marked image given as a mask named."""

import pytest

from tests.conftest import make_pair, run


def test_colorize_help_lists_the_essentials_first_in_groups(capsys):
    with pytest.raises(SystemExit) as info:
        run(capsys, "colorize", "--help")
    out = capsys.readouterr().out
    assert info.value.code == 0
    # a short usage line: the input, one kind of cues and the output, not all ~40 options
    assert (
        out.splitlines()[0]
        == "usage: varcolor colorize INPUT [--marked M | --mask M | --points P] [--reference REF] -o OUT [options]"
    )
    titles = [line for line in out.splitlines() if line and not line.startswith(" ") and line.endswith(":")]
    groups = ["cues", "output", "method and solver", "prior", "scale-out", "video"]
    starts = [next(i for i, title in enumerate(titles) if title.startswith(group)) for group in groups]
    assert starts == sorted(starts), titles
    # each option in its group: the cues' and the output's before any solver, prior, Dask or video flag
    at = {
        flag: out.index(f"  {flag}")
        for flag in ("--marked", "-o OUT", "--solver", "--prior-weight", "--workers", "--fps")
    }
    assert list(at) == sorted(at, key=at.get)
    assert out.index("--bits") < out.index("method and solver:") < out.index("--lam")


def test_a_missing_output_is_the_error_line_first_not_the_usage(tmp_path, capsys):
    make_pair(tmp_path)
    with pytest.raises(SystemExit) as info:
        run(capsys, "colorize", tmp_path / "img.png", "--marked", tmp_path / "img_marked.png")
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.splitlines() == [
        "varcolor colorize: error: the following arguments are required: -o/--output (see 'varcolor colorize --help')"
    ]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("--marks", "did you mean --marked or --mask?"), ("--prior-wieght=2", "did you mean --prior-weight?")],
)
def test_a_mistyped_option_suggests_the_closest_of_its_command(tmp_path, capsys, typed, meant):
    with pytest.raises(SystemExit) as info:
        run(capsys, "colorize", tmp_path / "img.png", typed, "x", "-o", tmp_path / "out.png")
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.splitlines() == [
        f"varcolor colorize: error: unknown option {typed.split('=')[0]}; {meant} (see 'varcolor colorize --help')"
    ]


def test_an_unknown_option_with_nothing_close_is_named_without_a_guess(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run(capsys, "colorize", tmp_path / "img.png", "--zzzz", "-o", tmp_path / "out.png")
    assert "error: unknown option --zzzz (see" in capsys.readouterr().err


def test_a_marked_image_given_as_a_mask_is_named(tmp_path, capsys):
    make_pair(tmp_path)
    code, _, err = run(
        capsys, "colorize", tmp_path / "img.png", "--mask", tmp_path / "img_marked.png", "-o", tmp_path / "out.png"
    )
    assert code == 2 and err.count("\n") == 1
    assert "100 % of the pixels are cues (is this a marked image, the gray one with scribbles? use --marked)" in err
    assert not (tmp_path / "out.png").exists()


def test_run_options_flags_are_made_from_their_fields():
    """``RunOptions``' flags are written once, as ``Options``' are: each one ``colorize`` offers
    takes its help, default, choices and metavar from the field (they were copied by hand)."""
    import argparse
    import dataclasses

    from varcolor.app import RunOptions
    from varcolor.cli import build_parser
    from varcolor.common.fields import choices_of

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    actions = {action.dest: action for action in commands.choices["colorize"]._actions}
    for spec in dataclasses.fields(RunOptions):
        action = actions[spec.name]
        assert action.help == spec.metadata["help"], spec.name
        assert action.default == spec.default, spec.name
        if choices_of(spec) is not None:
            assert tuple(action.choices) == tuple(choices_of(spec)), spec.name
        assert action.metavar == spec.metadata.get("metavar"), spec.name
