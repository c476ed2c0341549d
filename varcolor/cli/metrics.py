"""``varcolor metrics``: score result images against their originals, a row per image plus the mean."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .. import batch
from ..batch import Job
from ..common.memory import check_memory
from ..errors import InputError, VarcolorError
from ..io import identity, image_shape
from ..metrics import METRICS, SCORE_STEPS, score, score_bytes
from ..video.formats import is_video
from .common import (
    add_cluster_options,
    add_input,
    add_max_pixels,
    add_quiet,
    add_table_output,
    check_table_output,
    error,
    max_pixels_of,
    read_warning,
    to_csv,
    to_json,
    walk_reported,
    warn,
    write_table,
)


def _pairs(results: Path, originals: Path) -> tuple[list[tuple[str, Path, Path]], list[str], list[str]]:
    """The (name, result, original) pairs, the lines of what cannot be scored, and the originals
    no result matches (by their paths less the extension)."""
    if results.is_file():
        if not originals.is_file():
            raise InputError(f"{originals}: with a result file, -r must be an original image file")
        if is_video(originals):
            raise InputError(f"{originals}: a clip; an image is scored against an image (a clip against a clip)")
        return [(results.name, results, originals)], [], []
    if not results.is_dir():
        raise InputError(f"{results}: no such file or folder")
    if originals.is_file():
        raise InputError(f"{originals}: with a folder of results ({results}), -r must be a folder of originals")
    if not originals.is_dir():
        raise InputError(f"{originals}: no such folder")
    by_key: dict[str, list[Path]] = {}
    found, unlisted = walk_reported(originals)
    for rel in found:
        by_key.setdefault(rel.with_suffix("").as_posix(), []).append(rel)
    found, more = walk_reported(results)
    pairs, missing = [], unlisted + more  # folders that cannot be listed: failures, as a bad image is
    matched: set[str] = set()
    for rel in found:
        key = rel.with_suffix("").as_posix()
        if key not in by_key:
            missing.append(f"{results / rel}: no original {key}.* under {originals}")
            continue
        if len(by_key[key]) > 1:  # scoring against either would be a guess: refused before any work
            both = " and ".join(str(originals / other) for other in sorted(by_key[key])[:2])
            raise InputError(f"{results / rel}: ambiguous original, both {both} match; keep one of them")
        pairs.append((rel.as_posix(), results / rel, originals / by_key[key][0]))
        matched.add(key)
    # A clip among the results is no image to score: said, not passed over.
    clips = sorted(path for path in results.rglob("*") if path.is_file() and is_video(path))
    said = "a clip; score it alone against its original clip (varcolor metrics CLIP -r ORIGINAL)"
    missing += [f"{clip}: {said}" for clip in clips]
    return pairs, missing, [by_key[key][0].as_posix() for key in sorted(by_key) if key not in matched]


def _format_table(rows: list[dict], fmt: str) -> str:
    columns = ["image", *METRICS, *(["lpips"] if rows and "lpips" in rows[0] else [])]
    if fmt == "json":
        return to_json(rows)

    def cell(v) -> str:
        return v if isinstance(v, str) else ("n/a" if math.isnan(v) else f"{v:.4f}")

    if fmt == "csv":
        return to_csv(rows, columns, cell)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _lpips_network(lpips: bool, folder: str | None):
    """The LPIPS network for ``--lpips`` (weights checked now, before any image is read), or None."""
    if folder is not None and not lpips:
        raise InputError("--lpips-weights: given without --lpips")
    if not lpips:
        return None
    try:
        from ..neural.lpips import load
    except ImportError:
        raise InputError("--lpips needs PyTorch: pip install 'varcolor[neural]'") from None
    return load(folder)


def _score_pair(
    result_path: Path,
    original_path: Path,
    ab_only: bool,
    max_pixels: int | None,
    network,
    max_memory: float | None = None,
    progress=None,
) -> dict:
    """One result's scores against its original (a task of ``varcolor metrics``), refused from
    the two headers alone where the pair would not fit in memory."""
    height, width = max(
        (image_shape(path, max_pixels=max_pixels) for path in (result_path, original_path)),
        key=lambda shape: shape[0] * shape[1],
    )
    check_memory(score_bytes((height, width)), f"{result_path}: scoring a {width}×{height} pair", max_memory)
    try:
        return score(
            read_warning(result_path, max_pixels),
            read_warning(original_path, max_pixels),
            ab_only=ab_only,
            lpips_net=network,
            progress=progress,
        )
    except VarcolorError as exc:
        said = str(exc)  # (a file's own error names it already: not twice)
        named = said.startswith((f"{result_path}:", f"{original_path}:"))
        raise InputError(said if named else f"{result_path}: {said}") from None


#: A clip's table: each frame's scores, then the whole clip's.
CLIP_COLUMNS = ("frame", "psnr", "ciede2000", "flicker", "warp_error", "cdc", "cdc_original")


class _FormerName(argparse.Action):
    """``--reference``, the originals' former name, refused in one line naming the new one."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(
            "--reference is now -r/--original (the colour ground truth); "
            "a reference is a photo whose colours become cues (varcolor colorize --reference)"
        )


def score_clips(
    result: Path,
    original: Path,
    *,
    fmt: str = "md",
    output: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    max_pixels: int | None = None,
) -> int:
    """``varcolor metrics clip.mp4 -r original.mp4``: each frame's PSNR and CIEDE2000, and the
    clip's flicker, warp error and CDC (:mod:`varcolor.video.metrics`), as a table."""
    from ..video.io import open_clip
    from ..video.metrics import score_clip

    if not original.is_file() or not is_video(original):
        raise InputError(f"{original}: a clip is scored against a clip (its original, as a video file)")
    inputs = (str(result), str(original))
    check_table_output(output, overwrite, inputs)
    clips = [open_clip(path, max_pixels=max_pixels) for path in (result, original)]
    if clips[0].shape != clips[1].shape or clips[0].frame_count != clips[1].frame_count:
        raise InputError(
            f"{result}: {clips[0].frame_count} frames of {clips[0].width}×{clips[0].height}, but the original "
            f"{original} has {clips[1].frame_count} of {clips[1].width}×{clips[1].height}"
        )
    bar = tqdm(total=clips[0].frame_count, desc="metrics", unit="frame", file=sys.stderr, disable=quiet or None)
    try:
        scores = score_clip(clips[0].frames(), clips[1].frames(), progress=lambda _: bar.update())
    finally:
        bar.close()
    rows: list[dict] = [dict(row) for row in scores.frames]
    rows.append({"frame": "clip", **scores.summary()})
    if fmt == "json":
        text = to_json(rows)
    else:

        def cell(value) -> str:
            if value is None:
                return ""
            return (
                value
                if isinstance(value, str)
                else str(value)
                if isinstance(value, int)
                else ("n/a" if math.isnan(value) else f"{value:.4f}")
            )

        if fmt == "csv":
            text = to_csv(rows, list(CLIP_COLUMNS), lambda v: cell(v))
        else:
            lines = ["| " + " | ".join(CLIP_COLUMNS) + " |", "|" + "---|" * len(CLIP_COLUMNS)]
            lines += ["| " + " | ".join(cell(row.get(c)) for c in CLIP_COLUMNS) + " |" for row in rows]
            text = "\n".join(lines) + "\n"
    write_table(text, output, overwrite, inputs)
    return 0


#: A single pair of at least this many pixels shows a bar of its scoring steps.
PROGRESS_PIXELS = 4_000_000


def _pixels(path: Path, max_pixels: int | None) -> int:
    try:
        height, width = image_shape(path, max_pixels=max_pixels)
    except VarcolorError:
        return 0  # said by the job itself
    return height * width


def score_files(
    results: Path,
    originals: Path,
    *,
    ab: bool = False,
    fmt: str = "md",
    output: str | None = None,
    overwrite: bool = False,
    lpips: bool = False,
    lpips_weights: str | None = None,
    quiet: bool = False,
    max_pixels: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    max_memory: float | None = None,
    client=None,
    only: Iterable[Path] | None = None,
) -> int:
    """Score ``results`` (a file or folder) against ``originals`` and write the table to
    ``output`` (or stdout); the exit code (1 where some images could not be scored)."""
    pairs, failures, unscored = _pairs(Path(results), Path(originals))
    if only is not None:
        chosen = {identity(path) for path in only}
        pairs = [pair for pair in pairs if identity(pair[1]) in chosen]
        failures, unscored = [], []  # results that are not this run's have no original to miss
    if not pairs and not failures:
        raise InputError(f"{results}: no images found")
    single = Path(results).is_file()
    inputs = (
        str(results),
        str(originals),
        *(str(path) for _, result, original in pairs for path in (result, original)),
    )
    check_table_output(output, overwrite, inputs)  # before the work, not after it
    network = _lpips_network(lpips, lpips_weights)
    # One big pair scored here: a bar of its steps (a 20 MP pair takes a minute or more).
    steps = None
    big = single and pairs and _pixels(pairs[0][1], max_pixels) >= PROGRESS_PIXELS
    if big and not quiet and workers == 1 and scheduler is None and client is None:
        steps = tqdm(total=len(SCORE_STEPS) - (network is None), desc="scoring", unit="step", file=sys.stderr)
    jobs = [
        Job(
            [result_path, original_path],
            [],
            partial(
                _score_pair,
                result_path,
                original_path,
                ab,
                max_pixels,
                network,
                max_memory,
                None if steps is None else (lambda step: steps.update()),
            ),
        )
        for _, result_path, original_path in pairs
    ]
    names = {id(job): name for job, (name, _, _) in zip(jobs, pairs)}
    scored = {}
    bar = tqdm(total=len(jobs), desc="metrics", unit="img", file=sys.stderr, disable=quiet or single or None)
    for job, outcome, _ in batch.outcomes(jobs, workers, scheduler=scheduler, client=client):
        bar.update()
        if isinstance(outcome, VarcolorError):
            if single:
                raise InputError(str(outcome)) from None
            failures.append(str(outcome))
        else:
            scored[names[id(job)]] = outcome
    bar.close()
    if steps is not None:
        steps.close()
    rows = [{"image": name, **scored[name]} for name, _, _ in pairs if name in scored]  # in the pairs' order
    if rows:
        mean = {
            k: float(np.nanmean([r[k] for r in rows])) if not all(math.isnan(r[k]) for r in rows) else float("nan")
            for k in rows[0]
            if k != "image"
        }
        rows.append({"image": f"mean ({len(rows)})", **mean})
    write_table(_format_table(rows, fmt), output, overwrite, inputs)
    if unscored:  # a mean over fewer photos than another method's is no comparison: said
        named = ", ".join(unscored[:3]) + (", …" if len(unscored) > 3 else "")
        count = f"{len(unscored)} original{'s' if len(unscored) > 1 else ''}"
        warn(f"{originals}: {count} without a result in {results} ({named}): the mean is over the results found")
    for line in failures:
        error(line)
    return 1 if failures else 0


def _cmd_metrics(args) -> int:
    # What a clip's scoring and a folder's both take, read from the flags once.
    shared: dict[str, Any] = {
        "fmt": args.format,
        "output": args.output,
        "overwrite": args.overwrite,
        "quiet": args.quiet,
        "max_pixels": max_pixels_of(args),
    }
    if is_video(args.input):
        return score_clips(Path(args.input), Path(args.original), **shared)
    return score_files(
        Path(args.input),
        Path(args.original),
        ab=args.ab,
        lpips=args.lpips,
        lpips_weights=args.lpips_weights,
        workers=args.workers,
        scheduler=args.scheduler,
        max_memory=None if args.max_memory is None else args.max_memory * 1e9,
        **shared,
    )


def _gigabytes(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of GB, got {text}")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``metrics`` command and its options to ``commands`` (the ``varcolor`` parser's)."""
    m = commands.add_parser(
        "metrics",
        help="score results against their originals",
        description="Score result images against their originals (files, or folders matched by relative path "
        "without extension): PSNR (8-bit), SSIM, MS-SSIM, VIF, CIEDE2000 mean and 95th percentile, "
        "ab RMSE, colourfulness, and with --lpips LPIPS; one row per image plus the mean. A clip against its "
        "original clip: each frame's PSNR and CIEDE2000, and the clip's flicker, warp error and CDC. "
        "docs/metrics.md says what each measures.",
    )
    add_input(m, "RESULTS", "result image or folder")
    # The ground truth is the *original* (docs/layout.md): --reference, its former name, is refused.
    m.add_argument("--reference", action=_FormerName, nargs="?", help=argparse.SUPPRESS)
    m.add_argument(
        "-r",
        "--original",
        dest="original",
        required=True,
        metavar="ORIGINALS",
        help="the originals (the colour ground truth): an image, or a folder matched by relative path",
    )
    m.add_argument(
        "--ab", action="store_true", help="score colour only: re-light each result with its original's lightness first"
    )
    m.add_argument(
        "--lpips",
        action="store_true",
        help="add LPIPS (AlexNet, v0.1); needs the neural extra and two weight files, never downloaded",
    )
    m.add_argument(
        "--lpips-weights",
        metavar="DIR",
        help="folder holding LPIPS's weight files (default: $VARCOLOR_MODELS, then the package's; see docs/metrics.md)",
    )
    add_table_output(m, "table format (default: %(default)s)")
    add_cluster_options(m, "images")
    add_max_pixels(m)
    m.add_argument(
        "--max-memory",
        type=_gigabytes,
        metavar="GB",
        help="memory budget of scoring one pair; larger pairs are refused from their headers "
        "(default: 80%% of the memory available)",
    )
    add_quiet(m)
    m.set_defaults(func=_cmd_metrics)
