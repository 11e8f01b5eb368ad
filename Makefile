# scarline: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run paper test bench lint install install-dev clean

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

test: install-dev
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/wal.py
	$(BIN)/python bench/kernel.py
	$(BIN)/python bench/arena.py --sizes 256,1024,4096
	$(BIN)/python bench/drift.py
	$(BIN)/python bench/gates.py
	$(BIN)/python bench/gate_runner.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/service.py

# ruff (lint + format) on all Python, mypy on src/ (its settings: [tool.mypy] in pyproject.toml)
lint: install-dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
