"""``varcolor warm``: compile numba's kernels ahead of a first run, visibly (what
:func:`varcolor.app.warm.warm` runs, one line each)."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from ..app.warm import WARM_RUNS, warm
from ..errors import InputError


def _studio() -> None:
    from ..ui.live import warm_up  # the studio's own warm-up, which it also runs as it starts

    warm_up()


def _runs() -> dict:
    """The library's kinds of run (:data:`~varcolor.app.warm.WARM_RUNS`) and the studio's (a layer
    above the library's)."""
    studio = (
        "the studio's live view: strokes, updates and the page's pixels (varcolor ui)",
        _studio,
        lambda: importlib.util.find_spec("starlette") is not None,
    )
    return {**WARM_RUNS, "studio": studio}


#: The kinds warmed unless told: every kind of run but the GPU's (``--device cuda``).
DEFAULT_RUNS = ",".join(name for name in _runs() if name != "cuda")


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(word.strip() for word in text.split(",") if word.strip())
    runs = _runs()
    unknown = [kind for kind in kinds if kind not in runs]
    if unknown or not kinds:
        raise InputError(f"--runs: unknown kind of run {', '.join(unknown) or repr(text)}; known: {', '.join(runs)}")
    return kinds


def _cmd_warm(args) -> int:
    kinds = _kinds(args.runs)
    if args.device == "cuda":  # the device path alone, unless kinds were named too
        kinds = ("cuda",) if args.runs == DEFAULT_RUNS else tuple(dict.fromkeys((*kinds, "cuda")))
        if not _runs()["cuda"][2]():
            raise InputError(
                "--device cuda: CuPy is not installed or no CUDA GPU is visible (pip install 'varcolor[gpu]')"
            )
    say = None if args.quiet else lambda line: print(f"varcolor: warming {line}", file=sys.stderr)
    try:
        done = warm(kinds, progress=say, runs=_runs())
    except OSError as exc:  # numba's cache could not be written: a full disk, a read-only folder
        where = f" ({exc.filename})" if exc.filename else ""
        raise InputError(
            f"cannot write numba's cache{where}: {exc.strerror or exc}; free some space, or point "
            "NUMBA_CACHE_DIR at a folder that can be written"
        ) from None
    if not args.quiet:
        for warmed in done:
            outcome = f"skipped ({warmed.skipped})" if warmed.skipped else f"ready in {warmed.seconds:.1f} s"
            print(f"varcolor: {warmed.name}: {outcome}", file=sys.stderr)
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``warm`` command and its options to ``commands`` (the ``varcolor`` parser's)."""
    w = commands.add_parser(
        "warm",
        help="compile the solvers' kernels ahead of a first run (once per installation)",
        description="Compile the numba kernels that colorizing needs, into numba's cache, by colorizing the "
        "bundled example once per kind of run: a first run after installing otherwise spends tens of "
        "seconds compiling them. Later runs, and this command run again, load them in a fraction of a second.",
    )
    w.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="cuda: compile the default engine's GPU kernels (CuPy's) ahead instead (default: %(default)s)",
    )
    w.add_argument(
        "--runs",
        default=DEFAULT_RUNS,
        metavar="KINDS",
        help="kinds of run to warm, comma-separated (default: %(default)s): "
        + "; ".join(f"{name}: {what}" for name, (what, _, _) in _runs().items()),
    )
    w.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    w.set_defaults(func=_cmd_warm)
