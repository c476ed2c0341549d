"""Planning a run: from typed values (:class:`~varcolor.options.Options`,
:class:`~varcolor.ir.encode.EncodeOptions`, :class:`~varcolor.app.RunOptions`) to the checked
list of :class:`~varcolor.batch.Job` s that :func:`varcolor.app.run_jobs` runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from .. import batch, methods, sources
from ..batch import Job
from ..errors import InputError, VarcolorError
from ..io import JPEG_EXTENSIONS, check_writable, identity, image_shape
from ..io.formats import is_file
from ..io.layers import check_layered_output, is_layered
from ..io.walk import MAPS_MARKER, Unwalked, walk_images
from ..ir.encode import ENCODER, EncodeOptions
from ..ir.files import PLOT_SUFFIX, encode_bytes, ir_outputs, is_complete
from ..options import Options
from ..sources.base import EDGES_DEFAULT, CuePlan
from .cues import cue_kinds, find_cue, is_cue_file, kind_of
from .reference import References
from .run_options import RunOptions
from .solve import automatic, solve_memory
from .tasks import ColorizeTask, DecodeTask, EncodeTask

__all__ = [
    "ENCODER",
    "plan_colorize",
    "cue_plan",
    "plan_decode",
    "plan_encode",
    "decode_job",
    "automatic",
    "single_output",
    "check_folders",
    "check_outputs",
    "check_not_in_references",
    "walk_inputs",
]


def single_output(source: Path, output: str | os.PathLike, ext: str) -> Path:
    """The output of one input file: ``output`` itself, or a file named after the input inside the
    folder ``output`` (an existing one, or a name ending in a slash).

    Parameters
    ----------
    source : Path
        The input file, whose stem names the output inside a folder.
    output : path
        The output as given: a file, or a folder (an existing one, or a name ending in a slash).
    ext : str
        The output's extension, with its dot (``.png``), for a name made inside a folder.
    """
    if Path(output).is_dir() or str(output).endswith(("/", "\\")):
        return Path(output) / f"{source.stem}{ext}"
    return Path(output)


def check_folders(source: Path, output: Path) -> None:
    """Refuse a folder run from no folder, or into a file."""
    if not source.is_dir():
        raise InputError(f"{source}: no such file or folder")
    if output.is_file():
        raise InputError(f"{output}: is a file; a folder input needs an output folder")


def _check_not_all_inputs(jobs: list[Job]) -> None:
    """Refuse a run each of whose jobs would write over one of its own inputs (the first job
    looked at first: a run that writes elsewhere costs two file lookups)."""
    working = [job for job in jobs if not job.skip and job.outputs and job.inputs]
    if not working:
        return

    def over_input(job: Job) -> Path | None:
        own = {identity(path) for path in job.inputs}
        return next((output for output in job.outputs if identity(output) in own), None)

    first = over_input(working[0])
    if first is None or any(over_input(job) is None for job in working[1:]):
        return
    if first == _map_of(working[0]):
        raise InputError(
            f"{first}: refusing to overwrite an input with a confidence map; give --confidence-map another path"
        )
    if len(working) == 1:  # one photo: -o names it (or its folder, with the same name)
        raise InputError(
            f"{first}: refusing to overwrite an input: the output is the input itself; give -o another path"
        )
    raise InputError(
        f"{first}: refusing to overwrite an input: every output of this run is one of its inputs "
        "(the output folder is the input folder, with the same names); give -o another folder"
    )


#: What a confidence map is written as: one 16-bit gray image.
MAP_EXTENSIONS = (".png", ".tif", ".tiff")


def check_outputs(jobs: list[Job], bits: int | None) -> None:
    """Refuse, before any work, an output format or place that could never be written: checked
    once per folder and extension (every job of a folder run shares them); and a run each of
    whose outputs is its own input (``-o`` the input folder, the names the same).

    Parameters
    ----------
    jobs : list of Job
        The planned jobs, whose outputs are checked.
    bits : int or None
        Bits per sample of the images written (8 or 16); None: 8 for the check. JPEG outputs are
        always checked at 8.
    """
    _check_not_all_inputs(jobs)
    seen = set()
    for job in jobs:
        writes_ir = isinstance(job.run, EncodeTask)  # (a colorize to .vcir: refused here, not after its solve)
        task = job.run if isinstance(job.run, ColorizeTask) else None
        its_map = _map_of(job)
        if task is not None and its_map is not None and not job.fail and not task.overwrite:
            # its map there without its colours (left by a killed run): said now, not after the solve
            if os.path.lexists(its_map) and job.outputs and not os.path.lexists(job.outputs[-1]):
                job.fail = f"{its_map}: exists; kept (use --overwrite to replace it)"
        for output in job.outputs:
            suffix = output.suffix.lower()
            is_map = output == its_map
            key = (output.parent, suffix, writes_ir, is_map)
            if key not in seen:
                seen.add(key)
                if is_map:  # a 16-bit gray image, never layers
                    if suffix not in MAP_EXTENSIONS:
                        raise InputError(
                            f"{output}: a confidence map is one 16-bit gray image: give {', '.join(MAP_EXTENSIONS)}"
                        )
                    check_writable(output, bits=16, image=True)
                    continue
                image = suffix != ".vcir" or not writes_ir
                # (JPEG at 8 unless 16 bits are asked for outright: a 16-bit input's default bits follow it)
                jpeg_bits = 16 if bits == 16 and task is not None else 8
                check_writable(output, bits=jpeg_bits if suffix in JPEG_EXTENSIONS else bits or 8, image=image)
                check_layered_output(output)  # a .psd without psd-tools: before any work


def mark_map_folder(source: Path, run: RunOptions) -> None:
    """Make a folder run's ``--confidence-map`` folder and mark it as maps (:data:`MAPS_MARKER`),
    before any photo is solved."""
    if run.confidence_map is None or not source.is_dir():
        return
    folder = Path(run.confidence_map)
    if folder.is_dir() and not (folder / MAPS_MARKER).is_file():
        # Marked, a folder of the user's photos would be passed over by every later run.
        photos = [p for p in walk_images(folder, layered=True) if not p.name.endswith("_confidence.png")]
        if photos:
            raise InputError(
                f"{folder}: --confidence-map holds photos ({folder / photos[0]}); give the maps a folder of their own"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / MAPS_MARKER
        if not marker.is_file():
            marker.write_text("varcolor: a folder run's confidence maps; no run reads them as photos\n")
    except OSError as exc:
        raise InputError(f"{folder}: the confidence maps cannot be written there ({exc.strerror or exc})") from None


def walk_inputs(source: Path, output: Path, *skip: Path, layered: bool = False) -> tuple[list[Path], list[Job]]:
    """The images under the folder ``source`` that are a run's inputs (paths relative to it), and
    a job for each folder not entered, that the run reports.

    Parameters
    ----------
    source, output : Path
        The run's input folder and output folder.
    *skip : Path
        More folders whose files are no inputs (``recolor``'s IR folder).
    layered : bool
        Layered files (``.ora``, ``.psd``) are inputs too (``varcolor colorize`` of a folder).
    """
    unwalked: list[Unwalked] = []
    ours = set()
    # Outputs an earlier run wrote into the input folder itself (-o IN) are no photos of a later run.
    if (source / batch.MANIFEST).is_file():
        try:
            ours = batch.made_here(source / batch.MANIFEST, read_from=source)
        except InputError:  # a manifest varcolor cannot have written proves nothing ours; the run reports it
            pass
    found = list(walk_images(source, skip=[output, *skip], unwalked=unwalked, layered=layered))
    if ours:
        found = [rel for rel in found if identity(source / rel) not in ours]
    reports = [
        Job(
            [source / entry.path],
            [],
            _not_run,
            skip=None if entry.error else f"{source / entry.path}: {entry.reason}",
            fail=f"{source / entry.path}: {entry.reason}" if entry.error else None,
        )
        for entry in unwalked
    ]
    return found, reports


def _map_of(job: Job) -> Path | None:
    """The confidence map a job writes beside its colours (``--confidence-map``), or None."""
    its_map = job.run.confidence_map if isinstance(job.run, ColorizeTask) else None
    return None if its_map is None else Path(its_map)


def _not_run() -> str:  # a report's job: skipped or failed while planning, never run
    return ""


def _memory(image: Path, options: Options, on_dask: bool) -> int:
    # In this process the job checks its memory itself: planning need not read every header twice.
    return solve_memory(image, options) if on_dask else 0


def _colorize_job(
    image: Path,
    kind: str | None,
    cue_file: Path | None,
    output: Path,
    options: Options,
    run: RunOptions,
    on_dask: bool,
    progress: bool = False,
    reference: References | None = None,
    searched: bool = False,
    confidence: Path | None = None,
) -> Job:
    skip = (
        None
        if cue_file or reference or automatic(options) or is_layered(image)
        else (
            f"{image}: no cue file found (looked for {_looked_for(image.stem)})"
            + (", and no reference" if searched else "")
        )
    )
    task = ColorizeTask(
        image,
        output,
        options,
        cue_plan(image, kind, cue_file, run, reference),
        run.bits,
        run.overwrite,
        run.max_pixels,
        progress,
        run.profile,
        run.layer,
        run.strokes_layer,
        confidence_map=confidence,
    )
    return Job(
        [image, *(task.cues.files if task.cues is not None else ())],
        ([confidence] if confidence else []) + [output],  # the result last: it marks the unit whole
        task,
        skip,
        memory=0 if skip else _memory(image, options, on_dask),
    )


def cue_plan(
    image: Path,
    kind: str | None,
    cue_file: Path | None,
    run: RunOptions,
    reference: References | None = None,
) -> CuePlan | None:
    """What ``image``'s cue sources plan for its job, through the registry: its cue file's (of
    ``kind``), or a layered file's stroke layer, and the reference photo or pool."""
    own = None
    if kind is not None and cue_file is not None:
        own = sources.get(kind).plan(cue_file, image, max_pixels=run.max_pixels, edges=run.edges)
    elif is_layered(image):  # its stroke layer, read with its photo
        own = sources.get("layered").plan(image, image, max_pixels=run.max_pixels, edges=run.edges)
    if reference is None:
        return own
    return reference.plan(image, max_pixels=run.max_pixels, edges=run.edges, around=own)


def _looked_for(stem: str) -> str:
    """The cue file names looked for beside an image named ``stem``: each source's first."""
    first, *others = (source.suffixes[0] for source in sources.file_sources())
    return ", ".join([f"{stem}{first}", *others])


def _single_cue(
    source: Path, cues: str | None, cue_path, options: Options, references, note, kinds
) -> tuple[str | None, Path | None]:
    """The cue kind and file of a single image: the one given, or the one of ``cues`` beside it."""
    cue_kind: str | None
    cue_file: Path | None
    if cue_path is not None:
        cue_kind, cue_file = cues, Path(cue_path)
        if not is_file(cue_file):
            raise InputError(f"{cue_file}: no such file")
    elif cues is not None:  # the file beside the image
        cue_kind, cue_file = find_cue(source, source.parent, [cues])
        if cue_file is None:
            raise InputError(
                f"{source}: {cues} cues asked for without a file, and no "
                f"{source.stem}{sources.get(cues).suffixes[0]} beside it"
            )
    else:  # a single file uses the cue file beside it only when asked to
        cue_kind, cue_file = None, None
        _, beside = find_cue(source, source.parent)
        if not automatic(options) and not is_layered(source) and references is None:  # a layered file: a layer
            hint = f" ({beside.name} is beside it: give {kind_of(beside)} cues to use it)" if beside else ""
            raise InputError(
                f"{source}: no cues given; give {', '.join(f'{kind} cues' for kind in kinds)} or a reference "
                f"photo, or the prior{hint}"
            )
        if beside is not None and note is not None:
            note(f"{beside} is not used (give {kind_of(beside)} cues to colorize from it)")
    return cue_kind, cue_file


def plan_colorize(
    source: str | os.PathLike,
    output: str | os.PathLike,
    options: Options,
    run: RunOptions,
    *,
    cues: str | None = None,
    cue_path: str | os.PathLike | None = None,
    reference: str | os.PathLike | list[str | os.PathLike] | None = None,
    client=None,
    note: Callable[[str], None] | None = None,
) -> list[Job]:
    """The jobs colorizing ``source`` (an image, or every image under a folder) into ``output``.

    Parameters
    ----------
    source, output : path
        A gray image and its output file (or a folder to put it in), or a folder of gray images
        and the folder of their outputs (named as the inputs, with ``run.ext``).
    options, run : Options, RunOptions
        How to colorize, and how the run goes.
    cues : str, optional
        The kind of the cue files, a source found by name (:func:`varcolor.sources.file_sources`:
        ``marked``, ``mask``, ``points``, or a plug-in's); None: for a folder.
    cue_path : path, optional
        With ``cues``: the cue file of one image, or the folder of cue files of a folder of
        images (None: each beside its image).
    reference : path or list of paths, optional
        A colour photo of the same scene (:meth:`~varcolor.Cues.from_reference`), its cues added
        around the cue files'; for a folder.
    client : dask.distributed.Client, optional
        The client the run will use (each job then states the memory its solve needs).
    note : callable, optional
        Told of a cue file beside a single image that is not used.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, varcolor
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> varcolor.write_image(folder / "in" / "a.png", np.full((8, 8), 0.5))
    >>> jobs = plan_colorize(folder / "in", folder / "out", varcolor.Options(), RunOptions())
    >>> [(job.inputs[0].name, job.skip is not None) for job in jobs]  # no cue file beside it: skipped
    [('a.png', True)]
    """
    kinds = cue_kinds()
    if cues is not None and cues not in kinds:
        raise InputError(f"unknown cues {cues!r}; available: {', '.join(kinds)}")
    if cue_path is not None and cues is None:
        raise InputError(f"a cue path needs its kind: {', '.join(kinds)}")
    # --reference told apart once (a photo, a folder named as the images, a pool), and checked
    references = References.of(reference, Path(source), run.max_pixels, options.max_memory)
    if references is not None:
        references.check_outputs(Path(output))  # a bad reference file is said first
        if run.confidence_map is not None:
            references.check_outputs(Path(run.confidence_map), "--confidence-map")
    if cues is not None and not sources.get(cues).edges and run.edges != EDGES_DEFAULT:
        # a rule that cannot apply: refused, not ignored
        raise InputError(
            f"edges must be left at {EDGES_DEFAULT} with {cues} cues ({cues} have no stroke edges), got {run.edges!r}"
        )
    # A trailing slash means a folder (made if missing): single_output reads it from the name as given.
    source, given, output = Path(source), output, Path(output)
    # Every job of the run takes the same options, run settings and scheduler.
    colorize_job = partial(
        _colorize_job, options=options, run=run, on_dask=batch.on_dask(run.workers, run.scheduler, client)
    )
    if source.is_file():
        progress = methods.get(options.method).shows_progress() and not run.quiet
        cue_kind, cue_file = _single_cue(source, cues, cue_path, options, references, note, kinds)
        out = single_output(source, given, run.ext)
        given_map = run.confidence_map
        confidence = None if given_map is None else single_output(source, given_map, "_confidence.png")
        return [
            colorize_job(
                source, cue_kind, cue_file, out, progress=progress, reference=references, confidence=confidence
            )
        ]
    check_folders(source, output)
    maps = None if run.confidence_map is None else Path(run.confidence_map)
    if maps is not None and identity(maps) == identity(source):
        raise InputError(
            f"{maps}: --confidence-map cannot be the input folder: later runs would take its maps for photos; "
            "give another folder (one inside it is skipped as the output folder is)"
        )
    cue_folder = Path(cue_path) if cue_path is not None else None
    if cue_folder is not None and not cue_folder.is_dir():
        raise InputError(
            f"{cue_folder}: with a folder input, the {cues} cues must be a folder of cue files "
            "(or none, to find them by name)"
        )
    # layered files are inputs with their strokes; a --reference folder holding the inputs is walked
    skipped = references.walked_past(source) if references is not None else []
    listings: dict = {}  # each folder of references listed once
    found, jobs = walk_inputs(source, output, *skipped, *([maps] if maps is not None else []), layered=True)
    for rel in found:
        if is_cue_file(rel) or (references is not None and not references.is_input(source / rel)):
            continue
        image = source / rel
        folder = (cue_folder / rel.parent) if cue_folder else image.parent
        cue_kind, cue_file = find_cue(image, folder, [cues] if cues else None)
        its = references.for_image(image, rel, listings) if references is not None else None
        out = (output / rel).with_suffix(run.ext)
        its_map = None if maps is None else maps / rel.parent / f"{rel.stem}_confidence.png"
        jobs.append(
            colorize_job(
                image,
                cue_kind,
                cue_file,
                out,
                reference=its,
                searched=references is not None and references.searched,
                confidence=its_map,
            )
        )
    if references is not None:
        check_not_in_references(jobs, references)
    return jobs


def check_not_in_references(jobs: list[Job], references: References) -> None:
    """Refuse outputs that the input's own subfolders would put in a ``--reference`` folder."""
    checked = set()
    for job in jobs:
        if job.skip or job.fail:
            continue
        its_map = _map_of(job)
        for output in job.outputs:
            flag = "--confidence-map" if output == its_map else "-o"
            if (output.parent, flag) not in checked:
                checked.add((output.parent, flag))
                references.check_outputs(output, flag)


def decode_job(gray_path: Path, output: Path, options: Options, run: RunOptions, *, on_dask: bool, **named) -> Job:
    """The job decoding the IR ``gray_path`` into ``output`` (``named``: more :class:`Job` fields)."""
    return Job(
        [gray_path, gray_path.with_suffix(".vcir")],
        [output],
        DecodeTask(gray_path, output, options, run.bits, run.overwrite, run.max_pixels, run.profile),
        memory=_memory(gray_path, options, on_dask),
        **named,
    )


def plan_decode(
    source: str | os.PathLike, output: str | os.PathLike, options: Options, run: RunOptions, *, client=None
) -> list[Job]:
    """The jobs decoding the IR ``source`` (a gray PNG, or a folder of IRs) into ``output``.

    A PNG without its payload is no IR (or one whose encoding was interrupted): its job fails,
    saying which, rather than being skipped silently.

    Parameters
    ----------
    source : path
        An IR's gray PNG (its payload beside or inside it), or a folder of IRs.
    output : path
        The decoded image (or a folder to put it in), or, for a folder, the folder of decoded images
        (named as the IRs, with ``run.ext``).
    options : Options
        How to colorize from the IRs' cues.
    run : RunOptions
        How the run goes, and the format of what it writes.
    client : dask.distributed.Client, optional
        The client the run will use (each job then states the memory its solve needs).
    """
    source, reports = Path(source), list[Job]()
    if source.is_file():
        items = [(source, single_output(source, output, run.ext))]
    else:
        check_folders(source, Path(output))
        found, reports = walk_inputs(source, Path(output))
        items = [
            (source / rel, (Path(output) / rel).with_suffix(run.ext))
            for rel in found
            if not rel.name.endswith(PLOT_SUFFIX)
        ]
    on_dask = batch.on_dask(run.workers, run.scheduler, client)
    return reports + [decode_job(gray_path, out, options, run, on_dask=on_dask) for gray_path, out in items]


def plan_encode(
    source: str | os.PathLike,
    output: str | os.PathLike,
    options: EncodeOptions,
    run: RunOptions,
    *,
    embed: bool = False,
    plot: bool = False,
    gray: str = "lightness",
    max_memory: float | None = None,
    settled_before: float | None = None,
    skip: tuple[Path, ...] = (),
    client=None,
) -> list[Job]:
    """The jobs encoding every image under ``source`` (or the image ``source``) into IRs in the
    folder ``output`` (see :func:`varcolor.ir.files.encode_file` for ``embed``, ``plot``,
    ``gray`` and ``max_memory``); only files unchanged since ``settled_before`` when given.

    Parameters
    ----------
    source : path
        A colour photo, or a folder of them.
    output : path
        The folder of IRs (each named as its photo, with ``.png``).
    options : EncodeOptions
        The encoder and its settings.
    run : RunOptions
        How the run goes (overwrite, max_pixels, workers, scheduler); ``bits``: of the gray images (None: 8).
    embed, plot, gray, max_memory
        As for :func:`varcolor.ir.files.encode_file`: the payload inside the gray PNG, a picture of
        the cues, the kind of gray (``lightness`` or ``luma601``), the memory budget.
    settled_before : float, optional
        A time (seconds since the epoch): only files last modified before it are encoded; None: every file.
    skip : tuple of Path
        More folders whose files are no inputs (``recolor``'s output folder).
    client : dask.distributed.Client, optional
        The client the run will use (each job then states the memory its encoding needs).
    """
    source, output = Path(source), Path(output)
    reports: list[Job] = []
    if source.is_file():
        items = [(source, output / f"{source.stem}.png")]
    else:
        check_folders(source, output)
        found, reports = walk_inputs(source, output, *skip)
        items = [
            (source / rel, (output / rel).with_suffix(".png")) for rel in found if not rel.name.endswith(PLOT_SUFFIX)
        ]
    files = {
        "embed": embed,
        "plot": plot,
        "bits": run.bits or 8,  # the gray image: 8 bits unless asked
        "gray": gray,
        "overwrite": run.overwrite,
        "max_pixels": run.max_pixels,
        "max_memory": max_memory,
    }
    on_dask = batch.on_dask(run.workers, run.scheduler, client)
    jobs = reports
    for image, gray_path in items:
        if settled_before is not None and image.stat().st_mtime > settled_before:
            continue
        fail = None
        if not run.overwrite and is_file(gray_path) and not is_complete(gray_path):
            fail = (
                f"{gray_path}: exists but is not a complete IR (no payload beside or inside it; an interrupted "
                "run?); kept: use --overwrite to replace it"
            )
        memory = 0
        if on_dask:
            try:
                memory = encode_bytes(image_shape(image), options.encoder)
            except VarcolorError:
                pass
        jobs.append(
            Job(
                [image],
                ir_outputs(gray_path, embed=embed, plot=plot),
                EncodeTask(image, gray_path, options, files),
                fail=fail,
                memory=memory,
            )
        )
    return jobs
