"""varcolor in Krita: the plug-in shipped in ``plugin/`` (Krita's Python runs it), the protocol it
shares with varcolor (``protocol.py``), colorizing what it hands over (``exchange.py``), installing
it (``install.py``) and the round trip with the real Krita (``check.py``)."""
