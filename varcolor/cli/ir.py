"""``varcolor encode``, ``decode`` and ``recolor``: colour images to IRs (a gray PNG and a few
hundred bytes of cues) and back. The commands parse their arguments into typed values and plan and
run them with :mod:`varcolor.app`; ``encode --watch`` is a loop of the command line's own."""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import time
from pathlib import Path

from .. import app, batch
from ..errors import InputError, VarcolorError
from ..ir.encode import ENCODER, ENCODERS, EncodeOptions
from ..ir.files import GRAYS
from .common import (
    add_input,
    add_output_options,
    error,
    finish,
    run,
    run_options_of,
    warn,
)
from .metrics import score_files
from .solve_options import add_field, add_solve_options, options_of

#: What each cue method (encoder) is, for ``--help``.
ENCODER_HELP = (
    "adaptive: decode, add cues where the error is largest, stop at --budget bytes or "
    "--target-psnr (the best quality per byte); grid: every --spacing cells of the cue grid; "
    "grid-exclude: the grid without points in regions of one colour; selective: one point per SLIC "
    "superpixel (--segments); grid+selective: both; global: no points, the image's ab histogram and "
    "saturation, for a network with a global-hints branch; stock: no cues at all, the gray image "
    "alone (a baseline)"
)


# ---------------------------------------------------------------- encode


def encode_options_of(args: argparse.Namespace) -> EncodeOptions:
    """The :class:`~varcolor.ir.encode.EncodeOptions` the parsed arguments give, checked.

    Parameters
    ----------
    args : argparse.Namespace
        ``encode``'s or ``recolor``'s parsed arguments.
    """
    fields = {name: getattr(args, name) for name in EncodeOptions.names() if name != "encoder"}
    return EncodeOptions.build(encoder=args.encoder, **fields)


def _files_of(args: argparse.Namespace) -> dict:
    """The IR's layout and the gray image's kind: :func:`varcolor.app.plan_encode`'s keywords."""
    return {"embed": args.embed, "plot": args.plot, "gray": args.gray}


def _cmd_encode(args) -> int:
    options, settings = encode_options_of(args), run_options_of(args)
    if args.watch:
        return _watch_encode(args, options, settings)
    source = Path(args.input)
    files = _files_of(args)
    jobs = app.plan_encode(source, args.output, options, settings, **files)
    app.check_outputs(jobs, settings.bits)
    made = app.made_with(encode_options=options, bits=settings.bits, **files)
    return run(jobs, "encoded", settings, made, source=source, output=args.output, single=source.is_file())


def _watch_encode(args, options: EncodeOptions, settings: app.RunOptions) -> int:
    """Encode what is there, then every new image that appears, until interrupted (Ctrl-C)."""
    source = Path(args.input)
    if not source.is_dir():
        raise InputError(f"{source}: --watch needs a folder")
    # A shell that starts a job in the background makes it ignore SIGINT; the promise is Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"varcolor: watching {source} (Ctrl-C to stop)", file=sys.stderr)
    # A file that failed, with its size and time then: retried once either changes (a file caught
    # mid-copy is encoded when the copy is complete), reported once meanwhile.
    failed: dict[Path, tuple | None] = {}
    done = 0
    files = _files_of(args)
    try:
        while True:
            jobs = [
                job
                for job in app.plan_encode(
                    source, args.output, options, settings, settled_before=time.time() - 1.0, **files
                )
                if failed.get(job.inputs[0], False) != _signature(job.inputs[0])
                and not os.path.lexists(job.outputs[-1])
            ]
            ready, _, refused = batch.check(jobs, overwrite=settings.overwrite)
            for line in refused:
                error(line)
            failed.update((job.inputs[0], _signature(job.inputs[0])) for job in jobs if job not in ready)
            for job in ready:
                signature = _signature(job.inputs[0])  # before reading: a change meanwhile is seen
                outcome, _ = batch.attempt(job.run)
                if isinstance(outcome, VarcolorError):
                    failed[job.inputs[0]] = signature
                    error(str(outcome))
                else:
                    if outcome:
                        warn(str(outcome))  # a recolor job's warnings
                    done += 1
                    failed.pop(job.inputs[0], None)
                    if not settings.quiet:
                        print(f"varcolor: encoded {job.inputs[0]}", file=sys.stderr)
            time.sleep(args.watch_interval)
    except KeyboardInterrupt:  # interrupted: 130, as every command, with what was done
        print(f"varcolor: stopped watching ({done} encoded, {len(failed)} failed)", file=sys.stderr)
        return 130


def _signature(path: Path) -> tuple | None:
    """A file's size and modification time (None: gone), to see that it changed."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


# ---------------------------------------------------------------- decode


def _cmd_decode(args) -> int:
    options, settings = options_of(args), run_options_of(args)
    source = Path(args.input)
    jobs = app.plan_decode(source, args.output, options, settings)
    app.check_outputs(jobs, settings.bits)
    made = app.made_with(options=options, run=settings)
    return run(jobs, "decoded", settings, made, source=source, output=args.output, single=source.is_file())


# ---------------------------------------------------------------- recolor


def _cmd_recolor(args) -> int:
    """encode + decode + metrics in one go (automatic-recolorization's recolor.py)."""
    options, encode_options, settings = options_of(args), encode_options_of(args), run_options_of(args)
    source, output = Path(args.input), Path(args.output)
    if source.is_file():  # "-o out/" names a folder: the result is out/PHOTO.png
        output = app.single_output(source, args.output, ".png")
    codes = []

    def step(verb: str, report: batch.Report) -> None:
        codes.append(finish(report, verb, settings.quiet))

    with batch.shared_client(settings.workers, settings.scheduler) as client:  # one cluster for all the steps
        done = app.recolor(
            source,
            args.output,  # as given: a trailing slash means a folder
            options,
            encode_options,
            settings,
            ir=args.ir,
            delete_gray=args.delete_gray,
            max_memory=options.max_memory,
            client=client,
            warn=warn,
            on_step=step,
            **_files_of(args),
        )
        if done.interrupted:
            return codes[-1]
        # Only this run's results (done now, or finished by an earlier run with these options):
        # never a failed item's photo, nor a stale result of other options in the same folder.
        decoded = [] if done.decoded is None else done.decoded.done + done.decoded.resumed
        ours = [job.outputs[-1] for job in decoded]
        if ours:
            codes.append(
                score_files(
                    output,
                    source,
                    only=ours,
                    quiet=settings.quiet,
                    max_pixels=settings.max_pixels,
                    workers=settings.workers,
                    scheduler=settings.scheduler,
                    client=client,
                )
            )
    if args.delete_gray and done.decoded is not None and done.encoded is not None and not settings.quiet:
        print(f"varcolor: deleted {done.deleted} IR gray image(s) written and decoded by this run", file=sys.stderr)
    return max(codes)


# ---------------------------------------------------------------- parsers


def _add_encode_options(p: argparse.ArgumentParser) -> None:
    """Options of the encoder (encode, recolor)."""
    p.add_argument(
        "-e",
        "--encoder",
        default=ENCODER,
        choices=ENCODERS,
        metavar="ENCODER",
        help=f"cue method: {ENCODER_HELP} (default: %(default)s)",
    )
    for spec in dataclasses.fields(EncodeOptions):
        if spec.name != "encoder":
            add_field(p, spec, EncodeOptions, spec.default)
    p.add_argument(
        "--gray", default="lightness", choices=GRAYS, help="gray image: same CIE lightness (default) or Rec.601 luma"
    )
    p.add_argument("--embed", action="store_true", help="put the payload inside the gray PNG (no .vcir file)")
    p.add_argument("--plot", action="store_true", help="also write NAME.cues.png: the cues drawn over the gray image")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """The ``encode``, ``decode`` and ``recolor`` commands and their options.

    Parameters
    ----------
    commands : argparse subparsers action
        The ``varcolor`` parser's commands, which they join.
    """
    e = commands.add_parser(
        "encode",
        help="colour image -> gray PNG + a few hundred bytes of cues (.vcir)",
        description="Encode colour images (a file or a folder, recursively) as their same-lightness gray PNG "
        "plus a .vcir cue payload (docs/vcir.md), or one PNG with the payload embedded (--embed).",
    )
    add_input(e, "IN", "colour image or folder")
    e.add_argument("-o", "--output", required=True, metavar="IR_DIR", help="output folder")
    _add_encode_options(e)
    e.add_argument("--bits", type=int, default=8, choices=[8, 16], help="bits per sample of the gray PNG")
    e.add_argument("--watch", action="store_true", help="keep encoding new images that appear in IN until Ctrl-C")
    e.add_argument("--watch-interval", type=float, default=2.0, metavar="S", help="seconds between looks (default: 2)")
    add_output_options(e, ext=False)
    e.set_defaults(func=_cmd_encode)

    d = commands.add_parser(
        "decode",
        help="gray PNG + .vcir (or embedded payload) -> colour image",
        description="Decode IRs (a gray PNG with NAME.vcir beside it or its payload embedded; a file or a "
        "folder, recursively) back to colour with a varcolor solver.",
    )
    add_input(d, "IR", "IR gray image or folder")
    d.add_argument("-o", "--output", required=True, metavar="OUT", help="output file or folder")
    add_solve_options(d, space=False)
    add_output_options(d, ext=True)
    d.set_defaults(func=_cmd_decode)

    r = commands.add_parser(
        "recolor",
        help="encode + decode + metrics in one go",
        description="Encode colour images to IRs (-e/--encoder: the cue method), decode them back "
        "(-m/--method: the colorization method) and score the results against the originals (a file "
        "or a folder, recursively).",
    )
    add_input(r, "IN", "colour image or folder")
    r.add_argument("-o", "--output", required=True, metavar="OUT", help="decoded image (file input) or folder")
    r.add_argument("--ir", metavar="IR_DIR", help="keep the IRs here (default: a temporary folder)")
    r.add_argument(
        "--delete-gray", action="store_true", help="delete each IR gray image once its decoded output is written"
    )
    _add_encode_options(r)
    add_solve_options(r, space=False)
    add_output_options(r, ext=False)
    r.set_defaults(func=_cmd_recolor, watch=False)
