""":func:`run_folder`, a whole folder command from Python: typed options in, manifest records out."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import batch, methods
from ..errors import InputError, tell
from ..io import kept
from ..ir.encode import EncodeOptions
from ..methods import build_options
from ..options import Options
from .clip import ClipOptions, colorize_clip, is_clip, refuse_for_clip
from .cues import cue_kinds
from .jobs import made_with, run_jobs
from .plan import ENCODER, check_outputs, mark_map_folder, plan_colorize, plan_decode, plan_encode
from .recolor import recolor
from .reference import given_references
from .run_options import RunOptions, is_path

__all__ = ["run_folder", "colorize_folder", "COMMANDS"]

#: The folder commands :func:`run_folder` runs.
COMMANDS = ("colorize", "encode", "decode", "recolor")


def _warn(message: str) -> None:
    tell(message, UserWarning, stacklevel=3)


def run_folder(
    command: str,
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    options: Options | None = None,
    encode_options: EncodeOptions | None = None,
    run: RunOptions | None = None,
    clip: ClipOptions | None = None,
    cues: str | None = None,
    cue_path: str | os.PathLike | None = None,
    reference: str | os.PathLike | list | None = None,
    chain: bool = False,
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
    clip : ClipOptions, optional
        How a clip is solved and written (``colorize`` of a video file, or of a folder of frames
        with ``cues="keyframes"``: :func:`~varcolor.app.colorize_clip`, as ``varcolor colorize
        CLIP`` runs it); refused for photos.
    cues, cue_path : optional
        ``colorize``'s cue files (see :func:`~varcolor.app.plan_colorize`); for a clip,
        ``cues="keyframes"`` (or None) and ``cue_path`` its keyframes' cue folder (``--cues DIR``).
    reference, chain : optional
        ``colorize``'s reference photo, folder or pool, and the chain over a series
        (:func:`colorize_folder`).
    client : dask.distributed.Client, optional
        Run the jobs on this client's cluster.
    warn : callable, optional
        Told each warning of the run (default: :func:`warnings.warn`; None: dropped).
    **keywords
        For convenience, the same values by name, mapped onto the typed ones: any field of
        :class:`RunOptions`, of :class:`~varcolor.options.Options` (and the methods' parameters), of
        :class:`ClipOptions` for a clip; ``keyframes=DIR`` for ``cues="keyframes", cue_path=DIR``.

    Returns
    -------
    list of dict
        The manifest records of the run (one per image; both steps' for ``recolor``; a clip's
        run: one, its ``status`` ``"interrupted"`` where Ctrl-C stopped its chunks).

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
    _check_arguments(reference, chain, keywords)
    clip_keywords = {name: keywords.pop(name) for name in ClipOptions.names() if name in keywords}
    if keywords.get("keyframes") is not None:  # a clip's cue folder by name, as the file kinds are
        cues, cue_path = "keyframes", keywords.pop("keyframes")
    keywords.pop("keyframes", None)
    if command == "colorize" and (cues == "keyframes" or is_clip(source)):
        clip = ClipOptions.build(clip, **clip_keywords)
        return _run_clip(source, output, options, run, clip, cues, cue_path, reference, chain, client, warn, keywords)
    if clip is not None or clip_keywords:
        name = "clip" if clip is not None else next(iter(clip_keywords))
        raise InputError(f"{name}=: an option of clips (a video file, or a folder of frames with cues='keyframes')")
    values = _typed(command, keywords, options, encode_options, run, cues, cue_path)
    options, encode_options, run, cues, cue_path, files = values
    if command != "colorize" and (reference is not None or chain):
        raise InputError(f"{command}: reference= and chain= are colorize's")
    source, output = Path(source), Path(output)
    if command == "recolor":
        with batch.shared_client(run.workers, run.scheduler, client) as shared:
            steps = recolor(source, output, options, encode_options, run, client=shared, warn=warn, **files)
        return [row for report in steps.reports for row in report.rows]
    if command == "colorize":
        assert options is not None  # (colorize's options are always built)
        colorized = colorize_folder(
            source, output, options, run, cues=cues, cue_path=cue_path, reference=reference, chain=chain,
            client=client, warn=warn,
        )  # fmt: skip
        return colorized.rows
    if command == "decode":
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


def colorize_folder(
    source: str | os.PathLike,
    output: str | os.PathLike,
    options: Options,
    run: RunOptions,
    *,
    cues: str | None = None,
    cue_path: str | os.PathLike | None = None,
    reference: str | os.PathLike | list | None = None,
    chain: bool = False,
    client=None,
    warn: Callable[[str], None] | None = _warn,
    note: Callable[[str], None] | None = None,
    plan_note: Callable[[str], None] | None = None,
) -> batch.Report:
    """Colorize the file or folder ``source`` into ``output``: the one driver of ``varcolor
    colorize`` and :func:`run_folder` (plan, check the outputs, run, report).

    Parameters
    ----------
    source, output : path
        The photo or folder of photos, and where their results go.
    options, run : Options, RunOptions
        How to colorize and how the run goes.
    cues, cue_path : optional
        The cue files (see :func:`~varcolor.app.plan_colorize`).
    reference : path or list of paths, optional
        A colour photo or folder whose colours are matched (several: a pool).
    chain : bool
        Colour the folder ``source`` as a series, each photo from those coloured before it
        (:func:`~varcolor.app.chain.run_chain`).
    client : dask.distributed.Client, optional
        Run the jobs on this client's cluster.
    warn, note : callable, optional
        Told each warning and each note of the run.
    plan_note : callable, optional
        Told what planning notes (a reference's photos read, cues found).

    Returns
    -------
    varcolor.batch.Report
        What the run did, its manifest records in ``rows``.

    Raises
    ------
    InputError
        Bad input, before any image is read; ``chain`` on a single file.
    """
    if run.confidence_map is not None:  # the user's map (a chain's own, for what it passes on, is not)
        from ..methods.levin_multiscale import check_confidence_map  # (numba's import: only where asked)

        check_confidence_map(options, "a photo")
    given = given_references(reference)  # one path or several, told apart once
    named = None if given is None else list(given)
    if chain:
        from .chain import run_chain

        if not Path(source).is_dir():
            raise InputError(f"{source}: a chain (--chain) colours a folder of photos (a series); give a folder")
        referenced: dict[str, Any] = {"reference": named} if named is not None else {}
        made = made_with(options=options, run=run, cues=cues, cue_path=cue_path, chain=True, **referenced)
        try:
            return run_chain(
                source, output, options, run, made=made, cues=cues, cue_path=cue_path, reference=named,
                warn=warn, client=client, note=note,
            )  # fmt: skip
        finally:
            kept.forget()  # what no job took (a photo that failed, a result nothing matched)
    # one reference as it always was (a manifest's options compare equal); several: a pool
    one = named[0] if named is not None and len(named) == 1 else named
    jobs = plan_colorize(
        source, output, options, run, cues=cues, cue_path=cue_path, reference=one, note=plan_note, client=client
    )
    check_outputs(jobs, run.bits)
    mark_map_folder(Path(source), run)
    # the reference named only when given: a run without one keeps the manifest records it always had
    referenced = {"reference": one} if one is not None else {}
    made = made_with(options=options, run=run, cues=cues, cue_path=cue_path, **referenced)
    return run_jobs(
        jobs, verb="colorized", run=run, source=source, output=output, single=Path(source).is_file(), made=made,
        warn=warn, note=note, client=client,
    )  # fmt: skip


def _run_clip(source, output, options, run, clip, cues, cue_path, reference, chain, client, warn, keywords):
    """:func:`run_folder`'s ``colorize`` of a clip, refused as the command line refuses it."""
    kinds = [kind for kind in cue_kinds() if keywords.get(kind) not in (None, False)]
    if cues not in (None, "keyframes", *cue_kinds()):
        raise InputError(f"unknown cues {cues!r}; a clip's are 'keyframes' (a folder of cue files)")
    kinds += [cues] if cues not in (None, "keyframes") else []
    options, _, run, _, _, _ = _typed("colorize", keywords, options, None, run, None, None)
    if chain:
        raise InputError("--chain colours a folder of photos; a clip carries its keyframes' colours itself")
    refuse_for_clip(run, kinds[0] if kinds else None)
    assert options is not None  # (colorize's options are always built)
    report = colorize_clip(source, output, options, run, clip, cues=cue_path, reference=reference, client=client,
                           warn=warn)  # fmt: skip
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


def _check_arguments(reference, chain, keywords: dict) -> None:
    """One line naming the argument for a value of the wrong kind, before anything is read: a
    dict's keys read as paths, ``chain='no'`` ran a chain, ``reference=[]`` ran without one."""
    if not isinstance(chain, bool):
        raise InputError(f"chain= must be True or False, got {chain!r}")
    if reference is not None:
        several = isinstance(reference, (list, tuple))
        if not (all(is_path(r) for r in reference) and reference if several else is_path(reference)):
            raise InputError(
                f"reference= must be a photo's or a folder's path, or a non-empty list of them, got {reference!r}"
            )
    for kind in cue_kinds():
        value = keywords.get(kind)
        if value is not None and not isinstance(value, bool) and not is_path(value):
            raise InputError(f"{kind}= must be True (the file beside each photo) or a path, got {value!r}")


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
