# The same commands locally and in CI. `make run` starts the hub; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit bench clean assets

# A line per step and pip's own progress: the first run downloads the dependencies (about a
# minute on a fast line), and a silent minute looks like a hang.
$(BIN)/.installed: pyproject.toml
	@echo "==> [1/3] creating the virtual environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> [2/3] upgrading pip"
	$(BIN)/python -m pip install --upgrade pip
	@echo "==> [3/3] installing alertcommons and its dependencies (first run: about a minute)"
	$(BIN)/python -m pip install --progress-bar on -e '.[dev,speech]'
	touch $@

# Front-end assets from the npm registry (package-lock.json pins them), copied into the
# package so the hub serves them itself: nothing loads from the internet at run time.
VENDOR := src/alertcommons/web/static/vendor
$(VENDOR)/.installed: package.json package-lock.json
	@echo "==> installing the map, API-docs and accessibility assets (npm ci) into $(VENDOR)"
	# --ignore-scripts: none of these needs an install script, and swagger-ui-dist's
	# dependency @scarf/scarf would otherwise try to send install analytics.
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/leaflet $(VENDOR)/axe-core $(VENDOR)/swagger-ui
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
	    node_modules/leaflet/dist/images node_modules/leaflet/LICENSE $(VENDOR)/leaflet/
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE $(VENDOR)/axe-core/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	    node_modules/swagger-ui-dist/favicon-32x32.png node_modules/swagger-ui-dist/LICENSE \
	    node_modules/swagger-ui-dist/NOTICE $(VENDOR)/swagger-ui/
	touch $@

assets: $(VENDOR)/.installed

run: $(BIN)/.installed assets
	@echo "==> starting the hub with demo data (data directory: alertcommons-data/)"
	$(BIN)/alertcommons serve --demo

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(BIN)/.installed
	$(BIN)/mypy
	$(BIN)/mypy tests

unit: $(BIN)/.installed assets
	$(BIN)/pytest --durations=30

test: lint typecheck unit

bench: $(BIN)/.installed
	$(BIN)/python -m bench.cap_parse
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.jma_feed --poll 1.0
	$(BIN)/python -m bench.public_pages
	$(BIN)/python -m bench.speech
	$(BIN)/python -m bench.cluster

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
