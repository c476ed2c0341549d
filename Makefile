# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
comma := ,

# What each target installs (pyproject.toml's extras), each set with its own stamp, so that a
# target installs only what the sets before it lacked: `make demo` the runtime with the network
# and the studio; `make test` adds the test tools (dev) and PSD files (layers), `make docs` MkDocs (docs).
DEMO_STAMP := $(VENV)/.installed-neural-ui
TEST_STAMP := $(VENV)/.installed-dev-layers-neural-ui
DOCS_STAMP := $(VENV)/.installed-docs-layers-neural-ui

.PHONY: demo test test-slow bench docs lint typecheck clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

# pip's progress stays visible: the network's PyTorch alone is a download of several hundred MB.
$(VENV)/.installed-%: pyproject.toml | $(PY)
	@echo "installing varcolor with the extras $(subst -,$(comma),$*) into $(VENV) (pip shows its progress)"
	$(PY) -m pip install -e '.[$(subst -,$(comma),$*)]'
	touch $@

# The automatic step colours a copy of the gray image: beside the bundled one lie its scribbles,
# which a run without cues would (rightly) say it does not use.
# Nothing here compiles: the bundled photo is small, and a small photo's runs are array code
# (varcolor.kernels.ARRAY_CODE_PIXELS). A larger photo's first run compiles numba's kernels once,
# saying so; `varcolor warm` compiles them ahead.
demo: $(DEMO_STAMP)
	$(VENV)/bin/varcolor colorize examples/data/chelsea.png --marked examples/data/chelsea_marked.png \
		-o out/demo/chelsea_colorized.png --overwrite
	$(PY) examples/plot_demo.py out/demo/chelsea_colorized.png out/demo/chelsea_side_by_side.png
	cp examples/data/chelsea.png out/demo/chelsea_gray.png
	$(VENV)/bin/varcolor colorize out/demo/chelsea_gray.png -o out/demo/chelsea_automatic.png --prior ideepcolor \
		--overwrite
	@echo "demo: wrote out/demo/chelsea_colorized.png, out/demo/chelsea_side_by_side.png and" \
		"out/demo/chelsea_automatic.png (no cues: the shipped network alone, lifted by Levin's method)"

# Lint and format check first (seconds); then the types (`make typecheck`, one core, 50 s) beside
# the suite, their report printed after it: every core busy from the start to the end. The suite on
# every core (pytest-xdist; at most 4 workers: each runs solves of its own, threads and child
# processes too), a test file to a worker (loadfile: a module's shared fixture, a
# browser and its studio, is made once, its tests in order). No collecting pass first to write the
# bytecode once: the two workers writing it side by side collected in 14-17 s (27-31 CPU-s), a
# pass first and the workers after it in 25-27 s (31-33 CPU-s); whole clean clones taking turns
# on 2026-11-26: 374 and 428 s without it, 403 and 393 s with it (make_test.md,
# make_test_no_collecting_pass_1.md, make_test_collecting_pass_1.md, _2.md): the same within the
# machine's noise, which that day spanned 354-428 s for one code. No `varcolor warm` first: the suite's
# small photos run array code (tests/conftest.py), and its checks compile the kernels they ask
# for: 130-160 CPU-s of compiling, against 115 after a warm that took 80 s of a core itself.
# Measured back to back: 366 s, against 370 s with the warm beside the types first
# (benchmarks/results/make_test_before_types_beside.md): the same.
# Python writes its bytecode here even where the environment says not to (PYTHONDONTWRITEBYTECODE,
# set on this project's machines): else every process the suite starts compiled varcolor again (a
# command-line-heavy part of the suite took 13 % more CPU).
test: export PYTHONDONTWRITEBYTECODE :=
test: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@types=$$(mktemp); trap 'rm -f "$$types"' EXIT; \
	$(PY) -m mypy varcolor > "$$types" 2>&1 & typing=$$!; \
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile --doctest-modules varcolor tests; \
	tested=$$?; wait $$typing; typed=$$?; echo "types (mypy varcolor):"; cat "$$types"; \
	exit $$(( tested ? tested : typed ))

test-slow: $(TEST_STAMP)
	$(PY) -m pytest -q -m slow tests

bench: $(TEST_STAMP)
	$(PY) benchmarks/quality.py

# The documentation site, warnings as errors (mkdocs.yml: strict), into site/; offline.
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

# Lint and formatting, as configured under [tool.ruff] in pyproject.toml; changes nothing.
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The package's types (mypy, as configured under [tool.mypy] in pyproject.toml: the whole package);
# its cache in .mypy_cache makes a second run a few seconds (a cold one about half a minute).
typecheck: $(TEST_STAMP)
	$(PY) -m mypy varcolor

clean:
	rm -rf out .pytest_cache .mypy_cache site
