"""Reading and writing clips: video files through PyAV (FFmpeg's libraries) and folders of
numbered frames.

A clip is read as a :class:`Clip`: its size, frame rate and frame count from the header (checked
before any pixel is decoded, so a corrupt, truncated or unknown file is refused early), and its
frames as ``H×W×3`` floats in [0, 1], one at a time (:meth:`Clip.frames`), so a long film never
sits in memory. A video is written by :class:`VideoWriter` under a temporary name beside its
destination and renamed into place only when every frame is in (``varcolor.io.atomic_path``): an
error or Ctrl-C leaves nothing under the final name. A folder of frames is written into a
temporary folder and renamed as a whole.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import InputError, OutputError, OutputExists, tell
from ..io import IMAGE_EXTENSIONS, MAX_PIXELS, atomic_path, image_shape, read_image, write_image
from ..io.atomic import folder_mode
from .formats import CODECS, VIDEO_EXTENSIONS, is_video

__all__ = [
    "VIDEO_EXTENSIONS",
    "CODECS",
    "Clip",
    "open_clip",
    "is_video",
    "VideoWriter",
    "FrameFolderWriter",
    "frame_name",
    "open_writer",
    "write_clip",
]

#: Frame rate of a folder of frames (it stores none) unless told.
FOLDER_FPS = 25.0
_MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mkv": "matroska", ".mov": "mov", ".avi": "avi", ".webm": "webm"}
_NUMBER = re.compile(r"(\d+)(?!.*\d)")  # the last run of digits in a name


@dataclass
class Clip:
    """A clip on disk: what its header says, and its frames on demand.

    Attributes
    ----------
    path : Path
    width, height : int
    fps : Fraction
        Frames per second (a folder of frames: :data:`FOLDER_FPS` unless given).
    frame_count : int
        Frames in the clip (a video's, counted by demuxing it: no frame is decoded).
    audio : bool
        Whether it has an audio track (kept on writing with :func:`write_clip` / ``audio_from``).
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frame_count: int
    audio: bool = False
    _files: list[Path] = field(default_factory=list, repr=False)
    _pts: list[int] = field(default_factory=list, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)``."""
        return self.height, self.width

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """The frames ``start`` to ``stop`` (default: the end), each ``H×W×3`` float64 in [0, 1] (RGB).

        A video is entered at ``start`` by seeking to the key frame before it (frames are told by
        their time stamps, which :func:`open_clip` recorded), so a chunk late in a long film does
        not decode the film before it.

        Raises :class:`~varcolor.errors.InputError` naming the file where a frame cannot be
        decoded, or the clip ends before its header's frame count.

        Parameters
        ----------
        start : int, optional
            The first frame (default 0).
        stop : int, optional
            The frame after the last (default None: the clip's end; a larger one is taken as the end).
        """
        stop = self.frame_count if stop is None else min(int(stop), self.frame_count)
        if self._files:
            for index, file in enumerate(self._files[start:stop], start):
                image = read_image(file, max_pixels=None)
                if image.shape[:2] != self.shape:
                    raise InputError(
                        f"{file}: frame {index} is {image.shape[1]}×{image.shape[0]}, the first is "
                        f"{self.width}×{self.height}"
                    )
                if image.ndim == 2:
                    image = np.repeat(image[..., None], 3, axis=2)
                yield image[..., :3]
            return
        yield from self._decode(start, stop)

    def _decode(self, start: int, stop: int) -> Iterator[np.ndarray]:
        damaged: list[int] = []  # frames the decoder flagged as corrupt: concealed, shown as if whole
        try:
            yield from self._frames_of_file(start, stop, damaged)
        finally:  # also where the reader stops early: the frames it was given are told of
            if damaged:
                _warn_damaged(damaged)

    def _frames_of_file(self, start: int, stop: int, damaged: list[int]) -> Iterator[np.ndarray]:
        count: int | None = 0
        # Frame k is the one with the k-th smallest time stamp; without stamps, frames are counted.
        order = {pts: k for k, pts in enumerate(self._pts)} if len(self._pts) == self.frame_count else None
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                if start > 0 and order is not None:
                    container.seek(self._pts[start], stream=stream, backward=True, any_frame=False)
                    count = None  # counted by time stamps from here
                for position, frame in enumerate(container.decode(stream)):
                    index = position if count is not None or order is None else order.get(frame.pts, -1)
                    if count is not None:
                        count += 1
                    if index < start:
                        continue
                    if index >= stop:
                        return
                    if frame.is_corrupt:
                        damaged.append(index)
                    rgb = frame.to_ndarray(format="rgb24")
                    if rgb.shape[:2] != self.shape:
                        raise InputError(f"{self.path}: frame {index} changes size to {rgb.shape[1]}×{rgb.shape[0]}")
                    yield rgb / 255.0
                    start = index + 1  # a frame is yielded once, in order
        except av.FFmpegError as exc:
            raise InputError(f"{self.path}: cannot decode frame {start} ({_reason(exc)})") from None
        if start < stop:
            raise InputError(f"{self.path}: only {start} of {self.frame_count} frames could be decoded (truncated?)")


def _warn_damaged(frames: list[int]) -> None:
    """One warning line for the frames of a clip whose data was damaged: FFmpeg conceals the loss
    (from neighbouring blocks and frames) and decodes on, so the run goes on too, but says so."""
    shown = ", ".join(map(str, frames[:5])) + (f" and {len(frames) - 5} more" if len(frames) > 5 else "")
    tell(
        f"{len(frames)} frame(s) damaged in the file, concealed by the decoder (frame {shown}); "
        "the result shows the damage",
        UserWarning,
        stacklevel=3,
    )


def open_clip(path: str | os.PathLike, *, max_pixels: int | None = MAX_PIXELS, fps: float | None = None) -> Clip:
    """Open a video file or a folder of numbered frames, from headers alone.

    Parameters
    ----------
    path : path-like
        An ``.mp4``, ``.mkv``, ``.mov``, ``.avi`` (any codec FFmpeg decodes) or a folder of images
        whose names end in a frame number (``frame_0001.png``, ``7.png``: any zero padding),
        taken in the order of that number.
    max_pixels : int or None
        Refuse frames of more pixels than this.
    fps : float, optional
        The frame rate of a folder of frames (default :data:`FOLDER_FPS`).

    Raises
    ------
    InputError
        Missing, not a video, a codec FFmpeg cannot decode, no frames, truncated (fewer packets
        than the header declares), frames of different sizes or with gaps in their numbers.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.mp4")
    >>> _ = write_clip(path, [np.full((16, 24, 3), v) for v in (0.2, 0.5, 0.8)], fps=10)
    >>> clip = open_clip(path)
    >>> clip.shape, clip.frame_count, clip.fps
    ((16, 24), 3, Fraction(10, 1))
    """
    path = Path(path)
    if path.is_dir():
        return _open_folder(path, max_pixels, fps)
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context
            if codec is None or codec.name is None:
                raise InputError(f"{path}: unknown video codec")
            width, height = int(codec.width), int(codec.height)
            if width < 2 or height < 2:
                raise InputError(f"{path}: the video is {width}×{height}; frames must be at least 2×2")
            if max_pixels is not None and width * height > max_pixels:
                raise InputError(f"{path}: {width}×{height} frames are more than {max_pixels:,} pixels")
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            declared = int(stream.frames or 0)
            audio = bool(container.streams.audio)
            seconds = container.duration / av.time_base if container.duration else None
            tick = float(stream.time_base) if stream.time_base else None
            # Count the packets (demuxing reads no pixel): a truncated file has fewer than it declares.
            timed = [(packet.pts, packet.duration) for packet in container.demux(stream) if packet.size]
            stamps = [pts for pts, _ in timed]
            packets = len(stamps)
    except InputError:
        raise
    except (av.FFmpegError, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise InputError(f"{path}: not a video FFmpeg can read ({_reason(exc)})") from None
    if packets == 0:
        raise InputError(f"{path}: the video has no frames")
    if declared and packets < declared:
        raise InputError(f"{path}: truncated: {packets} of the {declared} frames its header declares")
    if not rate or rate <= 0:
        raise InputError(f"{path}: the video has no frame rate")
    shown = _shown(timed, tick)
    if not declared and seconds and shown is not None:  # no frame count (Matroska): its frames' own times tell
        end, step = shown
        if end < seconds - 1.5 * step:
            raise InputError(
                f"{path}: truncated: its {packets} frames end at {end:.2f} s, its duration is {seconds:.2f} s"
            )
        if abs(packets / end - float(rate)) > 0.01 * float(rate):  # variable frame rate: its mean, as MP4 gives it
            rate = Fraction(packets / end).limit_denominator(1001)
    elif not declared and seconds:  # no usable times either: its duration at its rate tells
        expected = int(round(seconds * float(rate)))
        if packets < expected - 1:
            raise InputError(
                f"{path}: truncated: {packets} frames where its duration of {seconds:.2f} s needs {expected}"
            )
    if fps is not None:
        rate = _rate(fps)
    stamps = sorted(stamps) if None not in stamps and len(set(stamps)) == packets else []
    return Clip(path, width, height, Fraction(rate), declared or packets, audio, _pts=stamps)


def _shown(timed: list[tuple[int | None, int | None]], tick: float | None) -> tuple[float, float] | None:
    """When a clip's frames stop showing, in seconds from its first, and its typical frame's time,
    from its packets' ``(pts, duration)`` in the stream's ``tick`` (seconds); None where they
    cannot tell (a frame without a time, two at one time)."""
    stamps = sorted(pts for pts, _ in timed if pts is not None)
    if not tick or len(stamps) != len(timed) or len(set(stamps)) != len(stamps):
        return None
    steps = np.diff(stamps)
    step = float(np.median(steps)) if steps.size else 0.0
    last = next((duration for pts, duration in timed if pts == stamps[-1]), None)
    step = step or float(last or 0)
    if step <= 0:
        return None
    return (stamps[-1] - stamps[0] + (last or step)) * tick, step * tick


def _open_folder(path: Path, max_pixels: int | None, fps: float | None) -> Clip:
    numbered = []
    for entry in path.iterdir():
        if entry.is_file() and entry.suffix.lower() in IMAGE_EXTENSIONS and not entry.name.startswith("."):
            match = _NUMBER.search(entry.stem)
            if match is None:
                raise InputError(f"{entry}: a frame's name must end in its number (frame_0001.png)")
            numbered.append((int(match.group(1)), entry))
    if not numbered:
        raise InputError(f"{path}: no numbered frames in this folder")
    numbered.sort()
    numbers = [n for n, _ in numbered]
    if len(set(numbers)) != len(numbers):
        twice = next(n for n in numbers if numbers.count(n) > 1)
        raise InputError(f"{path}: two frames numbered {twice}")
    gaps = [b for a, b in zip(numbers, numbers[1:]) if b != a + 1]
    if gaps:
        raise InputError(f"{path}: frame {gaps[0] - 1} is missing (frames {numbers[0]}–{numbers[-1]})")
    height, width = image_shape(numbered[0][1], max_pixels=max_pixels)
    if min(height, width) < 2:
        raise InputError(f"{numbered[0][1]}: frames must be at least 2×2")
    return Clip(path, width, height, _rate(fps or FOLDER_FPS), len(numbered), False, [f for _, f in numbered])


def _rate(fps: float) -> Fraction:
    if not (np.isfinite(fps) and 0 < fps <= 1000):
        raise InputError(f"the frame rate must be a number in (0, 1000], got {fps}")
    return Fraction(fps).limit_denominator(1001)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0][:160] if text else type(exc).__name__


# ---------------------------------------------------------------- writing


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype == np.uint8:
        return np.ascontiguousarray(frame[..., :3])
    if not np.all(np.isfinite(frame)):
        raise InputError("a frame has non-finite values; nothing is written")
    return np.ascontiguousarray(np.clip(np.rint(frame[..., :3] * 255.0), 0, 255).astype(np.uint8))


class VideoWriter:
    """Write frames into a video file, published atomically when :meth:`close` succeeds.

    Use as a context manager: an exception (or Ctrl-C) inside it removes the temporary file and
    leaves nothing under ``path`` (an existing file there is untouched)."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        fps: float | Fraction,
        codec: str = "h264",
        overwrite: bool = False,
        audio_from: str | os.PathLike | None = None,
    ):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in _MUXERS or suffix == ".webm":
            raise InputError(f"{self.path}: write video as .mp4, .mkv, .mov or .avi")
        if codec not in CODECS:
            raise InputError(f"unknown codec {codec!r}; available: {', '.join(CODECS)}")
        if not overwrite and os.path.lexists(self.path):
            raise OutputExists(f"{self.path}: exists; kept (use --overwrite to replace it)")
        self.fps = fps if isinstance(fps, Fraction) else _rate(float(fps))
        self.codec, self.overwrite, self.audio_from = codec, overwrite, audio_from
        self._atomic = atomic_path(self.path, overwrite=overwrite)
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._audio: tuple[av.container.InputContainer, av.AudioStream, av.AudioStream] | None = None
        self.frame_count = 0

    def __enter__(self) -> VideoWriter:
        tmp = self._atomic.__enter__()
        try:
            self._container = av.open(str(tmp), "w", format=_MUXERS[self.path.suffix.lower()])
        except BaseException as exc:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def _open_stream(self, height: int, width: int) -> None:
        assert self._container is not None  # inside `with`
        lossless = self.codec == "lossless"
        if lossless and self.path.suffix.lower() == ".avi":
            stream = self._container.add_stream("ffv1", rate=self.fps)
            stream.pix_fmt = "bgr0"
        elif lossless:
            stream = self._container.add_stream("libx264rgb", rate=self.fps, options={"qp": "0", "preset": "medium"})
            stream.pix_fmt = "rgb24"
        else:
            if height % 2 or width % 2:
                raise InputError(
                    f"H.264 in yuv420p needs an even width and height, not {width}×{height}: use --codec lossless"
                )
            stream = self._container.add_stream("libx264", rate=self.fps, options={"crf": "17", "preset": "medium"})
            stream.pix_fmt = "yuv420p"
        stream.width, stream.height = width, height
        self._stream = stream
        if self.audio_from is not None:  # every stream must exist before the first packet is written
            self._audio = self._audio_stream()

    def write(self, frame: np.ndarray) -> None:
        """Append one ``H×W×3`` frame (floats in [0, 1], or uint8)."""
        pixels = _to_uint8(frame)
        if self._stream is None:
            self._open_stream(*pixels.shape[:2])
        elif pixels.shape[:2] != (self._stream.height, self._stream.width):
            raise InputError(f"frame {self.frame_count} is {pixels.shape[1]}×{pixels.shape[0]}, not the clip's size")
        assert self._container is not None and self._stream is not None  # inside `with`, opened above
        video_frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.frame_count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._container is not None  # set by __enter__
        try:
            if exc_type is None:
                if self._stream is None:
                    raise InputError(f"{self.path}: no frames to write")
                for packet in self._stream.encode():
                    self._container.mux(packet)
                if self._audio is not None:
                    self._copy_audio(*self._audio)
            self._container.close()
        except BaseException as failure:
            self._close_quietly()
            self._atomic.__exit__(type(failure), failure, failure.__traceback__)
            if isinstance(failure, av.FFmpegError):
                raise OutputError(f"{self.path}: cannot write video ({_reason(failure)})") from None
            raise
        self._atomic.__exit__(exc_type, exc, tb)

    def _close_quietly(self) -> None:
        assert self._container is not None  # set by __enter__
        try:
            self._container.close()
        except (av.FFmpegError, OSError, ValueError):
            pass
        finally:
            if self._audio is not None:
                self._audio[0].close()

    def _audio_stream(self) -> tuple[av.container.InputContainer, av.AudioStream, av.AudioStream] | None:
        """(the source, its audio stream, the output's copy of it), or None where the source has
        no audio or the output container cannot hold its codec (the output then has no sound)."""
        try:
            source = av.open(str(self.audio_from))
        except av.FFmpegError:
            return None
        if not source.streams.audio:
            source.close()
            return None
        audio = source.streams.audio[0]
        assert self._container is not None  # inside `with`
        try:
            return source, audio, self._container.add_stream_from_template(audio)
        except (av.FFmpegError, ValueError):
            source.close()
            return None

    def _copy_audio(self, source: av.container.InputContainer, audio: av.AudioStream, out: av.AudioStream) -> None:
        """Copy the audio packets as they are (no re-encoding)."""
        assert self._container is not None  # inside `with`
        with source:
            for packet in source.demux(audio):
                if packet.dts is None:
                    continue
                packet.stream = out
                self._container.mux(packet)
        self._audio = None


#: A frame's file as :func:`frame_name` names it (six digits or more).
_FRAME_FILE = re.compile(r"^frame_\d{6,}\.png$")


def frame_name(index: int, digits: int = 6) -> str:
    """The name of frame ``index`` (from 0) in a folder of frames varcolor writes: a clip's
    frames (:class:`FrameFolderWriter`) and its confidence maps (:mod:`varcolor.video.maps`).

    Examples
    --------
    >>> frame_name(12)
    'frame_000012.png'
    """
    return f"frame_{index:0{digits}d}.png"


class FrameFolderWriter:
    """Write frames as ``frame_000000.png``… into a folder, published as a whole: the frames go
    into a temporary folder beside it, renamed into place when :meth:`__exit__` succeeds."""

    def __init__(self, path: str | os.PathLike, *, overwrite: bool = False, bits: int = 8, digits: int = 6):
        self.path, self.overwrite, self.bits, self.digits = Path(path), overwrite, bits, digits
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"{self.path}: is a file; frames are written into a folder")
        if self.path.exists() and any(self.path.iterdir()) and not overwrite:
            raise OutputExists(f"{self.path}: exists and is not empty; kept (use --overwrite to replace it)")
        self._check_only_frames()
        self.frame_count = 0
        self._tmp: Path | None = None

    def _check_only_frames(self) -> None:
        """Refuse to replace a folder that holds anything but frames: ``--overwrite`` replaces the
        frames of an earlier run, never the clip, its cues or anything else put there."""
        if not self.path.is_dir():
            return
        other = sorted(
            entry.name
            for entry in self.path.iterdir()
            if not (_FRAME_FILE.match(entry.name) and entry.is_file() and not entry.is_symlink())
        )
        if other:
            more = f" and {len(other) - 3} more" if len(other) > 3 else ""
            raise OutputError(
                f"{self.path}: holds more than frames ({', '.join(other[:3])}{more}); not replaced, even with "
                "--overwrite: give a new or empty folder for the frames"
            )

    def __enter__(self) -> FrameFolderWriter:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = Path(tempfile.mkdtemp(prefix=".varcolor-", suffix=".frames", dir=self.path.parent))
            self._tmp.chmod(folder_mode())  # (mkdtemp's is 0700: the folder a plain mkdir would make)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write ({exc.strerror or exc})") from None
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append one ``H×W×3`` frame (floats in [0, 1], or uint8) as the next numbered PNG, at the
        writer's ``bits``."""
        assert self._tmp is not None  # inside `with`
        name = self._tmp / frame_name(self.frame_count, self.digits)
        write_image(name, frame if frame.dtype != np.uint8 else frame / 255.0, bits=self.bits)
        self.frame_count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._tmp is not None  # set by __enter__
        try:
            if exc_type is None:
                if self.frame_count == 0:
                    raise InputError(f"{self.path}: no frames to write")
                if self.path.exists():
                    if not self.overwrite and any(self.path.iterdir()):
                        raise OutputExists(f"{self.path}: exists; kept (use --overwrite to replace it)")
                    self._check_only_frames()  # (again: something may have been put there meanwhile)
                    old = self.path.with_name(self._tmp.name + ".old")
                    os.rename(self.path, old)
                    os.rename(self._tmp, self.path)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.rename(self._tmp, self.path)
        except OSError as failure:
            raise OutputError(f"{self.path}: cannot write ({failure.strerror or failure})") from None
        finally:
            if self._tmp is not None and self._tmp.exists():
                shutil.rmtree(self._tmp, ignore_errors=True)


def open_writer(
    path: str | os.PathLike,
    *,
    fps: float | Fraction,
    codec: str = "h264",
    overwrite: bool = False,
    audio_from: str | os.PathLike | None = None,
) -> VideoWriter | FrameFolderWriter:
    """A writer for ``path``: a video file by its suffix, else a folder of numbered PNG frames."""
    if Path(path).suffix.lower() in VIDEO_EXTENSIONS:
        return VideoWriter(path, fps=fps, codec=codec, overwrite=overwrite, audio_from=audio_from)
    return FrameFolderWriter(path, overwrite=overwrite)


def write_clip(
    path: str | os.PathLike,
    frames,
    *,
    fps: float | Fraction = FOLDER_FPS,
    codec: str = "h264",
    overwrite: bool = False,
    audio_from: str | os.PathLike | None = None,
) -> int:
    """Write an iterable of ``H×W×3`` frames to a video file or a frame folder, atomically;
    returns the number of frames written.

    Parameters
    ----------
    path : path-like
        A video file (``.mp4``, ``.mkv``, ``.mov`` or ``.avi``), else a folder of numbered PNG frames
        (``frame_000000.png``...).
    frames : iterable of ndarray
        The frames, each ``H×W×3`` (floats in [0, 1], or uint8), all of one size.
    fps : float or Fraction
        Frames per second of a video file (a folder stores none).
    codec : str
        A video file's codec, one of :data:`CODECS`.
    overwrite : bool
        Replace an existing file, or a folder that is not empty (otherwise it is kept and
        :class:`OutputExists` raised).
    audio_from : path-like, optional
        A video whose first audio track is copied into a video file, where its container can hold the
        codec; a folder gets none.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> folder = os.path.join(tempfile.mkdtemp(), "frames")
    >>> write_clip(folder, [np.zeros((4, 6, 3)), np.ones((4, 6, 3))])
    2
    >>> sorted(os.listdir(folder))
    ['frame_000000.png', 'frame_000001.png']
    """
    with open_writer(path, fps=fps, codec=codec, overwrite=overwrite, audio_from=audio_from) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.frame_count
