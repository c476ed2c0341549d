"""``varcolor encode``, ``decode`` and ``recolor``: colour images to IRs (a gray PNG and a few
hundred bytes of cues) and back, one image at a time through :mod:`varcolor.ir.files`."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from .. import batch, methods
from ..batch import Job
from ..errors import InputError, VarcolorError
from ..io import image_shape, walk_images
from ..ir.decode import payload_cues
from ..ir.encode import ENCODERS, EncodeOptions
from ..ir.files import (
    GRAYS,
    PLOT_SUFFIX,
    encode_bytes,
    encode_file,
    ir_outputs,
    is_complete,
    read_ir,
)
from .colorize import colorize_and_write, read_checked, solve_memory
from .common import (
    add_input,
    add_output_options,
    check_ext,
    check_folders,
    check_outputs,
    error,
    finish,
    is_file,
    output_options,
    run,
    run_report,
    single_output,
)
from .metrics import score_files
from .solve_options import add_field, add_solve_options

#: The encoder of ``encode`` and ``recolor`` unless ``-e`` names another.
ENCODER = "adaptive"
#: What each cue method (encoder) is, for ``--help``.
ENCODER_HELP = (
    "adaptive: decode, add cues where the error is largest, stop at --budget bytes or "
    "--target-psnr (the best quality per byte); grid: every --spacing cells of the cue grid; "
    "grid-exclude: the grid without points in regions of one colour; selective: one point per SLIC "
    "superpixel (--segments); grid+selective: both; global: no points, the image's ab histogram and "
    "saturation, for a network with a global-hints branch; stock: no cues at all, the gray image "
    "alone (a baseline)"
)


def _deprecated_encoder(parser: argparse.ArgumentParser, option: str, value: str, namespace) -> None:
    if value not in ENCODERS:
        parser.error(f"argument {option}: invalid choice: {value!r} (choose from {', '.join(ENCODERS)})")
    print(
        f"varcolor: warning: {option} {value} names the encoder, which is now -e/--encoder {value}; "
        f"{option} will mean the colorization method",
        file=sys.stderr,
    )
    namespace.encoder = value


class _EncoderOnly(argparse.Action):
    """``encode -m/--method NAME``: the encoder's old spelling."""

    def __call__(self, parser, namespace, value, option_string=None):
        _deprecated_encoder(parser, option_string, value, namespace)


class _MethodOrEncoder(argparse.Action):
    """``recolor -m NAME``: the colorization method, or (the old spelling, encoder names and method
    names being disjoint) the encoder."""

    def __call__(self, parser, namespace, value, option_string=None):
        if value in methods.names():
            namespace.method = value
        elif value in ENCODERS and option_string == "-m":
            _deprecated_encoder(parser, option_string, value, namespace)
        else:
            parser.error(f"argument -m/--method: invalid choice: {value!r} (choose from {', '.join(methods.names())})")


# ---------------------------------------------------------------- encode


def encode_options_of(args: argparse.Namespace) -> EncodeOptions:
    """The :class:`~varcolor.ir.encode.EncodeOptions` the parsed arguments give (made once, then kept)."""
    options = getattr(args, "encode_options", None)
    if options is None:
        fields = {name: getattr(args, name) for name in EncodeOptions.names() if name != "encoder"}
        options = args.encode_options = EncodeOptions.build(encoder=args.encoder, **fields)
    return options


def _encode_options(args) -> dict:
    """The keyword arguments of :func:`varcolor.ir.files.encode_file` that ``args`` set."""
    return {
        "options": encode_options_of(args),
        "embed": args.embed,
        "plot": args.plot,
        "bits": args.bits,
        "gray": args.gray,
        "overwrite": args.overwrite,
        "max_pixels": args.max_pixels,
        "max_memory": getattr(args, "max_memory", None),
    }


def _encode_one(source: Path, gray_path: Path, options: dict) -> str:
    encode_file(source, gray_path, **options)
    return ""


def plan_encode(
    source: Path, output: Path, args, settled_before: float | None = None, skip: tuple[Path, ...] = ()
) -> list[Job]:
    """Encode jobs for every image under ``source`` into ``output`` (only files unchanged since
    ``settled_before``, when given: a file still being copied is left for later), none from
    ``output`` or the folders ``skip`` names."""
    if source.is_file():
        items = [(source, output / f"{source.stem}.png")]
    else:
        check_folders(source, output)
        items = [
            (source / rel, (output / rel).with_suffix(".png"))
            for rel in walk_images(source, skip=[output, *skip])
            if not rel.name.endswith(PLOT_SUFFIX)
        ]
    options = _encode_options(args)
    on_dask = batch.on_dask(args.workers, args.scheduler)
    jobs = []
    for image, gray_path in items:
        if settled_before is not None and image.stat().st_mtime > settled_before:
            continue
        fail = None
        if not args.overwrite and is_file(gray_path) and not is_complete(gray_path):
            fail = (
                f"{gray_path}: exists but is not a complete IR (no payload beside or inside it; an interrupted "
                "run?); kept: use --overwrite to replace it"
            )
        memory = 0
        if on_dask:
            try:
                memory = encode_bytes(image_shape(image), options["options"].encoder)
            except VarcolorError:
                pass
        jobs.append(
            Job(
                [image],
                ir_outputs(gray_path, embed=args.embed, plot=args.plot),
                partial(_encode_one, image, gray_path, options),
                fail=fail,
                memory=memory,
            )
        )
    return jobs


def _cmd_encode(args) -> int:
    if args.watch:
        return _watch_encode(args)
    source = Path(args.input)
    jobs = plan_encode(source, Path(args.output), args)
    check_outputs(jobs, args.bits)
    return run(jobs, "encoded", args, source=source, output=args.output, single=source.is_file())


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
            jobs = [
                job
                for job in plan_encode(source, Path(args.output), args, settled_before=time.time() - 1.0)
                if job.inputs[0] not in failed and not os.path.lexists(job.outputs[-1])
            ]
            ready, _, refused = batch.check(jobs, overwrite=args.overwrite)
            for line in refused:
                error(line)
            failed.update(job.inputs[0] for job in jobs if job not in ready)
            for job in ready:
                outcome, _ = batch._attempt(job.run)
                if isinstance(outcome, VarcolorError):  # reported once, not retried until it changes
                    failed.add(job.inputs[0])
                    error(str(outcome))
                else:
                    done += 1
                    if not args.quiet:
                        print(f"varcolor: encoded {job.inputs[0]}", file=sys.stderr)
            time.sleep(args.watch_interval)
    except KeyboardInterrupt:
        print(f"varcolor: stopped watching ({done} encoded)", file=sys.stderr)
        return 0


# ---------------------------------------------------------------- decode


def _decode_one(gray_path: Path, output: Path, args) -> str:
    payload = read_ir(gray_path)
    gray = read_checked(gray_path, args)
    try:
        cues = payload_cues(payload, gray=gray)
    except VarcolorError as exc:
        raise InputError(f"{gray_path}: {exc}") from None
    return colorize_and_write(gray_path, gray, cues, output, args, payload.global_hints())


def plan_decode(source: Path, output: str, ext: str, args) -> list[Job]:
    """Decode jobs for the IR ``source`` (a gray PNG, or a folder of IRs) into ``output``."""
    if source.is_file():
        items = [(source, single_output(source, output, ext))]
    else:
        check_folders(source, Path(output))
        items = [
            (source / rel, (Path(output) / rel).with_suffix(ext))
            for rel in walk_images(source, skip=[Path(output)])
            if not rel.name.endswith(PLOT_SUFFIX)
        ]
    # A PNG without its payload is no IR (or one whose encoding was interrupted): a failure,
    # not a silent skip; decoding it says which.
    return [_decode_job(gray_path, out, args) for gray_path, out in items]


def _decode_job(gray_path: Path, out: Path, args, **named) -> Job:
    """The job decoding the IR ``gray_path`` into ``out`` (``named``: :class:`Job` fields)."""
    return Job(
        [gray_path, gray_path.with_suffix(".vcir")],
        [out],
        partial(_decode_one, gray_path, out, args),
        memory=solve_memory(gray_path, args),
        **named,
    )


def _cmd_decode(args) -> int:
    check_ext(args.ext)
    source = Path(args.input)
    jobs = plan_decode(source, args.output, args.ext, args)
    check_outputs(jobs, args.bits)
    return run(jobs, "decoded", args, source=source, output=args.output, single=source.is_file())


# ---------------------------------------------------------------- recolor


def _cmd_recolor(args) -> int:
    """encode + decode + metrics in one go (automatic-recolorization's recolor.py)."""
    source, output = Path(args.input), Path(args.output)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    temporary = None if args.ir else tempfile.mkdtemp(prefix="varcolor-ir-")
    ir_dir = Path(args.ir or temporary)
    photos = [source] if source.is_file() else [source / rel for rel in walk_images(source, skip=[output, ir_dir])]
    try:
        with batch.shared_client(args.workers, args.scheduler):  # one cluster for all three steps
            return _recolor_steps(args, source, output, photos, ir_dir)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


def _recolor_steps(args, source: Path, output: Path, photos: list[Path], ir_dir: Path) -> int:
    single = source.is_file()
    if not single:
        check_folders(source, output)
    encode_jobs = plan_encode(source, ir_dir, args, skip=(output,))
    if not encode_jobs:
        raise InputError(f"{source}: no images found")
    check_outputs(encode_jobs, args.bits)
    # Decode only the IRs of this run's photos (never a photo itself, where --ir is the photos'
    # folder), and write over none of the photos. The manifest names each decoding by its photo
    # (the IR may be in a temporary folder), made from the photo as it is before encoding.
    photo_files = {batch.identity(photo) for photo in photos}
    pairs = []
    for job in encode_jobs:
        gray_path = job.outputs[-1]
        if batch.identity(gray_path) in photo_files:
            continue
        if single:
            out = single_output(gray_path, args.output, ".png")
        else:
            out = (output / gray_path.relative_to(ir_dir)).with_suffix(".png")
        decode = _decode_job(gray_path, out, args, key=job.inputs[0])
        decode.sources = None if single else batch.provenance(job.inputs[:1])
        pairs.append((job, decode))
    # With --resume, a photo whose recolored output is finished is not encoded again either.
    finished = set()
    if args.resume and not single:
        recorded = batch.finished(output / batch.MANIFEST, [d for _, d in pairs], options=output_options(args))
        finished = {id(job) for job in recorded}
    needless = {id(job) for job, decode in pairs if id(decode) in finished}
    to_encode = [job for job in encode_jobs if id(job) not in needless]
    codes, encoded = [], None
    if to_encode:
        encoded = run_report(to_encode, "encoded", args, source=source, output=ir_dir, single=single, protected=photos)
        codes.append(finish(encoded, "encoded", args.quiet))
        if encoded.interrupted:
            return codes[-1]
    made_here = {id(job) for job in (encoded.done + encoded.resumed if encoded else [])}
    decode_jobs = []
    for job, decode in pairs:
        if id(decode) in finished:
            decode_jobs.append(decode)  # skipped by the run, which says so
        elif is_file(job.outputs[-1]):
            if id(job) not in made_here:  # an IR that an earlier run left: made from it, not from the photo
                decode.sources = None
            decode_jobs.append(decode)
    decoded = None
    if decode_jobs:
        check_outputs(decode_jobs, args.bits)
        decoded = run_report(
            decode_jobs, "decoded", args, source=ir_dir, output=output, single=single, protected=photos
        )
        codes.append(finish(decoded, "decoded", args.quiet))
        if decoded.interrupted:
            return codes[-1]
    if output.exists():
        codes.append(
            score_files(
                output,
                source,
                quiet=args.quiet,
                max_pixels=args.max_pixels,
                workers=args.workers,
                scheduler=args.scheduler,
            )
        )
    if args.delete_gray and decoded is not None and encoded is not None:
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
        if gray_path in ours and batch.identity(gray_path) not in inputs and is_file(gray_path):
            gray_path.unlink()
            deleted += 1
    if not quiet:
        print(f"varcolor: deleted {deleted} IR gray image(s) written and decoded by this run", file=sys.stderr)


# ---------------------------------------------------------------- parsers


def _add_encode_options(p: argparse.ArgumentParser) -> None:
    """Options of the encoder (encode, recolor)."""
    p.set_defaults(encodes=True)
    p.add_argument(
        "-e",
        "--encoder",
        default=ENCODER,
        choices=ENCODERS,
        metavar="ENCODER",
        help=f"cue method: {ENCODER_HELP} (default: %(default)s)",
    )
    for spec in dataclasses.fields(EncodeOptions):
        if spec.name != "encoder":  # -e/--encoder, above
            add_field(p, spec, EncodeOptions, spec.default)
    p.add_argument(
        "--gray", default="lightness", choices=GRAYS, help="gray image: same CIE lightness (default) or Rec.601 luma"
    )
    p.add_argument("--embed", action="store_true", help="put the payload inside the gray PNG (no .vcir file)")
    p.add_argument("--plot", action="store_true", help="also write NAME.cues.png: the cues drawn over the gray image")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    e = commands.add_parser(
        "encode",
        help="colour image -> gray PNG + a few hundred bytes of cues (.vcir)",
        description="Encode colour images (a file or a folder, recursively) as their same-lightness gray PNG "
        "plus a .vcir cue payload (docs/vcir.md), or one PNG with the payload embedded (--embed).",
    )
    add_input(e, "IN", "colour image or folder")
    e.add_argument("-o", "--output", required=True, metavar="IR_DIR", help="output folder")
    _add_encode_options(e)
    e.add_argument(
        "-m", "--method", action=_EncoderOnly, dest="encoder", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )  # the old spelling of -e
    e.add_argument("--bits", type=int, default=8, choices=[8, 16], help="bits per sample of the gray PNG")
    e.add_argument("--watch", action="store_true", help="keep encoding new images that appear in IN until Ctrl-C")
    e.add_argument("--watch-interval", type=float, default=2.0, metavar="S", help="seconds between looks (default: 2)")
    add_output_options(e, ext=False)
    e.set_defaults(func=_cmd_encode)

    d = commands.add_parser(
        "decode",
        help="gray PNG + .vcir (or embedded payload) -> colour image",
        description="Decode IRs (a gray PNG with NAME.vcir beside it or its payload embedded; a file or a "
        "folder, recursively) back to colour with a varcolor solver.",
    )
    add_input(d, "IR", "IR gray image or folder")
    d.add_argument("-o", "--output", required=True, metavar="OUT", help="output file or folder")
    add_solve_options(d, space=False)
    add_output_options(d, ext=True)
    d.set_defaults(func=_cmd_decode)

    r = commands.add_parser(
        "recolor",
        help="encode + decode + metrics in one go",
        description="Encode colour images to IRs (-e/--encoder: the cue method), decode them back "
        "(-m/--method: the colorization method) and score the results against the originals (a file "
        "or a folder, recursively).",
    )
    add_input(r, "IN", "colour image or folder")
    r.add_argument("-o", "--output", required=True, metavar="OUT", help="decoded image (file input) or folder")
    r.add_argument("--ir", metavar="IR_DIR", help="keep the IRs here (default: a temporary folder)")
    r.add_argument(
        "--delete-gray", action="store_true", help="delete each IR gray image once its decoded output is written"
    )
    _add_encode_options(r)
    add_solve_options(r, space=False, method_action=_MethodOrEncoder)
    add_output_options(r, ext=False)
    r.set_defaults(func=_cmd_recolor, watch=False)
