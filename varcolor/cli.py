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
import shutil
import signal
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import __version__, bench
from .api import CONFIDENCES, METHODS, PRIOR_MODES, PRIOR_WEIGHT, PRIORS, SPACES, check_options, colorize
from .cues import Cues
from .errors import InputError, VarcolorError
from .color import luma601, same_lightness_gray
from .io import atomic_path, read_image, walk_images, write_image
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

@dataclass
class _Job:
    """One unit of a (possibly folder-wide) run: what it reads, what it writes, how to do it."""

    inputs: list[Path]
    outputs: list[Path]
    run: Callable[[], str]  # does the work; returns a warning to show, or ""
    skip: str | None = None  # why this item is skipped without failing


def _is_cue_file(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for suffixes in _CUE_SUFFIXES.values() for s in suffixes)


def _find_cue(image: Path, folder: Path, kinds) -> tuple[str | None, Path | None]:
    """The first cue file ``folder/<stem><suffix>`` that exists for ``image``, over ``kinds``."""
    for kind in kinds:
        for suffix in _CUE_SUFFIXES[kind]:
            candidate = folder / f"{image.stem}{suffix}"
            if candidate.is_file():
                return kind, candidate
    return None, None


def _load_cues(image: Path, kind: str, cue_file: Path, gray: np.ndarray) -> Cues:
    shape = gray.shape[:2]
    if kind == "points":
        return Cues.from_points(cue_file, shape=shape)
    cue_image = read_image(cue_file)
    if cue_image.shape[:2] != shape:
        raise InputError(f"{cue_file}: the {kind} image is {cue_image.shape[1]}×{cue_image.shape[0]} "
                         f"but {image.name} is {shape[1]}×{shape[0]}")
    if cue_image.ndim == 2:
        raise InputError(f"{cue_file}: the {kind} image is gray; it must be in colour")
    try:
        if kind == "marked":
            return Cues.from_marked(gray, cue_image)
        return Cues.from_mask(cue_image)
    except InputError as exc:
        raise InputError(f"{cue_file}: {exc}") from None


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
                              global_hints=global_hints, progress=progress, max_memory=args.max_memory)
            if bar is not None:
                bar.total = bar.n  # converged: the bar ends full
        except InputError as exc:
            raise InputError(f"{image}: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
    write_image(output, result.rgb, bits=args.bits)
    return "; ".join(f"{image}: {w.message}" for w in caught if issubclass(w.category, UserWarning))


def _lossy_cues_warning(cue_file: Path | None, cues: Cues) -> str:
    """What a JPEG cue image costs: its compression noise turns pixels into cues (Levin's rule
    and the stroke mask's both take any change) and blurs the strokes' colours."""
    if cue_file is None or cue_file.suffix.lower() not in (".jpg", ".jpeg"):
        return ""
    return (f"{cue_file}: a JPEG cue image: its compression noise makes cues of many pixels ({cues.count:,}, "
            f"{100 * cues.count / cues.mask.size:.0f} % of the image here) and blurs the strokes' colours; "
            "save cue images losslessly (PNG)")


def _colorize_one(image: Path, kind: str | None, cue_file: Path | None, output: Path, args) -> str:
    gray = read_image(image)
    cues = Cues.empty(gray.shape[:2]) if cue_file is None else _load_cues(image, kind, cue_file, gray)
    notes = [_lossy_cues_warning(cue_file, cues), _colorize_and_write(image, gray, cues, output, args)]
    return "; ".join(note for note in notes if note)


def _automatic(args) -> bool:
    """With the network, an image without cues is colorized automatically."""
    return bool(args.prior) or args.method == "ideepcolor"


def _colorize_job(image: Path, kind: str | None, cue_file: Path | None, output: Path, args) -> _Job:
    skip = None if cue_file or _automatic(args) else (
        f"{image}: no cue file found (looked for {image.stem}_marked.png, _mask.png, .points.json)")
    return _Job([image] + ([cue_file] if cue_file else []), [output],
                partial(_colorize_one, image, kind, cue_file, output, args), skip)


def _plan_colorize(args) -> list[_Job]:
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
            if not cue_file.is_file():
                raise InputError(f"{cue_file}: no such file")
        else:
            cue_kind, cue_file = _find_cue(source, source.parent, [kind] if kind else CUE_KINDS)
            if cue_file is None and not _automatic(args):
                raise InputError(f"{source}: no cues given; use --marked, --mask or --points "
                                 f"(or put {source.stem}_marked.png beside it), or --prior ideepcolor")
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


def _cmd_colorize(args) -> int:
    _check_ext(args.ext)
    single = Path(args.input).is_file()
    # Long single solves show a bar: ADMM's iterations, or the tiles of a big scan (levin).
    args.iteration_bar = single and args.method in ("bilaplacian-gtv", "levin") and not args.quiet
    return _run_jobs(_plan_colorize(args), "colorized", args, single=single)


def _run_jobs(jobs: list[_Job], verb: str, args, single: bool) -> int:
    """Run jobs with the safety rules: never write over an input, keep existing outputs unless
    --overwrite, go on past a failed item (a single-file run fails at once), report at the end.
    With ``--workers N`` the checked jobs run in N processes."""
    if not jobs:
        raise InputError(f"{args.input}: no images found")
    failures, skipped, ready = [], [], []
    for job in jobs:
        try:
            if job.skip:
                skipped.append(job.skip)
                continue
            protected = {p.resolve() for p in job.inputs}
            for output in job.outputs:
                if output.resolve() in protected:
                    raise InputError(f"{output}: refusing to overwrite an input file")
            existing = [o for o in job.outputs if o.exists()]
            if existing and not args.overwrite:
                raise _Kept(f"{existing[0]}: exists; kept (use --overwrite to replace it)")
            ready.append(job)
        except _Kept as kept:
            if single:
                raise InputError(str(kept)) from None
            skipped.append(str(kept))
        except VarcolorError as exc:
            if single:
                raise
            failures.append(str(exc))
    bar = tqdm(total=len(ready), desc=verb, unit="img", disable=args.quiet or single or None, file=sys.stderr)
    done = 0
    # Fresh (spawned) processes: forking after numba's OpenMP threads have started is unsafe.
    parallel = args.workers > 1 and len(ready) > 1
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) if parallel else _InProcess() as pool:
        for outcome in pool.map(_attempt, [job.run for job in ready]):
            bar.update()
            if isinstance(outcome, VarcolorError):
                if single:
                    raise outcome
                failures.append(str(outcome))
                continue
            if outcome:
                _warn(outcome)
            done += 1
    bar.close()
    return _report(verb, done, skipped, failures, args.quiet)


class _Kept(Exception):
    """An existing output that is kept (skipped, or an error for a single file)."""


def _attempt(run: Callable[[], str]) -> str | VarcolorError:
    """Run one job, returning its user-facing error instead of raising it (so a pool goes on)."""
    try:
        return run()
    except VarcolorError as exc:
        return exc


class _InProcess:
    """The executor interface, run in this process (no pool for one worker)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def map(function, items):
        return map(function, items)


def _report(verb: str, done: int, skipped: list[str], failures: list[str], quiet: bool) -> int:
    if not quiet:
        for line in skipped:
            print(f"varcolor: skipped: {line}", file=sys.stderr)
        print(f"varcolor: {verb} {done}, skipped {len(skipped)}, failed {len(failures)}", file=sys.stderr)
    for line in failures:
        _error(line)
    return 1 if failures else 0


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
    columns = ["image", *METRICS]
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


def _cmd_metrics(args) -> int:
    pairs, failures = _pairs(Path(args.input), Path(args.reference))
    if not pairs and not failures:
        raise InputError(f"{args.input}: no images found")
    single = Path(args.input).is_file()
    inputs = (args.input, args.reference, *(path for _, result, reference in pairs for path in (result, reference)))
    _check_table_output(args.output, args.overwrite, inputs)  # before the work, not after it
    rows = []
    for name, result_path, reference_path in tqdm(pairs, desc="metrics", unit="img", file=sys.stderr,
                                                  disable=args.quiet or single or None):
        try:
            row = score(read_image(result_path), read_image(reference_path), ab_only=args.ab)
        except VarcolorError as exc:
            if single:
                raise InputError(f"{result_path}: {exc}") from None
            failures.append(f"{result_path}: {exc}")
            continue
        rows.append({"image": name, **row})
    if rows:
        mean = {k: float(np.nanmean([r[k] for r in rows])) if not all(math.isnan(r[k]) for r in rows)
                else float("nan") for k in METRICS}
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
    with atomic_path(output) as tmp:
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
    pool = _InProcess() if alone else ProcessPoolExecutor(args.workers, mp_context=get_context("spawn"))
    with pool:
        for outcome in pool.map(_bench_one, tasks):
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


def _encode_one(source: Path, gray_path: Path, sidecar: Path | None, plot: Path | None, args) -> str:
    from .ir.decode import payload_cues
    from .ir.encode import encode
    from .ir.format import embed_png, write_payload

    rgb = read_image(source)
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
    write_image(gray_path, gray, bits=args.bits)
    if sidecar is None:
        combined = embed_png(gray_path.read_bytes(), data)
        with atomic_path(gray_path) as tmp:
            tmp.write_bytes(combined)
    else:
        with atomic_path(sidecar) as tmp:
            tmp.write_bytes(data)
    if plot is not None:  # cues drawn at least 7 px wide, so single-pixel cues are visible
        visible = dataclasses.replace(payload, patch=max(payload.patch, 3))
        write_image(plot, payload_cues(visible).overlay(gray))
    return ""


def _encode_jobs(args, settled_before: float | None = None) -> list[_Job]:
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
        outputs = [gray_path] + [p for p in (sidecar, plot) if p is not None]
        jobs.append(_Job([image], outputs, partial(_encode_one, image, gray_path, sidecar, plot, args)))
    return jobs


def _cmd_encode(args) -> int:
    if args.watch:
        return _watch_encode(args)
    return _run_jobs(_encode_jobs(args), "encoded", args, single=Path(args.input).is_file())


def _watch_encode(args) -> int:
    """Encode what is there, then every new image that appears, until interrupted (Ctrl-C)."""
    source = Path(args.input)
    if not source.is_dir():
        raise InputError(f"{source}: --watch needs a folder")
    # A shell that starts a job in the background makes it ignore SIGINT; the promise is Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"varcolor: watching {source} (Ctrl-C to stop)", file=sys.stderr)
    failed: set[Path] = set()
    try:
        while True:
            jobs = [job for job in _encode_jobs(args, settled_before=time.time() - 1.0)
                    if job.inputs[0] not in failed and not any(o.exists() for o in job.outputs)]
            for job in jobs:
                outcome = _attempt(job.run)
                if isinstance(outcome, VarcolorError):  # reported once, not retried until it changes
                    failed.add(job.inputs[0])
                    _error(str(outcome))
                elif not args.quiet:
                    print(f"varcolor: encoded {job.inputs[0]}", file=sys.stderr)
            time.sleep(args.watch_interval)
    except KeyboardInterrupt:
        print("varcolor: stopped watching", file=sys.stderr)
        return 0


def _read_ir(gray_path: Path):
    """The payload of an IR gray image: its ``.vcir`` sidecar, else its embedded chunk, else None."""
    from .ir.format import extract_png, read_payload

    sidecar = gray_path.with_suffix(".vcir")
    if sidecar.is_file():
        data, source = sidecar.read_bytes(), str(sidecar)
    else:
        try:
            data = extract_png(gray_path.read_bytes()) if gray_path.suffix.lower() == ".png" else None
        except VarcolorError:
            data = None
        if data is None:
            return None
        source = f"{gray_path} (embedded payload)"
    try:
        return read_payload(data)
    except VarcolorError as exc:
        raise InputError(f"{source}: {exc}") from None


def _decode_one(gray_path: Path, output: Path, args) -> str:
    from .ir.decode import payload_cues

    payload = _read_ir(gray_path)
    gray = read_image(gray_path)
    try:
        cues = payload_cues(payload, gray.shape[:2])
    except VarcolorError as exc:
        raise InputError(f"{gray_path}: {exc}") from None
    return _colorize_and_write(gray_path, gray, cues, output, args, payload.global_hints())


def _cmd_decode(args) -> int:
    _check_ext(args.ext)
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
        found = sidecar.is_file() or _has_chunk(gray_path)
        jobs.append(_Job([gray_path, sidecar], [out], partial(_decode_one, gray_path, out, args),
                         None if found else f"{gray_path}: no IR (no {sidecar.name}, no embedded payload)"))
    return _run_jobs(jobs, "decoded", args, single=source.is_file())


def _has_chunk(path: Path) -> bool:
    from .ir.format import extract_png

    if path.suffix.lower() != ".png":
        return False
    try:
        return extract_png(path.read_bytes()) is not None
    except VarcolorError:
        return True  # a damaged PNG: let decoding report it


def _cmd_recolor(args) -> int:
    """encode + decode + metrics in one go (automatic-recolorization's recolor.py)."""
    source, output = Path(args.input), Path(args.output)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    temporary = None if args.ir else tempfile.mkdtemp(prefix="varcolor-ir-")
    ir_dir = Path(args.ir or temporary)
    try:
        encoding = argparse.Namespace(**{**vars(args), "method": args.encoder, "output": str(ir_dir)})
        codes = [_cmd_encode(encoding)]
        ir_input = ir_dir / f"{source.stem}.png" if source.is_file() else ir_dir
        decoding = argparse.Namespace(**{**vars(args), "input": str(ir_input), "ext": ".png"})
        codes.append(_cmd_decode(decoding))
        scoring = argparse.Namespace(input=str(output), reference=str(source), ab=False, format="md",
                                     output=None, overwrite=False, quiet=args.quiet)
        codes.append(_cmd_metrics(scoring))
        if args.delete_gray:
            _delete_decoded_grays(ir_dir, output, source.is_file(), source.stem)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    return max(codes)


def _delete_decoded_grays(ir_dir: Path, output: Path, single: bool, stem: str) -> None:
    """Delete IR gray images whose decoded output exists (and only those)."""
    pairs = ([(ir_dir / f"{stem}.png", output)] if single else
             [(ir_dir / rel, (output / rel).with_suffix(".png")) for rel in walk_images(ir_dir)
              if not rel.name.endswith(_PLOT_SUFFIX)])
    for gray_path, decoded in pairs:
        if gray_path.is_file() and decoded.is_file():
            gray_path.unlink()


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
    p.add_argument("--prior-mode", default="anchor", choices=PRIOR_MODES,
                   help="levin: the guess anchors u, or the cues' corrections to it spread (residual) (default: %(default)s)")


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
                            init=args.init, device=args.device)
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
    p.add_argument("--workers", type=int, default=1, metavar="N", help="images processed in parallel (default: 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


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
                    "PSNR, SSIM and CIEDE2000 against the photo are averaged over the photos.")
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
    b.add_argument("--prior-mode", default="anchor", choices=PRIOR_MODES,
                   help="how METHOD+ideepcolor uses the guess (default: %(default)s)")
    b.add_argument("--sharpness", type=float, help="bilaplacian-gtv's edge sharpness (default: 8)")
    b.add_argument("--lam", type=float, help="bilaplacian-gtv's bilaplacian weight λ (default: 1e-3)")
    b.add_argument("--format", default="md", choices=["md", "csv", "json"],
                   help="md: a row per method and score, a column per hint count; csv: the means, a row per "
                        "method and hint count; json: the means and every photo's scores (default: %(default)s)")
    b.add_argument("-o", "--output", metavar="FILE", help="write the table here instead of stdout")
    b.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    b.add_argument("--workers", type=int, default=1, metavar="N", help="photos scored in parallel (default: 1)")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_cmd_bench)

    m = commands.add_parser(
        "metrics", help="score results against references",
        description="Score result images against references (files, or folders matched by relative path "
                    "without extension): PSNR (8-bit), SSIM, MS-SSIM, CIEDE2000 mean and 95th percentile, "
                    "ab RMSE, colourfulness; one row per image plus the mean.")
    m.add_argument("-i", "--input", required=True, metavar="RESULTS", help="result image or folder")
    m.add_argument("-r", "--reference", required=True, metavar="REFERENCES", help="reference image or folder")
    m.add_argument("--ab", action="store_true",
                   help="score colour only: re-light each result with its reference's lightness first")
    m.add_argument("--format", default="md", choices=["md", "csv", "json"], help="table format (default: %(default)s)")
    m.add_argument("-o", "--output", metavar="FILE", help="write the table here instead of stdout")
    m.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    m.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    m.set_defaults(func=_cmd_metrics)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "workers", 1) < 1:
            raise InputError(f"--workers must be at least 1, got {args.workers}")
        if getattr(args, "colorizes", False):  # once, not for every image of a folder
            names = inspect.signature(check_options).parameters
            check_options(**{name: getattr(args, name) for name in names if hasattr(args, name)})
            backend(args.device)  # CuPy and a GPU, where asked for
        if getattr(args, "encodes", False):
            check_encode_options(getattr(args, "encoder", args.method), args.grid_size, args.spacing, args.patch,
                                 args.segments, args.quantize, args.budget, args.refine)
        return args.func(args)
    except VarcolorError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
