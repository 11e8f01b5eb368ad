# scarline: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run paper test bench lint install install-dev browser clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# torch is pinned (torch==2.13.0 in pyproject.toml) so pip takes the local CPU wheel.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) -e '.[dev]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/scarline run --config configs/arena.toml

# a live paper session on Binance's public market data (network); Ctrl-C closes the run
paper: install
	$(BIN)/scarline paper --config configs/paper.toml

# the dashboard's browser test drives Debian's chromium (Playwright, executable_path): installed
# here with apt when missing and run as root; otherwise that one test is skipped and says why
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (apt) for the dashboard's browser test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
	    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; } \
	    || echo "WARNING: chromium could not be installed: the dashboard browser test will be SKIPPED"; \
	  else \
	    echo "WARNING: chromium is missing and this is not root: the dashboard browser test will be SKIPPED"; \
	  fi; \
	fi

# one worker per core (pytest-xdist); each takes whole modules (--dist loadfile), so a module's
# fixtures are built once. xdist hands out the modules with the most tests first; handing out
# the slow modules first instead was slower (728 s against 515 s: their process pools collide)
TEST_WORKERS ?= logical
test: install-dev browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# every benchmark, one JSON summary (bench/results/latest.json); a slowdown against the saved
# baseline shows with: python bench/compare.py bench/baseline.json bench/results/latest.json
bench: install
	$(PIP) -e '.[bench]'
	$(BIN)/python bench/all.py

# ruff (lint + format) on all Python, mypy on src/ (its settings: [tool.mypy] in pyproject.toml)
lint: install-dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
