"""The shape of a result's ``info``: what a colorization says of how it was made (the glossary's
*info*; a folder run's account is a *report*, :class:`varcolor.batch.Report`). Plain data at the
bottom of the house: the methods check their own against it and the API fills it."""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["Info"]


class _Always(TypedDict):
    """The keys every result of :func:`varcolor.colorize` and :class:`varcolor.Colorizer` has
    (:class:`Info`'s required keys)."""

    method: str
    space: str
    device: str
    cues: int
    options: dict[str, Any]
    solver: str | None
    iterations: int | None
    residual: float | None
    seconds: float
    paint_seconds: float


class Info(_Always, total=False):
    """What :attr:`varcolor.Result.info` holds: what a result says of how it was made.

    Every result of :func:`varcolor.colorize` and :class:`varcolor.Colorizer` has ``method``,
    ``space``, ``device``, ``cues``, ``options``, ``solver``, ``iterations``, ``residual``,
    ``seconds`` and ``paint_seconds``.

    Attributes
    ----------
    method : str
        The colorization method that ran (its name in :data:`varcolor.METHODS`).
    space : str
        The colour space the chroma was solved in (``lab``, ``yiq``).
    device : str
        Where the solve ran (``cpu``, ``cuda``).
    cues : int
        Cue pixels given.
    options : dict
        The options that had an effect (:func:`varcolor.methods.base.options_in_effect`).
    threads : int
        The kernels' thread count the solve ran on.
    solver : str or None
        The linear solver that ran (None: no solve, as ``method="ideepcolor"``).
    iterations : int or None
        The solver's iterations (0 for a direct solve; None where nothing was solved).
    residual : float or None
        The relative residual of the result on the method's own system (None: none was computed).
    residuals : list of float
        An iterative solver's worst relative residual after each iteration.
    seconds, paint_seconds : float
        The whole call's seconds, and of them the colour conversion's.
    solve_seconds : float
        The solver's own seconds, where the method reported them.
    update, full_solve : str
        After an edit (:meth:`varcolor.Colorizer.update`): ``low-rank``, ``window``.
    bound : float
        A low-rank correction's error bound (ab).
    held, released : int
        The pixels a low-rank correction held and released.
    correction : str
        What a low-rank correction corrected: the last result or the first solve.
    window : list of int
        The box an edit changed, ``[top, left, height, width]``.
    window_agreement : float
        How far a window update was from the previous, smaller window's.
    changed : list of (slice, slice)
        Where a method reports the windows it changed: the colorizer repaints only those after a
        solve that had a last result (the key is then taken out).
    late : list of (slice, slice)
        Where a method that gave a draft of its chroma (:attr:`varcolor.methods.Method.on_early`)
        wrote after it: the colorizer paints these again over the draft's paint.
    engine : dict
        A method's own account of its engine (levin-multiscale's coarse grid).
    prior, prior_weight, confidence, prior_mode, automatic
        The prior that acted, and its options that had an effect.
    instances : list of dict
        What :mod:`varcolor.instances` found (label, score, box, mask area, crop window, seconds).
    references : list of dict
        The reference photos the cues were matched from, the largest share first: ``{"reference": name,
        "share": its share of the matched cues}`` (:attr:`varcolor.Cues.references`).

    Examples
    --------
    >>> import numpy as np, varcolor
    >>> gray = np.linspace(0, 1, 32 * 24).reshape(24, 32)
    >>> points = [{"y": 4, "x": 4, "a": 30, "b": 0}, {"y": 20, "x": 28, "a": 0, "b": 30}]
    >>> cues = varcolor.Cues.from_points(points, gray.shape)
    >>> info: varcolor.Info = varcolor.colorize(gray, cues).info
    >>> info["method"], info["cues"], info["residual"] is not None
    ('levin-multiscale', 2, True)
    """

    threads: int
    residuals: list[float]
    solve_seconds: float
    update: str
    full_solve: str
    bound: float
    held: int
    released: int
    correction: str
    window: list[int]
    window_agreement: float
    changed: list[tuple[slice, slice]]
    late: list[tuple[slice, slice]]
    engine: dict[str, Any]
    prior: str
    prior_weight: float
    confidence: str
    prior_mode: str
    automatic: str
    instances: list[dict[str, Any]]
    references: list[dict[str, Any]]
