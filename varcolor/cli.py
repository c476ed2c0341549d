"""The ``varcolor`` command.

Exit codes: 0 success; 1 a folder run in which some files failed (each is reported); 2 bad input
(one line on stderr, no traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import csv
import io as _io
import json
import inspect
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import __version__, batch, bench
from .api import (CONFIDENCES, METHODS, PRIOR_MODES, PRIOR_WEIGHT, PRIORS, SPACES, check_fits, check_options,
                  colorize, estimate_memory)
from .batch import Job
from .cues import Cues
from .errors import InputError, VarcolorError
from .color import luma601, same_lightness_gray
from .io import (MAX_PIXELS, atomic_path, check_writable, encode_image, image_shape, publish, read_image,
                 walk_images, write_image)
from .memory import check_memory
from .metrics import METRICS, score
from .ir.encode import ENCODERS, check_encode_options
from .solvers import DEVICES, SOLVERS, TOL
from .solvers.device import backend

CUE_KINDS = ("marked", "mask", "points")
# How a cue file is found beside an image X.png, per kind, in the order tried.
_CUE_SUFFIXES = {"marked": ("_marked.png", "_marked.bmp", "_marked.tif", "_marked.jpg"),
                 "mask": ("_mask.png", "_mask.bmp", "_mask.tif"),
                 "points": (".points.json", ".points.csv")}
_FIND = object()  # --marked etc. given without a value: find the file by name


def _error(message: str) -> None:
    print(f"varcolor: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    tqdm.write(f"varcolor: warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------- colorize

#: A cue image in which at least this share of the pixels differ from the gray image is no
#: scribbled copy: it is refused (the colour original given as the marked image, say).
ALL_CUES = 0.99
#: Above this share of cue pixels, a warning: strokes rarely cover half of a photo.
MANY_CUES = 0.5


def _is_cue_file(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for suffixes in _CUE_SUFFIXES.values() for s in suffixes)


def _find_cue(image: Path, folder: Path, kinds) -> tuple[str | None, Path | None]:
    """The first cue file ``folder/<stem><suffix>`` that exists for ``image``, over ``kinds``."""
    for kind in kinds:
        for suffix in _CUE_SUFFIXES[kind]:
            candidate = folder / f"{image.stem}{suffix}"
            if _is_file(candidate):
                return kind, candidate
    return None, None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name longer than the file system allows cannot exist
        return False


def _load_cues(image: Path, kind: str, cue_file: Path, gray: np.ndarray, args) -> Cues:
    shape = gray.shape[:2]
    if kind == "points":
        return Cues.from_points(cue_file, shape=shape)
    if cue_file.suffix.lower() in (".jpg", ".jpeg"):
        # Measured on the bundled example: its marked PNG saved as JPEG (quality 75-95) turns
        # 65-74 % of the pixels into cues, and no threshold recovers the strokes reliably.
        raise InputError(f"{cue_file}: a JPEG {kind} image cannot be used: its compression noise turns most "
                         "pixels into cues and blurs the strokes' colours; save it losslessly (PNG) and try again")
    cue_image = read_image(cue_file, max_pixels=args.max_pixels)
    if cue_image.shape[:2] != shape:
        raise InputError(f"{cue_file}: the {kind} image is {cue_image.shape[1]}×{cue_image.shape[0]} "
                         f"but {image.name} is {shape[1]}×{shape[0]}")
    if cue_image.ndim == 2:
        raise InputError(f"{cue_file}: the {kind} image is gray; it must be in colour")
    try:
        return Cues.from_marked(gray, cue_image) if kind == "marked" else Cues.from_mask(cue_image)
    except InputError as exc:
        raise InputError(f"{cue_file}: {exc}") from None


def _check_cue_share(cue_file: Path, kind: str, cues: Cues) -> None:
    """Refuse cues that leave nothing to colorize (every pixel a cue): no result can be right."""
    share = cues.count / cues.mask.size
    if share >= ALL_CUES:
        hint = " (is it the colour original rather than a scribbled copy?)" if kind == "marked" else ""
        raise InputError(f"{cue_file}: {100 * share:.0f} % of the pixels are cues{hint}; nothing is left to colorize")


def _dense_cues_warning(cue_file: Path | None, cues: Cues) -> str:
    share = cues.count / cues.mask.size
    if cue_file is None or share <= MANY_CUES:
        return ""
    return f"{cue_file}: {100 * share:.0f} % of the pixels are cues; strokes rarely cover that much"


def _colorize_and_write(image: Path, gray: np.ndarray, cues: Cues, output: Path, args, global_hints=None) -> str:
    """Colorize, write the output atomically; returns the warnings raised, as one line."""
    # One long solve (bilaplacian-gtv's ADMM) on its own gets a bar of iterations, opened at the
    # first iteration (a refused option shows no empty bar before its error).
    bar = None

    def progress(info: dict) -> None:
        nonlocal bar
        if "tiles" in info:  # the tiles solver of a big scan: a bar of tiles
            if bar is None:
                bar = tqdm(desc="tiles", unit="tile", file=sys.stderr, total=info["tile_count"],
                           disable=not getattr(args, "iteration_bar", False))
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
            result = colorize(gray, cues, method=args.method, solver=args.solver, device=args.device,
                              space=args.space, gamut=args.gamut, tol=args.tol,
                              maxiter=args.maxiter, prior=args.prior, weights=args.weights,
                              mask_cent=args.mask_cent, prior_weight=args.prior_weight,
                              confidence=args.confidence, prior_mode=args.prior_mode, lam=args.lam, mu=args.mu,
                              gamma=args.gamma, sharpness=args.sharpness, admm_tol=args.admm_tol,
                              global_hints=global_hints, progress=progress, max_memory=args.max_memory,
                              decode=args.decode)
            if bar is not None:
                bar.total = bar.n  # converged: the bar ends full
        except InputError as exc:
            raise InputError(f"{image}: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
    write_image(output, result.rgb, bits=args.bits, overwrite=args.overwrite)
    return "; ".join(f"{image}: {w.message}" for w in caught if issubclass(w.category, UserWarning))


def _read_checked(image: Path, args) -> np.ndarray:
    """The image, after refusing from its header alone one that no solve here could hold."""
    shape = image_shape(image, max_pixels=args.max_pixels)
    try:
        check_fits(shape, method=args.method, solver=args.solver, device=args.device, max_memory=args.max_memory)
    except InputError as exc:
        raise InputError(f"{image}: {exc}") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gray = read_image(image, max_pixels=args.max_pixels)
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            _warn(str(warning.message))
    return gray


def _colorize_one(image: Path, kind: str | None, cue_file: Path | None, output: Path, args) -> str:
    gray = _read_checked(image, args)
    cues = Cues.empty(gray.shape[:2])
    if cue_file is not None:
        cues = _load_cues(image, kind, cue_file, gray, args)
        _check_cue_share(cue_file, kind, cues)
    notes = [_dense_cues_warning(cue_file, cues), _colorize_and_write(image, gray, cues, output, args)]
    return "; ".join(note for note in notes if note)


def _automatic(args) -> bool:
    """With the network, an image without cues is colorized automatically."""
    return bool(args.prior) or args.method == "ideepcolor"


def _colorize_job(image: Path, kind: str | None, cue_file: Path | None, output: Path, args) -> Job:
    skip = None if cue_file or _automatic(args) else (
        f"{image}: no cue file found (looked for {image.stem}_marked.png, _mask.png, .points.json)")
    return Job([image] + ([cue_file] if cue_file else []), [output],
               partial(_colorize_one, image, kind, cue_file, output, args), skip,
               memory=0 if skip else _solve_memory(image, args))


def _solve_memory(image: Path, args) -> int:
    """What colorizing ``image`` will need, from its header (0 where that cannot be told now, the
    job itself then reporting why, or where the run stays in this process: there the job checks its
    memory itself, and planning need not read every header twice)."""
    if not batch.on_dask(args.workers, args.scheduler):
        return 0
    try:
        return estimate_memory(image_shape(image), method=args.method, solver=args.solver, device=args.device,
                               max_memory=args.max_memory)
    except VarcolorError:
        return 0


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
            if not _is_file(cue_file):
                raise InputError(f"{cue_file}: no such file")
        elif kind is not None:  # a bare --marked/--mask/--points: the file beside the image
            cue_kind, cue_file = _find_cue(source, source.parent, [kind])
            if cue_file is None:
                raise InputError(f"{source}: --{kind} without a file, and no "
                                 f"{source.stem}{_CUE_SUFFIXES[kind][0]} beside it")
        else:  # a single file uses the cue file beside it only when asked to
            cue_kind, cue_file = None, None
            _, beside = _find_cue(source, source.parent, CUE_KINDS)
            if not _automatic(args):
                found = f" ({beside.name} is beside it: give --{_kind_of(beside)} to use it)" if beside else ""
                raise InputError(f"{source}: no cues given; use --marked, --mask or --points, or --prior ideepcolor"
                                 f"{found}")
            if beside is not None and not args.quiet:
                _note(f"{beside} is not used (give --{_kind_of(beside)} to colorize from it)")
        return [_colorize_job(source, cue_kind, cue_file, _single_output(source, args), args)]
    _check_folders(source, output)
    cue_folder = Path(given) if given not in (None, _FIND) else None
    if cue_folder is not None and not cue_folder.is_dir():
        raise InputError(f"{cue_folder}: with a folder input, --{kind} takes a folder of cue files (or no value)")
    jobs = []
    for rel in walk_images(source):
        if _is_cue_file(rel):
            continue
        image = source / rel
        folder = (cue_folder / rel.parent) if cue_folder else image.parent
        cue_kind, cue_file = _find_cue(image, folder, [kind] if kind else CUE_KINDS)
        jobs.append(_colorize_job(image, cue_kind, cue_file, (output / rel).with_suffix(args.ext), args))
    return jobs


def _kind_of(cue_file: Path) -> str:
    name = cue_file.name.lower()
    return next(kind for kind, suffixes in _CUE_SUFFIXES.items() if name.endswith(suffixes))


def _single_output(source: Path, args) -> Path:
    """-o for one input file: the file itself, or a file named after the input inside a folder."""
    output = Path(args.output)
    if output.is_dir() or args.output.endswith(("/", "\\")):
        return output / f"{source.stem}{args.ext}"
    return output


def _check_folders(source: Path, output: Path) -> None:
    if not source.is_dir():
        raise InputError(f"{source}: no such file or folder")
    if output.is_file():
        raise InputError(f"{output}: is a file; a folder input needs an output folder")


def _check_ext(ext: str) -> None:
    if ext not in (".png", ".jpg", ".jpeg", ".tif", ".tiff"):
        raise InputError(f"--ext must be .png, .jpg, .jpeg, .tif or .tiff, not {ext}")


def _check_outputs(jobs: list[Job], bits: int) -> None:
    """Refuse, before any work, an output format or place that could never be written: checked
    once per folder and extension (every job of a folder run shares them)."""
    seen = set()
    for job in jobs:
        for output in job.outputs:
            suffix = output.suffix.lower()
            key = (output.parent, suffix)
            if key not in seen:
                seen.add(key)
                check_writable(output, bits=8 if suffix in (".jpg", ".jpeg") else bits, image=suffix != ".vcir")


def _cmd_colorize(args) -> int:
    _check_ext(args.ext)
    single = Path(args.input).is_file()
    # Long single solves show a bar: ADMM's iterations, or the tiles of a big scan (levin).
    args.iteration_bar = single and args.method in ("bilaplacian-gtv", "levin") and not args.quiet
    jobs = _plan_colorize(args)
    _check_outputs(jobs, args.bits)
    return _run(jobs, "colorized", args, single)


def _run(jobs: list[Job], verb: str, args, single: bool, protected=()) -> int:
    return _finish(_run_report(jobs, verb, args, single, protected), verb, args.quiet)


def _run_report(jobs: list[Job], verb: str, args, single: bool, protected=()) -> batch.Report:
    if not jobs:
        raise InputError(f"{args.input}: no images found")
    report = batch.run(jobs, verb=verb, overwrite=args.overwrite, workers=args.workers, quiet=args.quiet,
                       single=single, protected=protected, warn=_warn, scheduler=args.scheduler,
                       manifest=None if single else Path(args.output) / batch.MANIFEST, resume=args.resume)
    return report


def _finish(report: batch.Report, verb: str, quiet: bool) -> int:
    """Print what a run did; its exit code."""
    with batch.sigint_ignored():  # a second Ctrl-C must not cut the report short with a traceback
        return _print_report(report, verb, quiet)


def _print_report(report: batch.Report, verb: str, quiet: bool) -> int:
    if not quiet:
        for line in report.skipped:
            print(f"varcolor: skipped: {line}", file=sys.stderr)
    if report.interrupted:
        _error(f"interrupted: {verb} {len(report.done)} of {report.total}; outputs written so far are complete "
               "(rerun without --overwrite to do the rest)")
    elif not quiet:
        print(f"varcolor: {verb} {len(report.done)}, skipped {len(report.skipped)}, failed {len(report.failed)}",
              file=sys.stderr)
    for line in report.failed:
        _error(line)
    return report.exit_code


def _note(message: str) -> None:
    print(f"varcolor: note: {message}", file=sys.stderr)


# ---------------------------------------------------------------- metrics

def _pairs(results: Path, references: Path) -> tuple[list[tuple[str, Path, Path]], list[str]]:
    if results.is_file():
        if not references.is_file():
            raise InputError(f"{references}: with a result file, -r must be a reference file")
        return [(results.name, results, references)], []
    if not results.is_dir():
        raise InputError(f"{results}: no such file or folder")
    if not references.is_dir():
        raise InputError(f"{references}: no such folder")
    by_key = {}
    for rel in walk_images(references):
        by_key.setdefault(rel.with_suffix("").as_posix(), rel)
    pairs, missing = [], []
    for rel in walk_images(results):
        key = rel.with_suffix("").as_posix()
        if key in by_key:
            pairs.append((rel.as_posix(), results / rel, references / by_key[key]))
        else:
            missing.append(f"{results / rel}: no reference {key}.* under {references}")
    return pairs, missing


def _format_table(rows: list[dict], fmt: str) -> str:
    columns = ["image", *METRICS, *(["lpips"] if rows and "lpips" in rows[0] else [])]
    if fmt == "json":
        return _json(rows)
    cell = lambda v: v if isinstance(v, str) else ("n/a" if math.isnan(v) else f"{v:.4f}")  # noqa: E731
    if fmt == "csv":
        return _csv(rows, columns, cell)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _json(data) -> str:
    """Strict JSON, which has no NaN or Infinity: a missing score (NaN) or identical images (PSNR
    inf) become null."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return None if isinstance(value, float) and not math.isfinite(value) else value
    return json.dumps(clean(data), indent=2) + "\n"


def _csv(rows: list[dict], columns: list[str], cell: Callable = str) -> str:
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[cell(row[c]) for c in columns] for row in rows])
    return buffer.getvalue()


def _lpips_network(args):
    """The LPIPS network for ``--lpips`` (weights checked now, before any image is read), or None."""
    lpips, folder = getattr(args, "lpips", False), getattr(args, "lpips_weights", None)
    if folder is not None and not lpips:
        raise InputError("--lpips-weights: given without --lpips")
    if not lpips:
        return None
    try:
        from .neural.lpips import load
    except ImportError:
        raise InputError("--lpips needs PyTorch: pip install 'varcolor[neural]'") from None
    return load(folder)


def _score_pair(result_path: Path, reference_path: Path, ab_only: bool, max_pixels: int | None, network) -> dict:
    """One result's scores against its reference (a task of ``varcolor metrics``)."""
    try:
        return score(read_image(result_path, max_pixels=max_pixels), read_image(reference_path, max_pixels=max_pixels),
                     ab_only=ab_only, lpips_net=network)
    except VarcolorError as exc:
        raise InputError(f"{result_path}: {exc}") from None


def _cmd_metrics(args) -> int:
    pairs, failures = _pairs(Path(args.input), Path(args.reference))
    if not pairs and not failures:
        raise InputError(f"{args.input}: no images found")
    single = Path(args.input).is_file()
    inputs = (args.input, args.reference, *(path for _, result, reference in pairs for path in (result, reference)))
    _check_table_output(args.output, args.overwrite, inputs)  # before the work, not after it
    network = _lpips_network(args)
    jobs = [Job([result_path, reference_path], [], partial(_score_pair, result_path, reference_path, args.ab,
                                                           args.max_pixels, network))
            for _, result_path, reference_path in pairs]
    names = {id(job): name for job, (name, _, _) in zip(jobs, pairs)}
    scored = {}
    bar = tqdm(total=len(jobs), desc="metrics", unit="img", file=sys.stderr, disable=args.quiet or single or None)
    for job, outcome, _ in batch.outcomes(jobs, args.workers, scheduler=args.scheduler):
        bar.update()
        if isinstance(outcome, VarcolorError):
            if single:
                raise InputError(str(outcome)) from None
            failures.append(str(outcome))
        else:
            scored[names[id(job)]] = outcome
    bar.close()
    rows = [{"image": name, **scored[name]} for name, _, _ in pairs if name in scored]  # in the pairs' order
    if rows:
        mean = {k: float(np.nanmean([r[k] for r in rows])) if not all(math.isnan(r[k]) for r in rows)
                else float("nan") for k in rows[0] if k != "image"}
        rows.append({"image": f"mean ({len(rows)})", **mean})
    _write_table(_format_table(rows, args.format), args.output, args.overwrite, inputs)
    for line in failures:
        _error(line)
    return 1 if failures else 0


def _check_table_output(output: str | None, overwrite: bool, inputs: tuple[str, ...]) -> None:
    if output is None:
        return
    out = Path(output)
    if out.resolve() in {Path(path).resolve() for path in inputs}:
        raise InputError(f"{out}: refusing to overwrite an input")
    if out.exists() and not overwrite:
        raise InputError(f"{out}: exists; kept (use --overwrite to replace it)")


def _write_table(table: str, output: str | None, overwrite: bool, inputs: tuple[str, ...]) -> None:
    """The table to ``output`` (atomically; never over an input, nor over a file unless ``overwrite``)
    or to stdout."""
    if output is None:
        sys.stdout.write(table)
        return
    _check_table_output(output, overwrite, inputs)
    with atomic_path(output, overwrite=overwrite) as tmp:  # a file that appeared meanwhile is kept
        tmp.write_text(table, encoding="utf-8")


# ---------------------------------------------------------------- bench

def _bench_one(task: tuple) -> list[dict] | VarcolorError:
    """One image's rows (in a worker process, or this one), or its user-facing error."""
    path, name, index, resolution, methods, hints, seed, options, alone = task
    if not alone:  # one image per process already keeps a core busy: no threads that would contend
        import numba

        numba.set_num_threads(1)
        if any("ideepcolor" in method for method in methods):
            import torch

            torch.set_num_threads(1)
    try:
        rows = bench.evaluate(read_image(path), methods, hints, resolution, index, seed, **options)
    except VarcolorError as exc:
        return exc if str(path) in str(exc) else InputError(f"{path}: {exc}")
    return [{"image": name, **row} for row in rows]


def _integers(text: str, what: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"{what} must be comma-separated whole numbers, got {text!r}") from None
    if any(value < 0 for value in values):
        raise InputError(f"{what} must be >= 0, got {text!r}")
    return values


def _cmd_bench(args) -> int:
    methods = bench.check_methods([m for m in args.methods.split(",") if m])
    hints = _integers(args.hints, "--hints")
    resolution = bench.parse_resolution(args.resolution)
    gtv = [method for method in methods if method.startswith("bilaplacian-gtv")]
    for option, value in (("--lam", args.lam), ("--sharpness", args.sharpness)):
        if value is not None and not gtv:
            raise InputError(f"{option}: an option of bilaplacian-gtv, which is not among --methods")
    for method in methods:
        name, _, prior = method.partition("+")
        ours = method in gtv
        check_options(method=name, prior=prior or None, prior_weight=args.prior_weight, prior_mode=args.prior_mode,
                      sharpness=args.sharpness if ours else None, lam=args.lam if ours else None)
    if args.weights is not None and not Path(args.weights).is_file():
        raise InputError(f"{args.weights}: no such weights file")
    if args.limit < 0:
        raise InputError(f"--limit must be >= 0, got {args.limit}")
    source = Path(args.input)
    if source.is_file():
        paths = [(source, source.name)]
    elif source.is_dir():
        paths = [(source / rel, rel.as_posix()) for rel in walk_images(source)]
    else:
        raise InputError(f"{source}: no such file or folder")
    if args.limit:
        paths = paths[:args.limit]
    if not paths:
        raise InputError(f"{source}: no images found")
    inputs = (args.input, *(path for path, _ in paths))
    _check_table_output(args.output, args.overwrite, inputs)
    options = dict(weights=args.weights, prior_weight=args.prior_weight, prior_mode=args.prior_mode,
                   sharpness=args.sharpness, lam=args.lam)
    alone = args.workers == 1 or len(paths) == 1
    tasks = [(path, name, index, resolution, methods, hints, args.seed, options, alone)
             for index, (path, name) in enumerate(paths)]
    rows, failures = [], []
    bar = tqdm(total=len(tasks), desc="bench", unit="img", disable=args.quiet or None, file=sys.stderr)
    jobs = [Job([task[0]], [], partial(_bench_one, task)) for task in tasks]
    for _, outcome, _ in batch.outcomes(jobs, 1 if alone else args.workers, scheduler=args.scheduler):
        bar.update()
        if isinstance(outcome, VarcolorError):
            failures.append(str(outcome))
        else:
            rows += outcome
    bar.close()
    if not rows:
        for line in failures[:-1]:
            _error(line)
        raise InputError(failures[-1] if len(failures) == 1 else f"{source}: no image could be scored")
    summary = bench.summarize(rows, [resolution], methods, hints)
    scored = len(tasks) - len(failures)
    if args.format == "md":
        table = bench.markdown(summary, [resolution], methods, hints, f"{source.name} ({scored} images)")
    else:
        means = [{"method": key.split("/")[1], "hints": int(key.split("/")[2]), "resolution": resolution, **value}
                 for key, value in summary.items()]
        table = _json({"summary": means, "rows": rows}) if args.format == "json" \
            else _csv(means, ["method", "hints", "resolution", *bench.SCORES, "seconds", "images"])
    _write_table(table, args.output, args.overwrite, inputs)
    for line in failures:
        _error(line)
    return 1 if failures else 0



# ---------------------------------------------------------------- encode / decode

_PLOT_SUFFIX = ".cues.png"
#: Peak memory of encoding, per pixel of the colour image, by cue method (measured on a 7.1 MP
#: photo: grid 1.52 GB; adaptive, whose preview decodes solve at full resolution, 7.0 GB).
ENCODE_BYTES_PER_PIXEL = {"adaptive": 1000}
ENCODE_BYTES_PER_PIXEL_OTHERWISE = 220


def _encode_one(source: Path, gray_path: Path, sidecar: Path | None, plot: Path | None, args) -> str:
    from .ir.decode import payload_cues
    from .ir.encode import encode
    from .ir.format import embed_png, write_payload

    shape = image_shape(source, max_pixels=args.max_pixels)
    per_pixel = ENCODE_BYTES_PER_PIXEL.get(args.method, ENCODE_BYTES_PER_PIXEL_OTHERWISE)
    check_memory(shape[0] * shape[1] * per_pixel, f"{source}: encoding ({args.method}) a {shape[1]}×{shape[0]} image",
                 getattr(args, "max_memory", None))
    rgb = read_image(source, max_pixels=args.max_pixels)
    if rgb.ndim == 2:
        raise InputError(f"{source}: the image is gray; encoding needs a colour image")
    gray = same_lightness_gray(rgb[..., :3]) if args.gray == "lightness" else luma601(rgb[..., :3])
    top = 2.0**args.bits - 1  # the decoder sees the stored samples: refine the cues against those
    try:
        payload = encode(rgb[..., :3], method=args.method, grid_size=args.grid_size, spacing=args.spacing,
                         patch=args.patch, segments=args.segments, quantize=args.quantize, budget=args.budget,
                         target_psnr=args.target_psnr, refine=args.refine, gray=np.round(gray * top) / top)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    data = write_payload(payload)
    png = encode_image(gray, ".png", bits=args.bits)
    # One unit, published marker-last: the gray PNG appears only once its payload is in place.
    unit = [(gray_path, embed_png(png, data))] if sidecar is None else [(sidecar, data), (gray_path, png)]
    if plot is not None:  # cues drawn at least 7 px wide, so single-pixel cues are visible
        visible = dataclasses.replace(payload, patch=max(payload.patch, 3))
        unit.insert(0, (plot, encode_image(payload_cues(visible).overlay(gray), ".png")))
    publish(unit, overwrite=args.overwrite)
    return ""


def _ir_complete(gray_path: Path) -> bool:
    """A published IR: its gray PNG with the payload beside it (``.vcir``) or inside it."""
    return _is_file(gray_path) and (_is_file(gray_path.with_suffix(".vcir")) or _has_chunk(gray_path))


def _encode_jobs(args, settled_before: float | None = None) -> list[Job]:
    """Encode jobs for every image under ``args.input`` (only files unchanged since
    ``settled_before``, when given: a file still being copied is left for later)."""
    source, output = Path(args.input), Path(args.output)
    if source.is_file():
        items = [(source, output / f"{source.stem}.png")]
    else:
        _check_folders(source, output)
        items = [(source / rel, (output / rel).with_suffix(".png")) for rel in walk_images(source)
                 if not rel.name.endswith(_PLOT_SUFFIX)]
    jobs = []
    for image, gray_path in items:
        if settled_before is not None and image.stat().st_mtime > settled_before:
            continue
        sidecar = None if args.embed else gray_path.with_suffix(".vcir")
        plot = gray_path.with_name(gray_path.stem + _PLOT_SUFFIX) if args.plot else None
        outputs = [p for p in (plot, sidecar) if p is not None] + [gray_path]  # the gray PNG marks the unit
        fail = None
        if not args.overwrite and _is_file(gray_path) and not _ir_complete(gray_path):
            fail = (f"{gray_path}: exists but is not a complete IR (no payload beside or inside it; an interrupted "
                    "run?); kept: use --overwrite to replace it")
        memory = 0
        if batch.on_dask(args.workers, args.scheduler):
            try:
                shape = image_shape(image)
                memory = shape[0] * shape[1] * ENCODE_BYTES_PER_PIXEL.get(args.method,
                                                                          ENCODE_BYTES_PER_PIXEL_OTHERWISE)
            except VarcolorError:
                pass
        jobs.append(Job([image], outputs, partial(_encode_one, image, gray_path, sidecar, plot, args), fail=fail,
                        memory=memory))
    return jobs


def _cmd_encode(args) -> int:
    if args.watch:
        return _watch_encode(args)
    jobs = _encode_jobs(args)
    _check_outputs(jobs, args.bits)
    return _run(jobs, "encoded", args, single=Path(args.input).is_file())


def _watch_encode(args) -> int:
    """Encode what is there, then every new image that appears, until interrupted (Ctrl-C)."""
    source = Path(args.input)
    if not source.is_dir():
        raise InputError(f"{source}: --watch needs a folder")
    # A shell that starts a job in the background makes it ignore SIGINT; the promise is Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"varcolor: watching {source} (Ctrl-C to stop)", file=sys.stderr)
    failed: set[Path] = set()
    done = 0
    try:
        while True:
            jobs = [job for job in _encode_jobs(args, settled_before=time.time() - 1.0)
                    if job.inputs[0] not in failed and not os.path.lexists(job.outputs[-1])]
            ready, _, refused = batch.check(jobs, overwrite=args.overwrite)
            for line in refused:
                _error(line)
            failed.update(job.inputs[0] for job in jobs if job not in ready)
            for job in ready:
                outcome, _ = batch._attempt(job.run)
                if isinstance(outcome, VarcolorError):  # reported once, not retried until it changes
                    failed.add(job.inputs[0])
                    _error(str(outcome))
                else:
                    done += 1
                    if not args.quiet:
                        print(f"varcolor: encoded {job.inputs[0]}", file=sys.stderr)
            time.sleep(args.watch_interval)
    except KeyboardInterrupt:
        print(f"varcolor: stopped watching ({done} encoded)", file=sys.stderr)
        return 0


def _read_ir(gray_path: Path):
    """The payload of an IR gray image: its ``.vcir`` sidecar, else its embedded chunk."""
    from .ir.format import extract_png, read_payload

    sidecar = gray_path.with_suffix(".vcir")
    if _is_file(sidecar):
        data, source = sidecar.read_bytes(), str(sidecar)
    else:
        try:
            data = extract_png(gray_path.read_bytes()) if gray_path.suffix.lower() == ".png" else None
        except VarcolorError as exc:
            raise InputError(f"{gray_path}: cannot read its embedded payload ({exc})") from None
        except OSError as exc:
            raise InputError(f"{gray_path}: cannot read ({exc.strerror or exc})") from None
        if data is None:
            raise InputError(f"{gray_path}: no IR (no {sidecar.name} beside it, no payload inside it)")
        source = f"{gray_path} (embedded payload)"
    try:
        return read_payload(data)
    except VarcolorError as exc:
        raise InputError(f"{source}: {exc}") from None


def _decode_one(gray_path: Path, output: Path, args) -> str:
    from .ir.decode import payload_cues

    payload = _read_ir(gray_path)
    gray = _read_checked(gray_path, args)
    try:
        cues = payload_cues(payload, gray.shape[:2])
    except VarcolorError as exc:
        raise InputError(f"{gray_path}: {exc}") from None
    return _colorize_and_write(gray_path, gray, cues, output, args, payload.global_hints())


def _decode_jobs(args) -> list[Job]:
    source, output = Path(args.input), Path(args.output)
    if source.is_file():
        items = [(source, _single_output(source, args))]
    else:
        _check_folders(source, output)
        items = [(source / rel, (output / rel).with_suffix(args.ext)) for rel in walk_images(source)
                 if not rel.name.endswith(_PLOT_SUFFIX)]
    jobs = []
    for gray_path, out in items:
        sidecar = gray_path.with_suffix(".vcir")
        # A PNG without its payload is no IR (or one whose encoding was interrupted): a failure,
        # not a silent skip; decoding it says which.
        jobs.append(Job([gray_path, sidecar], [out], partial(_decode_one, gray_path, out, args),
                        memory=_solve_memory(gray_path, args)))
    return jobs


def _cmd_decode(args) -> int:
    _check_ext(args.ext)
    jobs = _decode_jobs(args)
    _check_outputs(jobs, args.bits)
    return _run(jobs, "decoded", args, single=Path(args.input).is_file())


def _has_chunk(path: Path) -> bool:
    from .ir.format import extract_png

    if path.suffix.lower() != ".png":
        return False
    try:
        return extract_png(path.read_bytes()) is not None
    except (VarcolorError, OSError):
        return False


def _cmd_recolor(args) -> int:
    """encode + decode + metrics in one go (automatic-recolorization's recolor.py)."""
    source, output = Path(args.input), Path(args.output)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    photos = [source] if source.is_file() else [source / rel for rel in walk_images(source)]
    temporary = None if args.ir else tempfile.mkdtemp(prefix="varcolor-ir-")
    ir_dir = Path(args.ir or temporary)
    try:
        with batch.shared_client(args.workers, args.scheduler):  # one cluster for all three steps
            return _recolor_steps(args, source, output, photos, ir_dir)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


def _recolor_steps(args, source: Path, output: Path, photos: list[Path], ir_dir: Path) -> int:
    encoding = argparse.Namespace(**{**vars(args), "method": args.encoder, "output": str(ir_dir)})
    encode_jobs = _encode_jobs(encoding)
    ir_input = ir_dir / f"{source.stem}.png" if source.is_file() else ir_dir
    decoding = argparse.Namespace(**{**vars(args), "input": str(ir_input), "ext": ".png"})
    _check_outputs(encode_jobs, args.bits)
    encoded = _run_report(encode_jobs, "encoded", encoding, source.is_file(), protected=photos)
    codes = [_finish(encoded, "encoded", args.quiet)]
    if encoded.interrupted:
        return codes[0]
    decode_jobs = _decode_jobs(decoding) if ir_input.exists() else []
    # Decode only the IRs of this run's photos (never a photo itself, where --ir is the photos'
    # folder), and write over none of the photos.
    photo_files = {batch.identity(photo) for photo in photos}
    ours = {job.outputs[-1] for job in encode_jobs if batch.identity(job.outputs[-1]) not in photo_files}
    decode_jobs = [job for job in decode_jobs if job.inputs[0] in ours]
    decoded = None
    if decode_jobs:
        _check_outputs(decode_jobs, args.bits)
        decoded = _run_report(decode_jobs, "decoded", decoding, source.is_file(), protected=photos)
        codes.append(_finish(decoded, "decoded", args.quiet))
        if decoded.interrupted:
            return codes[-1]
    scoring = argparse.Namespace(input=str(output), reference=str(source), ab=False, format="md",
                                 output=None, overwrite=False, quiet=args.quiet, max_pixels=args.max_pixels,
                                 workers=args.workers, scheduler=args.scheduler)
    if output.exists():
        codes.append(_cmd_metrics(scoring))
    if args.delete_gray and decoded is not None:
        _delete_decoded_grays(encoded, decoded, photos, args.quiet)
    return max(codes)


def _delete_decoded_grays(encoded: batch.Report, decoded: batch.Report, photos: list[Path], quiet: bool) -> None:
    """Delete the IR gray images that this run encoded itself and then decoded itself, and no
    other file: never an input of the run, never a gray that an earlier run left."""
    ours = {job.outputs[-1] for job in encoded.done}  # written by this run, so none of them is a photo
    inputs = {batch.identity(photo) for photo in photos}
    deleted = 0
    for job in decoded.done:
        gray_path = job.inputs[0]
        if gray_path in ours and batch.identity(gray_path) not in inputs and _is_file(gray_path):
            gray_path.unlink()
            deleted += 1
    if not quiet:
        print(f"varcolor: deleted {deleted} IR gray image(s) written and decoded by this run", file=sys.stderr)


# ---------------------------------------------------------------- parser

def _gigabytes(text: str) -> float:
    """``--max-memory``'s value, GB, in bytes."""
    value = float(text)
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number of GB, got {text!r}")
    return value * 1e9


def _add_solve_options(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that colorizes."""
    p.set_defaults(colorizes=True)
    p.add_argument("--method", default="levin", choices=METHODS,
                   help="levin, levin-symmetric or bilaplacian-gtv (energies), ideepcolor (the network alone) "
                        "(default: %(default)s)")
    p.add_argument("--lam", type=float, help="bilaplacian-gtv: bilaplacian weight (default 1e-3)")
    p.add_argument("--mu", type=float, help="bilaplacian-gtv: total-variation weight (default 1)")
    p.add_argument("--gamma", type=float, help="bilaplacian-gtv: cue weight; inf = hard cues (default inf)")
    p.add_argument("--sharpness", type=float, help="bilaplacian-gtv: how sharply edge weights fall at luminance "
                                                   "edges (default 8; 4 scores higher with dense scribbles)")
    p.add_argument("--admm-tol", type=float, help="bilaplacian-gtv: relative residual at which ADMM stops "
                                                  "(default 1e-3; 1e-2 is a preview about 2x sooner)")
    p.add_argument("--solver", default="auto", choices=["auto", *SOLVERS],
                   help="linear solver: direct (sparse LU), tiles (levin on overlapping tiles held at a "
                        "half-resolution solve: big scans, linear memory), amg (AIR multigrid + GMRES), multigrid "
                        "(CG + grid multigrid, CPU), cg (CG + Ruge-Stueben multigrid, CPU or GPU); multigrid "
                        "and cg for levin-symmetric only; auto: multigrid (cg on a GPU) for levin-symmetric, "
                        "else direct under 12 MP where it fits in --max-memory, tiles from there (default: %(default)s)")
    p.add_argument("--max-memory", type=_gigabytes, metavar="GB",
                   help="memory budget of a solve in GB; solvers estimated to need more are refused and auto "
                        "picks one within it (default: 80%% of the memory available)")
    p.add_argument("--device", default="cpu", choices=DEVICES, help="where iterative solvers run (default: %(default)s)")
    p.add_argument("--tol", type=float, default=TOL, help="relative residual of iterative solvers (default: %(default)s)")
    p.add_argument("--maxiter", type=int, default=300, help="iteration limit of iterative solvers (default: %(default)s)")
    p.add_argument("--gamut", default="chroma", choices=["chroma", "clip"],
                   help="out-of-gamut colours: shrink chroma (keeps lightness) or clip RGB (default: %(default)s)")
    p.add_argument("--bits", type=int, default=8, choices=[8, 16], help="bits per sample of the output")
    p.add_argument("--prior", choices=PRIORS, help="add the ideepcolor network's prediction as a prior term")
    p.add_argument("--weights", metavar="PATH", help="network weights (.safetensors or .pth; default: the compact model in models/)")
    p.add_argument("--mask-cent", type=float, help="hint-mask encoding of unknown checkpoints (0 or 0.5)")
    p.add_argument("--prior-weight", type=float, default=PRIOR_WEIGHT, help="β of the prior term (default: %(default)s)")
    p.add_argument("--confidence", default="uniform", choices=CONFIDENCES,
                   help="prior confidence: uniform, or from the class head's entropy (default: %(default)s)")
    p.add_argument("--decode", choices=("regression", "annealed"),
                   help="the network's colours: regression output, or rebalanced annealed mean (default: annealed without cues, regression with)")
    p.add_argument("--prior-mode", default="spread", choices=PRIOR_MODES,
                   help="levin: the guess anchors u (anchor), the cues' corrections to it spread (residual), or to the network's automatic colours (spread) (default: %(default)s)")


def _cmd_train(args) -> int:
    try:
        from .neural.train import TrainingConfig, export, train
    except ImportError:
        raise InputError("training needs PyTorch: pip install 'varcolor[neural]'") from None
    for name in ("steps", "batch", "crop"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.crop % 8:
        raise InputError(f"--crop must be a multiple of 8, got {args.crop}")
    config = TrainingConfig(data=args.data, validation=args.validation, width=args.width, crop=args.crop,
                            batch=args.batch, steps=args.steps, lr=args.lr, class_weight=args.class_weight,
                            seed=args.seed, threads=args.threads, global_hints=args.global_hints,
                            init=args.init, device=args.device, rebalance=args.rebalance,
                            train_only="class" if args.class_head_only else None)
    if args.init and not Path(args.init).is_file():
        raise InputError(f"{args.init}: no such weights file")
    output = Path(args.output)
    checkpoint = output / "checkpoint.pt"
    if checkpoint.exists() and not args.resume:
        raise InputError(f"{checkpoint} exists: give --resume to continue that run, or another -o")
    start = time.perf_counter()
    train(config, checkpoint, progress=not args.quiet, stop_at=args.stop_at)
    weights = export(checkpoint, output / "model.safetensors", half=not args.float32,
                     hours=f"{(time.perf_counter() - start) / 3600:.2f}")
    if not args.quiet:
        print(f"wrote {checkpoint} and {weights} (use with --prior ideepcolor --weights {weights})")
    return 0


def _add_encode_options(p: argparse.ArgumentParser) -> None:
    """Options of the encoder (encode, recolor)."""
    p.set_defaults(encodes=True)
    p.add_argument("-s", "--grid-size", type=int, default=None,
                   help="cue grid cells per side (default: 256; for adaptive 64 at 256 B, growing with the budget)")
    p.add_argument("-g", "--spacing", type=int, default=16, help="grid spacing in cells (default: %(default)s)")
    p.add_argument("-p", "--patch", type=int, default=None, help="patch radius in pixels (default: 0; for adaptive up to 3, by cell size)")
    p.add_argument("--budget", type=int, default=1024, help="adaptive: payload bytes at most (default: %(default)s)")
    p.add_argument("--target-psnr", type=float, help="adaptive: stop once the decoded preview reaches this PSNR (dB)")
    p.add_argument("--refine", type=int, default=3, metavar="N",
                   help="adaptive: CGLS iterations fitting the cue values to the whole image at full resolution "
                        "(0: patch means; default: %(default)s)")
    p.add_argument("--segments", type=int, default=200, help="superpixels for selective methods (default: %(default)s)")
    p.add_argument("--quantize", type=int, metavar="K",
                   help="store chroma as a K-colour palette (k-means); 0: no palette (default: none; for adaptive "
                        "32 colours at budgets up to 2 KB)")
    p.add_argument("--gray", default="lightness", choices=["lightness", "luma601"],
                   help="gray image: same CIE lightness (default) or Rec.601 luma")
    p.add_argument("--embed", action="store_true", help="put the payload inside the gray PNG (no .vcir file)")
    p.add_argument("--plot", action="store_true", help="also write NAME.cues.png: the cues drawn over the gray image")


def _add_output_options(p: argparse.ArgumentParser, ext: bool) -> None:
    """Options of every command that writes images."""
    if ext:
        p.add_argument("--ext", default=".png", help="output extension in folder mode (default: %(default)s)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (inputs are never replaced)")
    _add_cluster_options(p, "images")
    p.add_argument("--resume", action="store_true",
                   help=f"skip the images that this folder's manifest ({batch.MANIFEST}) records as done")
    _add_max_pixels(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


def _add_cluster_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help=f"{what} processed in parallel by N local worker processes (a Dask LocalCluster; default: 1, "
                        "in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help=f"run on an existing Dask cluster, e.g. tcp://host:8786 (default: ${batch.SCHEDULER_VARIABLE} "
                        "if set); every worker must see the input and output paths")


def _add_max_pixels(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS, metavar="N",
                   help="refuse images of more pixels than this, from their header, before reading them "
                        "(0: no limit; default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="varcolor",
        description="Colorize grayscale images from a few colour cues by variational optimisation.")
    parser.add_argument("--version", action="version", version=f"varcolor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser(
        "colorize", help="gray image + cues -> colour image",
        description="Colorize a gray image (or every image in a folder, recursively) from colour cues. "
                    "In a folder, cue files are found by name: X.png pairs with X_marked.png, X_mask.png "
                    "or X.points.json/.csv.")
    p.add_argument("input", metavar="INPUT", help="gray image file, or a folder of them")
    cue = p.add_mutually_exclusive_group()
    cue.add_argument("--marked", nargs="?", const=_FIND, metavar="M",
                     help="scribbled copy of the gray image (Levin's convention); for a folder: a folder of them, "
                          "or no value to look for X_marked.png")
    cue.add_argument("--mask", nargs="?", const=_FIND, metavar="M",
                     help="colour strokes on black/transparent; for a folder as with --marked (X_mask.png)")
    cue.add_argument("--points", nargs="?", const=_FIND, metavar="P",
                     help="JSON/CSV of y,x,a,b[,radius] or y,x,r,g,b[,radius] (r,g,b 0-255); "
                          "for a folder as with --marked (X.points.json)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file (or folder, for a folder input)")
    p.add_argument("--space", default="lab", choices=SPACES,
                   help="chroma propagated: Lab a,b or Levin's YIQ I,Q (default: %(default)s)")
    _add_solve_options(p)
    _add_output_options(p, ext=True)
    p.set_defaults(func=_cmd_colorize)

    e = commands.add_parser(
        "encode", help="colour image -> gray PNG + a few hundred bytes of cues (.vcir)",
        description="Encode colour images (a file or a folder, recursively) as their same-lightness gray PNG "
                    "plus a .vcir cue payload (docs/vcir.md), or one PNG with the payload embedded (--embed).")
    e.add_argument("-i", "--input", required=True, metavar="IN", help="colour image or folder")
    e.add_argument("-o", "--output", required=True, metavar="IR_DIR", help="output folder")
    e.add_argument("-m", "--method", default="grid", choices=ENCODERS, help="cue selection (default: %(default)s)")
    _add_encode_options(e)
    e.add_argument("--bits", type=int, default=8, choices=[8, 16], help="bits per sample of the gray PNG")
    e.add_argument("--watch", action="store_true", help="keep encoding new images that appear in IN until Ctrl-C")
    e.add_argument("--watch-interval", type=float, default=2.0, metavar="S", help="seconds between looks (default: 2)")
    _add_output_options(e, ext=False)
    e.set_defaults(func=_cmd_encode)

    d = commands.add_parser(
        "decode", help="gray PNG + .vcir (or embedded payload) -> colour image",
        description="Decode IRs (a gray PNG with NAME.vcir beside it or its payload embedded; a file or a "
                    "folder, recursively) back to colour with a varcolor solver.")
    d.add_argument("-i", "--input", required=True, metavar="IR_DIR", help="IR gray image or folder")
    d.add_argument("-o", "--output", required=True, metavar="OUT", help="output file or folder")
    _add_solve_options(d)
    _add_output_options(d, ext=True)
    d.set_defaults(func=_cmd_decode, space="lab")

    r = commands.add_parser(
        "recolor", help="encode + decode + metrics in one go",
        description="Encode colour images to IRs, decode them back with a varcolor solver and score the "
                    "results against the originals (a file or a folder, recursively).")
    r.add_argument("-i", "--input", required=True, metavar="IN", help="colour image or folder")
    r.add_argument("-o", "--output", required=True, metavar="OUT", help="decoded image (file input) or folder")
    r.add_argument("--ir", metavar="IR_DIR", help="keep the IRs here (default: a temporary folder)")
    r.add_argument("--delete-gray", action="store_true",
                   help="delete each IR gray image once its decoded output is written")
    r.add_argument("-m", "--encoder", default="adaptive", choices=ENCODERS, help="cue selection (default: %(default)s)")
    _add_encode_options(r)
    _add_solve_options(r)
    _add_output_options(r, ext=False)
    r.set_defaults(func=_cmd_recolor, space="lab", watch=False)

    t = commands.add_parser(
        "train", help="train the neural prior on folders of colour photos",
        description="Train a SIGGRAPH17-shaped colorization network (the prior of --prior ideepcolor) on "
                    "folders of colour photos, as the paper did: random crops and flips, random hints, "
                    "smooth-L1 on ab plus the 529-bin class loss. Writes OUT/checkpoint.pt every 100 steps "
                    "(resume with --resume) and OUT/model.safetensors at the end.")
    t.add_argument("data", nargs="+", metavar="FOLDER", help="folders of colour photos (recursive)")
    t.add_argument("-o", "--output", required=True, metavar="OUT", help="run folder")
    t.add_argument("--validation", metavar="FOLDER", help="photos scored (PSNR, 10 hints, 256²) during training")
    t.add_argument("--width", type=float, default=0.25, help="channel multiplier; 1 is the official size (default: %(default)s)")
    t.add_argument("--steps", type=int, default=4000, help="optimizer steps (default: %(default)s)")
    t.add_argument("--batch", type=int, default=16, help="crops per step (default: %(default)s)")
    t.add_argument("--crop", type=int, default=128, help="crop side in pixels, a multiple of 8 (default: %(default)s)")
    t.add_argument("--lr", type=float, default=1e-3, help="peak learning rate, cosine decay (default: %(default)s)")
    t.add_argument("--class-weight", type=float, default=1.0, help="weight of the class loss; 0 turns it off (default: %(default)s)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: all)")
    t.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="where the network trains; cuda needs a CUDA build of PyTorch (default: %(default)s)")
    t.add_argument("--global-hints", action="store_true",
                   help="add the global-hints branch (ab histogram + saturation, the `global` IR method's hints)")
    t.add_argument("--init", metavar="WEIGHTS", help="start from this model's weights (same width; a missing "
                                                     "global-hints branch starts fresh)")
    t.add_argument("--rebalance", type=float, metavar="LAMBDA", help="class-rebalanced cross-entropy (Zhang et al. 2016), uniform mix λ (e.g. 0.5)")
    t.add_argument("--class-head-only", action="store_true", help="train only the class head; the rest stays frozen (use with --init)")
    t.add_argument("--resume", action="store_true", help="continue the run in OUT")
    t.add_argument("--stop-at", type=int, metavar="STEP", help="stop after this step (checkpointed), to train in slices")
    t.add_argument("--float32", action="store_true", help="export float32 weights (default: float16)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=_cmd_train)

    b = commands.add_parser(
        "bench", help="score methods against the number of hints on colour photos",
        description="Score colorization methods on colour photos (a file or a folder, recursively) with the "
                    "ideepcolor evaluation protocol: for each hint count, hints are 6x6 patches of the photo's "
                    "mean chroma placed as in Zhang et al. 2017, the photo's gray is colorized from them, and "
                    "PSNR, SSIM, VIF and CIEDE2000 against the photo are averaged over the photos.")
    b.add_argument("-i", "--input", required=True, metavar="PHOTOS", help="colour image or folder")
    b.add_argument("--methods", default="levin",
                   help="comma-separated: levin, levin-symmetric, bilaplacian-gtv, ideepcolor (the network alone), "
                        "or METHOD+ideepcolor (the network as prior) (default: %(default)s)")
    b.add_argument("--hints", default=",".join(map(str, bench.HINTS)),
                   help="comma-separated hint counts (default: %(default)s)")
    b.add_argument("--resolution", default="256",
                   help="side the photos are resized to (the published protocol: 256), or 'full' (default: %(default)s)")
    b.add_argument("--limit", type=int, default=0, metavar="N", help="the first N photos only (0: all)")
    b.add_argument("--seed", type=int, default=bench.SEED, help="hint placement seed (default: %(default)s)")
    b.add_argument("--weights", metavar="PATH", help="network weights for ideepcolor methods (default: the shipped model)")
    b.add_argument("--prior-weight", type=float, default=PRIOR_WEIGHT,
                   help="β of METHOD+ideepcolor (default: %(default)s)")
    b.add_argument("--prior-mode", default="spread", choices=PRIOR_MODES,
                   help="how METHOD+ideepcolor uses the guess (default: %(default)s)")
    b.add_argument("--sharpness", type=float, help="bilaplacian-gtv's edge sharpness (default: 8)")
    b.add_argument("--lam", type=float, help="bilaplacian-gtv's bilaplacian weight λ (default: 1e-3)")
    b.add_argument("--format", default="md", choices=["md", "csv", "json"],
                   help="md: a row per method and score, a column per hint count; csv: the means, a row per "
                        "method and hint count; json: the means and every photo's scores (default: %(default)s)")
    b.add_argument("-o", "--output", metavar="FILE", help="write the table here instead of stdout")
    b.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    _add_cluster_options(b, "photos")
    _add_max_pixels(b)
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_cmd_bench)

    m = commands.add_parser(
        "metrics", help="score results against references",
        description="Score result images against references (files, or folders matched by relative path "
                    "without extension): PSNR (8-bit), SSIM, MS-SSIM, VIF, CIEDE2000 mean and 95th percentile, "
                    "ab RMSE, colourfulness, and with --lpips LPIPS; one row per image plus the mean. "
                    "docs/metrics.md says what each measures.")
    m.add_argument("-i", "--input", required=True, metavar="RESULTS", help="result image or folder")
    m.add_argument("-r", "--reference", required=True, metavar="REFERENCES", help="reference image or folder")
    m.add_argument("--ab", action="store_true",
                   help="score colour only: re-light each result with its reference's lightness first")
    m.add_argument("--lpips", action="store_true",
                   help="add LPIPS (AlexNet, v0.1); needs the neural extra and two weight files, never downloaded")
    m.add_argument("--lpips-weights", metavar="DIR",
                   help="folder holding LPIPS's weight files (default: $VARCOLOR_MODELS, then models/; "
                        "see docs/metrics.md)")
    m.add_argument("--format", default="md", choices=["md", "csv", "json"], help="table format (default: %(default)s)")
    m.add_argument("-o", "--output", metavar="FILE", help="write the table here instead of stdout")
    m.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    _add_cluster_options(m, "images")
    _add_max_pixels(m)
    m.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    m.set_defaults(func=_cmd_metrics)

    u = commands.add_parser(
        "ui", help="the studio: draw strokes in the browser and watch the photo take colour",
        description="Start the studio, a local web page for colorizing a photo with brush strokes and point "
                    "hints, live (docs/studio.md). It listens on 127.0.0.1 only, with a random token in its "
                    "address. Needs the ui extra: pip install 'varcolor[ui]'.")
    u.add_argument("image", nargs="?", metavar="IMAGE", help="photo to open (or open one on the page)")
    u.add_argument("--session", metavar="FILE", help="reopen a saved session (NAME.studio.json)")
    u.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    u.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: %(default)s; anything else lets other computers in)")
    u.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    u.add_argument("--out-dir", metavar="DIR", help="folder results are saved in (default: the photo's folder)")
    u.add_argument("--data-dir", metavar="DIR",
                   help="autosaves and uploaded photos (default: ~/.local/share/varcolor/studio)")
    u.add_argument("--preview-megapixels", type=float, metavar="MP",
                   help="largest live working copy; saving always solves the full image (default: 1.5)")
    u.set_defaults(func=_cmd_ui)
    return parser


def _cmd_ui(args) -> int:
    from .ui import run  # Starlette and uvicorn are an extra: imported only here

    return run(args.image, session=args.session, host=args.host, port=args.port, open_browser=not args.no_browser,
               data_dir=args.data_dir, out_dir=args.out_dir, preview_megapixels=args.preview_megapixels)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_parsed(args)
    except VarcolorError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        with batch.sigint_ignored():  # stopping already: a second Ctrl-C changes nothing
            _error("interrupted")
        return 130


def run_parsed(args: argparse.Namespace) -> int:
    """Check the options of parsed arguments once, then run their command (raising
    :class:`~varcolor.errors.VarcolorError` for bad input; :func:`main` prints it)."""
    if getattr(args, "workers", 1) < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    if hasattr(args, "max_pixels"):
        if args.max_pixels < 0:
            raise InputError(f"--max-pixels must be >= 0 (0: no limit), got {args.max_pixels}")
        args.max_pixels = args.max_pixels or None
    if getattr(args, "colorizes", False):  # once, not for every image of a folder
        names = inspect.signature(check_options).parameters
        check_options(**{name: getattr(args, name) for name in names if hasattr(args, name)})
        backend(args.device)  # CuPy and a GPU, where asked for
    if getattr(args, "encodes", False):
        check_encode_options(getattr(args, "encoder", args.method), args.grid_size, args.spacing, args.patch,
                             args.segments, args.quantize, args.budget, args.refine)
    return args.func(args)


def entry() -> None:
    """The ``varcolor`` program: :func:`main`, then exit with its code. After an interruption a
    second Ctrl-C is ignored until the process has ended, so it cannot cut the exit short."""
    code = main()
    if code == 130:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":
    entry()
