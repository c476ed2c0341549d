"""The ``varcolor`` command: a thin layer over the library, a module per command group.

Every command takes its input positionally or with ``-i/--input``. Exit codes: 0 success; 1 a
folder run in which some files failed (each is reported); 2 bad input (one line on stderr, no
traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys

from .. import batch
from ..common.kernels import compile_notice, kernels_choice
from ..errors import VarcolorError, listening
from ..io import quiet_decoders
from ..registry import built_in_only
from ..version import __version__
from . import bench, colorize, common, ir, krita, metrics, train, ui, warm
from .common import Parser, error, flag_words, run_options_of, warn

__all__ = ["build_parser", "entry", "main", "run_parsed"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every ``varcolor`` command (the reference in docs/cli.md is generated from it)."""
    parser = Parser(
        prog="varcolor", description="Colorize grayscale images from a few colour cues by variational optimisation."
    )
    parser.add_argument("--version", action="version", version=f"varcolor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    colorize.add_parser(commands)
    ir.add_parsers(commands)
    train.add_parser(commands)
    bench.add_parser(commands)
    metrics.add_parser(commands)
    ui.add_parser(commands)
    krita.add_parser(commands)
    warm.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a ``varcolor`` command line; its exit code (0 done, 1 some inputs failed, 2 bad input,
    130 interrupted), errors printed as one line each.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program's name (default: ``sys.argv[1:]``).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    quiet_decoders()
    asks_help = any(word in ("-h", "--help", "--version") for word in argv[: _end_of_options(argv)])
    # Plug-ins are loaded while the parser is built (their methods and options become flags), but
    # not for --help and --version, which must work whatever a plug-in does.
    with contextlib.ExitStack() as stack:
        if asks_help and not _names_a_plug_in(argv[: _end_of_options(argv)]):
            stack.enter_context(built_in_only())
        with listening() as heard:
            parser = build_parser()
        for note in heard:
            warn(note.message)
        args = parser.parse_args(argv)
    common.forget_warnings()
    try:
        kernels_choice()  # a mistyped VARCOLOR_KERNELS: one line before any work
        # A first run compiles numba's kernels for a while (seconds to tens of seconds): said on
        # stderr, with progress on a terminal, rather than a silent wait.
        with compile_notice(quiet=getattr(args, "quiet", False)):
            return run_parsed(args)
    except VarcolorError as exc:
        error(flag_words(str(exc)))
        return 2
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            raise
        # a name no file can have (pathlib's is_dir and is_file raise it): bad input, one line
        name = os.fsdecode(exc.filename or "")
        error(f"{name[:120]}{'...' if len(name) > 120 else ''}: file name too long ({len(name):,} characters)")
        return 2
    except KeyboardInterrupt:
        with batch.sigint_ignored():  # stopping already: a second Ctrl-C changes nothing
            error("interrupted")
        return 130


def _names_a_plug_in(argv: list[str]) -> bool:
    """Whether ``argv`` names a method that varcolor does not bring (``--method NAME``, ``-m NAME``,
    ``--methods A,B+PRIOR``, ``--method=NAME``): a plug-in's, which ``--help`` then loads."""
    from ..methods import METHODS, split_prior

    named = []
    for index, word in enumerate(argv):
        flag, equals, value = word.partition("=")
        if flag in ("--method", "--methods", "-m"):
            named += (value if equals else " ".join(argv[index + 1 : index + 2])).split(",")
        elif word.startswith("-m") and not word.startswith("--") and len(word) > 2:
            named.append(word[2:])
    return any(name and split_prior(name)[0] not in METHODS for name in named)


def _end_of_options(argv: list[str]) -> int:
    """Where the options end: at ``--``, after which every word is a value."""
    return argv.index("--") if "--" in argv else len(argv)


def run_parsed(args: argparse.Namespace) -> int:
    """Run the command of parsed arguments, which builds its typed values from them (checking
    each once, before any image) and leaves them as parsed (raising
    :class:`~varcolor.errors.VarcolorError` for bad input; :func:`main` prints it).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments, their command's function in ``func``.
    """
    if hasattr(args, "workers") or hasattr(args, "max_pixels"):
        run_options_of(args)  # every command's --workers and --max-pixels, before its own checks
    return args.func(args)


def entry() -> None:
    """The ``varcolor`` program: :func:`main`, then exit with its code. After an interruption a
    second Ctrl-C is ignored until the process has ended, so it cannot cut the exit short."""
    code = main()
    if code == 130:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.unraisablehook = _quiet_dask_destructors
    sys.exit(code)


def _quiet_dask_destructors(unraisable) -> None:
    # After a Ctrl-C, a Dask client that the interruption caught half-way may be collected at exit,
    # and its close then fails on a loop already gone: a page of traceback.
    where = getattr(unraisable.object, "__qualname__", "")
    if where.endswith("__del__") and getattr(unraisable.object, "__module__", "").startswith("distributed"):
        return
    sys.__unraisablehook__(unraisable)
