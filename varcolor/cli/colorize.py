"""``varcolor colorize``: a gray image (or a folder of them) and its cues to colour. The command
parses its arguments into typed values and plans and runs them with :mod:`varcolor.app`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import app
from ..app.cues import CUE_KINDS
from .common import (
    add_input,
    add_output_options,
    check_outputs,
    flag_words,
    note,
    run,
    run_options_of,
)
from .solve_options import add_solve_options, options_of
from .video import add_video_options, is_video_run, run_video

#: ``--marked`` etc. given without a value: the cue file is found by name.
FIND = object()


def cues_of(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The kind of cues the arguments name (``--marked``, ``--mask``, ``--points``) and their
    path (None: found by name)."""
    chosen = [kind for kind in CUE_KINDS if getattr(args, kind) is not None]
    if not chosen:
        return None, None
    given = getattr(args, chosen[0])
    return chosen[0], None if given is FIND else given


def _cmd_colorize(args) -> int:
    if is_video_run(args):  # a clip: varcolor.video (cli/video.py)
        return run_video(args)
    options, settings = options_of(args), run_options_of(args)
    cues, cue_path = cues_of(args)
    jobs = app.plan_colorize(
        args.input,
        args.output,
        options,
        settings,
        cues=cues,
        cue_path=cue_path,
        note=None if settings.quiet else lambda line: note(flag_words(line)),
    )
    check_outputs(jobs, settings.bits)
    made = app.made_with(options=options, run=settings, cues=cues, cue_path=cue_path)
    return run(
        jobs, "colorized", settings, made, source=args.input, output=args.output, single=Path(args.input).is_file()
    )


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "colorize",
        help="gray image + cues -> colour image",
        description="Colorize a gray image (or every image in a folder, recursively) from colour cues. "
        "In a folder, cue files are found by name: X.png pairs with X_marked.png, X_mask.png "
        "or X.points.json/.csv.",
    )
    add_input(p, "INPUT", "gray image file (or a layered .ora/.psd), or a folder of them")
    cue = p.add_mutually_exclusive_group()
    cue.add_argument(
        "--marked",
        nargs="?",
        const=FIND,
        metavar="M",
        help="scribbled copy of the gray image (Levin's convention); for a folder: a folder of them, "
        "or no value to look for X_marked.png",
    )
    cue.add_argument(
        "--mask",
        nargs="?",
        const=FIND,
        metavar="M",
        help="colour strokes on black/transparent; for a folder as with --marked (X_mask.png)",
    )
    cue.add_argument(
        "--points",
        nargs="?",
        const=FIND,
        metavar="P",
        help="JSON/CSV of y,x,a,b[,radius] or y,x,r,g,b[,radius] (r,g,b 0-255); "
        "for a folder as with --marked (X.points.json)",
    )
    p.add_argument(
        "--layer",
        metavar="NAME",
        help="a layered input's (.ora, .psd) photo layer (default: the bottom visible layer)",
    )
    p.add_argument(
        "--strokes-layer",
        metavar="NAME",
        help="a layered input's stroke layer: painted colours on transparency (default: the visible layer above "
        "the photo)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output file (or folder, for a folder input); .ora or .psd: the photo, the result and the strokes "
        "as layers",
    )
    add_solve_options(p)
    add_output_options(p, ext=True)
    add_video_options(p)
    p.set_defaults(func=_cmd_colorize)
