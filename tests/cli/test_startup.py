"""Start-up: `varcolor --help`, `--version` and a one-line input error must not wait for the
network, Dask, the solvers' multigrid or the image stack to load. Each check runs in a fresh
interpreter, where nothing has been imported yet."""

import json
import subprocess
import sys

#: Modules that no command needs before it works on an image: the network (torch), scale-out
#: (dask, distributed), clips (av, cv2), plots and the GTV check (matplotlib, cvxpy), pyamg's
#: hierarchies, SciPy's and scikit-image's image stack, and varcolor's own heavy modules.
HEAVY = (
    "torch",
    "dask",
    "distributed",
    "av",
    "cv2",
    "matplotlib",
    "cvxpy",
    "pyamg",
    "scipy.ndimage",
    "skimage.transform",
    "skimage.segmentation",
    "skimage.metrics",
    "varcolor.neural",
    "varcolor.instances.fusion",
)


def loaded_after(code: str) -> tuple[set[str], str]:
    """The modules of ``HEAVY`` (and numba, SciPy, scikit-image) loaded after running ``code`` in a
    fresh interpreter, and what it wrote to stderr."""
    probe = (
        "import sys, json\n"
        f"{code}\n"
        f"print(json.dumps([m for m in {list(HEAVY) + ['numba', 'scipy', 'skimage']!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1])), done.stderr


def test_import_varcolor_loads_nothing_heavy():
    # The package's names load on first use: importing it loads no numerical library at all.
    assert loaded_after("import varcolor")[0] == set()


def test_help_and_version_load_nothing_heavy():
    # The import alone, then every command's parser built (--help) and the version printed.
    assert loaded_after("import varcolor.cli")[0].isdisjoint(HEAVY)
    runs = "".join(
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        for argv in (["--help"], ["colorize", "--help"], ["encode", "--help"], ["--version"])
    )
    assert loaded_after(f"from varcolor.cli import main\n{runs}")[0].isdisjoint(HEAVY)


def test_a_missing_input_is_one_line_before_anything_heavy_loads(tmp_path):
    missing = tmp_path / "missing.png"
    code = f"from varcolor.cli import main\nassert main(['colorize', {str(missing)!r}, '-o', 'x.png']) == 2"
    loaded, stderr = loaded_after(code)
    assert loaded.isdisjoint(HEAVY)
    assert stderr.splitlines() == [f"varcolor: error: {missing}: no such file or folder"]
