# Two commands do all set-up: `make run` opens the cockpit, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Mermaid parser the post-mortem tests judge the phases chart with; without Node those
# tests skip.
NPM := $(shell command -v npm 2>/dev/null)
JS := tests/js/node_modules/.package-lock.json

.PHONY: run demo test lint format typecheck bench mutate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(JS): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@

run: $(STAMP)
	$(BIN)/cockpit $(ARGS)

demo: $(STAMP)
	$(BIN)/cockpit demo

# lint-imports checks the floors and the absence of import cycles (contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck $(if $(NPM),$(JS))
	$(BIN)/python -m pytest -n 2 --dist worksteal $(PYTEST_ARGS)

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Mutation testing of domain, metrics, the store's outbox and the delivery worker: each mutant
# against the tests that run its lines, one process, `-x`. Slow (tens of minutes), so not part of
# `make test`; prints the score per module and every surviving mutant (bench/mutation/).
mutate: $(STAMP)
	$(BIN)/python -m bench.mutation $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache tests/js/node_modules
