"""varcolor.options: the default method is one name, written once."""

import ast
from pathlib import Path

import numpy as np

import varcolor
from varcolor.methods.levin_multiscale import LevinMultiscale
from varcolor.options import DEFAULT_METHOD, Options


def test_the_default_methods_name_is_written_once():
    """``DEFAULT_METHOD`` is the registered default engine, and its name is written as a string in
    one place of the package (docstrings aside; the Krita plug-in runs inside Krita, apart)."""
    assert Options().method == DEFAULT_METHOD == LevinMultiscale.name
    assert varcolor.methods.get(DEFAULT_METHOD) is LevinMultiscale
    package = Path(varcolor.__file__).parent
    written = [
        f"{path.relative_to(package).as_posix()}:{node.lineno}"
        for path in sorted(package.rglob("*.py"))
        if "krita" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value == DEFAULT_METHOD
    ]
    assert len(written) == 1 and written[0].startswith("options.py:"), written


def test_an_iteration_limit_for_a_solver_that_does_not_iterate_is_warned(recwarn):
    """``--maxiter`` with ``--solver direct`` was taken without a word (it has no effect)."""
    gray = np.full((24, 32), 0.5)
    mask = np.zeros(gray.shape, bool)
    mask[10:12, 5:20] = True
    cues = varcolor.Cues(mask, np.where(mask[..., None], np.float32([20, 10]), np.float32(0)))
    varcolor.colorize(gray, cues, method="levin", solver="direct", maxiter=5)
    said = [str(w.message) for w in recwarn if "maxiter" in str(w.message)]
    assert said == ["maxiter: no effect with solver direct, which does not iterate"]
    recwarn.clear()
    varcolor.colorize(gray, cues, method="levin", solver="direct")
    assert not [w for w in recwarn if "maxiter" in str(w.message)]
