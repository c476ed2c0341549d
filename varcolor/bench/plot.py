"""The benchmark's curve: a score against the number of hints, one line per method, and optionally
a published curve read from a CSV file.

Drawn with matplotlib, which only this module needs: it is imported when a plot is asked for, and
its absence is one line naming the extra that installs it (``pip install 'varcolor[plot]'``).
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import atomic_path

__all__ = ["SUFFIXES", "AXIS", "check", "read_curve", "lines", "plot", "identical"]

#: The formats a plot is written in.
SUFFIXES = (".png", ".svg")
#: The vertical axis's label per score.
AXIS = {
    "psnr": "mean PSNR (dB)",
    "ssim": "mean SSIM",
    "vif": "mean VIF",
    "ciede2000": "mean ΔE2000 (lower is better)",
    "colorfulness": "mean colourfulness (Hasler & Süsstrunk 2003)",
}
#: A curve file is read up to this size.
MAX_CURVE_BYTES = 1 << 20


def check(path: str | os.PathLike) -> None:
    """Refuse, before any work, a plot that could not be written: another suffix than
    :data:`SUFFIXES`, or no matplotlib installed."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: a plot is written as {' or '.join(SUFFIXES)}, not {suffix or 'no suffix'}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'varcolor[plot]'") from None


def read_curve(path: str | os.PathLike) -> dict[int, float]:
    """A published curve from a CSV file: a header line, then the number of hints (a whole number
    >= 0) and the value (finite) in the first two columns of each row; other columns are ignored.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "paper.csv"
    >>> _ = path.write_text("num_points,mean_psnr_db,sem_db\\n0,24.4,0.1\\n10,28.4,0.1\\n")
    >>> read_curve(path)
    {0: 24.4, 10: 28.4}
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_CURVE_BYTES:
            raise InputError(f"{path}: a curve file is read up to {MAX_CURVE_BYTES >> 10} KB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    curve = {}
    rows = list(csv.reader(line for line in text.splitlines() if line.strip()))
    for number, row in enumerate(rows[1:], start=2):
        try:
            hints, value = int(row[0]), float(row[1])
        except (ValueError, IndexError):
            raise InputError(f"{path}: line {number}: needs a number of hints and a value, got {row[:2]}") from None
        if hints < 0 or not math.isfinite(value):
            raise InputError(f"{path}: line {number}: hints must be >= 0 and the value finite")
        curve[hints] = value
    if not curve:
        raise InputError(f"{path}: no rows under the header line")
    return curve


def lines(
    summary: Mapping[str, Mapping[str, float]],
    labels: Mapping[str, str],
    resolution: str,
    hints: Sequence[int],
    metric: str = "psnr",
) -> dict[str, dict[int, float]]:
    """Each method's values of ``metric`` from a summary (:func:`varcolor.bench.summarize`), by its
    label in the plot; a cell missing from the summary is a gap.

    Examples
    --------
    >>> lines({"256/levin/0": {"psnr": 22.5}}, {"levin": "levin", "net": "net (incomplete)"}, "256", [0, 5])
    {'levin': {0: 22.5}, 'net (incomplete)': {}}
    """
    return {
        label: {n: summary[key][metric] for n in hints if (key := f"{resolution}/{method}/{n}") in summary}
        for method, label in labels.items()
    }


def plot(
    path: str | os.PathLike,
    lines: Mapping[str, Mapping[int, float]],
    metric: str = "psnr",
    title: str = "",
    published: tuple[str, Mapping[int, float]] | None = None,
    errors: Mapping[str, Mapping[int, float]] | None = None,
) -> None:
    """Draw ``metric`` against the number of hints and write it atomically (PNG or SVG by suffix).

    The hint axis is logarithmic past 1 and linear below, so that 0 hints has its place. A line
    whose values are those of a line drawn before it, every one (``levin-multiscale`` and
    ``levin`` at 256²: one solve), would be hidden under it: its legend entry says so
    (:func:`identical`), and it is drawn dashed over the other."""
    check(path)
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    ticks: set[int] = set()
    hidden = identical(lines)
    for label, values in lines.items():
        xs = sorted(n for n, v in values.items() if math.isfinite(v))
        shown = f"{label} (identical to {hidden[label]}: drawn over it)" if label in hidden else label
        style: dict[str, Any] = {"linestyle": "--", "marker": "x"} if label in hidden else {"marker": "o"}
        # gid: the line's id in an SVG (``curve-`` and its label), so a reader finds each method's line.
        gid = "curve-" + re.sub(r"[^\w.-]", "_", label)
        bars = (errors or {}).get(label, {})
        sizes = [bars.get(n, float("nan")) for n in xs]
        if any(math.isfinite(e) for e in sizes):
            drawn = ax.errorbar(
                xs,
                [values[n] for n in xs],
                yerr=[e if math.isfinite(e) else 0.0 for e in sizes],
                label=shown,
                capsize=3,
                **style,
            )
            # The id on the line alone (on the container it went to its caps and bars too: one id, four times).
            data_line, caps, bar_lines = drawn.lines
            if data_line is not None:
                data_line.set_gid(gid)
            for k, part in enumerate([*caps, *bar_lines]):
                part.set_gid(f"errors-{gid[len('curve-') :]}-{k}")
        else:
            ax.plot(xs, [values[n] for n in xs], label=shown, gid=gid, **style)
        ticks.update(xs)
    if published is not None:
        label, values = published
        xs = sorted(values)
        ax.plot(xs, [values[n] for n in xs], "k--", label=label, gid="published")
    ax.set_xscale("symlog", linthresh=1, linscale=0.5)
    if ticks:
        spread = _spread(sorted(ticks))
        ax.set_xticks(spread, [str(n) for n in spread])
    ax.set_xlabel("number of hints")
    ax.set_ylabel(AXIS.get(metric, metric))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=Path(path).suffix.lower()[1:], dpi=120)


def identical(lines: Mapping[str, Mapping[int, float]]) -> dict[str, str]:
    """The lines whose values (at least one) are exactly those of a line before them, each with
    the first such line's label: on a plot one hides the other.

    Examples
    --------
    >>> identical({"levin": {0: 22.5, 5: 27.0}, "levin-multiscale": {0: 22.5, 5: 27.0}, "gtv": {0: 22.5, 5: 26.0}})
    {'levin-multiscale': 'levin'}
    """
    seen: dict[tuple, str] = {}
    same = {}
    for label, values in lines.items():
        key = tuple(sorted(values.items()))
        if not key:
            continue
        if key in seen:
            same[label] = seen[key]
        else:
            seen[key] = label
    return same


def _spread(ticks: Sequence[int]) -> list[int]:
    """The tick values at least 0.15 decade apart on the axis (1 and 2 both, 100 and 101 not)."""
    shown: list[int] = []
    for n in ticks:
        if not shown or math.log10(n + 1) - math.log10(shown[-1] + 1) >= 0.15:
            shown.append(n)
    return shown
