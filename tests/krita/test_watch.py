"""Live's stroke detection on the strokes layer's bytes: a state is sent once it has changed and
then held for one tick; a stroke still being painted is not sent; nothing twice."""

from varcolor.krita.plugin.varcolor_krita.watch import StrokeWatch


def _sent(states):
    watch = StrokeWatch()
    return [state for state in states if watch.tick(state)]


def test_a_layer_is_sent_when_it_holds_still_for_one_tick():
    assert _sent([b"a", b"a"]) == [b"a"]  # Live switched on: the layer as it is


def test_a_stroke_being_painted_is_sent_only_when_it_ends():
    states = [b"a", b"a", b"ab", b"abc", b"abcd", b"abcd", b"abcd", b"abcd"]
    assert _sent(states) == [b"a", b"abcd"]


def test_strokes_in_a_row_each_sent_once():
    states = [b"a", b"a", b"ab", b"ab", b"ab", b"abc", b"abc", b"a", b"a"]  # the last: two undos
    assert _sent(states) == [b"a", b"ab", b"abc", b"a"]


def test_a_stroke_undone_before_it_was_sent_sends_nothing():
    states = [b"a", b"a", b"ab", b"a", b"a"]
    assert _sent(states) == [b"a"]


def test_forget_sends_the_held_state_again():
    """A state the worker did not colorize (it failed, or was busy and the request dropped)."""
    watch = StrokeWatch()
    assert [watch.tick(b"a"), watch.tick(b"a"), watch.tick(b"a")] == [False, True, False]
    watch.forget()
    assert watch.tick(b"a")


def test_the_tick_spaces_out_where_reading_the_layer_is_slow():
    from varcolor.krita.plugin.varcolor_krita.watch import TICK_MS, UI_SHARE, interval_after

    assert interval_after(0.002) == TICK_MS  # 1 MP: 2 ms a read, the usual tick
    for read in (0.14, 0.2, 1.5):  # 12 MP and beyond
        tick = interval_after(read)
        assert tick > TICK_MS and read / (tick / 1000) <= UI_SHARE + 1e-9  # at most that share of the UI thread
        assert read / (tick / 1000) > UI_SHARE * 0.99  # and no slower than it needs to be
