"""``varcolor bench``: score colorization methods against the number of hints on colour photos."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from tqdm import tqdm

from .. import batch, bench
from .. import methods as registry
from ..batch import Job
from ..errors import InputError, VarcolorError
from ..io import image_shape, read_image
from .common import (
    add_cluster_options,
    add_input,
    add_max_pixels,
    add_table_output,
    check_table_output,
    error,
    max_pixels_of,
    to_csv,
    to_json,
    walk_reported,
    write_table,
)
from .solve_options import add_method_parameters, add_options, method_help


def _bench_one(task: tuple) -> list[dict] | VarcolorError:
    """One image's rows (in a worker process, or this one), or its user-facing error."""
    path, name, index, resolution, methods, hints, seed, options, alone, max_pixels = task
    if not alone:  # one image per process already keeps a core busy: no threads that would contend
        import numba

        numba.set_num_threads(1)
        if any("ideepcolor" in method for method in methods):
            import torch

            torch.set_num_threads(1)
    try:  # from the header, before any pixel is decoded: hints and memory
        shape = image_shape(path, max_pixels=max_pixels)
        bench.check_photo(shape, methods, hints, resolution, name=str(path), **options)
        rgb = read_image(path, max_pixels=max_pixels)
        rows = bench.evaluate(rgb, methods, hints, resolution, index, seed, **options)
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


def _check_methods(args) -> list[str]:
    methods = bench.check_methods([m for m in args.methods.split(",") if m])
    given = {name: getattr(args, name) for name in registry.parameter_names() if getattr(args, name) is not None}
    for name in given:
        if not any(name in _parameters_of(method) for method in methods):
            owners = registry.owners(name)
            raise InputError(
                f"--{name.replace('_', '-')}: an option of {', '.join(owners)}, which is not among --methods"
            )
    for method in methods:
        name, _, prior = method.partition("+")
        registry.build_options(
            method=name,
            prior=prior or None,
            prior_weight=args.prior_weight,
            prior_mode=args.prior_mode,
            automatic=args.automatic,
            **{key: value for key, value in given.items() if key in _parameters_of(method)},
        )
    return methods


def _parameters_of(method: str) -> tuple[str, ...]:
    """The own options of a bench method name (``METHOD[+PRIOR]``)."""
    return registry.get(method.partition("+")[0]).parameter_names()


def _cmd_bench(args) -> int:
    methods = _check_methods(args)
    hints = _integers(args.hints, "--hints")
    resolution = bench.parse_resolution(args.resolution)
    if resolution != "full":  # each photo's own pixels bound them at full resolution
        bench.check_hints(hints, int(resolution) ** 2, "--hints")
    if args.network_file is not None and not Path(args.network_file).is_file():
        raise InputError(f"{args.network_file}: no such network file")
    if args.limit < 0:
        raise InputError(f"--limit must be >= 0, got {args.limit}")
    source = Path(args.input)
    unlisted: list[str] = []  # folders that cannot be listed: failures, as a bad photo is
    if source.is_file():
        paths = [(source, source.name)]
    elif source.is_dir():
        found, unlisted = walk_reported(source)
        paths = [(source / rel, rel.as_posix()) for rel in found]
    else:
        raise InputError(f"{source}: no such file or folder")
    if args.limit:
        paths = paths[: args.limit]
    if not paths:
        raise InputError(f"{source}: no images found")
    inputs = (args.input, *(path for path, _ in paths))
    check_table_output(args.output, args.overwrite, inputs)
    options = {
        "network_file": args.network_file,
        "prior_weight": args.prior_weight,
        "prior_mode": args.prior_mode,
        "automatic": args.automatic,
        "instances": args.instances,
        "detector_file": args.detector_file,
        **{name: getattr(args, name) for name in registry.parameter_names()},
    }
    alone = args.workers == 1 or len(paths) == 1
    tasks = [
        (path, name, index, resolution, methods, hints, args.seed, options, alone, max_pixels_of(args))
        for index, (path, name) in enumerate(paths)
    ]
    rows, failures = [], list(unlisted)
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
            error(line)
        raise InputError(failures[-1] if len(failures) == 1 else f"{source}: no image could be scored")
    summary = bench.summarize(rows, [resolution], methods, hints)
    scored = len(tasks) - len(failures) + len(unlisted)  # the photos scored, not the folders unlisted
    if args.format == "md":
        table = bench.markdown(summary, [resolution], methods, hints, f"{source.name} ({scored} images)")
    else:
        means = [
            {"method": key.split("/")[1], "hints": int(key.split("/")[2]), "resolution": resolution, **value}
            for key, value in summary.items()
        ]
        table = (
            to_json({"summary": means, "rows": rows})
            if args.format == "json"
            else to_csv(means, ["method", "hints", "resolution", *bench.SCORES, "seconds", "images"])
        )
    write_table(table, args.output, args.overwrite, inputs)
    for line in failures:
        error(line)
    return 1 if failures else 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    b = commands.add_parser(
        "bench",
        help="score methods against the number of hints on colour photos",
        description="Score colorization methods on colour photos (a file or a folder, recursively) with the "
        "ideepcolor evaluation protocol: for each hint count, hints are 6x6 patches of the photo's "
        "mean chroma placed as in Zhang et al. 2017, the photo's gray is colorized from them, and "
        "PSNR, SSIM, VIF and CIEDE2000 against the photo are averaged over the photos.",
    )
    add_input(b, "PHOTOS", "colour image or folder")
    b.add_argument(
        "-m",
        "--methods",
        default="levin",
        help=f"comma-separated colorization methods ({method_help()}), or METHOD+ideepcolor (the network "
        "as prior) (default: %(default)s)",
    )
    b.add_argument(
        "--hints", default=",".join(map(str, bench.HINTS)), help="comma-separated hint counts (default: %(default)s)"
    )
    b.add_argument(
        "--resolution",
        default="256",
        help="side the photos are resized to (the published protocol: 256), or 'full' (default: %(default)s)",
    )
    b.add_argument("--limit", type=int, default=0, metavar="N", help="the first N photos only (0: all)")
    b.add_argument("--seed", type=int, default=bench.SEED, help="hint placement seed (default: %(default)s)")
    # The network's options, for METHOD+ideepcolor and ideepcolor.
    add_options(b, ("network_file", "prior_weight", "prior_mode", "automatic", "instances", "detector_file"))
    add_method_parameters(b)  # each reaches the methods that have it
    add_table_output(
        b,
        "md: a row per method and score, a column per hint count; csv: the means, a row per "
        "method and hint count; json: the means and every photo's scores (default: %(default)s)",
    )
    add_cluster_options(b, "photos")
    add_max_pixels(b)
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_cmd_bench)
