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
# (varcolor.common.kernels.ARRAY_CODE_PIXELS). A larger photo's first run compiles numba's kernels once,
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

# Lint and format first; then the types (`make typecheck`) beside the suite, their report printed
# after it, so that every core stays busy: at the lowest priority, they take the cores' idle moments
# (a child process's start, the browser) rather than the workers' time. The suite runs on every
# core (pytest-xdist; at most 4 workers, as each runs solves, threads and child processes of its
# own), a test file to a worker
# (loadfile: a module's shared fixture, a browser and its studio, is made once, its tests in order).
# No collecting pass to write the bytecode first, and no `varcolor warm`: neither made the run
# quicker (benchmarks/results/make_test_notes.md). Python writes its bytecode even where the
# environment says not to (PYTHONDONTWRITEBYTECODE): else each process the suite starts compiles
# varcolor again.
test: export PYTHONDONTWRITEBYTECODE :=
test: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@types=$$(mktemp); trap 'rm -f "$$types"' EXIT; \
	nice -n 19 $(PY) -m mypy varcolor > "$$types" 2>&1 & typing=$$!; \
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
