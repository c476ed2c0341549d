"""What every command shares: the input argument, output and cluster options, running a batch of
jobs and reporting it, messages, and result tables."""

from __future__ import annotations

import argparse
import csv
import io as _io
import json
import math
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import batch
from ..batch import Job
from ..errors import InputError
from ..io import (
    JPEG_EXTENSIONS,
    MAX_PIXELS,
    WRITE_EXTENSIONS,
    atomic_path,
    check_writable,
    identity,
    inside,
    read_image,
)


def error(message: str) -> None:
    print(f"varcolor: error: {message}", file=sys.stderr)


_WARNED: set[str] = set()  # what this run has said (main() starts each run with none)


def warn(message: str) -> None:
    """Print a warning as one line, once per run (a file read twice, e.g. as input and as
    reference, is converted twice but named once)."""
    if message in _WARNED:
        return
    _WARNED.add(message)
    tqdm.write(f"varcolor: warning: {message}", file=sys.stderr)


def forget_warnings() -> None:
    """Start a run: every warning may be printed once again."""
    _WARNED.clear()


def read_warning(path: Path, max_pixels: int | None) -> np.ndarray:
    """:func:`~varcolor.io.read_image`, its warnings (a colour profile converted, a frame dropped)
    printed as one line each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = read_image(path, max_pixels=max_pixels)
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            warn(str(warning.message))
    return image


def note(message: str) -> None:
    print(f"varcolor: note: {message}", file=sys.stderr)


def is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name longer than the file system allows cannot exist
        return False


# ---------------------------------------------------------------- the input: INPUT or -i/--input


class Parser(argparse.ArgumentParser):
    """An argument parser whose commands take their input positionally or with ``-i/--input``
    (:func:`add_input`), the one form or the other."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, rest = super().parse_known_args(args, namespace)
        spec = getattr(self, "_varcolor_input", None)
        if spec is not None and hasattr(namespace, "input_positional"):
            dest, metavar, required = spec
            positional, option = namespace.input_positional, namespace.input_option
            del namespace.input_positional, namespace.input_option
            if positional not in (None, []) and option is not None:
                shown = " ".join(positional) if isinstance(positional, list) else positional
                given = " ".join(option) if isinstance(option, list) else option
                self.error(
                    f"the input given twice: as {metavar} ({shown}) and with -i/--input ({given}); give one of them"
                )
            value = option if option is not None else positional
            if required and value in (None, []):
                self.error(f"the following arguments are required: {metavar} (or -i/--input {metavar})")
            setattr(namespace, dest, value)
        return namespace, rest


def add_input(
    p: argparse.ArgumentParser,
    metavar: str,
    help: str,
    *,
    dest: str = "input",
    many: bool = False,
    required: bool = True,
) -> None:
    """The command's input: positional, or ``-i/--input`` (repeatable with ``many``), stored in
    ``dest``; both at once is an error."""
    p.add_argument("input_positional", nargs="*" if many else "?", metavar=metavar, help=help)
    p.add_argument(
        "-i",
        "--input",
        dest="input_option",
        metavar=metavar,
        action="append" if many else "store",
        help=f"the same as {metavar}" + (" (repeatable)" if many else "") + ", for scripts that name it",
    )
    p._varcolor_input = (dest, metavar, required)


# ---------------------------------------------------------------- options of several commands


def add_output_options(p: argparse.ArgumentParser, ext: bool) -> None:
    """Options of every command that writes images."""
    if ext:
        p.add_argument("--ext", default=".png", help="output extension in folder mode (default: %(default)s)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (inputs are never replaced)")
    add_cluster_options(p, "images")
    p.add_argument(
        "--resume",
        action="store_true",
        help=f"skip the images that this folder's manifest ({batch.MANIFEST}) records as done from the same "
        "files, with the same options, their outputs unchanged since; the others are done again (their existing "
        "outputs kept unless --overwrite)",
    )
    add_max_pixels(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


def add_cluster_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help=f"{what} processed in parallel by N local worker processes (a Dask LocalCluster; default: 1, "
        "in this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help=f"run on an existing Dask cluster, e.g. tcp://host:8786 (default: ${batch.SCHEDULER_VARIABLE} "
        "if set); every worker must see the input and output paths",
    )


def add_max_pixels(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-pixels",
        type=int,
        default=MAX_PIXELS,
        metavar="N",
        help="refuse images of more pixels than this, from their header, before reading them "
        "(0: no limit; default: %(default)s)",
    )


def add_table_output(p: argparse.ArgumentParser, formats_help: str) -> None:
    """``--format``, ``-o`` and ``--overwrite`` of the commands that print a table."""
    p.add_argument("--format", default="md", choices=["md", "csv", "json"], help=formats_help)
    p.add_argument("-o", "--output", metavar="FILE", help="write the table here instead of stdout")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --output file")


# ---------------------------------------------------------------- planning checks


def single_output(source: Path, output: str, ext: str) -> Path:
    """-o for one input file: the file itself, or a file named after the input inside a folder."""
    if Path(output).is_dir() or output.endswith(("/", "\\")):
        return Path(output) / f"{source.stem}{ext}"
    return Path(output)


def check_folders(source: Path, output: Path) -> None:
    if not source.is_dir():
        raise InputError(f"{source}: no such file or folder")
    if output.is_file():
        raise InputError(f"{output}: is a file; a folder input needs an output folder")


def check_ext(ext: str) -> None:
    if ext not in WRITE_EXTENSIONS:
        raise InputError(f"--ext must be {', '.join(WRITE_EXTENSIONS)}, not {ext}")


def check_outputs(jobs: list[Job], bits: int) -> None:
    """Refuse, before any work, an output format or place that could never be written: checked
    once per folder and extension (every job of a folder run shares them)."""
    seen = set()
    for job in jobs:
        for output in job.outputs:
            suffix = output.suffix.lower()
            key = (output.parent, suffix)
            if key not in seen:
                seen.add(key)
                check_writable(output, bits=8 if suffix in JPEG_EXTENSIONS else bits, image=suffix != ".vcir")


# ---------------------------------------------------------------- running and reporting


def run(jobs: list[Job], verb: str, args, *, source, output, single: bool, protected=()) -> int:
    """Run ``jobs`` (``args``: the command's run options), report, and return the exit code."""
    return finish(
        run_report(jobs, verb, args, source=source, output=output, single=single, protected=protected), verb, args.quiet
    )


def run_report(jobs: list[Job], verb: str, args, *, source, output, single: bool, protected=()) -> batch.Report:
    """Run ``jobs`` from ``source`` into ``output`` (its manifest there, for a folder run)."""
    if not jobs:
        raise InputError(f"{source}: no images found")
    return batch.run(
        jobs,
        verb=verb,
        overwrite=args.overwrite,
        workers=args.workers,
        quiet=args.quiet,
        single=single,
        protected=protected,
        warn=warn,
        scheduler=args.scheduler,
        manifest=None if single else Path(output) / batch.MANIFEST,
        resume=args.resume,
        options=output_options(args),
    )


#: Options that change how a run goes, never what it writes (and the command's own bookkeeping).
RUN_ONLY = frozenset(
    {"input", "output", "overwrite", "resume", "workers", "scheduler", "quiet", "max_pixels", "func"}
    | {"watch", "watch_interval", "ir", "delete_gray", "iteration_bar", "encode_options", "colorizes", "encodes"}
)


def output_options(args) -> dict:
    """The options that shape a run's outputs, for the manifest: every option but :data:`RUN_ONLY`
    (a new option counts unless listed there, so that ``--resume`` never takes an output made with
    another value of it)."""
    return {name: value for name, value in vars(args).items() if name not in RUN_ONLY}


def finish(report: batch.Report, verb: str, quiet: bool) -> int:
    """Print what a run did; its exit code."""
    with batch.sigint_ignored():  # a second Ctrl-C must not cut the report short with a traceback
        return _print_report(report, verb, quiet)


def _print_report(report: batch.Report, verb: str, quiet: bool) -> int:
    if not quiet:
        for line in report.skipped:
            print(f"varcolor: skipped: {line}", file=sys.stderr)
        for line in report.redone:
            print(f"varcolor: redone: {line}", file=sys.stderr)
    if report.interrupted:
        error(
            f"interrupted: {verb} {len(report.done)} of {report.total}; outputs written so far are complete "
            "(rerun without --overwrite to do the rest)"
        )
    elif not quiet:
        print(
            f"varcolor: {verb} {len(report.done)}, skipped {len(report.skipped)}, failed {len(report.failed)}",
            file=sys.stderr,
        )
    for line in report.failed:
        error(line)
    return report.exit_code


# ---------------------------------------------------------------- tables


def to_json(data) -> str:
    """Strict JSON, which has no NaN or Infinity: a missing score (NaN) or identical images (PSNR
    inf) become null."""

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return None if isinstance(value, float) and not math.isfinite(value) else value

    return json.dumps(clean(data), indent=2) + "\n"


def to_csv(rows: list[dict], columns: list[str], cell: Callable = str) -> str:
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[cell(row[c]) for c in columns] for row in rows])
    return buffer.getvalue()


def check_table_output(output: str | None, overwrite: bool, inputs: tuple[str, ...]) -> None:
    """Refuse a table output that is an input (``inputs``: the run's files and folders; any file
    under a folder counts, read by this run or not), or that exists, unless ``overwrite``."""
    if output is None:
        return
    out = Path(output)
    if os.path.lexists(out):
        given = [Path(path) for path in inputs]
        if identity(out) in {identity(path) for path in given}:
            raise InputError(f"{out}: refusing to overwrite an input")
        for folder in given:
            if folder.is_dir() and inside(out, folder):
                raise InputError(
                    f"{out}: refusing to overwrite an input (a file under {folder}, whose files are inputs)"
                )
    if out.exists() and not overwrite:
        raise InputError(f"{out}: exists; kept (use --overwrite to replace it)")


def write_table(table: str, output: str | None, overwrite: bool, inputs: tuple[str, ...]) -> None:
    """The table to ``output`` (atomically; never over an input, nor over a file unless ``overwrite``)
    or to stdout."""
    if output is None:
        sys.stdout.write(table)
        return
    check_table_output(output, overwrite, inputs)
    with atomic_path(output, overwrite=overwrite) as tmp:  # a file that appeared meanwhile is kept
        tmp.write_text(table, encoding="utf-8")
