"""When a stroke is finished, for Live: Krita 5.1 tells Python of no finished brush stroke, so the
plug-in reads the strokes layer's pixels on a timer, and a layer that changed since it was last
sent and then stayed the same for one tick is a finished stroke (a stroke being painted changes
the layer at every tick).

Standard library only, on byte strings: tested without Krita.
"""

import math

__all__ = ["StrokeWatch", "TICK_MS", "UI_SHARE", "interval_after"]

#: How often Live reads the strokes layer (milliseconds): a stroke is sent one to two ticks after
#: the pen lifts.
TICK_MS = 300
#: The most of Krita's UI thread that Live's reads may take: the read of a large layer at every
#: tick took about two fifths of the UI thread, and the cursor stutters while the thread reads.
#: Past this share the ticks space out (a stroke is then sent a little later).
UI_SHARE = 0.25


def interval_after(read_seconds):
    """The tick in milliseconds after a read of the layer that took ``read_seconds``: :data:`TICK_MS`,
    or longer, so that the reads take at most :data:`UI_SHARE` of the UI thread."""
    return max(TICK_MS, int(math.ceil(1000.0 * read_seconds / UI_SHARE)))


class StrokeWatch:
    """The strokes layer's pixels, tick by tick: :meth:`tick` says when they are a new state to send."""

    def __init__(self):
        self.last = None  # the pixels at the last tick
        self.sent = None  # the pixels last sent

    def tick(self, pixels):
        """True when ``pixels`` (the layer now) equal the last tick's and differ from what was
        last sent: then they count as sent."""
        settled = self.last is not None and pixels == self.last
        self.last = pixels
        if settled and pixels != self.sent:
            self.sent = pixels
            return True
        return False

    def forget(self):
        """Send the next settled state whatever it is (the last one was not colorized)."""
        self.sent = None
