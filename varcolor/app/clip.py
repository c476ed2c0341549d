"""A clip (a video file, or a folder of numbered frames with keyframe cues) colorized from typed
values: :class:`ClipOptions` (how it is solved and written) beside the run's
:class:`~varcolor.options.Options` and :class:`~varcolor.app.RunOptions`; :func:`colorize_clip` is
the one driver of ``varcolor colorize CLIP`` and of :func:`~varcolor.app.run_folder` on a clip."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .. import batch, sources
from ..common.fields import OptionValues, option
from ..common.memory import check_memory
from ..errors import InputError, listening
from ..io import IMAGE_EXTENSIONS, check_writable, remove_stale_temporaries
from ..options import Options
from ..video.formats import CHUNK_FRAMES, CODECS, VIDEO_EXTENSIONS, is_video
from .reference import given_references
from .run_options import RunOptions

__all__ = ["CLIP_DEFAULTS", "ClipOptions", "ClipReport", "colorize_clip", "is_clip", "refuse_for_clip"]


def _at_least_one(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {value}")


@dataclass(frozen=True)
class ClipOptions(OptionValues):
    """How a clip is solved and written (what only a clip takes; a photo's run refuses them):
    checked when made, one line naming the option.

    Attributes
    ----------
    codec : {"h264", "lossless"}
        The output video's codec: H.264 yuv420p at CRF 17, or lossless RGB (FFV1).
    window : int
        Frames solved together (1: each frame exactly, coupled to the one before).
    fps : float or None
        The frame rate of a folder of frames (None: 25).
    chunk_frames : int or None
        Solve the clip in chunks of at most this many frames (None: one stream where the clip is
        short and the run has no ``resume``, ``workers`` or ``scheduler``, else
        :data:`~varcolor.video.formats.CHUNK_FRAMES`).

    Examples
    --------
    >>> ClipOptions(codec="lossless").window
    1
    >>> ClipOptions(window=0)
    Traceback (most recent call last):
    varcolor.errors.InputError: --window must be at least 1, got 0
    """

    codec: str = option("h264", "output video codec", choices=CODECS)
    window: int = option(1, "frames solved together", check=_at_least_one, metavar="N")
    fps: float | None = option(None, "frame rate of a folder of frames (default: 25)")
    chunk_frames: int | None = option(None, "solve a clip in chunks of at most N frames", check=_at_least_one)


#: The options only a clip takes, by name, and their defaults (a photo's run refuses them given).
CLIP_DEFAULTS: dict = {spec.name: spec.default for spec in dataclasses.fields(ClipOptions)}


@dataclass(frozen=True)
class ClipReport:
    """What a clip's run did.

    Attributes
    ----------
    source, output : Path
        The clip and the video file (or folder of frames) written.
    frames : int
        The frames colorized.
    chunks : varcolor.batch.Report or None
        The chunks' jobs, where the clip ran in chunks.
    interrupted : bool
        Ctrl-C stopped a chunked run: the finished chunks are kept for ``resume``, nothing was
        written to ``output``.
    """

    source: Path
    output: Path
    frames: int
    chunks: batch.Report | None = None
    interrupted: bool = False

    @property
    def rows(self) -> list[dict]:
        """The run as one manifest-like record (what :func:`~varcolor.app.run_folder` returns)."""
        status = "interrupted" if self.interrupted else "done"
        return [{"input": str(self.source), "output": str(self.output), "status": status, "frames": self.frames}]


def is_clip(source: str | os.PathLike, cue_folder: str | os.PathLike | None = None) -> bool:
    """Whether a ``colorize`` run is a clip's: a video file, or any input with a keyframe cue folder.

    Parameters
    ----------
    source : path
        The run's input.
    cue_folder : path, optional
        The keyframes' cue folder (``--cues DIR``).
    """
    return is_video(source) or cue_folder is not None


def refuse_for_clip(run: RunOptions, cue_kind: str | None = None) -> None:
    """Refuse what a clip would take and ignore, before any work: how a photo is written (its bits,
    profile, folder extension), which layers of a layered photo are read, and cue files
    (``--marked``…: a clip's cues are a folder).

    Parameters
    ----------
    run : RunOptions
        The run's options.
    cue_kind : str, optional
        The kind of cue files given (a registered source's name: ``marked``…).

    Raises
    ------
    InputError
        One line naming the option.
    """
    given = [("--bits", run.bits), ("--profile", run.profile)]
    given += [("--layer", run.layer), ("--strokes-layer", run.strokes_layer)]
    if run.ext != RunOptions.ext:
        given.append(("--ext", run.ext))
    for flag, value in given:
        if value is not None:
            raise InputError(f"{flag}: an option of photos; a clip is written as --codec writes it (8-bit sRGB)")
    for cue_source in sources.file_sources():
        if cue_kind == cue_source.name:
            raise InputError(
                f"{cue_source.flag()}: a clip takes its cues as a folder: --cues DIR "
                f"(0000{cue_source.suffixes[0]}… files)"
            )


def _output(source: Path, output: str) -> Path:
    """-o: a video file (by its suffix); inside an existing folder (or one named with a trailing
    slash), ``<input name>.mp4``; any other name, a folder of numbered PNG frames."""
    out = Path(output)
    if out.suffix.lower() in VIDEO_EXTENSIONS:
        return out
    if out.suffix.lower() in IMAGE_EXTENSIONS and not out.is_dir():  # (a folder named x.png was made of it)
        raise InputError(
            f"{output}: a clip is written as a video file ({', '.join(VIDEO_EXTENSIONS)}) or a folder of frames, "
            f"not a {out.suffix} image"
        )
    if output.endswith(("/", "\\")) or (out.is_dir() and not any(out.glob("frame_*.png"))):
        return out / f"{source.stem}.mp4"
    return out


def _check_frames_hold_no_input(out: Path, inputs: list) -> None:
    """A folder of frames is replaced as a whole: refused where it holds an input of the run (a
    reference still named as a frame was deleted with it)."""
    from ..io.atomic import inside

    if out.suffix.lower() in VIDEO_EXTENSIONS or not out.is_dir():
        return
    for given in inputs:
        if given is not None and inside(given, out):
            raise InputError(f"{out}: holds {given}, an input of this run; give another folder for the frames")


def _check_output(out: Path, source: Path, opened, clip: ClipOptions, run: RunOptions, inputs: list) -> None:
    """Refuse, before any cue is read or matched, an output the run could not publish: the input
    itself, a folder of frames holding an input, a pipe or device, one that exists without
    ``--overwrite``, or H.264 of odd-sized frames."""
    from ..video.io import open_writer

    try:
        if out.exists() and os.path.samefile(out, source):
            raise InputError(f"{out}: is the input; refusing to overwrite it")
    except OSError:
        pass
    _check_frames_hold_no_input(out, inputs)
    video = out.suffix.lower() in VIDEO_EXTENSIONS
    if video:
        check_writable(out, image=False)
    open_writer(out, fps=opened.fps, codec=clip.codec, overwrite=run.overwrite)  # its own checks; opens nothing
    if video and clip.codec == "h264" and (opened.width % 2 or opened.height % 2):
        raise InputError(
            f"{source}: H.264 (yuv420p) needs an even width and height, not {opened.width}×{opened.height}"
        )


def colorize_clip(
    source: str | os.PathLike,
    output: str | os.PathLike,
    options: Options,
    run: RunOptions,
    clip: ClipOptions | None = None,
    *,
    cues: str | os.PathLike | None = None,
    reference: str | os.PathLike | list | None = None,
    client=None,
    warn: Callable[[str], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> ClipReport:
    """Colorize one clip into a video file or a folder of frames: bad input is refused (one line)
    before any frame is solved; a long clip, or one run with ``resume``, ``workers`` or
    ``scheduler``, goes in chunks (:mod:`varcolor.video.chunks`).

    Parameters
    ----------
    source : path
        A video file, or a folder of numbered frames.
    output : path
        A video file (by its suffix); an existing folder (or a name ending in a slash):
        ``<source name>.mp4`` in it; any other name: a folder of numbered PNG frames.
    options, run : Options, RunOptions
        How to colorize and how the run goes (``run.confidence_map``: a folder of each frame's
        confidence map).
    clip : ClipOptions, optional
        How the clip is solved and written (default: :class:`ClipOptions`'s defaults).
    cues : path, optional
        The keyframes' cue folder (``0000_marked.png``, ``0012.points.json``…).
    reference : path or list of paths, optional
        Colour stills of the film: each shot's keyframes are coloured from those they verify.
    client : dask.distributed.Client, optional
        Run a chunked clip's chunks on this client's cluster.
    warn, note : callable, optional
        Told each warning (``"<source>: ..."``) and the closing summary of the run.

    Returns
    -------
    ClipReport
        What the run did.

    Raises
    ------
    InputError
        Bad input, before any frame is solved.
    """
    from ..video import open_clip, read_cue_folder, video_memory  # FFmpeg and OpenCV: loaded for clips only

    clip = clip if clip is not None else ClipOptions()
    source = Path(source)
    opened = open_clip(source, max_pixels=run.max_pixels, fps=clip.fps)
    check_memory(
        video_memory(opened.shape, window=clip.window, options=options),
        f"{source}: {opened.width}×{opened.height} frames (window {clip.window})",
        options.max_memory,
    )
    out = _output(source, os.fspath(output))
    _check_output(out, source, opened, clip, run, [source, cues, *(given_references(reference) or ())])
    maps = _check_maps(run, opened, options, out, cues, reference) if run.confidence_map is not None else None
    keyed = read_cue_folder(cues, opened.frame_count, opened.shape, edges=run.edges) if cues else {}
    if reference:
        keyed = _film_cues(run, opened, keyed, options, reference)
    if not keyed and not options.prior:
        raise InputError(f"{source}: no cues; give --cues DIR or --prior ideepcolor")
    chunk_frames = clip.chunk_frames or CHUNK_FRAMES
    chunked = run.resume or run.workers != 1 or run.scheduler or clip.chunk_frames
    if chunked or opened.frame_count > chunk_frames:
        return _run_chunked(opened, keyed, options, run, clip, out, chunk_frames, maps, client, warn, note)
    return _run_streamed(opened, keyed, options, run, clip, out, maps, warn, note)


def _run_streamed(opened, keyed, options, run, clip, output: Path, maps, warn, note) -> ClipReport:
    """A clip as one stream: each frame written as soon as it is solved."""
    from ..video.coarse import engine_words
    from ..video.io import open_writer
    from ..video.maps import MapFolder

    source = opened.path
    writer = open_writer(
        output, fps=opened.fps, codec=clip.codec, overwrite=run.overwrite,
        audio_from=opened.path if opened.audio else None,
    )  # fmt: skip
    # (a killed run's, however young: a live writer holds its temporary's lock)
    remove_stale_temporaries(writer.path.parent, older_than=0, keep=[opened.path])
    # a shot is read and its keyframes' cues made before its first frame: a step of its own, off the frames' clock
    reading = tqdm(
        total=opened.frame_count, unit="frame", desc="reading", file=sys.stderr, disable=run.quiet, leave=False
    )
    bar: tqdm | None = None
    heard: list[str] = []
    published = None if maps is None else MapFolder(maps[0], overwrite=run.overwrite, keep=maps[1])
    try:
        with listening() as notes, writer:
            shown = {index: _shown_as_made(cue, index, reading) for index, cue in keyed.items()}
            frames = _counted(opened.frames(), reading)
            for frame in _colorize_video(frames, shown, options, window=clip.window, shape=opened.shape):
                if bar is None:
                    reading.set_postfix_str("")
                    bar = tqdm(
                        total=opened.frame_count, unit="frame", desc="frames", file=sys.stderr, disable=run.quiet
                    )
                writer.write(frame.rgb)
                if published is not None:
                    published.write(frame.index, frame.confidence)
                bar.update()
            heard = [told.message for told in notes if issubclass(told.category, UserWarning)]
    except BaseException:
        if published is not None:  # no output: its maps go too, and a rerun is not refused for them
            published.take_back()
        raise
    finally:
        reading.close()
        if bar is not None:
            bar.close()
    for message in dict.fromkeys(heard):
        if warn is not None:
            warn(f"{source}: {message}")
    if note is not None:
        mapped = "" if maps is None else f" and their confidence maps into {maps[0]}"
        engine = engine_words(opened.shape, options)
        note(f"colorized {writer.frame_count} frames of {source} into {output}{mapped} ({engine})")
    return ClipReport(source, output, writer.frame_count)


def _colorize_video(*args, **keywords):
    """:func:`varcolor.video.colorize_video`, imported when a clip runs (tests replace it here)."""
    from ..video import colorize_video

    return colorize_video(*args, **keywords)


def _check_maps(run: RunOptions, opened, options, output: Path, cues, reference) -> tuple:
    """``confidence_map`` of a clip, refused before any work where it cannot be written."""
    from ..video.chunks import work_folder
    from ..video.maps import check_map_folder, check_restrained
    from .reference import References

    check_restrained(options)
    assert run.confidence_map is not None  # (asked for: the caller checks)
    folder = Path(run.confidence_map)
    references = References.pool_of(reference) if reference else None
    if references is not None:
        references.check_outputs(folder, "--confidence-map")
    cue_folder = Path(cues) if cues else None
    inputs = [opened.path, *opened._files]
    inputs += sorted(cue_folder.iterdir()) if cue_folder is not None and cue_folder.is_dir() else []
    inputs += list(references.paths) if references is not None else []
    work = work_folder(output)
    check_map_folder(folder, opened, output, work=work, inputs=inputs, overwrite=run.overwrite)
    return folder, inputs


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


def _film_cues(run: RunOptions, opened, cues: dict, options, reference) -> dict:
    """The keyframes of a clip coloured from reference photos (``--reference``, once or more): in
    each shot the frames its stills verify (:mod:`varcolor.video.shots`)."""
    from ..color import to_gray
    from ..video.shots import find_shots
    from .reference import References, film_keyframes, film_score

    # the references told apart once: a clip's stills are a pool, whatever was given
    given = References.pool_of(reference)
    assert given is not None  # a clip's run reaches here with stills given
    stills = given.described(run.max_pixels, options.max_memory)
    pool, signatures = stills.paths, stills.signatures or ()
    # every frame is read and matched against the stills before any is solved: said, not a silent wait
    scanned = tqdm(
        opened.frames(),
        total=opened.frame_count,
        unit="frame",
        desc="matching stills",
        file=sys.stderr,
        disable=run.quiet or None,  # on a terminal only: a refusal after it stays one line
        leave=False,
    )
    shots = find_shots(scanned, film_score(signatures))
    keyed = film_keyframes(cues, shots, pool, signatures, run.max_pixels)
    if not cues and not options.prior and not any(shot.score for shot in shots):
        # no still verified on any shot: the first shot's match (a plain scene) must give colour
        first = shots[0].start
        if not keyed[first](to_gray(next(iter(opened.frames(first, first + 1))))).count:
            names = ", ".join(map(str, pool))
            raise InputError(f"{names}: match too little of {opened.path} to give colour")
    return keyed


def _run_chunked(
    opened, cues, options, run: RunOptions, clip: ClipOptions, output: Path, chunk_frames: int, maps, client, warn, note
) -> ClipReport:
    """A clip in chunks (:mod:`varcolor.video.chunks`): planned, run as batch jobs, joined."""
    from ..video.chunks import colorize_chunked, work_folder
    from ..video.coarse import engine_words

    report = colorize_chunked(
        opened,
        cues,
        options,
        output,
        chunk_frames=chunk_frames,
        codec=clip.codec,
        overwrite=run.overwrite,
        resume=run.resume,
        workers=run.workers,
        scheduler=run.scheduler,
        client=client,
        quiet=run.quiet,
        warn=warn,
        confidence_maps=None if maps is None else maps[0],
        window=clip.window,
    )
    for reason in report.redone:
        if warn is not None:
            warn(f"chunk {reason}; redone")
    if report.interrupted:
        kept = len(report.done) + len(report.resumed)
        if warn is not None:
            warn(
                f"interrupted: {kept} of {report.total} chunks are done and kept in {work_folder(output)}; "
                f"rerun with --resume to go on (nothing was written to {output})"
            )
        return ClipReport(opened.path, output, 0, report, interrupted=True)
    if note is not None:
        resumed = f" ({len(report.resumed)} kept from an earlier run)" if report.resumed else ""
        engine = engine_words(opened.shape, options)
        mapped = "" if maps is None else f" and their confidence maps into {maps[0]}"
        note(
            f"colorized {opened.frame_count} frames of {opened.path} in {report.total} chunks{resumed} into {output}"
            f"{mapped} ({engine})"
        )
    return ClipReport(opened.path, output, opened.frame_count, report)
