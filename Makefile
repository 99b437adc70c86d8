# Two commands: `make demo` runs the bridge with a local homeserver; `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install demo test lint unit e2e clean widget widget-check

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

test: lint widget-check
	$(VENV)/bin/pytest

# The config widget: rebuild hookshot/widget_static/ from widgets/ (commit the result).
widget:
	cd widgets && npm ci --no-audit --no-fund && npm run build

# The committed build must be what widgets/ builds.
widget-check: widget
	@changed=$$(git status --porcelain -- hookshot/widget_static); \
	if [ -n "$$changed" ]; then echo "$$changed"; \
	  echo "hookshot/widget_static is stale: run 'make widget' and commit it"; exit 1; fi

clean:
	rm -rf $(VENV) demo-data test-artifacts .mypy_cache .ruff_cache .pytest_cache widgets/node_modules
