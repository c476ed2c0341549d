"""Long clips in chunks: each chunk of frames a :class:`varcolor.batch.Job`, run in this process,
on local workers or on a Dask cluster, kept in a work folder, then joined into the output.

A clip is cut into chunks (:func:`plan_chunks`), ending at definite scene cuts
(:func:`scan_cuts`) where they can. Shots are independent and run at once; a chunk inside a shot
starts from the exact chroma of the last frame of the chunk before it, in a later round, so its
seam is like any two frames within a chunk (a cold start with a cross-fade flickered:
docs/video.md). Each chunk reads the frames back to the keyframe before it and on to the one after,
so the cues carried are those of a run over the whole clip.

A chunk's chroma is stored as 16-bit planes in an FFV1 Matroska file in the hidden work folder
``.NAME.varcolor-chunks`` beside the output, with its last frame's solved chroma (``.npy``) and,
when asked, its confidence maps; the folder's manifest (:data:`varcolor.batch.MANIFEST`) records
what each was made from, so ``resume`` keeps the chunks whose record still holds. The join
re-reads the clip's gray frames, writes the output atomically
(:func:`varcolor.video.io.open_writer`) and removes the work folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np
from tqdm import tqdm

from .. import batch
from ..color import chroma_to_rgb, lightness_of_gray
from ..errors import InputError, OutputError, VarcolorError, listening, tell
from ..io import atomic_path, remove_stale_temporaries
from ..options import Options
from ..solvers.multiscale import coarse_shape
from .coarse import video_factor
from .colorize import LeftGray, _gray, colorize_video, video_memory
from .cues import KeyframeCue
from .flow import CUT_HISTOGRAM, histogram_distance
from .formats import CHUNK_FRAMES
from .io import Clip, open_writer
from .maps import MapFolder, check_map_folder, check_restrained, write_map

if TYPE_CHECKING:
    from ..cues import Cues

try:
    import fcntl
except ImportError:  # Windows: no lock (a second run on one output is not refused there)
    fcntl = None  # type: ignore[assignment]  # the module or None: checked before each use

__all__ = [
    "Chunk",
    "ChunkTask",
    "plan_chunks",
    "scan_cuts",
    "colorize_chunked",
    "work_folder",
    "map_file",
    "read_chunk",
    "CHUNK_FRAMES",
    "AB_SCALE",
]

#: A chunk file stores ``round(ab × AB_SCALE) + 32768``: ab to 1/32 (the output's 8 bits are far coarser).
AB_SCALE = 16
_OFFSET = 32768
_CHUNK_FILE = re.compile(r"^(chunk-\d{6,}-\d{6,}(\.mkv|-last\.npy)|confidence-\d{6,}\.png)$")
_WORK_SUFFIX = ".varcolor-chunks"
_LOCK = ".lock"


@dataclass(frozen=True)
class Chunk:
    """One chunk: the output frames ``start`` to ``stop − 1``, read from ``read[0]`` to
    ``read[1] − 1`` (the keyframes whose cues reach it); ``after`` is the index of the chunk it
    goes on from (the one before it in its shot), or None where it starts a shot."""

    start: int
    stop: int
    read: tuple[int, int]
    after: int | None = None

    @property
    def name(self) -> str:
        """Its chroma file's name in the work folder."""
        return f"chunk-{self.start:06d}-{self.stop - 1:06d}.mkv"

    @property
    def last(self) -> str:
        """The name of the file of its last frame's solved chroma (where the next chunk starts from)."""
        return f"chunk-{self.start:06d}-{self.stop - 1:06d}-last.npy"


def plan_chunks(
    frame_count: int,
    *,
    chunk_frames: int = CHUNK_FRAMES,
    cuts: Iterable[int] = (),
    keyframes: Iterable[int] = (),
) -> list[Chunk]:
    """Cut ``frame_count`` frames into chunks of at most ``chunk_frames``: consecutive shots share
    a chunk while they fit in one, a chunk ends at a scene cut where the next shot does not fit
    (``cuts``: the first frame of each new shot), and a shot longer than ``chunk_frames`` is split
    into equal parts, each going on from the one before.

    Examples
    --------
    >>> [(c.start, c.stop, c.after) for c in plan_chunks(25, chunk_frames=10)]
    [(0, 8, None), (8, 16, 0), (16, 25, 1)]
    >>> [(c.start, c.stop, c.after) for c in plan_chunks(25, chunk_frames=10, cuts=[4, 8])]
    [(0, 8, None), (8, 16, None), (16, 25, 1)]
    >>> plan_chunks(25, chunk_frames=10, keyframes=[2, 22])[1].read   # cues carried in from 2 and 22
    (2, 23)
    """
    frame_count, chunk_frames = int(frame_count), int(chunk_frames)
    if chunk_frames < 1:
        raise InputError(f"--chunk-frames must be at least 1, got {chunk_frames}")
    if frame_count < 1:
        raise InputError("the clip has no frames")
    cuts = sorted({int(c) for c in cuts if 0 < int(c) < frame_count})
    keyframes = sorted({int(k) for k in keyframes})
    borders = [0]
    for first, end in zip([0, *cuts], [*cuts, frame_count]):
        if end - borders[-1] <= chunk_frames:
            continue  # the shot fits in the chunk still open
        if first > borders[-1]:
            borders.append(first)  # the open chunk ends at this cut
        parts = -(-(end - first) // chunk_frames)
        borders += [first + (i * (end - first)) // parts for i in range(1, parts)]
    borders.append(frame_count)
    chunks: list[Chunk] = []
    for start, stop in zip(borders, borders[1:]):
        shot = max([0] + [c for c in cuts if c <= start])
        end = min([frame_count] + [c for c in cuts if c >= stop])
        before = [k for k in keyframes if shot <= k <= start]
        after = [k for k in keyframes if stop <= k < end]
        # A chunk that goes on inside a shot reads the frame before it too: the solve tells
        # whether a cut the scan could not be sure of separates them.
        first = min(before[-1] if before else start, start - 1 if start > shot else start)
        read = (first, after[0] + 1 if after else stop)
        chunks.append(Chunk(start, stop, read, len(chunks) - 1 if start > shot else None))
    return chunks


def scan_cuts(clip: Clip, *, quiet: bool = True) -> list[int]:
    """The clip's definite scene cuts (:data:`~varcolor.video.flow.CUT_HISTOGRAM`), by luminance
    histograms alone: decoding, no motion. Each is the index of a shot's first frame."""
    cuts, previous = [], None
    frames = tqdm(clip.frames(), total=clip.frame_count, unit="frame", desc="scanning", file=sys.stderr, disable=quiet)
    for index, frame in enumerate(frames):
        gray = _gray(frame, index)
        if previous is not None and histogram_distance(previous, gray) > CUT_HISTOGRAM:
            cuts.append(index)
        previous = gray
    return cuts


def _encode_ab(ab: np.ndarray) -> np.ndarray:
    stored = np.clip(np.rint(ab * AB_SCALE) + _OFFSET, 0, 65535).astype(np.uint16)
    return np.ascontiguousarray(np.concatenate([stored[..., 0], stored[..., 1]], axis=0))


def read_chunk(path: str | os.PathLike) -> Generator[np.ndarray, None, None]:
    """The chroma frames (``H×W×2`` float64) stored in a chunk file."""
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(container.streams.video[0]):
                planes = frame.to_ndarray().astype(np.float64)
                height = planes.shape[0] // 2
                yield np.stack([planes[:height], planes[height:]], axis=-1) / AB_SCALE - _OFFSET / AB_SCALE
    except av.FFmpegError as exc:
        raise InputError(f"{path}: cannot read the chunk ({exc}); rerun without --resume") from None


@dataclass(frozen=True)
class ChunkTask:
    """The work of one chunk (picklable: a Dask worker runs it): colorize its frames, going on from
    the chunk before it (``before``: its last frame's chroma file), and publish their chroma as
    ``output`` (after ``last``); with ``maps``, each frame's confidence map first, beside it
    (:func:`map_file`). Returns the warnings heard, one per line ("" for none)."""

    clip: Clip
    chunk: Chunk
    cues: Mapping[int, Cues | Callable[[np.ndarray], Cues]]
    options: Options
    keywords: Mapping[str, Any]  # colorize_video's own keywords, passed on
    output: Path
    last: Path
    before: Path | None = None
    maps: bool = False

    def __call__(self) -> str:
        chunk, clip = self.chunk, self.clip
        first, stop = chunk.read
        cues = {k - first: cue for k, cue in self.cues.items() if first <= k < stop}
        before = None
        if self.before is not None:
            try:
                before = np.load(self.before, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"{self.before}: cannot read the chunk before ({exc}); rerun without --resume"
                ) from None
        frames = clip.frames(first, stop)
        count = 0
        with listening() as heard, atomic_path(self.output) as tmp:
            with av.open(str(tmp), "w", format="matroska") as container:
                stream = container.add_stream("ffv1", rate=25)
                stream.width, stream.height, stream.pix_fmt = clip.width, 2 * clip.height, "gray16le"
                if cues or self.options.prior or before is not None:
                    made = colorize_video(
                        frames,
                        cues,
                        self.options,
                        shape=clip.shape,
                        solve=(chunk.start - first, chunk.stop - first),
                        before=before,
                        **self.keywords,
                    )
                    chroma = ((frame.ab, frame.state, frame.confidence if self.maps else None) for frame in made)
                else:  # no keyframe reaches this shot: its frames stay gray, as in a run over the clip
                    tell(LeftGray(chunk.start - first, chunk.stop - 1 - first), stacklevel=1)
                    grid = coarse_shape(clip.shape, video_factor(clip.shape, self.options))
                    chroma = (
                        (np.zeros(clip.shape + (2,)), np.zeros(grid + (2,)), np.zeros(clip.shape, np.float32))
                        for _ in range(chunk.stop - chunk.start)
                    )
                state = None  # the last frame's, where the next chunk goes on from
                for ab, solved, known in chroma:
                    state = solved
                    if self.maps and count < chunk.stop - chunk.start:
                        write_map(self.output.with_name(map_file(chunk.start + count)), known)
                    frame = av.VideoFrame.from_ndarray(_encode_ab(ab), format="gray16le")
                    for packet in stream.encode(frame):
                        container.mux(packet)
                    count += 1
                for packet in stream.encode():
                    container.mux(packet)
            if count != chunk.stop - chunk.start:
                raise InputError(
                    f"{clip.path}: frames {chunk.start}–{chunk.stop - 1} gave {count} frames (the clip changed?)"
                )
            assert state is not None  # a chunk holds a frame at least
            with atomic_path(self.last) as exact:
                with open(exact, "wb") as f:
                    np.save(f, state)
        # Frames said by their indices in the clip (the chunk counts from the first frame it read;
        # its shots are not the clip's: left out).
        said = [
            str(LeftGray(note.warning.first + first, note.warning.last + first))
            if isinstance(note.warning, LeftGray)
            else note.message
            for note in heard
            if issubclass(note.category, UserWarning)
        ]
        return "\n".join(f"{clip.path}: {message}" for message in dict.fromkeys(said))


def map_file(index: int) -> str:
    """The name of frame ``index``'s confidence map in the work folder, until the join publishes it.

    Examples
    --------
    >>> map_file(7)
    'confidence-000007.png'
    """
    return f"confidence-{index:06d}.png"


def work_folder(output: str | os.PathLike) -> Path:
    """Where a chunked run keeps its chunks: a hidden folder beside ``output``.

    Examples
    --------
    >>> work_folder("films/reel1.mp4").as_posix()
    'films/.reel1.mp4.varcolor-chunks'
    """
    output = Path(output)
    return output.with_name(f".{output.name}{_WORK_SUFFIX}")


def _check_folder(folder: Path) -> None:
    """Refuse a work folder that is not one a chunked run made: a link, a file, or a folder
    holding anything but what such a run puts there."""
    if not os.path.lexists(folder):
        return
    if folder.is_symlink() or not folder.is_dir():
        raise InputError(f"{folder}: is in the way of the chunks' work folder (not a folder varcolor made); move it")
    strangers = [
        p.name
        for p in folder.iterdir()
        if not (_CHUNK_FILE.match(p.name) or p.name in (batch.MANIFEST, _LOCK) or p.name.startswith(".varcolor-"))
        or not p.is_file()
        or p.is_symlink()
    ]
    if strangers:
        raise InputError(f"{folder}: holds {strangers[0]}, which varcolor did not write; move it away")


@contextlib.contextmanager
def _locked(folder: Path, inputs: list[Path], resume: bool):
    """The work folder, made if needed and held by this run alone (a second run on the same
    output is refused, one line); without ``resume`` what an earlier run left in it is removed.
    An input of the run inside it (a chunk file given as the clip) is refused, never removed."""
    _check_folder(folder)
    for path in inputs:
        try:
            inside = Path(path).resolve().is_relative_to(folder.resolve())
        except (OSError, RuntimeError):
            inside = False
        if inside:
            raise InputError(f"{path}: is in the work folder of this output's chunks ({folder}); copy it out first")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / _LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot make the chunks' work folder ({exc.strerror or exc})") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise InputError(
                    f"{folder}: another run is colorizing into this output now; wait for it, or choose another -o"
                ) from None
        if not resume:  # an earlier run's chunks are not trusted
            for entry in folder.iterdir():
                if entry.name != _LOCK:
                    entry.unlink()
        yield
    finally:
        os.close(fd)


def _sources(clip: Clip, chunk: Chunk, cues: Mapping[int, object], before: Path | None) -> list[Path]:
    """The files a chunk reads: the video (or its frames' files), its keyframes' cue files, and
    the last frame of the chunk it goes on from."""
    files = clip._files[chunk.read[0] : chunk.read[1]] if clip._files else [clip.path]
    files += [cue.path for k, cue in cues.items() if chunk.read[0] <= k < chunk.read[1] and hasattr(cue, "path")]
    return files + ([before] if before is not None else [])


def colorize_chunked(
    clip: Clip,
    cues: Mapping[int, object],
    options: Options,
    output: str | os.PathLike,
    *,
    chunk_frames: int = CHUNK_FRAMES,
    codec: str = "h264",
    overwrite: bool = False,
    resume: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    client=None,
    quiet: bool = True,
    warn: Callable[[str], None] | None = None,
    confidence_maps: str | os.PathLike | None = None,
    **keywords,
) -> batch.Report:
    """Colorize ``clip`` chunk by chunk (as jobs of :func:`varcolor.batch.run`) and join the
    chunks into ``output``; the module's docstring tells how.

    Parameters
    ----------
    clip : Clip
        From :func:`varcolor.video.io.open_clip`.
    cues : mapping
        Frame index → :class:`~varcolor.Cues` or a picklable callable giving them
        (:func:`varcolor.video.cues.read_cue_folder`'s).
    options : Options
    output : path-like
        A video file or a folder of frames (:func:`varcolor.video.io.open_writer`).
    chunk_frames : int
        Frames per chunk, at most.
    resume : bool
        Keep the chunks an interrupted run finished (if their records still hold).
    workers, scheduler, client :
        Where the chunks run, as :func:`varcolor.batch.run` takes them.
    confidence_maps : path-like, optional
        A folder that gets each frame's confidence map at the join (:mod:`varcolor.video.maps`;
        each chunk keeps its frames' in the work folder); checked before any work.
    keywords :
        :func:`~varcolor.video.colorize_video`'s (``window``, ``temporal``…).

    Returns
    -------
    batch.Report
        Of all its chunks' jobs; ``interrupted`` if Ctrl-C stopped it (the finished chunks are
        kept for ``resume``, nothing is written under ``output``).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib, varcolor
    >>> from varcolor.video import open_clip, write_clip
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> ramp = np.tile(np.linspace(0.2, 0.8, 24), (16, 1))
    >>> _ = write_clip(folder / "gray.mkv", [np.dstack([ramp] * 3)] * 5, codec="lossless")
    >>> key = varcolor.Cues.from_points([{"y": 8, "x": 12, "a": 30, "b": 20}], shape=(16, 24))
    >>> clip = open_clip(folder / "gray.mkv")
    >>> report = colorize_chunked(clip, {0: key}, Options(), folder / "out.mkv", chunk_frames=2, codec="lossless")
    >>> len(report.done), sorted(p.name for p in folder.iterdir())
    (3, ['gray.mkv', 'out.mkv'])
    """
    output = Path(output)
    plan_chunks(clip.frame_count, chunk_frames=chunk_frames)  # refuses a bad size now
    writer = open_writer(
        output, fps=clip.fps, codec=codec, overwrite=overwrite, audio_from=clip.path if clip.audio else None
    )  # refuses an existing output before any work
    work = work_folder(output)
    inputs = [clip.path, *clip._files, *(cue.path for cue in cues.values() if hasattr(cue, "path"))]
    maps = None
    if confidence_maps is not None:
        check_restrained(options)
        check_map_folder(confidence_maps, clip, output, work=work, inputs=inputs, overwrite=overwrite)
        maps = (Path(confidence_maps), overwrite)
    if scheduler is not None and client is None:  # before anything is written or scanned
        batch.check_scheduler(scheduler)
    with _locked(work, inputs, resume):
        report = _run(
            clip,
            cues,
            options,
            writer,
            work,
            chunk_frames,
            resume,
            workers,
            scheduler,
            client,
            quiet,
            warn,
            keywords,
            maps,
        )
    if not report.interrupted:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _run(
    clip, cues, options, writer, work, chunk_frames, resume, workers, scheduler, client, quiet, warn, keywords, maps
):
    """Plan, run the chunks' jobs round by round, join (in the locked work folder); ``maps``: the
    maps' folder, the earlier maps to remove from it, and whether those in it may be replaced."""
    cuts = scan_cuts(clip, quiet=quiet) if clip.frame_count > chunk_frames else []
    chunks = plan_chunks(clip.frame_count, chunk_frames=chunk_frames, cuts=cuts, keyframes=list(cues))
    memory = video_memory(clip.shape, window=int(keywords.get("window", 1)), options=options)
    jobs = []
    for chunk in chunks:
        before = None if chunk.after is None else work / chunks[chunk.after].last
        # its frames' maps first: its chroma file, published last, marks it whole
        its_maps = [work / map_file(index) for index in range(chunk.start, chunk.stop)] if maps else []
        jobs.append(
            batch.Job(
                inputs=_sources(clip, chunk, cues, before),
                outputs=[*its_maps, work / chunk.last, work / chunk.name],
                run=ChunkTask(
                    clip,
                    chunk,
                    dict(cues),
                    options,
                    dict(keywords),
                    work / chunk.name,
                    work / chunk.last,
                    before,
                    maps=maps is not None,
                ),
                memory=memory,
                key=Path(f"{clip.path} frames {chunk.start}-{chunk.stop - 1}"),
            )
        )
    # Flat, the method's own parameters by name: a resume with another --restraint or --factor
    # must not join chunks of both.
    shaping = {k: v for k, v in options.keywords().items() if k not in ("max_memory", "device")}
    shaping.update(keywords, chunk_frames=chunk_frames, ab_scale=AB_SCALE, format="ffv1-gray16le")
    # How the keyframes' strokes were read: a resumed run with the other rule redoes its chunks.
    shaping.update(edges=sorted({cue.edges for cue in cues.values() if isinstance(cue, KeyframeCue)}))
    # Rounds: a shot's chunks go on from one another, so the n-th chunks of all shots run together.
    depth = []
    for chunk in chunks:
        depth.append(0 if chunk.after is None else depth[chunk.after] + 1)
    report = batch.Report(len(jobs))
    bar = tqdm(total=len(jobs), unit="chunk", desc="chunks", file=sys.stderr, disable=quiet)
    # Each chunk says its gray frames; they are said once, joined, as a streamed run says them.
    gray: list[tuple[int, int]] = []

    def heard(lines: str) -> None:
        rest = []
        for line in lines.splitlines():
            left = LeftGray.read(line)
            if left is None:
                rest.append(line)
            else:
                gray.append((left.first, left.last))
        if rest and warn is not None:
            warn("\n".join(rest))

    try:
        with batch.shared_client(workers, scheduler, client) as client:  # one cluster for every round
            for level in range(max(depth) + 1):
                part = batch.run(
                    [job for job, d in zip(jobs, depth) if d == level],
                    verb="chunks",
                    overwrite=True,  # the work folder is the run's own
                    workers=workers,
                    quiet=True,
                    warn=heard,
                    scheduler=scheduler,
                    client=client,
                    manifest=work / batch.MANIFEST,
                    resume=resume,
                    options=shaping,
                    protected=[clip.path],
                )
                for name in ("done", "skipped", "failed", "redone", "resumed", "rows"):
                    getattr(report, name).extend(getattr(part, name))
                bar.update(len(part.done) + len(part.resumed))
                if part.interrupted or part.failed:
                    report.interrupted = part.interrupted
                    break
    finally:
        bar.close()
        if warn is not None:
            for first, last in _joined(gray):
                warn(f"{clip.path}: {LeftGray(first, last)}")
    if report.interrupted:
        return report
    if report.failed:
        raise VarcolorError(
            f"{report.failed[0].line} ({len(report.failed)} of {len(chunks)} chunks failed; "
            f"the finished ones are kept in {work}: rerun with --resume)"
        )
    published = None
    if maps is not None:
        folder, overwrite = maps
        published = MapFolder(folder, overwrite=overwrite, keep=[clip.path, *clip._files])
    _join(clip, chunks, work, writer, options.gamut, quiet, published)
    return report


def _joined(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` of frames (first, last), sorted, those that touch or overlap made one.

    Examples
    --------
    >>> _joined([(6, 8), (3, 5), (12, 12), (9, 10)])
    [(3, 10), (12, 12)]
    """
    out: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def _join(clip: Clip, chunks: list[Chunk], work: Path, writer, gamut: str, quiet: bool, maps: MapFolder | None) -> None:
    """Write the output from the chunk files, on the lightness of the clip's own frames, and
    publish the frames' maps kept in the work folder into ``maps``."""
    # (a killed run's, however young: a live writer holds its temporary's lock)
    remove_stale_temporaries(writer.path.parent, older_than=0, keep=[clip.path])
    bar = tqdm(total=clip.frame_count, unit="frame", desc="joining", file=sys.stderr, disable=quiet)
    stream = None
    try:
        with writer:
            frames = clip.frames()
            for chunk in chunks:
                stream = read_chunk(work / chunk.name)
                for index in range(chunk.start, chunk.stop):
                    ab = next(stream, None)
                    frame = next(frames, None)
                    if ab is None or frame is None:
                        raise InputError(f"{work / chunk.name}: ends before frame {index}; rerun without --resume")
                    writer.write(chroma_to_rgb(lightness_of_gray(_gray(frame, index)), ab, gamut))
                    if maps is not None:
                        maps.copy(index, work / map_file(index))
                    bar.update()
                stream.close()
    except BaseException:
        if maps is not None:  # nothing is under the output's name: its maps go too, and a rerun is not refused
            maps.take_back()
        raise
    finally:
        bar.close()
        if stream is not None:
            stream.close()
