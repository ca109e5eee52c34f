# Development tasks. `make install` once, then `make test`.
# MMSCHEMA_TEST_PG picks the PostgreSQL majors the tests run on: 17 (default), 16, 14,18 or all.
# PYTEST_ARGS is passed to pytest, e.g. make test PYTEST_ARGS="-k embedded -x".

VENV := .venv/bin
export MMSCHEMA_TEST_PG

.PHONY: install test lint typecheck pytest

install:
	bash scripts/install.sh

test: lint typecheck pytest

lint: $(VENV)/ruff
	$(VENV)/ruff check .

typecheck: $(VENV)/mypy
	$(VENV)/mypy

pytest: $(VENV)/pytest
	$(VENV)/pytest $(PYTEST_ARGS)

$(VENV)/ruff $(VENV)/mypy $(VENV)/pytest:
	@echo "$@ is missing: run 'make install' first" >&2
	@exit 1
