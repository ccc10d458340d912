# `make kit` builds every kit in content/ into output/; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: kit test check system browser clean golden bench screenshots serve

kit: $(STAMP)
	$(PY) build.py

test: $(TEST_STAMP)
	@$(MAKE) --no-print-directory browser
	$(PY) -m pytest

check: $(STAMP)
	$(PY) build.py check

serve: $(STAMP)
	$(PY) build.py serve

# The README's pictures of `serve`, taken by the browser tests.
screenshots: $(TEST_STAMP)
	KIT_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/test_serve.py

bench: $(STAMP)
	$(PY) bench/bench.py

golden: $(TEST_STAMP)
	$(PY) -m tests.golden

# WeasyPrint needs Pango; HarfBuzz-Subset makes font subsetting twice as fast. Installed only where
# apt-get exists and we are root. (poppler-utils, for looking at pages, is optional: see README.)
system:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  missing=""; for p in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	else echo "kit: install Pango and HarfBuzz-Subset yourself (see README)"; fi

# The browser tests drive Debian's chromium with Playwright; no browser is ever downloaded.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "kit: install chromium yourself for the browser tests (see README)"; fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $(STAMP)

# The test tools (pytest, hypothesis, Playwright and chromium) only for `make test`: `make kit` stays a short install.
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(TEST_STAMP)

clean:
	rm -rf output/* build *.egg-info
