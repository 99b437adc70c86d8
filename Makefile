# Two commands: `make demo` runs the bridge with a local homeserver; `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install demo test lint unit e2e clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]'
	touch $@

demo: install
	$(PY) -m hookshot demo

lint: install
	$(VENV)/bin/ruff check hookshot tests bench
	$(VENV)/bin/ruff format --check hookshot tests bench
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) demo-data test-artifacts .mypy_cache .ruff_cache .pytest_cache
