"""``recolor``: encode colour images to IRs, decode them back, in one run of two steps on one
Dask cluster; the command line scores the results against the photos afterwards."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import batch
from ..batch import Report
from ..errors import InputError
from ..io import check_writable
from ..io.formats import is_file
from ..ir.encode import EncodeOptions
from ..options import Options
from .jobs import made_with, run_jobs
from .plan import check_folders, check_outputs, decode_job, plan_encode, single_output, walk_inputs
from .run_options import RunOptions

__all__ = ["RecolorReport", "recolor"]


@dataclass
class RecolorReport:
    """What a ``recolor`` run did: the reports of its steps (``encoded``: None where every photo's
    output was finished already; ``decoded``: None where nothing was left to decode), and how many
    IR gray images it deleted (``delete_gray``).

    Attributes
    ----------
    encoded : Report or None
        The encoding step's report; None where every photo's output was finished already (a resumed run).
    decoded : Report or None
        The decoding step's report; None where nothing was left to decode (or the encoding was interrupted).
    deleted : int
        How many IR gray images the run deleted after decoding them (``delete_gray``); 0 without it.
    steps : list of (str, Report)
        The steps run, in order, each with its verb (``encoded``, ``decoded``) and its report.
    """

    encoded: Report | None = None
    decoded: Report | None = None
    deleted: int = 0
    steps: list[tuple[str, Report]] = field(default_factory=list)

    @property
    def reports(self) -> list[Report]:
        return [report for _, report in self.steps]

    @property
    def interrupted(self) -> bool:
        return any(report.interrupted for report in self.reports)


def recolor(
    source: str | os.PathLike,
    output: str | os.PathLike,
    options: Options,
    encode_options: EncodeOptions,
    run: RunOptions,
    *,
    ir: str | os.PathLike | None = None,
    delete_gray: bool = False,
    embed: bool = False,
    plot: bool = False,
    gray: str = "lightness",
    max_memory: float | None = None,
    client=None,
    warn: Callable[[str], None] | None = None,
    on_step: Callable[[str, Report], None] | None = None,
) -> RecolorReport:
    """Encode ``source`` (a photo or a folder) to IRs in ``ir`` (default: a temporary folder,
    removed at the end), then decode them into ``output``; ``on_step(verb, report)`` is told
    of each step as it ends.

    Parameters
    ----------
    source : path
        A colour photo, or a folder of them (walked as a folder run).
    output : path
        The recoloured result's file (or a folder to put it in: an existing one, or a name ending in a
        slash) for one photo; the folder of results, named as the photos with ``.png``, for a folder.
    options : Options
        How the IRs are decoded (the colorization's method and settings).
    encode_options : EncodeOptions
        How the photos are encoded (the encoder and its settings).
    run : RunOptions
        How both steps go (workers, scheduler, resume, overwrite, bits...).
    ir : path, optional
        The folder the IRs are written to, and kept in; None: a temporary folder, removed at the end.
    delete_gray : bool
        Delete the IR gray images this run encoded and then decoded itself.
    embed, plot, gray, max_memory
        How the IRs are written, as for :func:`varcolor.ir.files.encode_file`: the payload inside
        the gray PNG, a picture of the cues, the kind of gray (``lightness`` or ``luma601``).
    client : dask.distributed.Client, optional
        A client already connected, that both steps run on.
    warn : callable, optional
        Told each job's warnings.
    on_step : callable, optional
        Called as ``on_step(verb, report)`` as each step ends (``encoded``, then ``decoded``).
    """
    # A trailing slash means a folder (made if missing): single_output reads it from the name as given.
    source, given, output = Path(source), output, Path(output)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    if source.is_file():  # the result's place, checked before anything is encoded
        check_writable(single_output(source, given, ".png"), bits=run.bits or 8)  # None: the input's depth
    temporary: str | None = None
    if ir:
        ir_dir = Path(ir)
    else:
        temporary = tempfile.mkdtemp(prefix="varcolor-ir-")
        ir_dir = Path(temporary)
    photos = [source] if source.is_file() else [source / rel for rel in walk_inputs(source, output, ir_dir)[0]]
    files = {"embed": embed, "plot": plot, "gray": gray, "max_memory": max_memory}
    try:
        return _steps(
            source, given, photos, ir_dir, options, encode_options, run, files, client, warn, on_step, delete_gray
        )
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


def _steps(source, given, photos, ir_dir, options, encode_options, run, files, client, warn, on_step, delete_gray):
    done = RecolorReport()
    output = Path(given)
    single = source.is_file()
    if not single:
        check_folders(source, output)
    encode_jobs = plan_encode(source, ir_dir, encode_options, run, skip=(output,), client=client, **files)
    if not encode_jobs:
        raise InputError(f"{source}: no images found")
    check_outputs(encode_jobs, run.bits)
    on_dask = batch.on_dask(run.workers, run.scheduler, client)
    # Decode only the IRs of this run's photos (never a photo itself, where ``ir`` is the photos'
    # folder), and write over none of the photos.
    photo_files = {batch.identity(photo) for photo in photos}
    pairs = []
    for job in encode_jobs:
        if not job.outputs:  # a folder the walk did not enter: reported by the encoding step
            continue
        gray_path = job.outputs[-1]
        if batch.identity(gray_path) in photo_files:
            continue
        if single:
            out = single_output(gray_path, given, ".png")
        else:
            out = (output / gray_path.relative_to(ir_dir)).with_suffix(".png")
        decode = decode_job(gray_path, out, options, run, on_dask=on_dask, key=job.inputs[0])
        decode.sources = None if single else batch.provenance(job.inputs[:1])
        pairs.append((job, decode))
    made = made_with(options=options, encode_options=encode_options, run=run, **files)
    # With resume, a photo whose recolored output is finished is not encoded again either.
    finished = set()
    if run.resume and not single:
        recorded = batch.finished(output / batch.MANIFEST, [d for _, d in pairs], options=made)
        finished = {id(job) for job in recorded}
    needless = {id(job) for job, decode in pairs if id(decode) in finished}
    to_encode = [job for job in encode_jobs if id(job) not in needless]

    def step(verb: str, report: Report) -> Report:
        done.steps.append((verb, report))
        if on_step is not None:
            on_step(verb, report)
        return report

    common = {"run": run, "single": single, "protected": photos, "warn": warn, "client": client}
    if to_encode:
        done.encoded = step(
            "encoded", run_jobs(to_encode, verb="encoded", source=source, output=ir_dir, made=made, **common)
        )
        if done.encoded.interrupted:
            return done
    made_here = {id(job) for job in (done.encoded.done + done.encoded.resumed if done.encoded else [])}
    decode_jobs = []
    for job, decode in pairs:
        if id(decode) in finished:
            decode_jobs.append(decode)  # skipped by the run, which says so
        elif is_file(job.outputs[-1]):
            if id(job) not in made_here:  # an IR that an earlier run left: made from it, not from the photo
                decode.sources = None
            decode_jobs.append(decode)
    if decode_jobs:
        check_outputs(decode_jobs, run.bits)
        done.decoded = step(
            "decoded", run_jobs(decode_jobs, verb="decoded", source=ir_dir, output=output, made=made, **common)
        )
        if done.decoded.interrupted:
            return done
    if delete_gray and done.decoded is not None and done.encoded is not None:
        done.deleted = _delete_decoded_grays(done.encoded, done.decoded, photos)
    return done


def _delete_decoded_grays(encoded: Report, decoded: Report, photos: list[Path]) -> int:
    """Delete the IR gray images that this run encoded itself and then decoded itself, and no
    other file: never an input of the run, never a gray that an earlier run left."""
    ours = {job.outputs[-1] for job in encoded.done}  # written by this run, so none of them is a photo
    inputs = {batch.identity(photo) for photo in photos}
    deleted = 0
    for job in decoded.done:
        gray_path = job.inputs[0]
        if gray_path in ours and batch.identity(gray_path) not in inputs and is_file(gray_path):
            gray_path.unlink()
            deleted += 1
    return deleted
