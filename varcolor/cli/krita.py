"""``varcolor krita``: the Krita plug-in installed (or removed), checked with the real Krita, and
the colorize step the plug-in runs on the layers it hands over."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from ..errors import InputError
from ..options import Options
from .common import error, note


def _cmd_install(args) -> int:
    from ..krita import install

    if args.uninstall:
        gone = install.uninstall()
        print(f"removed the Krita plug-in from {gone.package.parent} and its line from {gone.kritarc}")
        if gone.package.exists():
            print(f"left {gone.package} in place: it holds files varcolor did not install")
        return 0
    done = install.install(enable=not args.no_enable)
    print(f"installed the Krita plug-in into {done.package}")
    if done.kritarc is None:
        print("enable it in Krita: Settings > Configure Krita > Python Plugin Manager > varcolor")
    else:
        print(f"enabled in {done.kritarc}")
    print("restart Krita, then show the docker: Settings > Dockers > varcolor")
    from ..krita.launch import krita_environment

    if krita_environment().get("PATH") != os.environ.get("PATH"):
        print(
            "a Python environment's programs are on this shell's PATH: Krita started from here would take its "
            "packages and load no plug-in; start Krita from the desktop menu, or here with: varcolor krita launch"
        )
    return 0


def _cmd_check(args) -> int:
    from ..krita import check
    from ..krita.plugin.varcolor_krita import protocol

    if args.size is not None and (args.size[0] < 8 or args.size[1] < 8):
        raise InputError(f"--size {args.size[0]} {args.size[1]}: at least 8 by 8 pixels")
    if args.method not in protocol.METHODS:
        raise InputError(f"--method {args.method}: one of {', '.join(protocol.METHODS)}")
    if args.keep and Path(args.keep).exists() and (not Path(args.keep).is_dir() or any(Path(args.keep).iterdir())):
        # (the check writes a dozen files of fixed names there: a user's of the same names were replaced)
        raise InputError(f"--keep {args.keep}: not an empty folder; give a new or empty one")
    check.krita_programs(args.screenshot is not None)
    with tempfile.TemporaryDirectory(prefix="varcolor-krita-check-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        shape = None if args.size is None else (args.size[1], args.size[0])
        screenshot = None if args.screenshot is None else args.screenshot.resolve()  # Krita runs in the folder
        found = check.round_trip(folder.resolve(), shape, args.method, screenshot)
    print(
        f"Krita's colorized layer is within {found.levels} level(s) of varcolor colorize; "
        f"strokes layer {'unchanged' if found.strokes_unchanged else 'CHANGED'}; layers {found.layers}, "
        f"after one undo {found.layers_after_undo}; Cancel {'worked' if found.cancelled else 'FAILED'}"
    )
    print(
        f"colorize in Krita: {', '.join(f'{s:.2f}' for s in found.run_seconds)} s per run; "
        f"the whole round trip {found.seconds:.1f} s"
    )
    if found.live_seconds and len(found.live_seconds) == 2:
        print(
            f"Live: first result {found.live_seconds[0]:.2f} s after switching it on, "
            f"a stroke coloured {found.live_seconds[1]:.2f} s after it was painted"
        )
    else:
        print("Live: FAILED (no result after the stroke)")
    if not found.passed:
        error("the Krita round trip failed")
        return 1
    note("the Krita round trip passed")
    return 0


def _cmd_launch(args) -> int:
    from ..krita.launch import launch

    process = launch(args.files)
    note(f"started Krita (process {process.pid}) without a virtual environment's Python on its PATH")
    return 0


def _cmd_colorize(args) -> int:
    from ..krita.exchange import colorize_folder

    if not args.folder.is_dir():
        raise InputError(f"{args.folder}: not an exchange folder (the Krita plug-in makes them)")
    reply = colorize_folder(args.folder)
    if not reply["ok"]:
        error(reply["error"])
        return 2
    return 0


def _cmd_serve(args) -> int:
    from ..krita.serve import main

    return main()


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The ``krita`` command and its actions (``install``, ``check``...).

    Parameters
    ----------
    commands : argparse subparsers action
        The ``varcolor`` parser's commands, which it joins.
    """
    k = commands.add_parser(
        "krita",
        help="the Krita plug-in: install it, check it with Krita",
        description="Colour the open document in Krita: a docker with a Colorize button that colours the "
        "photo layer from a strokes layer (docs/krita.md).",
    )
    actions = k.add_subparsers(dest="action", metavar="ACTION", required=True)
    i = actions.add_parser(
        "install",
        help="copy the plug-in into Krita's pykrita folder and enable it",
        description="Copy the plug-in into Krita's pykrita folder ($XDG_DATA_HOME/krita/pykrita, "
        "~/.local/share/krita/pykrita by default) and enable it in kritarc; restart Krita after.",
    )
    i.add_argument("--uninstall", action="store_true", help="remove the plug-in and its kritarc line instead")
    i.add_argument("--no-enable", action="store_true", help="leave kritarc alone (enable it in Krita's settings)")
    i.set_defaults(func=_cmd_install)
    c = actions.add_parser(
        "check",
        help="colour a test document in the real Krita (headless) and compare with varcolor colorize",
        description="Open a test document (the bundled photo and its scribbles) in Krita under xvfb-run, "
        "with the plug-in in a throw-away Krita profile, run its Colorize action twice, switch Live on and "
        "paint one stroke, save, and compare the colorized layer with varcolor colorize on the same layers. "
        "Exit 0 when within one level. "
        "Needs krita and xvfb-run.",
    )
    c.add_argument("--size", type=int, nargs=2, metavar=("W", "H"), help="the document's size (default: 451 300)")
    c.add_argument("--method", default=Options.method, help="the method chosen (default: %(default)s)")
    c.add_argument("--keep", metavar="DIR", help="keep the document, Krita's result and the reference in DIR")
    c.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a picture of Krita's window after the runs (needs ImageMagick's import)",
    )
    c.set_defaults(func=_cmd_check)
    la = actions.add_parser(
        "launch",
        help="start Krita with its own Python (from a shell with a virtual environment activated)",
        description="Start Krita on FILEs without what would lead its embedded Python to another Python "
        "environment (a virtual environment's programs on PATH, VIRTUAL_ENV, PYTHONHOME, PYTHONPATH): with "
        "them, Krita's Python cannot import PyQt5 and no Python plug-in loads.",
    )
    la.add_argument("files", nargs="*", metavar="FILE", help="documents to open")
    la.set_defaults(func=_cmd_launch)
    z = actions.add_parser(
        "colorize",
        help="what the plug-in runs: colorize an exchange folder of Krita layers",
        description="Colorize the layers the Krita plug-in wrote into FOLDER (request.json, photo.raw, "
        "strokes.raw); writes colorized.raw and reply.json there.",
    )
    z.add_argument("folder", type=Path, metavar="FOLDER", help="the exchange folder")
    z.set_defaults(func=_cmd_colorize)
    s = actions.add_parser(
        "serve",
        help="what the plug-in's Live runs: colour each new state of the strokes layer",
        description='Read requests on stdin, one JSON line each ({"folder": FOLDER}, an exchange folder '
        "the Krita plug-in wrote), and answer each with one JSON line on stdout, the colorized layer "
        "written in FOLDER. Keeps the photo's colorizer between requests, so that a new stroke is an "
        "update, not a new solve. Ends when stdin closes.",
    )
    s.set_defaults(func=_cmd_serve)
