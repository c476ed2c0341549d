"""varcolor in Krita: the plug-in shipped in ``plugin/`` (Krita's Python runs it; its
``protocol.py`` is what it and varcolor say to each other), colorizing what it hands over
(``exchange.py``), Live's long-lived worker (``serve.py``), installing it (``install.py``) and the
round trip with the real Krita (``check.py``)."""
