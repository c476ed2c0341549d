"""The plug-in's settings, kept in Krita's own settings file (group ``varcolor``): what the docker
shows and what the Colorize action uses."""

from krita import Krita

from . import protocol

GROUP = "varcolor"
DEFAULTS = {
    "method": protocol.METHODS[0],
    "prior": "",
    "edges": protocol.EDGES[0],
    "photo": "",
    "strokes": "",
    "varcolor": "",
    "confidence": "",  # "1": a hidden layer of where the colour is known, above the result
}


def read():
    """Every setting, by name (strings; empty: the default choice)."""
    return {key: Krita.instance().readSetting(GROUP, key, value) for key, value in DEFAULTS.items()}


def write(values):
    """Save ``values`` in Krita's settings file; names that are not settings are left out."""
    for key, value in values.items():
        if key in DEFAULTS:
            Krita.instance().writeSetting(GROUP, key, str(value))
