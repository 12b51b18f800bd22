# Sunlight — the two commands: `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
VENDOR := app/web/static/vendor
ASSETS := $(VENDOR)/.installed-$(shell cat package.json package-lock.json | sha256sum | cut -c1-12)
export FLASK_APP := wsgi

.PHONY: run test test-dates setup assets browser documents bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

## Front-end assets from npm (package.json pins them): the dist/ bundles and CSS copied under $(VENDOR)
## and served from there — no CDN. Skipped when the lock file has not changed since the last copy.
$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bpmn-js $(VENDOR)/bpmn-js-properties-panel $(VENDOR)/properties-panel
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js \
	   node_modules/bpmn-js/dist/bpmn-modeler.production.min.js node_modules/bpmn-js/LICENSE $(VENDOR)/bpmn-js/
	cp -r node_modules/bpmn-js/dist/assets $(VENDOR)/bpmn-js/assets
	cp node_modules/bpmn-js-properties-panel/dist/bpmn-js-properties-panel.umd.js $(VENDOR)/bpmn-js-properties-panel/
	cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css $(VENDOR)/properties-panel/
	mkdir -p $(VENDOR)/bpmn-js-i18n && sed 's/^export default /window.BpmnJsI18nZh = /' \
	   node_modules/bpmn-js-i18n/translations/zn.js > $(VENDOR)/bpmn-js-i18n/zh.js
	mkdir -p $(VENDOR)/echarts && cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE \
	   $(VENDOR)/echarts/
	mkdir -p $(VENDOR)/camunda-bpmn-moddle && { printf 'window.CamundaBpmnModdle = '; \
	   cat node_modules/camunda-bpmn-moddle/resources/camunda.json; printf ';\n'; } > $(VENDOR)/camunda-bpmn-moddle/camunda.js
	mkdir -p $(VENDOR)/bpmn-js-bpmnlint && node_modules/.bin/esbuild app/web/assets-src/bpmnlint-entry.js --bundle \
	   --minify --format=iife --log-level=warning --outfile=$(VENDOR)/bpmn-js-bpmnlint/bpmn-js-bpmnlint.js
	cp node_modules/bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css node_modules/bpmn-js-bpmnlint/LICENSE \
	   $(VENDOR)/bpmn-js-bpmnlint/ && cp node_modules/bpmnlint/LICENSE $(VENDOR)/bpmn-js-bpmnlint/LICENSE.bpmnlint
	mkdir -p $(VENDOR)/dmn-js && cp node_modules/dmn-js/dist/dmn-modeler.production.min.js node_modules/dmn-js/LICENSE \
	   $(VENDOR)/dmn-js/ && cp -r node_modules/dmn-js/dist/assets $(VENDOR)/dmn-js/assets
	touch $@

assets: $(ASSETS)

## Debian's chromium and CJK fonts for the browser tests, when missing and installable (root + apt-get);
## otherwise those tests skip with a message saying why.
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and fonts-noto-cjk for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "chromium could not be installed: the browser tests will be skipped"; \
	else echo "no chromium here and no way to install it: the browser tests will be skipped"; fi

## Debian's pango (WeasyPrint draws the PDFs' text with it) and the Noto CJK fonts for the documents (受理通知书,
## 决定书…), when missing and installable (root + apt-get); otherwise no document is issued (logged) and the tests
## that render skip, saying why.
documents:
	@if ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 && ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset \
	  && fc-list 2>/dev/null | grep -qi "Noto Serif CJK\|Noto Sans CJK"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing pango, harfbuzz-subset and fonts-noto-cjk for the documents (WeasyPrint)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
	    libharfbuzz-subset0 fonts-noto-cjk >/dev/null) \
	  || echo "pango could not be installed: documents will not be issued and their tests will be skipped"; \
	else echo "no pango here and no way to install it: documents will not be issued and their tests will be skipped"; fi

## Serve UI + API on 127.0.0.1:$${PORT:-5000} with a timer worker, on SQLite under instance/.
run: setup assets documents
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	$(BIN)/flask serve --port $${PORT:-5000}

## The whole suite (SQLite always; PostgreSQL too when TEST_DATABASE_URL is set). Every test session
## migrates fresh databases and runs `alembic check` on them, so model/migration drift fails the run.
test: setup assets browser documents
	$(BIN)/python -m pytest -q -n 2

## The whole suite as if today were another day (Debian's libfaketime): no test may depend on the real date.
## Monotonic clocks stay real, or every timeout would wait for the faked year.
DATES ?= 2027-03-01 2031-01-01
test-dates: setup assets browser documents
	@command -v faketime >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; }
	for day in $(DATES); do echo "== $$day"; FAKETIME_DONT_FAKE_MONOTONIC=1 faketime "$$day 09:00:00" \
	  $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider || exit 1; done

bench: setup
	$(BIN)/python bench/lifecycle.py

clean:
	rm -rf $(VENV) .pytest_cache
