"""The application layer: folder runs from typed values, for the command line and for Python.

The command line parses its arguments into typed values (:class:`~varcolor.options.Options`,
:class:`~varcolor.ir.encode.EncodeOptions`, :class:`RunOptions`), plans jobs with the functions
here, runs them through :mod:`varcolor.batch` and prints the report; a script does the same
without argv, or calls :func:`run_folder` and gets the manifest records back. A clip runs the
same way (:func:`colorize_clip`, with :class:`ClipOptions`), from the command line or
:func:`run_folder`.
"""

from .clip import ClipOptions, ClipReport, colorize_clip
from .jobs import made_with, run_jobs
from .plan import ENCODER, check_outputs, plan_colorize, plan_decode, plan_encode, single_output
from .recolor import RecolorReport, recolor
from .run import COMMANDS, colorize_folder, run_folder, run_request
from .run_options import RunOptions

__all__ = [
    "COMMANDS",
    "ClipOptions",
    "ClipReport",
    "ENCODER",
    "RecolorReport",
    "RunOptions",
    "check_outputs",
    "colorize_clip",
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
