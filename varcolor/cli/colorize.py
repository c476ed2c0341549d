"""``varcolor colorize``: a gray image (or a folder of them) and its cues to colour; and the solve
of one image shared with ``decode`` (:func:`read_checked`, :func:`colorize_and_write`)."""

from __future__ import annotations

import argparse
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import batch, methods
from ..api import check_fits, colorize, estimate_memory
from ..batch import Job
from ..cues import Cues
from ..errors import InputError, VarcolorError
from ..io import image_shape, walk_images, write_image
from .common import (
    add_input,
    add_output_options,
    check_ext,
    check_folders,
    check_outputs,
    is_file,
    note,
    read_warning,
    run,
    single_output,
)
from .cues import (
    _FIND,
    CUE_KINDS,
    CUE_SUFFIXES,
    check_cue_share,
    dense_cues_warning,
    find_cue,
    is_cue_file,
    kind_of,
    load_cues,
)
from .solve_options import add_solve_options, options_of
from .video import add_video_options, is_video_run, run_video


def colorize_and_write(image: Path, gray: np.ndarray, cues: Cues, output: Path, args, global_hints=None) -> str:
    """Colorize, write the output atomically; returns the warnings raised, as one line."""
    # One long solve (bilaplacian-gtv's ADMM) on its own gets a bar of iterations, opened at the
    # first iteration (a refused option shows no empty bar before its error).
    bar = None

    def progress(info: dict) -> None:
        nonlocal bar
        if "tiles" in info:  # the tiles solver of a big scan: a bar of tiles
            if bar is None:
                bar = tqdm(
                    desc="tiles",
                    unit="tile",
                    file=sys.stderr,
                    total=info["tile_count"],
                    disable=not getattr(args, "iteration_bar", False),
                )
            bar.update(info["tiles"] - bar.n)
            return
        if bar is None:
            bar = tqdm(desc="ADMM", unit="it", file=sys.stderr, disable=not getattr(args, "iteration_bar", False))
        bar.total = info["maxiter"]
        bar.set_postfix(primal=f"{info['primal_residual']:.1e}", dual=f"{info['dual_residual']:.1e}", refresh=False)
        bar.update(info["iterations"] - bar.n)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = colorize(gray, cues, options_of(args), global_hints=global_hints, progress=progress)
            if bar is not None:
                bar.total = bar.n  # converged: the bar ends full
        except VarcolorError as exc:  # the same kind of error (bad input, no convergence), naming the file
            raise type(exc)(f"{image}: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
    write_image(output, result.rgb, bits=args.bits, overwrite=args.overwrite)
    return "; ".join(f"{image}: {w.message}" for w in caught if issubclass(w.category, UserWarning))


def read_checked(image: Path, args) -> np.ndarray:
    """The image, after refusing from its header alone one that no solve here could hold."""
    shape = image_shape(image, max_pixels=args.max_pixels)
    try:
        check_fits(shape, options_of(args))
    except InputError as exc:
        raise InputError(f"{image}: {exc}") from None
    return read_warning(image, args.max_pixels)


def solve_memory(image: Path, args) -> int:
    """What colorizing ``image`` will need, from its header (0 where that cannot be told now, the
    job itself then reporting why, or where the run stays in this process: there the job checks its
    memory itself, and planning need not read every header twice)."""
    if not batch.on_dask(args.workers, args.scheduler):
        return 0
    try:
        return estimate_memory(image_shape(image), options_of(args))
    except VarcolorError:
        return 0


def _colorize_one(image: Path, kind: str | None, cue_file: Path | None, output: Path, args) -> str:
    gray = read_checked(image, args)
    cues = Cues.empty(gray.shape[:2])
    if cue_file is not None:
        cues = load_cues(image, kind, cue_file, gray, args.max_pixels)
        check_cue_share(cue_file, kind, cues)
    notes = [dense_cues_warning(cue_file, cues), colorize_and_write(image, gray, cues, output, args)]
    return "; ".join(note for note in notes if note)


def _automatic(args) -> bool:
    """With the network, an image without cues is colorized automatically."""
    return bool(args.prior) or methods.get(args.method).needs_network


def _colorize_job(image: Path, kind: str | None, cue_file: Path | None, output: Path, args) -> Job:
    skip = (
        None
        if cue_file or _automatic(args)
        else (f"{image}: no cue file found (looked for {image.stem}_marked.png, _mask.png, .points.json)")
    )
    return Job(
        [image] + ([cue_file] if cue_file else []),
        [output],
        partial(_colorize_one, image, kind, cue_file, output, args),
        skip,
        memory=0 if skip else solve_memory(image, args),
    )


def _plan_colorize(args) -> list[Job]:
    source = Path(args.input)
    chosen = [k for k in CUE_KINDS if getattr(args, k) is not None]
    if len(chosen) > 1:
        raise InputError("give at most one of --marked, --mask, --points")
    kind = chosen[0] if chosen else None
    given = getattr(args, kind) if kind else None
    output = Path(args.output)
    if source.is_file():
        if given is not None and given is not _FIND:
            cue_kind, cue_file = kind, Path(given)
            if not is_file(cue_file):
                raise InputError(f"{cue_file}: no such file")
        elif kind is not None:  # a bare --marked/--mask/--points: the file beside the image
            cue_kind, cue_file = find_cue(source, source.parent, [kind])
            if cue_file is None:
                raise InputError(
                    f"{source}: --{kind} without a file, and no {source.stem}{CUE_SUFFIXES[kind][0]} beside it"
                )
        else:  # a single file uses the cue file beside it only when asked to
            cue_kind, cue_file = None, None
            _, beside = find_cue(source, source.parent, CUE_KINDS)
            if not _automatic(args):
                found = f" ({beside.name} is beside it: give --{kind_of(beside)} to use it)" if beside else ""
                raise InputError(
                    f"{source}: no cues given; use --marked, --mask or --points, or --prior ideepcolor{found}"
                )
            if beside is not None and not args.quiet:
                note(f"{beside} is not used (give --{kind_of(beside)} to colorize from it)")
        return [_colorize_job(source, cue_kind, cue_file, single_output(source, args.output, args.ext), args)]
    check_folders(source, output)
    cue_folder = Path(given) if given not in (None, _FIND) else None
    if cue_folder is not None and not cue_folder.is_dir():
        raise InputError(f"{cue_folder}: with a folder input, --{kind} takes a folder of cue files (or no value)")
    jobs = []
    for rel in walk_images(source, skip=[output]):  # an output folder inside: its files are no inputs
        if is_cue_file(rel):
            continue
        image = source / rel
        folder = (cue_folder / rel.parent) if cue_folder else image.parent
        cue_kind, cue_file = find_cue(image, folder, [kind] if kind else CUE_KINDS)
        jobs.append(_colorize_job(image, cue_kind, cue_file, (output / rel).with_suffix(args.ext), args))
    return jobs


def _cmd_colorize(args) -> int:
    if is_video_run(args):  # a clip: varcolor.video (cli/video.py)
        return run_video(args)
    check_ext(args.ext)
    single = Path(args.input).is_file()
    # Long single solves show a bar: ADMM's iterations, or the tiles of a big scan (levin).
    args.iteration_bar = single and methods.get(args.method).reports_progress and not args.quiet
    jobs = _plan_colorize(args)
    check_outputs(jobs, args.bits)
    return run(jobs, "colorized", args, source=args.input, output=args.output, single=single)


def add_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "colorize",
        help="gray image + cues -> colour image",
        description="Colorize a gray image (or every image in a folder, recursively) from colour cues. "
        "In a folder, cue files are found by name: X.png pairs with X_marked.png, X_mask.png "
        "or X.points.json/.csv.",
    )
    add_input(p, "INPUT", "gray image file, or a folder of them")
    cue = p.add_mutually_exclusive_group()
    cue.add_argument(
        "--marked",
        nargs="?",
        const=_FIND,
        metavar="M",
        help="scribbled copy of the gray image (Levin's convention); for a folder: a folder of them, "
        "or no value to look for X_marked.png",
    )
    cue.add_argument(
        "--mask",
        nargs="?",
        const=_FIND,
        metavar="M",
        help="colour strokes on black/transparent; for a folder as with --marked (X_mask.png)",
    )
    cue.add_argument(
        "--points",
        nargs="?",
        const=_FIND,
        metavar="P",
        help="JSON/CSV of y,x,a,b[,radius] or y,x,r,g,b[,radius] (r,g,b 0-255); "
        "for a folder as with --marked (X.points.json)",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file (or folder, for a folder input)")
    add_solve_options(p)
    add_output_options(p, ext=True)
    add_video_options(p)
    p.set_defaults(func=_cmd_colorize)
