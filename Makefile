# Two commands: `make demo` runs the bridge with a local homeserver; `make test` runs every test.
# Python dependencies come from uv.lock (`make lock` refreshes it on purpose); the widget's
# from widgets/package-lock.json.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# uv itself is pinned here and installed into a venv of its own (.uv/), so installs are the
# same on every machine; uv is also a locked dev dependency (the test harness uses it).
UV_VERSION := 0.13.9
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
# Never download an interpreter: use the machine's Python (>= 3.11).
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo test lint clean widget widget-check lock floors bench

install: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet uv==$(UV_VERSION)

# --locked: fail loudly if uv.lock does not match pyproject.toml (run `make lock`).
$(VENV)/.installed: pyproject.toml uv.lock $(UV)
	$(UV) sync --quiet --locked --extra dev --python $(PYTHON)
	touch $@

# Refresh every pinned version to the newest the floors in pyproject.toml allow, and the test
# homeserver's packages (its version is SYNAPSE_VERSION in hookshot/dev/homeserver.py).
SYNAPSE_VERSION = $(shell sed -n 's/^SYNAPSE_VERSION: Final = "\(.*\)"/\1/p' hookshot/dev/homeserver.py)
lock: $(UV)
	$(UV) lock --upgrade --python $(PYTHON)
	echo "matrix-synapse==$(SYNAPSE_VERSION)" | $(UV) pip compile - --quiet --upgrade --universal \
	  --python-version 3.11 --no-annotate --custom-compile-command "make lock" \
	  -o hookshot/dev/synapse-requirements.txt

# The floors in pyproject.toml must stay true: install the lowest versions they allow into a
# venv of its own and run the suite (not lint: ruff's and mypy's findings change by version;
# not the browser and image tests, which need the locked Playwright and uv).
FLOORS := .venv-floors
floors: $(UV)
	$(UV) pip compile pyproject.toml --quiet --extra dev --resolution lowest-direct \
	  --python-version 3.11 --no-header -o $(FLOORS).txt
	rm -rf $(FLOORS) && $(PYTHON) -m venv $(FLOORS)
	$(UV) pip install --quiet --python $(FLOORS)/bin/python -r $(FLOORS).txt
	$(UV) pip install --quiet --python $(FLOORS)/bin/python --no-deps -e .
	$(FLOORS)/bin/pytest -p no:cacheprovider --ignore=tests/widget/test_widget_browser.py \
	  --ignore=tests/test_dockerfile.py

# Throughput against same-run baselines (wrk for the load: `apt-get install wrk`); ~5 min.
bench: install
	$(PY) bench/intake_bench.py --seconds 10
	$(PY) bench/intake_bench.py --seconds 10 --role webhooks
	$(PY) bench/delivery_bench.py --backlog 100,1000 --rooms 1,10 --raw 300
	$(PY) bench/delivery_bench.py --roles --backlog 300 --rooms 1,10 --raw 300 --measure 300

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
	rm -rf $(VENV) $(UV_HOME) $(FLOORS) $(FLOORS).txt demo-data test-artifacts .mypy_cache .ruff_cache .pytest_cache widgets/node_modules
