"""``varcolor bench``: score colorization methods against the number of hints on colour photos."""

from __future__ import annotations

import argparse
import functools
import math
import sys
from functools import partial
from pathlib import Path

from tqdm import tqdm

from .. import batch, bench
from .. import methods as registry
from ..batch import Job
from ..bench import export as bench_export
from ..bench import fid as bench_fid
from ..bench import plot as bench_plot
from ..bench import results as bench_results
from ..errors import InputError, VarcolorError, listening
from ..io import equal_channels, image_shape, inside, read_image, same_file
from ..options import Options
from .common import (
    add_cluster_options,
    add_input,
    add_max_pixels,
    add_quiet,
    add_table_output,
    check_table_output,
    error,
    max_pixels_of,
    note,
    to_csv,
    to_json,
    walk_reported,
    warn,
    write_table,
)
from .solve_options import add_method_parameters, add_options, method_help


def _bench_one(task: tuple) -> dict | VarcolorError:
    """One image's rows, its results' rows and their problems, and its export's manifest entry (in
    a worker process, or this one), or its user-facing error."""
    path, name, index, resolution, methods, hints, seed, options, alone, max_pixels, export, results, fid = task
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
        if rgb.ndim == 2 or equal_channels(rgb):  # every method's result would be it exactly: PSNR inf
            raise InputError(f"{path}: a gray photo; the bench scores colour against a colour original")
        original = bench.original(rgb, resolution) if export or results else None
        exported = (
            export
            and original is not None
            and bench_export.export_photo(export, original, bench_export.photo_key(name), hints, index, seed)
        )  # first: a photo some method cannot colorize is exported all the same
        network = None if fid is None else _fid_network(fid)
        rows = bench.evaluate(rgb, methods, hints, resolution, index, seed, fid=network, **options)
        with listening() as heard:  # (a result's clipped samples, say: one warning line, not Python's)
            scored, problems = (
                bench_results.score_photo(original, name, resolution, results, max_pixels)
                if results and original is not None
                else ([], [])
            )
    except VarcolorError as exc:
        return exc if str(path) in str(exc) else InputError(f"{path}: {exc}")
    rows = [{"image": name, **row} for row in rows] + scored
    said = list(dict.fromkeys(note.message for note in heard))
    return {"photo": name, "rows": rows, "problems": problems, "exported": exported or None, "said": said}


@functools.cache
def _fid_network(path: str):
    """The FID feature network of ``path``, loaded once a process."""
    return bench_fid.load(path)


def _integers(text: str, what: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"{what} must be comma-separated whole numbers, got {text!r}") from None
    if any(value < 0 for value in values):
        raise InputError(f"{what} must be >= 0, got {text!r}")
    twice = sorted({value for value in values if values.count(value) > 1})
    if twice:  # (each a column of the table: two of one name)
        raise InputError(f"{what} names {', '.join(map(str, twice))} more than once, got {text!r}")
    return values


def _check_methods(args) -> list[str]:
    names = [m for m in args.methods.split(",") if m]
    # No method of its own: a run that only exports the inputs or scores results made elsewhere.
    methods = bench.check_methods(names) if names or not (args.results or args.export_hints) else []
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


def _check_arguments(args) -> tuple[list[str], list[int], str]:
    """The methods, hint counts and resolution, the arguments checked before any photo is read."""
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    methods = _check_methods(args)
    hints = _integers(args.hints, "--hints")
    resolution = bench.parse_resolution(args.resolution)
    if resolution != "full":  # each photo's own pixels bound them at full resolution
        bench.check_hints(hints, int(resolution) ** 2, "--hints")
    if args.network_file is not None and not Path(args.network_file).is_file():
        raise InputError(f"{args.network_file}: no such network file")
    if args.limit < 0:
        raise InputError(f"--limit must be >= 0, got {args.limit}")
    if args.fid is not None:
        if not methods:
            raise InputError("--fid scores the results of --methods: give at least one")
        _fid_network(args.fid)  # no file, or not the network's weights: one line, before any work
    return methods, hints, resolution


def _photo_paths(source: Path, limit: int) -> tuple[list[tuple[Path, str]], list[str]]:
    """The photos to score as (path, name), and the folders that could not be listed."""
    unlisted: list[str] = []  # failures, as a bad photo is
    if source.is_file():
        paths = [(source, source.name)]
    elif source.is_dir():
        found, unlisted = walk_reported(source)
        paths = [(source / rel, rel.as_posix()) for rel in found]
    else:
        raise InputError(f"{source}: no such file or folder")
    if limit:
        paths = paths[:limit]
    if not paths:
        raise InputError(f"{source}: no images found")
    return paths, unlisted


def _check_plot(args, methods, results, inputs):
    """The published curve to draw beside the plot (or a false value), the plot's options checked."""
    if args.plot:
        bench_plot.check(args.plot)
        check_table_output(args.plot, args.overwrite, inputs)
        if Path(args.input).is_dir() and inside(Path(args.plot), Path(args.input)):
            raise InputError(
                f"{args.plot}: inside the photos' folder {args.input}, where the next run would score the plot "
                "as a photo; write it elsewhere"
            )
        if args.output is not None and same_file(args.plot, args.output):
            raise InputError(f"{args.plot}: the plot and the table (-o) would be one file")
        if not methods and not results:
            raise InputError("--plot: no method and no --results to draw")
    elif args.plot_published or args.plot_metric != "psnr":
        raise InputError("--plot-published and --plot-metric go with --plot")
    return args.plot_published and bench_plot.read_curve(args.plot_published)


def _planned_results(args, paths, results, hints, inputs):
    """The photos' entries, the results' problems and each photo's result files (name, hints, path)."""
    photos = []
    if args.export_hints or results:
        bench_export.check_keys([name for _, name in paths])
        photos = [
            bench_results.Photo(name, index, bench_export.file_sha256(path)) for index, (path, name) in enumerate(paths)
        ]
    if args.export_hints:
        bench_export.check_folder(args.export_hints, args.overwrite, inputs)
    problems: list[str] = []
    files: dict[str, list[tuple[str, int, Path]]] = {}
    for folder in results:
        planned, lines = bench_results.plan(folder, photos, hints)
        problems += lines
        for (photo, n), path in planned.items():
            files.setdefault(photo, []).append((folder.name, n, path))
    if args.export_hints:
        bench_export.clear_earlier(args.export_hints)
    return photos, problems, files


def _bench_options(args) -> dict:
    """The colorize options every method of the run is given."""
    return {
        "network_file": args.network_file,
        "prior_weight": args.prior_weight,
        "prior_mode": args.prior_mode,
        "automatic": args.automatic,
        "instances": args.instances,
        "detector_file": args.detector_file,
        **{name: getattr(args, name) for name in registry.parameter_names()},
    }


def _score_photos(args, paths, resolution, methods, hints, options, files, photos, failures):
    """Each photo scored (in workers where asked): the rows, the problems and the exported entries;
    a photo's error joins ``failures``."""
    alone = args.workers == 1 or len(paths) == 1
    tasks = [
        (
            *(path, name, index, resolution, methods, hints, args.seed, options, alone, max_pixels_of(args)),
            *(args.export_hints, files.get(name, []), args.fid),
        )
        for index, (path, name) in enumerate(paths)
    ]
    rows, problems, exported = [], [], []
    bar = tqdm(total=len(tasks), desc="bench", unit="img", disable=args.quiet or None, file=sys.stderr)
    jobs = [Job([task[0]], [], partial(_bench_one, task)) for task in tasks]
    for _, outcome, _ in batch.outcomes(jobs, 1 if alone else args.workers, scheduler=args.scheduler):
        bar.update()
        if isinstance(outcome, VarcolorError):
            failures.append(str(outcome))
            continue
        rows += outcome["rows"]
        problems += outcome["problems"]
        for message in outcome["said"]:
            warn(message)
        if outcome["exported"]:
            sha256 = next(photo.sha256 for photo in photos if photo.name == outcome["photo"])
            exported.append({"photo": outcome["photo"], "sha256": sha256, **outcome["exported"]})
    bar.close()
    return rows, problems, exported


def _write_summary(args, rows, methods, results, hints, resolution, options, run, scored, source, inputs, published):
    """The table (and plot) of the methods' and results' scores."""
    names = [*methods, *(folder.name for folder in results)]
    if not names:
        return
    summary = bench.summarize(rows, [resolution], names, hints)
    incomplete = bench_results.complete(summary, names[len(methods) :], hints, resolution, scored)
    labels = {name: f"{name} (incomplete)" if name in incomplete else name for name in names}
    same = bench.same_solves(methods, resolution, **options)
    table = _table(
        args.format,
        summary,
        rows,
        incomplete,
        labels,
        resolution,
        hints,
        f"{source.name} ({scored} images)",
        same,
        run,
    )
    write_table(table, args.output, args.overwrite, inputs)
    _warn_small_sets(summary)
    if args.plot:
        curves = bench_plot.lines(summary, labels, resolution, hints, args.plot_metric)
        errors = bench_plot.lines(summary, labels, resolution, hints, f"{args.plot_metric}_se")
        size = "full size" if resolution == "full" else f"{resolution}×{resolution}"
        title = f"{source.name}: {scored} photos at {size}"
        curve = published and (args.plot_published_label, published)
        bench_plot.plot(args.plot, curves, args.plot_metric, title, curve or None, errors=errors)


def _cmd_bench(args) -> int:
    methods, hints, resolution = _check_arguments(args)
    source = Path(args.input)
    paths, unlisted = _photo_paths(source, args.limit)
    inputs = (args.input, *(path for path, _ in paths))
    check_table_output(args.output, args.overwrite, inputs)
    run = bench_export.protocol(args.seed, resolution, hints, methods, args.network_file, args.fid)
    results = bench_results.parse(args.results or [], methods, run, args.export_hints)
    published = _check_plot(args, methods, results, inputs)
    photos, problems, files = _planned_results(args, paths, results, hints, inputs)
    options = _bench_options(args)
    failures = list(unlisted)
    rows, scored_problems, exported = _score_photos(
        args, paths, resolution, methods, hints, options, files, photos, failures
    )
    problems += scored_problems
    scored = len(paths) - len(failures) + len(unlisted)  # the photos scored, not the folders unlisted
    if not scored:
        for line in failures[:-1]:
            error(line)
        raise InputError(failures[-1] if len(failures) == 1 else f"{source}: no image could be scored")
    if exported:
        written = bench_export.write_manifest(args.export_hints, run, exported)
        if not args.quiet:
            note(f"exported the gray and hints of {len(exported)} photos; {written} lists them")
    _write_summary(args, rows, methods, results, hints, resolution, options, run, scored, source, inputs, published)
    for line in failures + problems:
        error(line)
    return 1 if failures or problems else 0


def _warn_small_sets(summary: dict) -> None:
    """One warning where a cell's FID is over too few photos for a non-singular covariance
    (:func:`varcolor.bench.fid.small_set`; each such cell is flagged ``fid_small_set``)."""
    small = [cell for cell in summary.values() if cell.get("fid_small_set")]
    if small:
        fewest, features = min(cell["images"] for cell in small), small[0]["fid_features"]
        # the KID needs two photos: beside one, both are n/a, and the KID is nothing to read
        kid = any(math.isfinite(cell.get("kid", math.nan)) for cell in small)
        warn(
            f"FID over {fewest} photo{'s' if fewest != 1 else ''}, no more than its {features} features: the "
            f"covariance is singular and the FID dominated by the sample (a meaningful one needs over {features} "
            f"photos); {'read the KID beside it' if kid else 'the KID needs two photos or more'}"
        )


def _paired(rows, incomplete, labels, resolution, hints) -> dict:
    """Each complete method's PSNR against the first's on the same photos (:func:`varcolor.bench.paired`),
    keyed by the methods' labels; none for one method."""
    names = [name for name in labels if name not in incomplete]
    if len(names) < 2:
        return {}
    found = bench.paired(rows, resolution, names, hints, "psnr")
    return {f"{key.split('/')[0]}/{labels[key.split('/')[1]]}/{key.split('/')[2]}": cell for key, cell in found.items()}


def _table(form, summary, rows, incomplete, labels, resolution, hints, label, same, run) -> str:
    """The table in ``form`` (md, csv, json); the cells of ``incomplete`` results empty, their
    methods marked; in Markdown, a method of ``same`` marked as the other's solve."""
    names = list(labels)
    if form == "md":
        shown = {f"{resolution}/{labels[k.split('/')[1]]}/{k.split('/')[2]}": v for k, v in summary.items()}
        marked = {labels[name]: labels.get(other, other) for name, other in same.items()}
        table = bench.markdown(shown, [resolution], [labels[name] for name in names], hints, label, same=marked)
        comparisons = _paired(rows, incomplete, labels, resolution, hints)
        if comparisons:
            table += "\n" + bench.paired_markdown(comparisons, labels[names[0]])
        return table + (
            f"\nSeed {run['seed']}, hints from {run['hint_seed']}; NumPy {run['numpy']}; "
            f"resized by {run['resize']}; scored: {run['scored']}.\n"
            f"\nVersions: {bench.versions_line(run['versions'])}\n"
        )
    means = [
        {"method": key.split("/")[1], "hints": int(key.split("/")[2]), "resolution": resolution, **value}
        for key, value in summary.items()
    ]
    for name, cells in incomplete.items():  # no mean over fewer photos: the count, and no scores
        empty = dict.fromkeys(c for m in (*bench.SCORES, "seconds") for c in (m, f"{m}_se"))
        means += [
            {"method": name, "hints": n, "resolution": resolution, **empty, "images": count}
            for n, count in cells.items()
        ]
    means.sort(key=lambda mean: (names.index(mean["method"]), hints.index(mean["hints"])))
    if form == "json":
        rows = [{key: value for key, value in row.items() if not key.startswith("_")} for row in rows]  # (features)
        paired = _paired(rows, incomplete, labels, resolution, hints)
        return to_json(
            {"protocol": run, "summary": means, "incomplete": sorted(incomplete), "paired": paired, "rows": rows}
        )
    fid = ["fid", "kid", "fid_small_set"] if any("fid" in mean for mean in means) else []
    means = [{**dict.fromkeys(fid), **mean} for mean in means]  # (an incomplete cell: none)
    columns = ["method", "hints", "resolution", *(c for m in (*bench.SCORES, "seconds") for c in (m, f"{m}_se")), *fid]
    columns.append("images")
    # The versions on every row (a CSV has no place for a note): each is the whole run's.
    record = run["versions"]
    shaped = {key: value for key, value in record.items() if not isinstance(value, (list, dict))}
    means = [{**mean, **shaped, "threadpools": bench.pools_text(record)} for mean in means]
    columns += [*shaped, "threadpools"]
    return to_csv(means, columns, lambda value: "" if value is None else str(value))


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command and its options to ``commands`` (the ``varcolor`` parser's)."""
    b = commands.add_parser(
        "bench",
        help="score methods against the number of hints on colour photos",
        description="Score colorization methods on colour photos (a file or a folder, recursively) with the "
        "ideepcolor evaluation protocol: for each hint count, hints are 6x6 patches of the photo's "
        "mean chroma placed as in Zhang et al. 2017, the photo's gray is colorized from them, and "
        "PSNR, SSIM, VIF and CIEDE2000 against the photo and the result's colourfulness are averaged over "
        "the photos, each mean with its standard error. LPIPS is not "
        "among them: it needs AlexNet's and LPIPS's weight files, which varcolor does not ship or download "
        "(offline they cannot be had); with them, score the results with 'varcolor metrics --lpips' "
        "(docs/metrics.md, LPIPS).",
    )
    add_input(b, "PHOTOS", "colour image or folder")
    b.add_argument(
        "-m",
        "--methods",
        default=Options.method,
        help=f"comma-separated colorization methods ({method_help()}), or METHOD+ideepcolor (the network "
        "as prior) (default: %(default)s, the library's default)",
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
    b.add_argument(
        "--export-hints",
        metavar="DIR",
        help="also write each photo's gray and hints, for every hint count, into DIR (KEY/N.png and "
        "KEY/N.points.json, KEY the photo's path without suffix) with a manifest.json, for a method run elsewhere",
    )
    b.add_argument(
        "--results",
        action="append",
        metavar="NAME=DIR",
        help="score results made elsewhere from exported hints as the row NAME: DIR holds each result under its "
        "gray's name and the export's manifest.json (repeatable; with it, --methods may be empty)",
    )
    b.add_argument("--plot", metavar="FILE", help="draw a score against hints, a line per method (.png or .svg)")
    b.add_argument(
        "--plot-metric", default="psnr", choices=bench.SCORES, help="the score --plot draws (default: %(default)s)"
    )
    b.add_argument(
        "--plot-published",
        metavar="CSV",
        help="a published curve drawn dashed on the plot: a CSV file with a header line, hints and value in its "
        "first two columns",
    )
    b.add_argument(
        "--plot-published-label",
        default="published",
        metavar="TEXT",
        help="what the published curve is, as its legend says it (e.g. 'SIGGRAPH17, ImageNet val (published)'; "
        "default: %(default)s)",
    )
    b.add_argument(
        "--fid",
        metavar="WEIGHTS",
        help="also the FID and KID of each method and hint count over the photos, on the features of the "
        "network whose weights WEIGHTS holds: pytorch-fid's pt_inception-2015-12-05-6726825d.pth (InceptionV3, "
        "papers' FID), or a state dict of varcolor's FeatureNet (docs/metrics.md#fid); never downloaded",
    )
    add_cluster_options(b, "photos")
    add_max_pixels(b)
    add_quiet(b)
    b.set_defaults(func=_cmd_bench)
