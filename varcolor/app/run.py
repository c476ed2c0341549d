""":func:`run_folder`, a whole folder command from Python: typed options in, manifest records out."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

from .. import batch, methods
from ..errors import InputError
from ..ir.encode import EncodeOptions
from ..methods import build_options
from ..options import Options
from .cues import cue_kinds
from .jobs import made_with, run_jobs
from .plan import ENCODER, check_outputs, plan_colorize, plan_decode, plan_encode
from .recolor import recolor
from .run_options import RunOptions

__all__ = ["run_folder", "COMMANDS"]

#: The folder commands :func:`run_folder` runs.
COMMANDS = ("colorize", "encode", "decode", "recolor")


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def run_folder(
    command: str,
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    options: Options | None = None,
    encode_options: EncodeOptions | None = None,
    run: RunOptions | None = None,
    cues: str | None = None,
    cue_path: str | os.PathLike | None = None,
    client=None,
    warn: Callable[[str], None] | None = _warn,
    **keywords,
) -> list[dict]:
    """Run a folder command (``colorize``, ``encode``, ``decode``, ``recolor``) from ``source``
    into ``output`` as the command line would, and return the manifest records of the run.

    Parameters
    ----------
    command : str
        One of :data:`COMMANDS`.
    options, encode_options, run : Options, EncodeOptions, RunOptions, optional
        How to colorize (``colorize``, ``decode``, ``recolor``), how to choose cues (``encode``,
        ``recolor``) and how the run goes; defaults where not given.
    cues, cue_path : optional
        ``colorize``'s cue files (see :func:`~varcolor.app.plan_colorize`).
    client : dask.distributed.Client, optional
        Run the jobs on this client's cluster.
    warn : callable, optional
        Told each warning of the run (default: :func:`warnings.warn`; None: dropped).
    **keywords
        For convenience, the same values by name, mapped onto the typed ones: any field of
        :class:`RunOptions`, of :class:`~varcolor.options.Options` (and the methods' parameters),
        of :class:`~varcolor.ir.encode.EncodeOptions` (``encoder``, ``budget``, ...),
        ``marked``/``mask``/``points`` or another source's name (True: the file beside each
        image; or a path), and ``embed``, ``plot``, ``gray`` (encode, recolor), ``ir`` and ``delete_gray``
        (recolor).

    Returns
    -------
    list of dict
        The manifest records of the run (one per image; both steps' for ``recolor``).

    Raises
    ------
    InputError
        Bad input, as the command line would print it (before any image is read).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, varcolor
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> varcolor.write_image(folder / "in" / "a.png", np.random.default_rng(0).random((16, 16, 3)))
    >>> rows = run_folder("encode", folder / "in", folder / "ir", encode_options=EncodeOptions(encoder="grid"))
    >>> [(pathlib.Path(r["input"]).name, r["status"]) for r in rows]
    [('a.png', 'done')]
    """
    if command not in COMMANDS:
        raise InputError(f"unknown folder command {command!r}; available: {', '.join(COMMANDS)}")
    values = _typed(command, keywords, options, encode_options, run, cues, cue_path)
    options, encode_options, run, cues, cue_path, files = values
    source, output = Path(source), Path(output)
    if command == "recolor":
        with batch.shared_client(run.workers, run.scheduler, client) as shared:
            steps = recolor(source, output, options, encode_options, run, client=shared, warn=warn, **files)
        return [row for report in steps.reports for row in report.rows]
    if command == "colorize":
        jobs = plan_colorize(source, output, options, run, cues=cues, cue_path=cue_path, client=client)
        made = made_with(options=options, run=run, cues=cues, cue_path=cue_path)
        verb = "colorized"
    elif command == "decode":
        jobs = plan_decode(source, output, options, run, client=client)
        made = made_with(options=options, run=run)
        verb = "decoded"
    else:
        jobs = plan_encode(source, output, encode_options, run, client=client, **files)
        made = made_with(encode_options=encode_options, bits=run.bits, **files)
        verb = "encoded"
    check_outputs(jobs, run.bits)
    report = run_jobs(
        jobs,
        verb=verb,
        run=run,
        source=source,
        output=output,
        single=source.is_file(),
        made=made,
        warn=warn,
        client=client,
    )
    return report.rows


def run_request(request: dict, warn: Callable[[str], None] | None = None) -> str | None:
    """Run a folder command given as plain values, as a child process reads it in JSON (the
    studio's saves): ``{"command": ..., "source": ..., "output": ..., **keywords}``, the keywords
    as :func:`run_folder` takes them. Bad input raises, as :func:`run_folder` does.

    Parameters
    ----------
    request : dict
        The command, its source and output, and its keywords by name.
    warn : callable, optional
        Told each warning of the run (None: dropped).

    Returns
    -------
    str or None
        None when every job was done; else why the first one that was not failed, in one line.
    """
    request = dict(request)
    command, source, output = request.pop("command"), request.pop("source"), request.pop("output")
    rows = run_folder(command, source, output, warn=warn, **request)
    failed = [row for row in rows if row.get("status") not in ("done", "skipped")]
    return None if not failed else str(failed[0].get("reason") or f"{failed[0].get('input')}: failed")


def _typed(command, keywords, options, encode_options, run, cues, cue_path):
    """The typed values of :func:`run_folder`'s arguments, its keywords mapped onto them."""
    keywords = dict(keywords)
    run_keywords = {name: keywords.pop(name) for name in RunOptions.names() if name in keywords}
    encode_keywords = {name: keywords.pop(name) for name in EncodeOptions.names() if name in keywords}
    file_names = {
        "encode": ("embed", "plot", "gray", "max_memory"),
        "recolor": ("embed", "plot", "gray", "ir", "delete_gray"),
    }
    files = {name: keywords.pop(name) for name in file_names.get(command, ()) if name in keywords}
    kinds = cue_kinds()
    chosen = {kind: keywords.pop(kind) for kind in kinds if kind in keywords and keywords[kind] not in (None, False)}
    for kind in kinds:
        keywords.pop(kind, None)
    if len(chosen) > 1:
        raise InputError(f"give at most one of {', '.join(kinds)}")
    if chosen:
        if cues is not None:
            raise InputError(f"cues given twice: cues={cues!r} and {next(iter(chosen))}=")
        cues, given = next(iter(chosen.items()))
        cue_path = None if given is True else given
    colorizes = command != "encode"
    option_keywords = {
        name: keywords.pop(name) for name in (*Options.names(), *methods.parameter_names()) if name in keywords
    }
    if keywords:
        raise InputError(f"{command}: unknown option {next(iter(keywords))!r}")
    if option_keywords and not colorizes:
        raise InputError(f"encode: unknown option {next(iter(option_keywords))!r}")
    if encode_keywords and command not in ("encode", "recolor"):
        raise InputError(f"{command}: unknown option {next(iter(encode_keywords))!r}")
    if command in ("decode", "recolor") and option_keywords.get("space", "lab") != "lab":
        raise InputError(f"{command}: an IR's cues are Lab chroma: space must be 'lab'")
    options = build_options(options, **option_keywords) if colorizes else None
    if command in ("encode", "recolor"):
        default = EncodeOptions(encoder=ENCODER)
        encode_options = EncodeOptions.build(
            encode_options if encode_options is not None else default, **encode_keywords
        )
    if command == "encode" and "max_memory" not in files and options is not None:
        files["max_memory"] = options.max_memory
    if command == "recolor":
        files.setdefault("max_memory", options.max_memory)
    run = RunOptions.build(run, **run_keywords)
    return options, encode_options, run, cues, cue_path, files
