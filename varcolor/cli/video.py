"""``varcolor colorize CLIP --cues DIR -o OUT.mp4``: a clip (video file or folder of numbered
frames) colorized from keyframe cues or the network (:mod:`varcolor.video`)."""

from __future__ import annotations

import argparse

from .. import sources
from ..app.clip import CLIP_DEFAULTS, ClipOptions, colorize_clip, is_clip, refuse_for_clip
from ..video.formats import CHUNK_FRAMES, CODECS
from .common import note, run_options_of, warn
from .solve_options import options_of

__all__ = ["CLIP_DEFAULTS", "add_video_options", "is_video_run", "run_video"]


def add_video_options(p: argparse.ArgumentParser) -> None:
    """The options only a clip takes (``colorize`` offers them beside the still ones).

    Parameters
    ----------
    p : argparse.ArgumentParser
        ``colorize``'s parser.
    """
    group = p.add_argument_group("video (INPUT a .mp4/.mkv/.mov/.avi file, or a folder of numbered frames with --cues)")
    keyframes = sources.get("keyframes")
    group.add_argument("--cues", metavar=keyframes.metavar, help=keyframes.help)
    group.add_argument(
        "--codec",
        choices=CODECS,
        help=f"output video codec: H.264 yuv420p at CRF 17, or lossless RGB (default: {CLIP_DEFAULTS['codec']})",
    )
    group.add_argument(
        "--window",
        type=int,
        metavar="N",
        help="frames solved together (1: each frame exactly, coupled to the one before; default: "
        f"{CLIP_DEFAULTS['window']})",
    )
    group.add_argument(
        "--fps", type=float, default=CLIP_DEFAULTS["fps"], help="frame rate of a folder of frames (default: 25)"
    )
    group.add_argument(
        "--chunk-frames",
        type=int,
        default=CLIP_DEFAULTS["chunk_frames"],
        metavar="N",
        help=f"solve a clip in chunks of at most N frames (ending at scene cuts where it can), kept in a hidden "
        f"folder beside the output until joined; chunks of different shots run in parallel with --workers or "
        f"--scheduler, and --resume keeps the chunks an interrupted run finished (default: {CHUNK_FRAMES}; a "
        "shorter clip without those options is solved as one stream)",
    )


def is_video_run(args: argparse.Namespace) -> bool:
    """Whether ``colorize``'s arguments name a clip: a video file, or any input with ``--cues``.

    Parameters
    ----------
    args : argparse.Namespace
        ``colorize``'s parsed arguments.
    """
    return is_clip(args.input, getattr(args, "cues", None))


def clip_options_of(args: argparse.Namespace) -> ClipOptions:
    """The :class:`~varcolor.app.ClipOptions` the parsed arguments give (those not given: defaults).

    Parameters
    ----------
    args : argparse.Namespace
        ``colorize``'s parsed arguments.
    """
    # (None on the parser: given at its default is told from not given, which a photo's run refuses)
    given = {name: getattr(args, name) for name in CLIP_DEFAULTS if getattr(args, name, None) is not None}
    return ClipOptions.build(**given)


def run_video(args: argparse.Namespace) -> int:
    """Colorize one clip (:func:`varcolor.app.colorize_clip`); bad input is refused (one line,
    exit 2) before any frame is solved.

    Parameters
    ----------
    args : argparse.Namespace
        ``colorize``'s parsed arguments, naming a clip (:func:`is_video_run`).
    """
    settings = run_options_of(args)
    kinds = [source.name for source in sources.file_sources() if getattr(args, source.name, None) is not None]
    refuse_for_clip(settings, kinds[0] if kinds else None)
    clip = clip_options_of(args)
    report = colorize_clip(
        args.input,
        args.output,
        options_of(args),
        settings,
        clip,
        cues=args.cues,
        reference=getattr(args, "reference", None),
        warn=warn,
        note=None if settings.quiet else note,
    )
    return 130 if report.interrupted else 0
