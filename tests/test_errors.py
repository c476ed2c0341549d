"""What a run tells its user travels as notes (varcolor.errors.tell / listening), not as warnings
recorded from the whole process (issue 109)."""

import threading
import warnings
from pathlib import Path

import pytest

from varcolor.errors import ConvergenceWarning, Note, listening, messages, retell, tell

ROOT = Path(__file__).resolve().parents[1]


def test_told_outside_a_run_it_is_a_warning_pointing_at_the_caller():
    with pytest.warns(UserWarning, match="^a note$") as caught:
        tell("a note")
    assert caught[0].filename == __file__


def test_a_run_that_listens_keeps_its_notes_in_order_with_their_kind():
    told = ConvergenceWarning("stopped early")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a note that escaped as a warning would raise here
        with listening() as heard:
            tell("first")
            tell(told)
            with listening() as inner:
                tell("inner")
    assert heard == [Note("first"), Note("stopped early", ConvergenceWarning, told)]
    assert inner == [Note("inner")]


def test_another_thread_s_notes_are_not_this_run_s():
    def elsewhere():
        with warnings.catch_warnings(record=True):  # (the other thread's warning, kept off the test's output)
            warnings.simplefilter("always")
            tell("not ours")

    with listening() as heard:
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
        tell("ours")
    assert [note.message for note in heard] == ["ours"]


def test_no_module_of_the_package_collects_results_by_recording_warnings():
    found = [
        f"{path.relative_to(ROOT)}"
        for path in sorted((ROOT / "varcolor").rglob("*.py"))
        if "catch_warnings(record=True)" in path.read_text(encoding="utf-8")
    ]
    assert found == []


def test_a_kept_read_s_notes_are_told_again_and_only_user_warnings_are_messages():
    kept = [Note("converted"), Note("stopped", ConvergenceWarning), Note("internal", RuntimeWarning)]
    assert messages(kept) == ["converted", "stopped"]
    with listening() as heard:
        retell(kept)
    assert heard == kept
