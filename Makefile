# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-slow bench docs lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,neural,ui,docs,layers]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/varcolor colorize examples/data/chelsea.png --marked examples/data/chelsea_marked.png \
		-o out/demo/chelsea_colorized.png --overwrite
	$(PY) examples/plot_demo.py out/demo/chelsea_colorized.png out/demo/chelsea_side_by_side.png
	$(VENV)/bin/varcolor colorize examples/data/chelsea.png -o out/demo/chelsea_automatic.png --prior ideepcolor \
		--overwrite
	@echo "demo: wrote out/demo/chelsea_colorized.png, out/demo/chelsea_side_by_side.png and" \
		"out/demo/chelsea_automatic.png (no cues: the shipped network alone, lifted by Levin's method)"

# Lint and format check first (seconds), then the suite.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q --doctest-modules varcolor tests

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow tests

bench: $(STAMP)
	$(PY) benchmarks/quality.py

# The documentation site, warnings as errors (mkdocs.yml: strict), into site/; offline.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

# Lint and formatting, as configured under [tool.ruff] in pyproject.toml; changes nothing.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf out .pytest_cache site
