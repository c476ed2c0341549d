"""``varcolor colorize``: a gray image (or a folder of them) and its cues to colour. The command
parses its arguments into typed values and plans and runs them with :mod:`varcolor.app`."""

from __future__ import annotations

import argparse

from .. import app, sources
from ..app.cues import cue_kinds
from ..errors import InputError, tell
from .common import (
    add_input,
    add_output_options,
    add_run_option,
    finish,
    flag_words,
    note,
    run_options_of,
    warn,
)
from .solve_options import add_solve_options, options_of
from .video import CLIP_DEFAULTS, add_video_options, is_video_run, run_video

#: ``--marked`` etc. given without a value: the cue file is found by name.
FIND = object()


def cues_of(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The kind of cues the arguments name (``--marked``, ``--mask``, ``--points``) and their
    path (None: found by name).

    Parameters
    ----------
    args : argparse.Namespace
        ``colorize``'s parsed arguments.
    """
    chosen = [kind for kind in cue_kinds() if getattr(args, kind, None) is not None]
    if not chosen:
        return None, None
    given = getattr(args, chosen[0])
    return chosen[0], None if given is FIND else given


def _check_not_empty(args) -> None:
    """Refuse an empty path argument (an unset shell variable: ``-o "$OUT"``): as a path it is
    the current folder, which took the result, became a pool of every image under it."""
    given = [("INPUT", args.input), ("-o/--output", args.output)]
    given += [("--confidence-map", args.confidence_map)]
    given += [("--reference", value) for value in args.reference or ()]
    given += [
        (source.flag(), getattr(args, source.name, None))
        for source in sources.file_sources()
        if isinstance(getattr(args, source.name, None), str)
    ]
    for flag, value in given:
        if isinstance(value, str) and not value.strip():
            raise InputError(f"{flag}: an empty path (an unset variable?); name a file or folder")


def _refuse_clip_options(args) -> None:
    """Refuse the options a photo (or a folder of photos) would take and ignore: how a clip is
    solved and written (``--window``, ``--codec``, ``--fps``, ``--chunk-frames``)."""
    for name in CLIP_DEFAULTS:
        if getattr(args, name, None) is not None:  # given, even at a clip's default
            flag = "--" + name.replace("_", "-")
            raise InputError(
                f"{flag}: an option of clips (a video file, or a folder of frames with --cues); "
                f"{args.input} is colourized as a photo"
            )


def _cmd_colorize(args) -> int:
    _check_not_empty(args)
    if is_video_run(args):  # a clip: varcolor.video (cli/video.py); --reference: colour stills for its keyframes
        if args.chain:
            raise InputError("--chain colours a folder of photos; a clip carries its keyframes' colours itself")
        return run_video(args)  # the photo options and cue files refused there
    _refuse_clip_options(args)
    options, settings = options_of(args), run_options_of(args)
    cues, cue_path = cues_of(args)
    report = app.colorize_folder(
        args.input,
        args.output,
        options,
        settings,
        cues=cues,
        cue_path=cue_path,
        reference=args.reference,
        chain=args.chain,
        warn=warn,
        note=None if settings.quiet else note,
        plan_note=None if settings.quiet else lambda line: note(flag_words(line)),
    )
    return finish(report, "colorized", settings.quiet)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The ``colorize`` command and its options (a clip's too).

    Parameters
    ----------
    commands : argparse subparsers action
        The ``varcolor`` parser's commands, which it joins.
    """
    p = commands.add_parser(
        "colorize",
        help="gray image + cues -> colour image",
        # What a newcomer needs; every option is in the groups below.
        usage="%(prog)s INPUT [--marked M | --mask M | --points P] [--reference REF] -o OUT [options]",
        description="Colorize a gray image (or every image in a folder, recursively) from colour cues. "
        "In a folder, cue files are found by name: X.png pairs with X_marked.png, X_mask.png "
        "or X.points.json/.csv.",
    )
    add_input(p, "INPUT", "gray image file (or a layered .ora/.psd), or a folder of them")
    # The help's groups, what a newcomer needs first: the cues, then the output.
    cues = p.add_argument_group("cues (one kind)")
    cue = cues.add_mutually_exclusive_group()  # each cue source's flag, added last (below)
    reference = sources.get("reference")
    cues.add_argument(reference.flag(), metavar=reference.metavar, action="append", help=reference.help)
    cues.add_argument(
        "--chain",
        action="store_true",
        help="for a folder (a series): colour the photos with cues first, then each other photo from its best "
        "matches among the coloured ones (and any --reference), nearest first; a photo nothing matches is left "
        "out and reported (exit 1)",
    )
    for name in ("edges", "layer", "strokes_layer"):
        add_run_option(cues, name)
    output = p.add_argument_group("output")
    output.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output file (or folder, for a folder input); .ora or .psd: the photo, the result and the strokes "
        "as layers",
    )
    add_run_option(output, "confidence_map")
    add_solve_options(p, output=output)
    add_output_options(p, ext=True, output=output)
    add_video_options(p)
    _add_cue_flags(p, cues, cue)
    p.set_defaults(func=_cmd_colorize)


def _add_cue_flags(parser: argparse.ArgumentParser, shown, group) -> None:
    """Each cue source found by name, its flag (``--marked``), plug-ins' too: added once every
    other option is, so that a plug-in named like one of them is left out with a warning."""
    taken = set(parser._option_string_actions) | {action.dest for action in parser._actions}
    before = list(shown._group_actions)
    for source in sources.file_sources():
        if source.flag() in taken or source.name in taken:
            tell(
                f"varcolor cue source plug-in {source.name!r} not loaded: {source.flag()} is an option of "
                "varcolor colorize already",
                stacklevel=2,
            )
            sources.unregister(source.name)
            continue
        group.add_argument(
            source.flag(),
            nargs="?",
            const=FIND,
            dest=source.name,
            metavar=source.metavar,
            help=source.help or f"{source.summary}; for a folder as with --marked (X{source.suffixes[0]})",
        )
    # shown first in their group's help, as a newcomer needs them
    shown._group_actions[:] = [a for a in shown._group_actions if a not in before] + before
