"""pytest setup for the doctests collected from the package (`make test`)."""

import importlib.util

# The neural prior and the studio are optional extras: without them, their modules are not collected.
collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["varcolor/neural/*", "varcolor/ui/suggest.py"]
if not importlib.util.find_spec("starlette"):
    collect_ignore_glob.append("varcolor/ui/server.py")
# The Krita plug-in's Qt glue imports Krita's own modules, which only Krita's Python has.
collect_ignore_glob.append("varcolor/krita/plugin/*")
