"""pytest setup for the doctests collected from the package (`make test`)."""

import importlib.util

# The neural prior is an optional extra: without torch, its modules are not collected.
collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["varcolor/neural/*"]
