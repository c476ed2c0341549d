"""Colorizing a clip: shots, cues carried along the flow, and the sliding space-time solve.

Each frame's gray goes into a buffer on disk until a scene cut (:func:`varcolor.video.flow.is_cut`)
or the end closes the shot. A shot's keyframe cues are then carried backward and forward along
its motion (soft cues that fade with distance) and it is solved window by window
(:mod:`varcolor.video.spacetime`), each window coupled to the last frame written: memory is
bounded by the window, the disk buffer by the longest shot.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import methods
from ..color import chroma_to_rgb, lightness_of_gray, to_gray
from ..common.memory import check_memory
from ..cues import Cues
from ..errors import InputError, tell
from ..methods import build_options
from ..methods.levin_multiscale import unrestrained_because
from ..options import AUTOMATIC, Options
from ..restraint import Reach, Restraint
from ..solvers.choice import estimate_bytes
from ..solvers.direct import DirectSolver
from .coarse import make_grid, video_factor
from .flow import Motion, is_cut, motion
from .spacetime import TEMPORAL, Diverged, WindowSystem, frame_rows

__all__ = [
    "VideoFrame",
    "colorize_video",
    "restrained",
    "video_memory",
    "CARRY_WEIGHT",
    "CARRY_DECAY",
    "PRIOR_STRENGTH",
]

#: β of a carried cue one frame from its keyframe (it then fades by :data:`CARRY_DECAY` a frame).
CARRY_WEIGHT = 1.0
#: A carried cue's weight is multiplied by this at every frame it travels.
CARRY_DECAY = 0.9
#: A cue is carried to a pixel only if their luminances differ by less than this (0–1 scale).
CARRY_LUMA = 0.08
#: β of the network's per-frame guess in automatic video (``prior="ideepcolor"``): its share of a
#: row against the neighbours in space and time, which average its flicker away.
PRIOR_STRENGTH = 0.1
#: Bytes per pixel and frame of a window besides the LU: the rows (spatial and two temporal
#: stencils), gray, cue fields, right-hand sides and the Krylov vectors.
_WINDOW_BYTES_PER_PIXEL = 9 * 8 * 3 + 16 + 8 + 40 + 16 * 12


@dataclass(frozen=True, eq=False)
class VideoFrame:
    """One colorized frame.

    Attributes
    ----------
    index : int
        The frame's place in the clip, from 0.
    rgb : ndarray, ``H×W×3``
        The colour frame, in [0, 1].
    ab : ndarray, ``H×W×2``
        Its chroma (CIE a, b).
    info : dict
        What its solve did: index, shot, whether a keyframe, carried cue pixels, the window's
        iterations and residual, the ``engine`` that ran and its block ``factor``, whether it was
        ``restrained``.
    state : ndarray or None
        The chroma the next frame's solve goes on from (``before`` of :func:`colorize_video`): on the
        block grid with ``levin-multiscale``, else ``ab`` itself unrestrained.
    reach : Reach or None
        How far the cues carried to the frame reach (:class:`varcolor.restraint.Reach`), which its
        colour was scaled by; None where the clip is not restrained (``restraint="off"``,
        ``levin``, the network) or no cue reached the frame.
    """

    index: int
    rgb: np.ndarray
    ab: np.ndarray
    info: dict = field(default_factory=dict)
    state: np.ndarray | None = None
    reach: Reach | None = field(default=None, repr=False)

    @property
    def confidence(self) -> np.ndarray | None:
        """``H×W`` float32 in [0, 1]: how firmly each pixel's colour is fixed by the cues carried
        to the frame (:attr:`varcolor.Result.confidence`; 1 on its hard cues), made when asked;
        zeros where no cue reached a restrained frame, None where the clip is not restrained."""
        if self.reach is None:
            return np.zeros(self.ab.shape[:2], np.float32) if self.info.get("restrained") else None
        return self.reach.confidence()


def restrained(options: Options) -> bool:
    """Whether a clip colorized with ``options`` is restrained, so that its frames have a
    :attr:`VideoFrame.confidence` (:func:`~varcolor.methods.levin_multiscale.unrestrained_because`).

    Examples
    --------
    >>> restrained(Options()), restrained(Options(method="levin"))
    (True, False)
    """
    return unrestrained_because(options) is None


def video_memory(shape: tuple[int, int], *, window: int = 1, options: Options | None = None) -> int:
    """Peak memory (bytes) :func:`colorize_video` needs for frames of ``shape`` with ``options``
    (default: the defaults): it depends on the window, not on the clip's length.

    Parameters
    ----------
    shape : tuple of int
        The frames' ``(H, W)``.
    window : int
        Frames solved together (as :func:`colorize_video` takes it): the need grows with it.
    options : Options, optional
        The colorization's options (its method sets the block grid the frames are solved on);
        None: the defaults.

    Examples
    --------
    >>> video_memory((720, 1280)) < video_memory((720, 1280), window=4)
    True
    >>> video_memory((720, 1280)) < video_memory((720, 1280), options=Options(method="levin"))
    True
    """
    factor = video_factor(shape, options if options is not None else Options())
    pixels = int(shape[0]) * int(shape[1])
    grid = int(shape[0] // factor + 1) * int(shape[1] // factor + 1) if factor > 1 else pixels
    need = int(window) * (estimate_bytes("direct", grid) + grid * _WINDOW_BYTES_PER_PIXEL)
    if factor > 1:  # and each frame of the window at full resolution: gray, cues, lift, a tile's LU
        need += int(window) * pixels * (8 + 16 + 16 + 24 + 40) + estimate_bytes("direct", 256 * 256)
    return need


class _ShotBuffer:
    """A shot's gray frames and motion, on disk (bounded memory whatever the shot's length)."""

    def __init__(self, root: Path):
        self.folder = Path(tempfile.mkdtemp(prefix="shot-", dir=root))
        self.count = 0
        self.start = 0

    def add(self, gray: np.ndarray) -> None:
        np.save(self.folder / f"g{self.count}.npy", gray)
        self.count += 1

    def gray(self, k: int) -> np.ndarray:
        return np.load(self.folder / f"g{k}.npy")

    def save_motion(self, k: int, found: Motion) -> None:
        np.save(self.folder / f"m{k}.npy", np.stack([found.forward, found.backward]).astype(np.int32))

    def motion(self, k: int) -> Motion:
        """The motion from frame k to k+1."""
        both = np.load(self.folder / f"m{k}.npy").astype(np.int64)
        return Motion(both[0], both[1])

    def save_carried(self, k: int, carried) -> None:
        mask, ab, age, dots = carried
        np.savez(self.folder / f"c{k}.npz", mask=mask, ab=ab.astype(np.float32), age=age, dots=dots)

    def carried(self, k: int):
        path = self.folder / f"c{k}.npz"
        if not path.exists():
            return None
        with np.load(path) as data:
            return data["mask"], data["ab"].astype(np.float64), data["age"], data["dots"]

    def clear(self, start: int) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir()
        self.count, self.start = 0, start


def _carry(carried, targets: np.ndarray, here: np.ndarray, there: np.ndarray):
    """Cues of the frame ``there`` brought to the frame ``here``: each pixel of ``here`` takes the
    cue at its ``targets`` pixel (if trusted and of similar luminance). A carried cue is ``(mask,
    ab, age, dots)``: its pixels, colours, frames travelled, and which of them are point hints."""
    if carried is None:
        return None
    mask, ab, age, dots = carried
    q = targets.ravel()
    ok = q >= 0
    index = np.where(ok, q, 0)
    moved = ok & mask.ravel()[index] & (np.abs(here.ravel() - there.ravel()[index]) < CARRY_LUMA)
    if not moved.any():
        return None
    shape = here.shape
    return (
        moved.reshape(shape),
        np.where(moved[:, None], ab.reshape(-1, 2)[index], 0.0).reshape(shape + (2,)),
        np.where(moved, age.ravel()[index] + 1, 0).reshape(shape).astype(np.int32),
        (moved & dots.ravel()[index]).reshape(shape),
    )


def _key(cue: Cues) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    dots = cue.points if cue.points is not None else np.zeros(cue.shape, bool)
    return cue.mask, cue.ab, np.zeros(cue.shape, np.int32), dots


def _nearer(first, second):
    """Per pixel, the cue from the nearer keyframe (smaller age)."""
    if first is None:
        return second
    if second is None:
        return first
    take = second[0] & (~first[0] | (second[2] < first[2]))
    return (
        first[0] | second[0],
        np.where(take[..., None], second[1], first[1]),
        np.where(take, second[2], first[2]),
        np.where(take, second[3], first[3]),
    )


def colorize_video(
    frames: Iterable[np.ndarray],
    cues: Mapping[int, Cues | Callable[[np.ndarray], Cues]] | None = None,
    options: Options | None = None,
    /,
    *,
    temporal: float = TEMPORAL,
    window: int = 1,
    overlap: int = 0,
    carry_weight: float = CARRY_WEIGHT,
    carry_decay: float = CARRY_DECAY,
    prior_strength: float = PRIOR_STRENGTH,
    workdir: str | os.PathLike | None = None,
    shape: tuple[int, int] | None = None,
    solve: tuple[int, int] | None = None,
    before: np.ndarray | None = None,
    **keywords,
) -> Iterator[VideoFrame]:
    """Colorize a clip from cues on a few keyframes (or, with ``prior="ideepcolor"``, from the
    network's per-frame guesses), frame by frame, without flicker.

    Parameters
    ----------
    frames : iterable of ndarray
        The clip's frames in order: ``H×W`` gray or ``H×W×3`` colour (its same-lightness gray is
        used), floats in [0, 1]. Read lazily: a generator over a long film is fine.
    cues : mapping
        Frame index → :class:`~varcolor.Cues`, or a callable taking that frame's gray pixels and
        returning them (:func:`varcolor.video.cues.read_cue_folder` gives those).
    options : Options, optional
        As :func:`varcolor.colorize`'s (``prior``, ``gamut``, ``tol``, ``max_memory``, ``maxiter``
        apply); or keywords. The method: ``levin-multiscale`` (the default: the system solved on
        block means, :mod:`varcolor.video.coarse`, with its ``factor``, ``margin``, ``radius``
        and ``eps``; its ``restraint``: each frame's colour scaled by the reach of the cues
        carried to it, :mod:`varcolor.restraint`, unless the network is on) or ``levin`` (the
        exact full-resolution solve, unrestrained).
    temporal : float
        Weight of the neighbours in the adjacent frames against the spatial ones (0: each frame
        alone, the still method with carried cues).
    window, overlap : int
        Frames solved together, and how many of them are solved again by the next window (1 and 0:
        each frame solved exactly, coupled to the one written before it).
    carry_weight, carry_decay : float
        β of a keyframe cue carried along the flow one frame away, and its fade per frame;
        ``carry_weight=inf`` makes carried cues hard cues.
    prior_strength : float
        β of the network's per-frame guess (automatic video).
    workdir : path-like, optional
        Where the shot buffer goes (default: the system's temporary folder); removed at the end.
    shape : (H, W), optional
        The frames' size if known, to refuse a clip too big for the memory budget before the first
        frame is read.
    solve : (first, stop), optional
        Solve and yield only the frames ``first`` to ``stop − 1`` (default: all). The frames
        around them are still read: their motion carries the cues of keyframes outside the range
        into it, as in a run over the whole clip; the first frame solved has no frame before it
        (how :mod:`varcolor.video.chunks` splits a long clip).
    before : ndarray, optional
        With ``solve``: the :attr:`VideoFrame.state` of frame ``first − 1`` as a run over more of
        the clip solved it (``H×W×2``, or on the block grid with ``levin-multiscale``); frame
        ``first`` goes on from it (unless a cut separates them), so that the frames solved are
        those of that run.

    Yields
    ------
    VideoFrame
        In order, as soon as each frame's window is solved; a shot's first frame after the whole
        shot has been read.

    Examples
    --------
    >>> import numpy as np, varcolor
    >>> frames = [np.tile(np.linspace(0.2, 0.8, 24), (16, 1))] * 3
    >>> key = varcolor.Cues.from_points([{"y": 8, "x": 12, "a": 30, "b": 20}], shape=(16, 24))
    >>> out = list(colorize_video(frames, {0: key}))
    >>> len(out), bool(abs(out[2].ab[8, 12, 0] - 30) < 1)   # the cue's colour holds in frame 2
    (3, True)
    """
    options = build_options(options, **keywords)
    if not methods.get(options.method).video or options.space != "lab":
        # The method solves Levin's system; a clip's is the space-time one, solved by windows of frames.
        raise InputError("video colorization uses Levin's method in Lab (the space-time Levin system)")
    for name, value in (("temporal", temporal), ("carry_weight", carry_weight), ("prior_strength", prior_strength)):
        if not (isinstance(value, (int, float)) and value >= 0 and not math.isnan(value)):
            raise InputError(f"{name} must be a non-negative number, got {value}")
    if not (0 < carry_decay <= 1):
        raise InputError(f"carry_decay must be in (0, 1], got {carry_decay}")
    if int(window) < 1 or not (0 <= int(overlap) < int(window)):
        raise InputError(f"need window >= 1 and 0 <= overlap < window, got {window} and {overlap}")
    if solve is not None and not (0 <= int(solve[0]) < int(solve[1])):
        raise InputError(f"solve must be a range (first, stop) with 0 <= first < stop, got {solve}")
    cues = dict(cues or {})
    if before is not None and (solve is None or int(solve[0]) < 1):
        raise InputError("before: the chroma of the frame before the first solved, so solve must start after frame 0")
    if not cues and not options.prior and before is None:
        raise InputError("no cues: give cues on at least one keyframe, or prior='ideepcolor'")
    if shape is not None:
        check_memory(
            video_memory(shape, window=window, options=options), f"a {shape[1]}×{shape[0]} clip", options.max_memory
        )
    network = None
    if options.prior:
        from ..neural.weights import load

        network = load(options.network_file, mask_cent=options.mask_cent)
    solver = _ShotSolver(options, cues, network, temporal, int(window), int(overlap), carry_weight, carry_decay)
    solver.prior_strength = prior_strength
    if solve is not None:
        solver.solve = (int(solve[0]), int(solve[1]))
    if before is not None:
        solver.before = np.asarray(before, dtype=np.float64)
    root = Path(tempfile.mkdtemp(prefix="varcolor-video-", dir=workdir))
    try:
        buffer = _ShotBuffer(root)
        previous = None
        index = -1
        shot = 0
        for index, frame in enumerate(frames):
            gray = _gray(frame, index)
            if previous is not None and gray.shape != previous.shape:
                raise InputError(f"frame {index} is {gray.shape[1]}×{gray.shape[0]}, the frames before it are not")
            if previous is None and shape is None:
                check_memory(
                    video_memory(gray.shape, window=window, options=options),
                    f"{gray.shape[1]}×{gray.shape[0]} frames",
                    options.max_memory,
                )
            if previous is not None:
                found = motion(previous, gray)
                if is_cut(previous, gray, found):
                    yield from solver.shot(buffer, shot)
                    buffer.clear(index)
                    shot += 1
                else:
                    buffer.save_motion(buffer.count - 1, found)
            buffer.add(gray)
            previous = gray
        if index < 0:
            raise InputError("the clip has no frames")
        late = [k for k in cues if k > index]
        if late:
            raise InputError(f"cues for frame {late[0]}, but the clip has {index + 1} frames")
        yield from solver.shot(buffer, shot)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _gray(frame: np.ndarray, index: int) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype == np.uint8:
        frame = frame / 255.0
    if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (3, 4))):
        raise InputError(f"frame {index}: must be H×W or H×W×3, got shape {frame.shape}")
    if min(frame.shape[:2]) < 2:
        raise InputError(f"frame {index}: frames must be at least 2×2")
    if not np.all(np.isfinite(frame)) or frame.min() < 0 or frame.max() > 1:
        raise InputError(f"frame {index}: values must be finite and in [0, 1]")
    return np.ascontiguousarray(to_gray(frame), dtype=np.float64)


class _ShotSolver:
    def __init__(self, options, cues, network, temporal, window, overlap, carry_weight, carry_decay):
        self.options, self.cues, self.network = options, cues, network
        self.temporal, self.window, self.overlap = temporal, window, overlap
        self.carry_weight, self.carry_decay = carry_weight, carry_decay
        self.prior_strength = PRIOR_STRENGTH
        self.restrains = restrained(options)
        self.solve = (0, math.inf)  # the frames solved and yielded (absolute indices)
        self.before = None  # the chroma of the frame before the first solved, if known

    def _keyframe(self, absolute: int, gray: np.ndarray) -> Cues | None:
        cue = self.cues.get(absolute)
        if cue is None:
            return None
        cue = cue if isinstance(cue, Cues) else cue(gray)
        if not isinstance(cue, Cues) or cue.shape != gray.shape:
            raise InputError(f"the cues of frame {absolute} do not fit its {gray.shape[1]}×{gray.shape[0]} size")
        return cue

    def _carry_backward(self, buffer: _ShotBuffer) -> None:
        """Each frame's cues from the next keyframe after it, carried back along the motion."""
        carried = None
        after = None
        for k in range(buffer.count - 1, -1, -1):
            gray = buffer.gray(k)
            if carried is not None and after is not None:
                carried = _carry(carried, buffer.motion(k).forward, gray, after)
                if carried is not None:
                    buffer.save_carried(k, carried)
            key = self._keyframe(buffer.start + k, gray)
            if key is not None:
                carried = self._at_keyframe(key, carried)
            after = gray

    def shot(self, buffer: _ShotBuffer, shot: int) -> Iterator[VideoFrame]:
        if self.cues and any(buffer.start <= k < buffer.start + buffer.count for k in self.cues):
            self._carry_backward(buffer)
        # The shot's frames solved: those of the range asked for (frames before it only carry cues).
        first = max(0, self.solve[0] - buffer.start)
        count = min(buffer.count, self.solve[1] - buffer.start)
        if first >= count:
            return
        run = _ShotRun(self, buffer, first)
        run.lead_in()
        start = first
        left_gray: int | None = None  # the first of the frames no cue reaches, while they go on
        while start < count:
            stop = min(start + self.window, count)
            run.prepare(start, stop, count)
            rows = run.rows(start, stop)
            solved_at = time.perf_counter()
            uncued = not any(run.prepared[k][0].any() or run.prepared[k][2].any() for k in range(start, stop))
            if self.restrains:  # each frame no cue is carried to is gray: told frame by frame, below
                pass
            elif uncued and (run.done is None or not np.any(run.done)):
                left_gray = start if left_gray is None else left_gray  # a run of gray frames goes on
            elif left_gray is not None:  # said once, for the whole run, when it ends
                _left_gray(buffer.start + left_gray, buffer.start + start - 1, shot)
                left_gray = None
            u, report = run.solve(start, stop, rows, uncued, shot)
            seconds = time.perf_counter() - solved_at
            last = stop if stop == count else max(start + 1, stop - self.overlap)
            for k in range(start, last):
                if not np.all(np.isfinite(u[k - start])):
                    raise InputError(f"frame {buffer.start + k}: the solve produced non-finite chroma")
                if self.restrains and not run.prepared[k][5][1].any():
                    left_gray = k if left_gray is None else left_gray
                elif self.restrains and left_gray is not None:
                    _left_gray(buffer.start + left_gray, buffer.start + k - 1, shot)
                    left_gray = None
                yield run.frame(k, u[k - start], report, seconds, shot)
            run.done = u[last - 1 - start]
            run.forget(last)
            start = last
        if left_gray is not None:
            _left_gray(buffer.start + left_gray, buffer.start + count - 1, shot)

    def _reach(self, gray: np.ndarray, prepared: tuple, shape: tuple[int, int], factor: int) -> tuple:
        """A frame's reach (:mod:`varcolor.restraint`) from its own and carried cues, and its scale
        on the grid (1 on the grid's hard cues); ``(None, None)`` where no cue reaches the frame.
        Its chroma is scaled by it; the next frame goes on from the unscaled chroma."""
        dots, mask, ab = prepared[5]
        if not mask.any():
            return None, None
        reach = Restraint(gray).reach(mask, None, ab, dots)
        scale = reach.at(shape, factor)
        scale[prepared[4][0]] = 1.0
        return reach, scale

    def _forward(self, buffer: _ShotBuffer, k: int, grays, forward):
        """The cues carried forward to frame k (from those carried to frame k − 1), and its own;
        and those carried to it (before its own)."""
        gray = grays[k]
        if forward is not None and k > 0:
            forward = _carry(
                forward, buffer.motion(k - 1).backward, gray, grays[k - 1] if k - 1 in grays else buffer.gray(k - 1)
            )
        carried_in = forward
        key = self._keyframe(buffer.start + k, gray)
        if key is not None:
            forward = self._at_keyframe(key, forward)
        return forward, key, carried_in

    def _at_keyframe(self, key: Cues, carried):
        """The cues a keyframe passes on: its own; restrained, with those carried to it where it has
        none (its strokes on one thing must not end another's colour)."""
        return _nearer(carried, _key(key)) if self.restrains else _key(key)

    def _prepare(self, buffer: _ShotBuffer, k: int, grays, forward):
        """Frame k's hard cues, right-hand side and prior weight; the cues carried forward to it;
        and what its reach is of (point hints, cues, their colours)."""
        gray = grays[k]
        forward, key, carried_in = self._forward(buffer, k, grays, forward)
        hard = key.mask if key is not None else np.zeros(gray.shape, bool)
        values = key.ab if key is not None else np.zeros(gray.shape + (2,))
        weight = np.zeros(gray.shape)
        guess = np.zeros(gray.shape + (2,))
        carried_count = 0
        dots = key.points if key is not None else None
        cued, cue_ab = hard.copy(), values  # its cues, own and carried (its reach's)
        # Restrained, a keyframe's rows hold carried cues too where it has none of its own.
        carried = None
        if key is None:
            carried = _nearer(forward, buffer.carried(k))
        elif self.restrains:
            carried = _nearer(carried_in, buffer.carried(k))
        if carried is not None:
            mask, ab, age, carried_dots = carried
            mask = mask & ~hard
            carried_count = int(mask.sum())
            cued |= mask
            cue_ab = np.where(mask[..., None], ab, cue_ab)
            dots = carried_dots & mask if dots is None else dots | (carried_dots & mask)
            if math.isinf(self.carry_weight):
                hard, values = hard | mask, np.where(mask[..., None], ab, values)
            else:
                weight = np.where(mask, self.carry_weight * self.carry_decay ** np.maximum(age - 1, 0), 0.0)
                guess = np.where(mask[..., None], ab, 0.0)
        if self.network is not None:
            from ..neural.prior import guess as network_guess

            given = key if key is not None else Cues.empty(gray.shape)
            p, w = network_guess(
                self.network,
                gray,
                given,
                mode="anchor",
                prior_weight=self.prior_strength,
                confidence=self.options.confidence,
                decode=AUTOMATIC[self.options.automatic],
            )
            total = weight + w
            guess = np.where(
                total[..., None] > 0,
                (weight[..., None] * guess + w[..., None] * p) / np.where(total > 0, total, 1.0)[..., None],
                0.0,
            )
            weight = total
        weight = np.where(hard, 0.0, weight)
        rhs = np.where(hard[..., None], values, weight[..., None] * guess)
        info = {"keyframe": key is not None, "cues": int(hard.sum()), "carried": carried_count}
        return forward, (hard, rhs, weight, info), (dots, cued, cue_ab)


class _ShotRun:
    """A shot's solve under way: its grid, and each frame's gray, cues and motion while needed."""

    def __init__(self, solver: _ShotSolver, buffer: _ShotBuffer, first: int):
        self.solver, self.buffer, self.first = solver, buffer, first
        # The grid the system is solved on: the frames' pixels (levin), or blocks (levin-multiscale).
        self.grid = make_grid(buffer.gray(0).shape, solver.options)
        self.forward = None  # the cues carried forward to the frame last prepared
        self.done: np.ndarray | None = None  # chroma (on the grid) of the last frame written (or given)
        self.grays: dict[int, np.ndarray] = {}
        self.prepared: dict[int, tuple] = {}
        self.reaches: dict[int, tuple] = {}  # restrained: each frame's reach and its scale on the grid
        self.moves: dict[int, Motion] = {}  # frame k to k + 1, on the grid

    def moved(self, k: int) -> Motion:
        if k not in self.moves:
            self.moves[k] = self.grid.motion(self.buffer.motion(k))
        return self.moves[k]

    def trust(self, k: int) -> tuple | None:
        """Restrained, the reach of the frames before and after ``k``: a colour guessed there does
        not pull frame ``k``'s."""
        if not self.solver.restrains:
            return None
        return tuple(self.reaches[j][1] if j in self.reaches else None for j in (k - 1, k + 1))

    def _prepare_frame(self, k: int) -> None:
        self.forward, found, reached = self.solver._prepare(self.buffer, k, self.grays, self.forward)
        self.prepared[k] = (*found, self.grid.cues(*found[:3]), reached)  # and on the grid

    def _add_reach(self, k: int) -> None:
        self.reaches[k] = self.solver._reach(self.grays[k], self.prepared[k], self.grid.gray(k).shape, self.grid.factor)

    def lead_in(self) -> None:
        """The frames before the first solved carry their cues forward (restrained, the last its reach)."""
        solver = self.solver
        for k in range(self.first):
            self.grays[k] = self.buffer.gray(k)
            if k == self.first - 1 and solver.restrains:
                self.grid.add(k, self.grays[k])
                self._prepare_frame(k)
                self._add_reach(k)
            else:
                self.forward, _, _ = solver._forward(self.buffer, k, self.grays, self.forward)
            self.grays.pop(k - 1, None)

    def prepare(self, start: int, stop: int, count: int) -> None:
        """The window's frames (and one either side) on the grid, with their cues."""
        solver, grid = self.solver, self.grid
        for k in range(max(start - 1, 0), stop + (1 if stop < count else 0)):
            if k not in self.grays:
                self.grays[k] = self.buffer.gray(k)
            grid.add(k, self.grays[k])
        if start == self.first and self.first > 0 and solver.before is not None:
            if solver.before.shape != grid.gray(self.first).shape + (2,):
                raise InputError(f"before: must be the solve's grid {grid.gray(self.first).shape} × 2")
            self.done = solver.before
        for k in range(start, stop):
            if k not in self.prepared:
                self._prepare_frame(k)
                if solver.restrains:
                    self._add_reach(k)

    def rows(self, start: int, stop: int) -> list:
        """The window's frames' rows, each coupled to its neighbours along the motion."""
        temporal, grid, rows = self.solver.temporal, self.grid, []
        for k in range(start, stop):
            hard, _, weight = self.prepared[k][4]
            coupled = k > self.first or (k > 0 and self.done is not None)
            before = (grid.gray(k - 1), self.moved(k - 1).backward) if coupled and temporal > 0 else None
            after = (grid.gray(k + 1), self.moved(k).forward) if k + 1 < stop and temporal > 0 else None
            rows.append(
                frame_rows(
                    grid.gray(k), hard, prior_weight=weight, before=before, after=after, temporal=temporal,
                    trust=self.trust(k),
                )
            )  # fmt: skip
        return rows

    def solve(self, start: int, stop: int, rows: list, uncued: bool, shot: int) -> tuple[np.ndarray, dict]:
        """The window's chroma on the grid, and the solve's report."""
        options, done = self.solver.options, self.done
        if done is None and uncued:
            # Nothing holds the colours here (no cue, no frame before): gray, and the caller hears of it.
            return np.zeros((stop - start,) + self.grid.gray(start).shape + (2,)), {"iterations": 0, "residual": 0.0}
        if stop - start == 1:  # one frame: its rows solved exactly by their LU
            system = WindowSystem(rows, self.prepared[start][4][1][None], before=done)
            u, found = DirectSolver(rows[0].spatial, tol=options.tol).solve(system.rhs[0])
            return u[None], {"iterations": 0, "residual": found.residual}
        system = WindowSystem(rows, np.stack([self.prepared[k][4][1] for k in range(start, stop)]), before=done)
        x0 = None if done is None else np.repeat(done[None], stop - start, axis=0)
        try:
            return system.solve(x0, tol=max(options.tol, 1e-6), maxiter=options.maxiter)
        except Diverged as exc:  # (frames no cue and no motion hold): each exactly, in turn
            frames = f"frames {self.buffer.start + start}–{self.buffer.start + stop - 1}"
            tell(f"{frames} (shot {shot}): {exc}; solved a frame at a time", stacklevel=3)
            return self.one_at_a_time(start, stop, done)

    def one_at_a_time(self, start: int, stop: int, done: np.ndarray | None) -> tuple[np.ndarray, dict]:
        """Frames ``start`` to ``stop − 1`` solved as windows of one (each exactly by its LU,
        coupled to the one before), from the chroma ``done`` of the frame before them."""
        solver, grid = self.solver, self.grid
        solved, residual = [], 0.0
        for k in range(start, stop):
            hard, values, weight = self.prepared[k][4]
            coupled = k > self.first or (k > 0 and done is not None)
            before = (grid.gray(k - 1), self.moved(k - 1).backward) if coupled and solver.temporal > 0 else None
            rows = frame_rows(
                grid.gray(k), hard, prior_weight=weight, before=before, temporal=solver.temporal, trust=self.trust(k)
            )
            system = WindowSystem([rows], values[None], before=done)
            done, found = DirectSolver(rows.spatial, tol=solver.options.tol).solve(system.rhs[0])
            solved.append(done)
            residual = max(residual, found.residual)
        return np.stack(solved), {"iterations": 0, "residual": residual}

    def frame(self, k: int, u: np.ndarray, report: dict, seconds: float, shot: int) -> VideoFrame:
        """Frame ``k`` from its solved chroma ``u`` on the grid."""
        solver = self.solver
        lifted_at = time.perf_counter()
        reach, scale = self.reaches.get(k, (None, None))
        shown = u if not solver.restrains else u * (0.0 if scale is None else scale[..., None])
        # Corrected near its hard cues at full resolution (soft carried ones are the grid's).
        chroma, engine = self.grid.chroma(k, shown, *self.prepared[k][:2])
        rgb = chroma_to_rgb(lightness_of_gray(self.grays[k]), chroma, solver.options.gamut)
        info = dict(
            self.prepared[k][3],
            index=self.buffer.start + k,
            shot=shot,
            **report,
            seconds=seconds + time.perf_counter() - lifted_at,
            restrained=solver.restrains,
            **engine,
        )
        return VideoFrame(self.buffer.start + k, rgb, chroma, info, u, reach)

    def forget(self, last: int) -> None:
        """Drop what the frames before ``last − 1`` held: the next window starts from it."""
        for k in [k for k in self.grays if k < last - 1]:
            self.grays.pop(k)
            self.prepared.pop(k, None)
            self.reaches.pop(k, None)
            self.moves.pop(k, None)
            self.grid.drop(k)


class LeftGray(UserWarning):
    """Frames no cue reaches, left gray: ``first`` to ``last`` (indices among the frames given)
    of ``shot`` (counted from 0 among them)."""

    def __init__(self, first: int, last: int, shot: int | None = None):
        self.first, self.last, self.shot = first, last, shot
        frames = f"frame {first}" if first == last else f"frames {first}–{last}"
        super().__init__(f"{frames}{'' if shot is None else f' (shot {shot})'}{_LEFT_GRAY}")

    @classmethod
    def read(cls, line: str) -> LeftGray | None:
        """The warning ``line`` says (as :class:`LeftGray` writes it, after any ``"PATH: "``), or
        None for another line: a chunked run's chunks say theirs as text.

        Examples
        --------
        >>> said = LeftGray.read(f"clip.mkv: {LeftGray(4, 9, 1)}")
        >>> said.first, said.last, said.shot
        (4, 9, 1)
        >>> LeftGray.read("clip.mkv: frames 2–3: something else") is None
        True
        """
        import re

        found = re.search(r"frames? (\d+)(?:–(\d+))?(?: \(shot (\d+)\))?" + re.escape(_LEFT_GRAY) + "$", line)
        if found is None:
            return None
        first, last, shot = found.groups()
        return cls(int(first), int(last or first), None if shot is None else int(shot))


#: How a :class:`LeftGray` warning ends.
_LEFT_GRAY = ": no cue reaches them; left gray"


def _left_gray(first: int, last: int, shot: int) -> None:
    """Say that frames ``first`` to ``last`` (of ``shot``) stay gray: no cue reaches them."""
    tell(LeftGray(first, last, shot), stacklevel=4)
