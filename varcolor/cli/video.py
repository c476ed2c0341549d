"""``varcolor colorize CLIP --cues DIR -o OUT.mp4``: a clip (video file or folder of numbered
frames) colorized from keyframe cues or the network (:mod:`varcolor.video`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from .. import sources
from ..errors import InputError, listening
from ..memory import check_memory
from ..video.formats import CHUNK_FRAMES, CODECS, VIDEO_EXTENSIONS, is_video
from .common import note, warn
from .solve_options import options_of

__all__ = ["CLIP_DEFAULTS", "add_video_options", "is_video_run", "run_video"]

#: The options only a clip takes, by name, and their defaults (a photo's run refuses them given).
CLIP_DEFAULTS: dict = {"codec": "h264", "window": 1, "fps": None, "chunk_frames": None}


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


def _colorize_video(*args, **keywords):
    from ..video import colorize_video

    return colorize_video(*args, **keywords)


def is_video_run(args: argparse.Namespace) -> bool:
    """Whether ``colorize``'s arguments name a clip: a video file, or any input with ``--cues``.

    Parameters
    ----------
    args : argparse.Namespace
        ``colorize``'s parsed arguments.
    """
    return is_video(args.input) or getattr(args, "cues", None) is not None


def _output(source: Path, output: str) -> Path:
    """-o: a video file (by its suffix); inside an existing folder (or one named with a trailing
    slash), ``<input name>.mp4``; any other name, a folder of numbered PNG frames."""
    out = Path(output)
    if out.suffix.lower() in VIDEO_EXTENSIONS:
        return out
    if output.endswith(("/", "\\")) or (out.is_dir() and not any(out.glob("frame_*.png"))):
        return out / f"{source.stem}.mp4"
    return out


def run_video(args: argparse.Namespace) -> int:
    """Colorize one clip; bad input is refused (one line, exit 2) before any frame is solved.

    Parameters
    ----------
    args : argparse.Namespace
        ``colorize``'s parsed arguments, naming a clip (:func:`is_video_run`).
    """
    from ..video import open_clip, read_cue_folder, video_memory  # FFmpeg and OpenCV: loaded for clips only
    from ..video.coarse import engine_words
    from ..video.io import open_writer
    from ..video.maps import MapFolder

    for cue_source in sources.file_sources():
        if getattr(args, cue_source.name, None) is not None:
            raise InputError(
                f"{cue_source.flag()}: a clip takes its cues as a folder: --cues DIR "
                f"(0000{cue_source.suffixes[0]}… files)"
            )
    for name in ("codec", "window"):  # (None on the parser: given at its default is told from not given)
        if getattr(args, name) is None:
            setattr(args, name, CLIP_DEFAULTS[name])
    if args.window < 1:
        raise InputError(f"--window must be at least 1, got {args.window}")
    if args.chunk_frames is not None and args.chunk_frames < 1:
        raise InputError(f"--chunk-frames must be at least 1, got {args.chunk_frames}")
    source = Path(args.input)
    clip = open_clip(source, max_pixels=args.max_pixels, fps=args.fps)
    options = options_of(args)
    check_memory(
        video_memory(clip.shape, window=args.window, options=options),
        f"{source}: {clip.width}×{clip.height} frames (window {args.window})",
        options.max_memory,
    )
    output = _output(source, args.output)
    maps = _check_maps(args, clip, options, output) if args.confidence_map is not None else None
    cues = read_cue_folder(args.cues, clip.frame_count, clip.shape, edges=args.edges) if args.cues else {}
    if getattr(args, "reference", None):
        cues = _film_cues(args, clip, cues, options)
    if not cues and not options.prior:
        raise InputError(f"{source}: no cues; give --cues DIR or --prior ideepcolor")
    try:
        if output.exists() and os.path.samefile(output, source):
            raise InputError(f"{output}: is the input; refusing to overwrite it")
    except OSError:
        pass
    if output.suffix.lower() in VIDEO_EXTENSIONS and args.codec == "h264" and (clip.width % 2 or clip.height % 2):
        raise InputError(f"{source}: H.264 (yuv420p) needs an even width and height, not {clip.width}×{clip.height}")
    chunk_frames = args.chunk_frames or CHUNK_FRAMES
    if args.resume or args.workers != 1 or args.scheduler or args.chunk_frames or clip.frame_count > chunk_frames:
        return _run_chunked(args, clip, cues, options, output, chunk_frames, maps)
    writer = open_writer(
        output,
        fps=clip.fps,
        codec=args.codec,
        overwrite=args.overwrite,
        audio_from=clip.path if clip.audio else None,
    )
    # a shot is read and its keyframes' cues made before its first frame: a step of its own, off the frames' clock
    reading = tqdm(
        total=clip.frame_count, unit="frame", desc="reading", file=sys.stderr, disable=args.quiet, leave=False
    )
    bar: tqdm | None = None
    heard: list[str] = []
    published = None if maps is None else MapFolder(maps[0], overwrite=args.overwrite, surplus=maps[1], keep=maps[2])
    try:
        with listening() as notes, writer:
            keyed = {index: _shown_as_made(cue, index, reading) for index, cue in cues.items()}
            frames = _counted(clip.frames(), reading)
            for frame in _colorize_video(frames, keyed, options, window=args.window, shape=clip.shape):
                if bar is None:
                    reading.set_postfix_str("")
                    bar = tqdm(total=clip.frame_count, unit="frame", desc="frames", file=sys.stderr, disable=args.quiet)
                writer.write(frame.rgb)
                if published is not None:
                    published.write(frame.index, frame.confidence)
                bar.update()
            heard = [note.message for note in notes if issubclass(note.category, UserWarning)]
    except BaseException:
        if published is not None:  # no output: its maps go too, and a rerun is not refused for them
            published.take_back()
        raise
    finally:
        reading.close()
        if bar is not None:
            bar.close()
    if published is not None:
        published.finish()
    for message in dict.fromkeys(heard):
        warn(f"{source}: {message}")
    if not args.quiet:
        mapped = "" if maps is None else f" and their confidence maps into {maps[0]}"
        engine = engine_words(clip.shape, options)
        note(f"colorized {writer.frame_count} frames of {source} into {output}{mapped} ({engine})")
    return 0


def _check_maps(args: argparse.Namespace, clip, options, output: Path) -> tuple[Path, list[Path], list[Path]]:
    """``--confidence-map`` of a clip, refused before any work where it cannot be written."""
    from ..app.reference import References
    from ..video.chunks import work_folder
    from ..video.maps import check_map_folder, check_restrained

    check_restrained(options)
    folder = Path(args.confidence_map)
    references = References.pool_of(args.reference) if getattr(args, "reference", None) else None
    if references is not None:
        references.check_outputs(folder, "--confidence-map")
    cues = Path(args.cues) if args.cues else None
    inputs = [clip.path, *clip._files, *(sorted(cues.iterdir()) if cues is not None and cues.is_dir() else [])]
    inputs += list(references.paths) if references is not None else []
    surplus = check_map_folder(folder, clip, output, work=work_folder(output), inputs=inputs, overwrite=args.overwrite)
    return folder, surplus, inputs


def _counted(frames, bar: tqdm):
    """``frames``, each counted on ``bar`` as it is read."""
    for frame in frames:
        bar.update()
        yield frame


def _shown_as_made(cue, index: int, bar: tqdm):
    """A keyframe's cues (a callable: read or matched when its shot reaches it) said on ``bar``
    while they are made: a pool's match can take seconds a keyframe."""
    if not callable(cue):
        return cue

    def made(gray):
        bar.set_postfix_str(f"cues of keyframe {index}")
        return cue(gray)

    return made


def _film_cues(args: argparse.Namespace, clip, cues: dict, options) -> dict:
    """The keyframes of a clip coloured from reference photos (``--reference``, once or more): in
    each shot the frames its stills verify (:mod:`varcolor.video.shots`)."""
    from ..app.reference import References, film_keyframes, film_score
    from ..color import to_gray
    from ..video.shots import find_shots

    # --reference told apart once: a clip's stills are a pool, whatever was given
    given = References.pool_of(args.reference)
    assert given is not None  # a clip's run reaches here with stills given
    stills = given.described(args.max_pixels, options.max_memory)
    pool, signatures = stills.paths, stills.signatures or ()
    # every frame is read and matched against the stills before any is solved: said, not a silent wait
    scanned = tqdm(
        clip.frames(),
        total=clip.frame_count,
        unit="frame",
        desc="matching stills",
        file=sys.stderr,
        disable=args.quiet or None,  # on a terminal only: a refusal after it stays one line
        leave=False,
    )
    shots = find_shots(scanned, film_score(signatures))
    keyed = film_keyframes(cues, shots, pool, signatures, args.max_pixels)
    if not cues and not options.prior and not any(shot.score for shot in shots):
        # no still verified on any shot: the first shot's match (a plain scene) must give colour
        first = shots[0].start
        if not keyed[first](to_gray(next(iter(clip.frames(first, first + 1))))).count:
            names = ", ".join(map(str, pool))
            raise InputError(f"{names}: match too little of {clip.path} to give colour")
    return keyed


def _run_chunked(
    args: argparse.Namespace, clip, cues, options, output: Path, chunk_frames: int, maps: tuple | None
) -> int:
    """A clip in chunks (:mod:`varcolor.video.chunks`): planned, run as batch jobs, joined."""
    from ..video.chunks import colorize_chunked, work_folder
    from ..video.coarse import engine_words

    report = colorize_chunked(
        clip,
        cues,
        options,
        output,
        chunk_frames=chunk_frames,
        codec=args.codec,
        overwrite=args.overwrite,
        resume=args.resume,
        workers=args.workers,
        scheduler=args.scheduler,
        quiet=args.quiet,
        warn=warn,
        confidence_maps=None if maps is None else maps[0],
        window=args.window,
    )
    for reason in report.redone:
        warn(f"chunk {reason}; redone")
    if report.interrupted:
        kept = len(report.done) + len(report.resumed)
        warn(
            f"interrupted: {kept} of {report.total} chunks are done and kept in {work_folder(output)}; "
            f"rerun with --resume to go on (nothing was written to {output})"
        )
        return 130
    if not args.quiet:
        resumed = f" ({len(report.resumed)} kept from an earlier run)" if report.resumed else ""
        engine = engine_words(clip.shape, options)
        mapped = "" if maps is None else f" and their confidence maps into {maps[0]}"
        note(
            f"colorized {clip.frame_count} frames of {clip.path} in {report.total} chunks{resumed} into {output}"
            f"{mapped} ({engine})"
        )
    return 0
