"""``varcolor warm``: compile numba's kernels ahead of a first run, visibly (what
:func:`varcolor.app.warm.warm` runs, one line each)."""

from __future__ import annotations

import argparse
import sys

from ..app.warm import WARM_RUNS, warm
from ..errors import InputError


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(word.strip() for word in text.split(",") if word.strip())
    unknown = [kind for kind in kinds if kind not in WARM_RUNS]
    if unknown or not kinds:
        raise InputError(
            f"--runs: unknown kind of run {', '.join(unknown) or repr(text)}; known: {', '.join(WARM_RUNS)}"
        )
    return kinds


def _cmd_warm(args) -> int:
    kinds = _kinds(args.runs)
    say = None if args.quiet else lambda line: print(f"varcolor: warming {line}", file=sys.stderr)
    done = warm(kinds, progress=say)
    if not args.quiet:
        for warmed in done:
            outcome = f"skipped ({warmed.skipped})" if warmed.skipped else f"ready in {warmed.seconds:.1f} s"
            print(f"varcolor: {warmed.name}: {outcome}", file=sys.stderr)
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    w = commands.add_parser(
        "warm",
        help="compile the solvers' kernels ahead of a first run (once per installation)",
        description="Compile the numba kernels that colorizing needs, into numba's cache, by colorizing the "
        "bundled example once per kind of run: a first run after installing otherwise spends tens of "
        "seconds compiling them. Later runs, and this command run again, load them in a fraction of a second.",
    )
    w.add_argument(
        "--runs",
        default=",".join(WARM_RUNS),
        metavar="KINDS",
        help="kinds of run to warm, comma-separated (default: %(default)s): "
        + "; ".join(f"{name}: {what}" for name, (what, _, _) in WARM_RUNS.items()),
    )
    w.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    w.set_defaults(func=_cmd_warm)
