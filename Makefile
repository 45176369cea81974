# The same commands locally and in CI. `make run` starts the hub; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/alertcommons serve --demo

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed
	$(BIN)/pytest

test: lint typecheck unit

bench: $(BIN)/.installed
	$(BIN)/python -m bench.cap_parse
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.fanout

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
