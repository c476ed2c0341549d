"""What every command shares: the input argument, output and cluster options, running a batch of
jobs and reporting it, messages, and result tables."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import difflib
import io as _io
import json
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import batch
from ..app.run_options import RunOptions
from ..batch import Job
from ..errors import InputError, listening, messages
from ..io import atomic_path, identity, inside, read_image
from ..io.walk import Unwalked, walk_images
from ..ir.encode import EncodeOptions
from ..options import Options
from .solve_options import Flags, add_run_option

__all__ = [
    "run_options_of",
    "flag_words",
    "run",
    "finish",
]


def error(message: str) -> None:
    """Print an error as one line on stderr.

    Parameters
    ----------
    message : str
        What went wrong, without the ``varcolor: error:`` prefix.
    """
    print(f"varcolor: error: {message}", file=sys.stderr)


_WARNED: set[str] = set()  # what this run has said (main() starts each run with none)


def warn(message: str) -> None:
    """Print a warning as one line, once per run (a file read twice, e.g. as input and as
    reference, is converted twice but named once).

    Parameters
    ----------
    message : str
        The warning, without the ``varcolor: warning:`` prefix.
    """
    if message in _WARNED:
        return
    _WARNED.add(message)
    tqdm.write(f"varcolor: warning: {message}", file=sys.stderr)


def forget_warnings() -> None:
    """Start a run: every warning may be printed once again."""
    _WARNED.clear()


def read_warning(path: Path, max_pixels: int | None) -> np.ndarray:
    """:func:`~varcolor.io.read_image`, its warnings (a colour profile converted, a frame dropped)
    printed as one line each.

    Parameters
    ----------
    path : path
        The image file.
    max_pixels : int or None
        The largest image read (None: no limit).
    """
    with listening() as heard:
        image = read_image(path, max_pixels=max_pixels)
    for message in messages(heard):
        warn(message)
    return image


def note(message: str) -> None:
    """Print what was done (no warning: a reference's share of the cues, say) as one line.

    Parameters
    ----------
    message : str
        The note, without the ``varcolor: note:`` prefix.
    """
    tqdm.write(f"varcolor: note: {message}", file=sys.stderr)


def walk_reported(root: Path) -> tuple[list[Path], list[str]]:
    """The images below the folder ``root`` (:func:`~varcolor.io.walk_images`) for a command that
    scores them (``bench``, ``metrics``): a link to a folder is said to be skipped.

    Parameters
    ----------
    root : path
        The folder walked.
    """
    unwalked: list[Unwalked] = []
    found = list(walk_images(root, unwalked=unwalked))
    for entry in unwalked:
        if not entry.error:
            print(f"varcolor: skipped: {root / entry.path}: {entry.reason}", file=sys.stderr)
    return found, [f"{root / entry.path}: {entry.reason}" for entry in unwalked if entry.error]


# ---------------------------------------------------------------- the input: INPUT or -i/--input


class Parser(argparse.ArgumentParser):
    """An argument parser whose commands take their input positionally or with ``-i/--input``
    (:func:`add_input`), the one form or the other; whose errors are one line."""

    #: What :func:`add_input` declared: the input's ``dest``, its metavar, whether it is required.
    _varcolor_input: tuple[str, str, bool] | None = None

    def error(self, message: str):
        """Exit with code 2 and the error in one line, naming ``--help``.

        Parameters
        ----------
        message : str
            argparse's message.
        """
        # One line, not the whole usage first: the error would scroll out of sight.
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):
        """argparse's ``parse_args``, an unknown option named with the closest ones of its command."""
        namespace, rest = self.parse_known_args(args, namespace)
        if rest:
            parser = self._command_parser(namespace)
            parser.error(unknown_arguments(rest, parser))
        return namespace

    def _command_parser(self, namespace: argparse.Namespace) -> argparse.ArgumentParser:
        """The parser of the command the arguments named (this one if none): where a mistyped
        option was meant to be."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = getattr(namespace, action.dest, None)
                return action.choices.get(chosen, self) if isinstance(chosen, str) else self
        return self

    def parse_known_args(self, args=None, namespace=None):
        """argparse's ``parse_known_args``, the input taken from its positional form or from
        ``-i/--input`` (:func:`add_input`), never both."""
        namespace, rest = super().parse_known_args(args, namespace)
        spec = self._varcolor_input
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


def unknown_arguments(words: list[str], parser: argparse.ArgumentParser) -> str:
    """The error for arguments no option takes, with the closest of ``parser``'s options for a
    mistyped one (``--marks``: did you mean ``--marked``?).

    Parameters
    ----------
    words : list of str
        The arguments left over.
    parser : argparse.ArgumentParser
        The command's parser, whose options are suggested.
    """
    flags = [flag for flag in parser._option_string_actions if flag.startswith("--")]
    options = [word for word in words if word.startswith("-")]
    if not options:
        return f"unrecognized arguments: {' '.join(words)}"
    word = options[0].split("=", 1)[0]
    close = difflib.get_close_matches(word, flags, n=2, cutoff=0.75)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"unknown option {word}{hint}"


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
    if isinstance(p, Parser):  # its parse_known_args takes the one form or the other
        p._varcolor_input = (dest, metavar, required)


# ---------------------------------------------------------------- options of several commands


def add_output_options(p: argparse.ArgumentParser, ext: bool, output=None) -> None:
    """Options of every command that writes images, in the help's ``output`` group (``output``:
    one the command made already, where its ``-o`` is) and its ``scale-out`` group."""
    output = output or p.add_argument_group("output")
    if ext:
        add_run_option(output, "ext")
    for name in ("overwrite", "resume", "max_pixels", "quiet"):
        add_run_option(output, name)
    add_cluster_options(p.add_argument_group("scale-out (folders on several processes or a Dask cluster)"), "images")


def add_cluster_options(p: Flags, what: str) -> None:
    """``--workers`` and ``--scheduler`` (:class:`~varcolor.app.RunOptions`'), ``what`` the things
    the workers process (``images``, ``photos``).

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where the options are added.
    what : str
        What the workers process, in the help's words.
    """
    workers = next(spec for spec in dataclasses.fields(RunOptions) if spec.name == "workers")
    add_run_option(p, "workers", workers.metadata["help"].replace("images", what, 1))
    add_run_option(p, "scheduler")


def add_max_pixels(p: Flags) -> None:
    """``--max-pixels`` (:class:`~varcolor.app.RunOptions`').

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where the option is added.
    """
    add_run_option(p, "max_pixels")


def add_quiet(p: Flags) -> None:
    """``-q/--quiet`` of the commands whose only output besides their files is a progress bar.

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where the option is added.
    """
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def add_table_output(p: argparse.ArgumentParser, formats_help: str) -> None:
    """``--format``, ``-o`` and ``--overwrite`` of the commands that print a table.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    formats_help : str
        The help of ``--format``.
    """
    p.add_argument("--format", default="md", choices=["md", "csv", "json"], help=formats_help)
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=_table_file,
        help="write the table here instead of stdout ('-': stdout, as without it)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --output file")


def _table_file(text: str) -> str | None:
    """``-o``'s file of a table; ``-`` is stdout (None), as the shell's habit has it (it wrote a
    file named ``-``)."""
    return None if text == "-" else text


# ---------------------------------------------------------------- typed values, and their flags


def run_options_of(args: argparse.Namespace) -> RunOptions:
    """The :class:`~varcolor.app.RunOptions` the parsed arguments give (those a command has).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.
    """
    names = [name for name in RunOptions.names() if hasattr(args, name)]
    return RunOptions.build(**{name: getattr(args, name) for name in names})


def max_pixels_of(args: argparse.Namespace) -> int | None:
    """``--max-pixels`` as the library takes it (0: no limit, None).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.
    """
    return args.max_pixels or None


#: How the library's messages name what the command line calls a flag: a message that begins with an
#: option's name (``budget must be at least 64 bytes``) names its flag instead (``--budget ...``).
FLAG_PHRASES = {
    "a reference photo": "--reference PHOTO",
    "or the prior": "or --prior ideepcolor",
}


def _phrases() -> dict[str, str]:
    from .. import sources

    return {**{f"{source.name} cues": source.flag() for source in sources.file_sources()}, **FLAG_PHRASES}


def _option_names() -> set[str]:
    from .. import methods

    return {*Options.names(), *methods.parameter_names(), *EncodeOptions.names(), *RunOptions.names()}


def flag_words(message: str) -> str:
    """A library message in the command line's words: the option it begins with (after the file
    it names, if any) as its flag, and :data:`FLAG_PHRASES` replaced.

    Parameters
    ----------
    message : str
        The library's message.

    Examples
    --------
    >>> flag_words("a.png: max_pixels must be >= 0 (0: no limit), got -1")
    'a.png: --max-pixels must be >= 0 (0: no limit), got -1'
    """
    for phrase, flag in _phrases().items():
        message = message.replace(phrase, flag)
    names = _option_names()
    for found in re.finditer(r"(?:^|: )([a-z][a-z0-9_]*) (?:must|takes) ", message):
        if found.group(1) in names:
            start, end = found.span(1)
            return message[:start] + "--" + found.group(1).replace("_", "-") + message[end:]
    return message


# ---------------------------------------------------------------- running and reporting


def run(jobs: list[Job], verb: str, settings: RunOptions, made: dict, *, source, output, single: bool) -> int:
    """Run ``jobs`` (:func:`varcolor.app.run_jobs`), print the report, and return the exit code."""
    from ..app import run_jobs  # here: it loads the solvers, which `--help` and a bad argument never need

    report = run_jobs(
        jobs, verb=verb, run=settings, source=source, output=output, single=single, made=made, warn=warn,
        note=None if settings.quiet else note,
    )  # fmt: skip
    return finish(report, verb, settings.quiet)


def finish(report: batch.Report, verb: str, quiet: bool) -> int:
    """Print what a run did; its exit code.

    Parameters
    ----------
    report : batch.Report
        The run's outcome.
    verb : str
        What the report says was done.
    quiet : bool
        Whether to print only the failures.
    """
    with batch.sigint_ignored():  # a second Ctrl-C must not cut the report short with a traceback
        return _print_report(report, verb, quiet)


def _print_report(report: batch.Report, verb: str, quiet: bool) -> int:
    if not quiet:
        for skipped in report.skipped:
            print(f"varcolor: skipped: {skipped.line}", file=sys.stderr)
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
    for failed in report.failed:  # each names its photo (a pool photo's damaged map named only the map)
        error(failed.line if failed.name in failed.line else f"{failed.name}: {failed.line}")
    return report.exit_code


# ---------------------------------------------------------------- tables


def to_json(data) -> str:
    """Strict JSON, which has no NaN or Infinity: a missing score (NaN) or identical images (PSNR
    inf) become null.

    Parameters
    ----------
    data : object
        Dicts, lists and numbers, as ``json.dumps`` takes them.
    """

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return None if isinstance(value, float) and not math.isfinite(value) else value

    return json.dumps(clean(data), indent=2) + "\n"


def to_csv(rows: list[dict], columns: list[str], cell: Callable = str) -> str:
    """The table as CSV text, a header row first.

    Parameters
    ----------
    rows : list of dict
        The table's rows, by column name.
    columns : list of str
        The columns, in order.
    cell : callable
        A value's text.
    """
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
    if out.is_dir():  # (not "exists, use --overwrite": no flag writes a table over a folder)
        raise InputError(f"{out}: a folder; name the table's file")
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
