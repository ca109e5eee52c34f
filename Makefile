# Development tasks. `make install` once, then `make test`.
# MMSCHEMA_TEST_PG picks the PostgreSQL majors the tests run on: 17 (default), 16, 14,18 or all.
# PYTEST_ARGS is passed to pytest, e.g. make test PYTEST_ARGS="-k embedded -x".
# PYTEST_WORKERS is pytest-xdist's worker count (-n): 3 keeps 2 cores busy while tests wait
# on PostgreSQL and subprocesses; 0 runs the tests in this one process.
# BENCH_ARGS is passed to both benchmarks, e.g. make bench BENCH_ARGS="--major 16".

VENV := .venv/bin
PYTEST_WORKERS ?= 3
export MMSCHEMA_TEST_PG

.PHONY: install test lint typecheck pytest bench

install:
	bash scripts/install.sh

test: lint typecheck pytest

lint: $(VENV)/ruff
	$(VENV)/ruff check .

typecheck: $(VENV)/mypy
	$(VENV)/mypy

pytest: $(VENV)/pytest
	@if $(VENV)/python -c 'import xdist' 2>/dev/null; then \
		echo "$(VENV)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)"; \
		$(VENV)/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS); \
	else \
		echo "pytest-xdist is missing (run 'make install'): running the tests in one process" >&2; \
		echo "$(VENV)/pytest $(PYTEST_ARGS)"; \
		$(VENV)/pytest $(PYTEST_ARGS); \
	fi

# Both run even if the first misses its target; the exit status reports either miss.
bench: $(VENV)/python
	$(VENV)/python -m bench.plan_speed --tables 200 $(BENCH_ARGS); status=$$?; \
	$(VENV)/python -m bench.online_apply $(BENCH_ARGS) && exit $$status

$(VENV)/ruff $(VENV)/mypy $(VENV)/pytest $(VENV)/python:
	@echo "$@ is missing: run 'make install' first" >&2
	@exit 1
