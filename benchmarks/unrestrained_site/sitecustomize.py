"""Put on a studio server's ``PYTHONPATH`` by ``studio_latency.py --unrestrained``: every
:class:`varcolor.Colorizer` the process makes runs unrestrained (``restraint="off"``, the engine
before restraint), so that restraint's cost is measured in turns on one tree."""

import varcolor.api

_made = varcolor.api.Colorizer.__init__


def _unrestrained(self, *args, **keywords):
    keywords["restraint"] = "off"
    _made(self, *args, **keywords)


varcolor.api.Colorizer.__init__ = _unrestrained
