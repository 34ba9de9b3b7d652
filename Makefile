# The two commands of the quick start: `make demo` and `make test`.
# Both create .venv with the pinned versions (constraints.txt) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1

.PHONY: install demo test test-fast lint bench clean

$(BIN)/keyaccounts: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $@

install: $(BIN)/keyaccounts

## Generate the demo data and run every stage with DVC (about 4 minutes with the install).
demo: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc repro

## Run the whole test suite (unit, data, model and integration tests).
test: install
	$(BIN)/python -m pytest -q

## Unit tests only, without the slower integration tests.
test-fast: install
	$(BIN)/python -m pytest -q -m "not integration"

## Lint (ruff; the rules are in pyproject.toml). CI runs it after the tests.
lint: install
	$(BIN)/ruff check .

## Speed and memory benchmarks at scale (tens of minutes; prints tables).
bench: install
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf data artifacts reports mlflow.db mlruns .dvc/cache .dvc/tmp
