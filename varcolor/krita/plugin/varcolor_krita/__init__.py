"""varcolor in Krita: the Colorize docker and action, Live, and the headless check that ``varcolor
krita check`` runs.

Loaded by Krita's Python (not varcolor's): it runs the user's ``varcolor`` program and exchanges
pixels with it through files (``protocol.py``, which varcolor itself imports from here: outside
Krita this package registers nothing).
"""

import sys

if "krita" in sys.modules:  # Krita imports its own module before any plug-in
    from krita import DockWidgetFactory, DockWidgetFactoryBase, Krita

    from .check import Check
    from .docker import DOCKER_ID, ColorizeDocker
    from .extension import ColorizeExtension

    Krita.instance().addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, ColorizeDocker))
    Krita.instance().addExtension(ColorizeExtension(Krita.instance()))
    Krita.instance().addExtension(Check(Krita.instance()))
