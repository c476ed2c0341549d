"""A chain (``varcolor colorize photos/ --marked marks/ --chain -o out/``): a series where a few
photos have cues, coloured in waves by the folder runner. The photos with cue files first; each
photo coloured joins the pool (with the ``--reference`` photos), and the others are coloured from
their best matches among them (:func:`~varcolor.reading.matching.match_pool`), nearest first:

1. wave 0: the photos with cue files, as a folder run colours them;
2. each next wave: the photos whose keypoints verify against a pool photo
   (:func:`~varcolor.reading.matching.verified`), coloured from the pool; they join it;
3. when no photo left verifies, the chain ends: a photo nothing in the pool verifies is left out
   (no output: the gray photo is not written as if coloured), recorded as failed in the manifest
   and the report, so the run's exit status is 1. Only verified references colour a chain's
   photos (:func:`~varcolor.reading.matching.match_pool`'s ``verified_only``): a wrong colour would be
   carried on to every photo coloured from this one, so a photo too plain for keypoints (a
   blank sky) is left out rather than risked; give it strokes or a reference.

Every wave is an ordinary folder run (:func:`~varcolor.app.run_jobs`: its manifest, Dask,
``--resume``, nothing overwritten without ``--overwrite``): a killed chain, run again, finds the
outputs of the waves it finished, takes them into the pool as they are and goes on. The order is
the photos' paths within a wave and the waves' own: the same files give the same outputs.

Each waiting photo is read once to rank it, as its job reads it, and described as its job's match
describes it: its job takes that signature and the checks against the pool made for the ranking
(:class:`~varcolor.sources.reference.Ranking`), and each pool photo's header and signature (made
when it joined the pool, only while a photo still waits for it), and makes none of them again.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..batch import Job, Outcome, Report
from ..batch.cluster import on_dask
from ..color import to_gray
from ..errors import InputError, VarcolorError
from ..io import file_state
from ..io.layers import is_layered
from ..options import Options
from ..reading.matching import Geometry, Signature, target_signature, verified
from ..sources.reference import Ranking, ReferenceHeader
from .jobs import run_jobs
from .plan import check_not_in_references, check_outputs, mark_map_folder, plan_colorize
from .reference import UNMATCHED, References, Unmatched, describe_pool
from .run_options import RunOptions
from .solve import read_pixels
from .tasks import ColorizeTask

__all__ = ["run_chain", "CONFIDENCE_FOLDER", "still_failed"]

#: Where a chain keeps its photos' confidence maps in the output folder, unless ``--confidence-map``
#: says where: a photo passes on only the colour it is confident of
#: (:func:`~varcolor.app.reference.read_known_reference`).
CONFIDENCE_FOLDER = ".varcolor-confidence"


def _target(job: Job, keep: bool) -> tuple[tuple | None, Signature]:
    """A waiting photo's stamp (:func:`~varcolor.io.file_state`) and its signature as its job's
    match makes it; with ``keep`` (its job runs in this process) its pixels are kept for the job."""
    task = job.run
    assert isinstance(task, ColorizeTask)  # _waiting chose it
    stamp = file_state(task.image)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pixels = read_pixels(task.image, task.max_pixels, colour=is_layered(task.output), keep=keep)  # for its job
    gray = np.asarray(pixels)
    return stamp, target_signature(to_gray(gray) if gray.ndim == 3 else gray)


def run_chain(
    source: str | os.PathLike,
    output: str | os.PathLike,
    options: Options,
    run: RunOptions,
    *,
    made: dict,
    cues: str | None = None,
    cue_path: str | os.PathLike | None = None,
    reference: str | os.PathLike | list | None = None,
    warn: Callable[[str], None] | None = None,
    client=None,
    note: Callable[[str], None] | None = None,
) -> Report:
    """Colour the folder ``source`` into ``output`` as a chain (see the module's text) and return
    the whole run's :class:`~varcolor.batch.Report`.

    Parameters
    ----------
    source, output : path
        The folder of photos and the folder of their outputs.
    options, run : Options, RunOptions
        How to colorize and how the run goes (workers, scheduler, resume, overwrite...).
    made : dict
        What shapes the outputs, for the manifest (:func:`~varcolor.app.made_with`).
    cues, cue_path : optional
        The cue files, as for :func:`~varcolor.app.plan_colorize`.
    reference : path or list of paths, optional
        Colour photos that start the pool beside the photos coloured from cue files.
    warn, note : callable, optional
        Told each job's warnings, and its notes (the references that gave its cues).
    """
    source, output = Path(source), Path(output)
    if not source.is_dir():
        raise InputError(f"{source}: --chain colours a folder of photos (a series); give a folder")
    # --reference told apart once: a chain's are a pool, whatever was given
    given = References.pool_of(reference)
    if given is not None:
        given.check_outputs(output)  # (its maps, and what the input's subfolders put in it: once planned)
    run, jobs = _planned(source, output, options, run, given, cues=cues, cue_path=cue_path, client=client)
    known_of = {
        job.outputs[-1]: job.run.confidence_map for job in jobs if isinstance(job.run, ColorizeTask)
    }  # a photo's result → its confidence map
    seeded = [job for job in jobs if not _waiting(job)]
    waiting = {job.inputs[0]: job for job in jobs if _waiting(job)}
    if not any(isinstance(job.run, ColorizeTask) and not job.skip for job in seeded) and not given:
        raise InputError(f"{source}: no photo has cues (cue files by name, or --marked etc.) and no --reference")
    here = not on_dask(run.workers, run.scheduler, client)  # jobs here take what the parent decoded
    total = Report(len(jobs))
    pool: list[Path] = []
    signatures: list[Signature] = []
    headers: list[ReferenceHeader] = []
    fresh: list[Path] = []  # results that join the pool, described while a photo still waits for them
    unmapped: list[tuple[Path, Path]] = []  # pool photos whose maps are missing, said once one is used
    if given:
        given = given.described(run.max_pixels, options.max_memory)
        pool += given.paths
        signatures += given.signatures or ()
        headers += given.headers or ()

    def describe() -> None:
        """The waves' results join the pool, each with its signature and header (read once)."""
        for result in fresh:
            try:
                (described,), (header,) = describe_pool((result,), run.max_pixels, options.max_memory, keep=here)
            except InputError:  # a gray result (its cue file held no colour): nothing to give the rest
                continue
            pool.append(result)
            signatures.append(described)
            headers.append(header)
            its_map = known_of.get(result)
            if its_map is not None and not its_map.is_file():  # (an earlier run's result): said once used
                unmapped.append((result, its_map))
        fresh.clear()

    def wave(wave_jobs: list[Job]) -> bool:
        """Run one wave; add what it coloured to the pool; whether the chain goes on."""
        report = run_jobs(
            wave_jobs,
            verb="colorized",
            run=run,
            source=source,
            output=output,
            single=False,
            made=made,
            warn=warn,
            note=note,
            client=client,
        )
        _add_wave(total, report, waiting)
        for job in wave_jobs:
            result = job.outputs[-1]
            if isinstance(job.run, ColorizeTask) and result.is_file() and result not in pool and result not in fresh:
                fresh.append(result)
        return not report.interrupted

    if seeded and not wave(seeded):
        return total
    ranked, unreadable = _ranked(waiting, here)
    if unreadable and not wave(unreadable):
        return total
    checks: dict[Path, list[Geometry]] = {path: [] for path in ranked}  # each against the pool's first photos
    tried_at = -1  # the pool's size when the patch statistics last tried every photo left
    while waiting:
        describe()
        if not pool:
            break
        chosen = _nearest(waiting, ranked, checks, signatures)
        if not chosen:  # none verifies: the rest are tried once more (recorded, each failing alone)
            if tried_at == len(pool):
                break
            chosen, tried_at = sorted(waiting), len(pool)
        members = References("pool", tuple(pool), signatures=tuple(signatures), headers=tuple(headers))
        known = tuple(known_of.get(member) for member in members.paths)  # a given reference: known everywhere
        wave_jobs = [
            _from_pool(waiting[path], members, known, Ranking(*ranked[path], tuple(checks[path]))) for path in chosen
        ]
        start, coloured = len(total.rows), len(total.done)
        if not wave(wave_jobs):
            return total
        if len(total.done) > coloured and warn is not None:  # a photo was coloured from this pool
            _warn_unmapped(unmapped, warn)
        unmatched = {row["input"] for row in total.rows[start:] if row.get("error") == Unmatched.__name__}
        for path in chosen:
            if str(path) not in unmatched:  # coloured, kept as it was, or failed otherwise: settled
                del waiting[path]
    settled = {job.name for job in total.done + total.resumed}
    outputs = {path: job.outputs[-1] for path, job in waiting.items() if job.outputs[-1].is_file()}
    total.failed = still_failed(total.rows, settled, sorted(waiting), pooled=bool(pool), outputs=outputs)
    return total


def _ranked(waiting: dict[Path, Job], keep: bool) -> tuple[dict[Path, tuple[tuple | None, Signature]], list[Job]]:
    """Each waiting photo's :func:`_target`; a photo that cannot be read leaves ``waiting`` as a
    failing job of its own (not its cue file's skip), the rest go on."""
    ranked: dict[Path, tuple[tuple | None, Signature]] = {}
    unreadable: list[Job] = []
    for path in sorted(waiting):
        try:
            ranked[path] = _target(waiting[path], keep)
        except VarcolorError as exc:
            unreadable.append(replace(waiting.pop(path), skip=None, fail=str(exc)))
    return ranked, unreadable


def _drop_orphan_maps(jobs: list[Job]) -> None:
    """Delete a map of ours left without its result (a run killed between the two): the result is
    made again, and its map with it (kept, it would stop the job as an output that exists)."""
    for job in jobs:
        its_map = job.run.confidence_map if isinstance(job.run, ColorizeTask) else None
        if its_map is not None and not job.outputs[-1].exists() and its_map.is_file() and not its_map.is_symlink():
            its_map.unlink()


def _add_wave(total: Report, report: Report, waiting: dict[Path, Job]) -> None:
    """Add a wave's report to the chain's (a photo waiting for the pool is not skipped)."""
    total.done += report.done
    total.resumed += report.resumed
    waiting_skips = {(job.name, job.skip) for job in waiting.values()}
    total.skipped += [skip for skip in report.skipped if (skip.name, skip.line) not in waiting_skips]
    total.failed += report.failed
    total.redone += report.redone
    total.rows += report.rows
    total.interrupted |= report.interrupted


def _nearest(waiting: dict[Path, Job], ranked: dict, checks: dict[Path, list[Geometry]], signatures) -> list[Path]:
    """The waiting photos a pool photo verifies, the most inliers first."""
    scores = {}
    for path in sorted(waiting):
        found = checks[path]  # checked once against each photo, whatever the wave
        found += [verified(ranked[path][1], theirs) for theirs in signatures[len(found) :]]
        best = max((g.inliers for g in found if g.trusted), default=0)
        if best:
            scores[path] = best
    return sorted(scores, key=lambda path: (-scores[path], str(path)))


def _warn_unmapped(unmapped: list[tuple[Path, Path]], warn: Callable[[str], None]) -> None:
    """Say once of each pool photo used whose confidence map is missing."""
    for result, its_map in unmapped:
        warn(
            f"{result}: its confidence map {its_map} is missing: all its colour is passed on as known "
            "(rerun it with --overwrite to make the map)"
        )
    unmapped.clear()


def still_failed(
    rows: list[dict], settled: set[str], waiting: list[Path], *, pooled: bool = True, outputs: dict | None = None
) -> list[Outcome]:
    """The chain's failures, read from its waves' manifest records (never from their text: a file
    named with ": " is one name). A photo left waiting while others failed is said to be so: the
    failed ones might have coloured it.

    Parameters
    ----------
    rows : list of dict
        Every wave's manifest records, in order (``input``, ``status``, ``reason``).
    settled : set of str
        The photos coloured (or kept as finished) by any wave, as the records name them.
    waiting : list of Path
        The photos left waiting when the chain ended.
    pooled : bool
        Whether any photo joined the pool (none: the waiting photos were matched against nothing).
    outputs : dict, optional
        A waiting photo's output, where it exists (from an earlier run): kept as it is.

    Examples
    --------
    >>> rows = [{"input": "a: b.png", "status": "failed", "reason": "a: b.png: unmatched"},
    ...         {"input": "a: b.png", "status": "done", "reason": ""}]
    >>> still_failed(rows, {"a: b.png"}, [])
    []
    >>> [(failed.name, failed.error) for failed in still_failed(rows[:1], set(), [Path("c.png")])]
    [('a: b.png', None), ('c.png', 'Unmatched')]
    >>> still_failed(rows[:1], set(), [Path("c.png")], pooled=False)[1].line
    'c.png: not coloured: the photo of the series that could colour it failed (a: b.png); left out'
    """
    failed = {
        row["input"]: Outcome(row["input"], row["reason"], row.get("error"))
        for row in rows
        if row["status"] == "failed" and row["input"] not in settled
    }
    left = {str(path) for path in waiting}
    sources = [name for name, outcome in failed.items() if name not in left and outcome.error != Unmatched.__name__]
    for path in waiting:
        kept = (outputs or {}).get(path)
        tail = f"its output {kept} is kept as it was, not redone" if kept is not None else "left out"
        line = f"{path}: {UNMATCHED}"
        if sources and not pooled:  # matched against nothing: the photos that could colour it failed
            which = "photo of the series that could colour it" if len(sources) == 1 else "photos of the series"
            line = f"{path}: not coloured: the {which} failed ({', '.join(sources)}); {tail}"
        elif sources:
            line = f"{path}: no coloured photo of the series matches it, and {', '.join(sources)} failed; {tail}"
        elif kept is not None:
            line = f"{path}: no coloured photo of the series matches it; {tail}"
        if str(path) not in failed or failed[str(path)].error == Unmatched.__name__:
            failed[str(path)] = Outcome(str(path), line, Unmatched.__name__)
    return list(failed.values())


def _waiting(job: Job) -> bool:
    """Whether a planned job is a photo waiting for the pool: a colorize job skipped for having
    no cue file (a layered file's strokes, a reference given by name, or a cue file: not)."""
    return isinstance(job.run, ColorizeTask) and job.skip is not None and job.run.cues is None


def _planned(
    source: Path, output: Path, options: Options, run: RunOptions, given: References | None, **planning
) -> tuple[RunOptions, list[Job]]:
    """The chain's jobs, its run options with the maps' folder (its own where the user gave none),
    and its outputs checked as a folder run's."""
    private = run.confidence_map is None
    if private:  # each photo's confidence map, for the photos coloured from it
        run = replace(run, confidence_map=str(output / CONFIDENCE_FOLDER))
    jobs = plan_colorize(source, output, options, run, **planning)
    if given is not None:
        check_not_in_references(jobs, given)
    if not private:  # (hidden, ours is never walked) a read-only one refused now, not after a solve
        mark_map_folder(source, run)
    if private:
        _drop_orphan_maps(jobs)
    # as a folder run's: a map of the user's left without its result fails its photo, said now
    check_outputs(jobs, run.bits)
    return run, jobs


def _from_pool(job: Job, pool: References, known: tuple[Path | None, ...], ranking: Ranking) -> Job:
    """The waiting ``job`` coloured from the chain's ``pool`` instead (``known``: each photo's
    confidence map, or None; ``ranking``: its signature and checks against the pool)."""
    assert isinstance(job.run, ColorizeTask)  # _waiting chose it
    plan = pool.plan(job.run.image, max_pixels=job.run.max_pixels, known=known, chained=True, ranking=ranking)
    task = replace(job.run, cues=plan)
    return Job([job.inputs[0], *pool.paths], job.outputs, task, fail=job.fail, memory=job.memory)
