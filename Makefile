# Two commands on a fresh machine with Python 3.11+:  `make demo`  and  `make test`.
# Each creates the virtual environment it needs (.venv) on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test pytest lint types format clean upgrade-check

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## The main job: a Temporal dev server, the workers, every scenario, the audit, the UI link.
demo: $(STAMP)
	$(BIN)/python -m starters.demo $(ARGS)

## Everything CI checks: the test suite, the linter and the type checker.
test: pytest lint types

pytest: $(STAMP) tools/mermaid/node_modules
	$(BIN)/python -m pytest $(ARGS)

## Mermaid's own parser, for the test that the contract diagram renders (skipped without npm).
tools/mermaid/node_modules: tools/mermaid/package.json
	@if command -v npm >/dev/null; then npm install --prefix tools/mermaid --no-package-lock --no-audit --no-fund --silent && touch $@; else echo "npm not found: the Mermaid parse test will be skipped"; fi

## Before a deploy over orders in flight: the contract gate and the replays (starters.upgrade_check).
## ARGS="--from-server" also replays the recent workflows of the server TEMPORAL_ADDRESS names;
## ARGS="--against v1.2.0" compares the contract with the snapshot a release tag committed.
upgrade-check: $(STAMP)
	$(BIN)/python -m starters.upgrade_check $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) tools/mermaid/node_modules .data .pytest_cache .mypy_cache .ruff_cache
