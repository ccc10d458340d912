# `make kit` builds every kit in content/ into output/; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: kit test check system clean golden bench

kit: $(STAMP)
	$(PY) build.py

test: $(STAMP)
	$(PY) -m pytest

check: $(STAMP)
	$(PY) build.py check

bench: $(STAMP)
	$(PY) bench/bench.py

golden: $(STAMP)
	$(PY) -m tests.golden

# WeasyPrint needs Pango; HarfBuzz-Subset makes font subsetting twice as fast; poppler-utils
# gives pdftoppm/pdfinfo for looking at pages. Installed only where apt-get exists and we are root.
system:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  missing=""; for p in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils; do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	else echo "kit: install Pango, HarfBuzz-Subset and poppler-utils yourself (see README)"; fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf output/* build *.egg-info
