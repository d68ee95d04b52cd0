# Two commands for people, one for hosting:
#   make serve   live-reloading preview at http://127.0.0.1:8000
#   make test    the whole test suite (unit, build, engines, browser)
#   make build   strict build into site/ for static hosting
# Each target creates .venv and installs the pinned requirements on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: serve test build build-root check zensical lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test: requirements-test.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

serve: $(VENV)/.runtime
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(VENV)/.runtime
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# For hosts that serve the site at a domain root (Netlify, Cloudflare Pages): only the 404
# page depends on site_url, so build with the host's address, e.g. SITE_URL=https://x.org/
build-root: $(VENV)/.runtime
	printf 'INHERIT: mkdocs.yml\nsite_url: %s\n' "$(SITE_URL)" > mkdocs.root.yml
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -f mkdocs.root.yml

check: $(VENV)/.runtime
	$(BIN)/python -m citereview check

# Zensical exits 0 on content errors, runs no plugins and caches pages: check first, write the
# package stylesheet into docs/ (the plugin does that under MkDocs), build from scratch (README).
zensical: $(VENV)/.test
	$(BIN)/python -m citereview check && $(BIN)/python -m citereview stylesheet && $(BIN)/zensical build --clean

lint: $(VENV)/.test
	$(BIN)/ruff check citereview tests bench

test: $(VENV)/.test
	$(BIN)/ruff check citereview tests bench
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m pytest

bench: $(VENV)/.test
	$(BIN)/python bench/build_bench.py

clean:
	rm -rf $(VENV) site site-* .pytest_cache .ruff_cache test-artifacts
