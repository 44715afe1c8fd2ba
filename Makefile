# One entry point for the common tasks. `make install` once, then `make run` / `make test`.
PY ?= .venv/bin/python
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install lint test test-fast run demo ui bench

.venv/bin/python:
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip

install: .venv/bin/python
	.venv/bin/pip install -q -e ".[dev]"
	@if [ -f tests/tsdb/package-lock.json ]; then npm ci --prefix tests/tsdb --no-audit --no-fund --loglevel=error; fi

# The linter (rules in pyproject.toml [tool.ruff]); CI runs it before the tests.
lint:
	.venv/bin/ruff check .

# The test command (CI runs exactly this): SQLite + a throwaway PostgreSQL 15 started by the fixtures.
test:
	$(PY) -m pytest -n 2 --dist loadfile -q

test-fast:
	$(PY) -m pytest -q -m "not slow" -x

# The main job on the embedded SQLite default.
run:
	.venv/bin/shrinkage run

demo:
	.venv/bin/shrinkage demo

ui:
	mkdir -p $(DAGSTER_HOME)
	.venv/bin/dagster dev -w workspace.yaml

bench:
	$(PY) benchmarks/ingest.py
