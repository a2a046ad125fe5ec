# LayerLab: `make run` starts the app, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
export TF_CPP_MIN_LOG_LEVEL := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast bench screenshots chromium clean ray

run: $(VENV)/.runtime-installed
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT)

# Two test processes (pytest-xdist), a test file each at a time: CI has 2 cores, and many tests wait on
# a browser, a server or a worker process (docs/ARCHITECTURE.md "Tests").
test: $(VENV)/.dev-installed chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Unit and AppTest tests only (no browser).
test-fast: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests/unit tests/app

bench: $(VENV)/.dev-installed chromium
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

screenshots: $(VENV)/.dev-installed chromium
	LAYERLAB_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/e2e/test_screenshots.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements-ray.txt $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The optional Ray extra (design search on a Ray cluster), without the test tools.
ray: $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet -r requirements-ray.txt

# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
chromium:
	@bash scripts/ensure-chromium.sh

clean:
	rm -rf $(VENV) .pytest_cache
