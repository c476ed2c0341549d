"""A process colorizing photo after photo does not grow: SuperLU's factors are freed wherever they
are dropped (:mod:`varcolor.solvers.superlu`)."""

import gc
import sys
import threading

import numpy as np
import pytest
import scipy.sparse as sp

import varcolor
from varcolor.common.memory import malloc_in_use
from varcolor.solvers import superlu


def test_factors_dropped_on_another_thread_are_freed_by_their_maker():
    lu = superlu.factor(sp.csc_matrix(np.array([[2.0, 1.0], [1.0, 3.0]])))
    inner = lu._lu
    before = sys.getrefcount(inner)
    dropper = threading.Thread(target=lambda held: held.clear(), args=([lu],))
    del lu
    dropper.start()
    dropper.join()
    # dropped there, held for this thread (SuperLU could not free it there) ...
    assert any(any(kept is inner for kept in held) for held in superlu._ORPHANS.values())
    superlu.release()  # ... and let go here
    assert not any(any(kept is inner for kept in held) for held in superlu._ORPHANS.values())
    assert sys.getrefcount(inner) < before


def test_a_maker_that_asked_to_be_woken_frees_what_another_thread_dropped_at_once():
    """A long-lived thread that may make no factors again for a while (the refactoring's) asks to
    be woken (:func:`~varcolor.solvers.superlu.wake_with`): factors it made and this thread drops
    are freed on it, without waiting for its next factorisation."""
    from varcolor.common.threads import Worker

    worker = Worker("test-superlu-maker")
    woken: list[int] = []
    made: list = []

    def make():
        superlu.wake_with(lambda: woken.append(threading.get_ident()) or worker.post(superlu.release))
        made.append(superlu.factor(sp.csc_matrix(np.array([[2.0, 1.0], [1.0, 3.0]]))))
        return threading.get_ident()

    maker = worker.submit(make).result(5)
    lu = made.pop()
    del lu  # here: held for the maker, and the maker woken ...
    assert woken == [threading.get_ident()] and superlu._ORPHANS.get(maker) is not None
    worker.submit(lambda: None).result(5)  # (after the release posted)
    assert not superlu._ORPHANS.get(maker)  # ... which let it go
    # (SuperLU's object is not held here to see it go: its last reference dropped on this thread,
    # scipy's deallocation would fail)


def _in_use() -> int:
    """Bytes glibc's malloc has handed out and not had back."""
    used = malloc_in_use()
    assert used is not None  # (the tests that call it skip without mallinfo2)
    return used


def _photos(count: int) -> list[tuple[np.ndarray, varcolor.Cues]]:
    """``count`` differing crops of scikit-image's astronaut (about 0.15 MP), five strokes each."""
    from skimage import data

    rng = np.random.default_rng(0)
    base = varcolor.color.same_lightness_gray(data.astronaut() / 255.0)
    cases = []
    for k in range(count):
        top, left = int(rng.integers(0, 40)), int(rng.integers(0, 40))
        gray = base[top : top + 320 + 4 * k, left : left + 460 - 3 * k]
        mask = np.zeros(gray.shape, bool)
        ab = np.zeros(gray.shape + (2,))
        for _ in range(5):
            y, x = int(rng.integers(10, gray.shape[0] - 20)), int(rng.integers(10, gray.shape[1] - 60))
            mask[y : y + 3, x : x + 50] = True
            ab[y : y + 3, x : x + 50] = rng.uniform(-40, 40, 2)
        cases.append((gray, varcolor.Cues(mask, ab)))
    return cases


def _reach_thread_idle() -> None:
    """Wait until the thread reaches are solved in has run what it was given."""
    from varcolor.api import _REACH_THREAD

    _REACH_THREAD.submit(lambda: None).result(30)


def _has_mallinfo2() -> bool:
    return malloc_in_use() is not None


@pytest.mark.slow  # photo after photo: among the longest checks; make test-slow runs it
@pytest.mark.skipif(not _has_mallinfo2(), reason="reads glibc's malloc statistics")
def test_colorizing_photo_after_photo_does_not_grow_the_process():
    """Twenty restrained solves of differing photos in one process (as a folder run's worker does)
    leave malloc's memory in use where it was: before :func:`~varcolor.solvers.superlu.factor`,
    SuperLU's factors dropped by Python's collector on another thread were never freed (restorer
    strokes on BSDS photos: about 50 MB a photo)."""
    cases = _photos(10)

    def run() -> None:
        for gray, cues in cases:
            varcolor.colorize(gray, cues)
            # Python's collector run on another thread, as it ran on the reach's thread beside a
            # solve: the factors in the solve's reference cycles are dropped there
            collector = threading.Thread(target=gc.collect)
            collector.start()
            collector.join()

    run()
    gc.collect()
    superlu.release()
    start = _in_use()
    run()
    run()
    gc.collect()
    superlu.release()
    assert _in_use() - start < 40e6


@pytest.mark.slow
@pytest.mark.skipif(not _has_mallinfo2(), reason="reads glibc's malloc statistics")
def test_photos_colorized_on_three_threads_at_once_match_one_thread_and_do_not_grow():
    """Three threads colorizing at once (a Dask worker's threads, a server's): each photo's colours
    as one thread makes them, and nothing left behind."""
    cases = _photos(9)
    alone = [varcolor.colorize(gray, cues).rgb for gray, cues in cases]
    gc.collect()
    superlu.release()
    _reach_thread_idle()
    start = _in_use()
    wrong: list[int] = []

    def work(first: int) -> None:
        for index in range(first, len(cases), 3):
            gray, cues = cases[index]
            if not np.allclose(varcolor.colorize(gray, cues).rgb, alone[index], atol=1e-6):
                wrong.append(index)

    for _ in range(3):
        workers = [threading.Thread(target=work, args=(first,)) for first in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    gc.collect()
    superlu.release()
    _reach_thread_idle()  # (it frees the things' factors the threads dropped: it was woken)
    assert not wrong
    assert _in_use() - start < 40e6


@pytest.mark.slow
@pytest.mark.skipif(not _has_mallinfo2(), reason="reads glibc's malloc statistics")
def test_results_kept_hold_little_more_than_their_colours():
    """Results kept in a list (a notebook's comparison) hold their colours and their reach, not the
    factors the reach was solved with (each about three times a small photo's colours)."""
    cases = _photos(10)
    varcolor.colorize(*cases[0])
    gc.collect()
    superlu.release()
    _reach_thread_idle()
    start = _in_use()
    kept = [varcolor.colorize(gray, cues) for gray, cues in cases]
    gc.collect()
    superlu.release()
    _reach_thread_idle()
    colours = sum(result.rgb.nbytes + result.ab.nbytes for result in kept)
    assert _in_use() - start < 1.5 * colours


def test_every_superlu_factorisation_goes_through_factor():
    """SuperLU's factors made anywhere else would be freed, or not, by whichever thread drops them."""
    from pathlib import Path

    package = Path(varcolor.__file__).parent
    makers = ("splu(", "spilu(", "factorized(")
    found = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        if path.name != "superlu.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(maker in line for maker in makers) and not line.lstrip().startswith(("#", ">>>"))
    ]
    assert not found, found
