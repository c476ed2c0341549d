"""The application layer: folder runs from typed values, for the command line and for Python.

The command line parses its arguments into typed values (:class:`~varcolor.options.Options`,
:class:`~varcolor.ir.encode.EncodeOptions`, :class:`RunOptions`), plans jobs with the functions
here, runs them through :mod:`varcolor.batch` and prints the report; a script does the same
without argv, or calls :func:`run_folder` and gets the manifest records back.

- :mod:`~varcolor.app.cues`: cue files beside an image (names, finding, reading);
- :mod:`~varcolor.app.run_options`: :class:`RunOptions`, how a run goes;
- :mod:`~varcolor.app.solve`: read, colorize and write one image file;
- :mod:`~varcolor.app.tasks`: the work of one job, as a picklable value;
- :mod:`~varcolor.app.plan`: ``plan_colorize``, ``plan_encode``, ``plan_decode``;
- :mod:`~varcolor.app.recolor`: ``recolor`` (encode then decode);
- :mod:`~varcolor.app.jobs`: :func:`run_jobs` (through :mod:`varcolor.batch`), :func:`made_with`;
- :mod:`~varcolor.app.run`: :func:`run_folder`, a folder command from Python, and
  :func:`colorize_folder`, the one driver of every colorize run (the command line's too);
  :func:`run_request`, the same from plain values (a child process's JSON).
"""

from .jobs import made_with, run_jobs
from .plan import ENCODER, check_outputs, plan_colorize, plan_decode, plan_encode, single_output
from .recolor import RecolorReport, recolor
from .run import COMMANDS, colorize_folder, run_folder, run_request
from .run_options import RunOptions

__all__ = [
    "COMMANDS",
    "ENCODER",
    "RecolorReport",
    "RunOptions",
    "check_outputs",
    "made_with",
    "plan_colorize",
    "plan_decode",
    "plan_encode",
    "recolor",
    "run_folder",
    "colorize_folder",
    "run_request",
    "run_jobs",
    "single_output",
]
