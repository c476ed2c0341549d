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
- :mod:`~varcolor.app.run`: :func:`run_jobs`, :func:`run_folder`.
"""

from importlib import import_module

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
    "run_jobs",
]

# Loaded on first use: the command line builds its parser from RunOptions alone, and should not
# load the solvers and the image stack (through plan and run) for `--help` or a bad argument.
_HOMES = {
    "ENCODER": "plan",
    "check_outputs": "plan",
    "plan_colorize": "plan",
    "plan_decode": "plan",
    "plan_encode": "plan",
    "RecolorReport": "recolor",
    "recolor": "recolor",
    "COMMANDS": "run",
    "made_with": "run",
    "run_folder": "run",
    "run_jobs": "run",
    "RunOptions": "run_options",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_HOMES))
