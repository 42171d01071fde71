# Fieldapp: `make run` starts the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint package smoke bench clean postgres browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[portal,dev]'
	touch $(STAMP)

# Before the window: the desktop libraries Qt needs (libxcb-cursor0 and friends), with the apt command if not.
run: $(STAMP)
	@$(BIN)/python -m ui.qt_platform
	$(BIN)/fieldapp demo

postgres:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done; echo "PostgreSQL did not start on 127.0.0.1:5432"; exit 1

# The layers' import rules, then ruff (bugs, not taste) and mypy (strict for fieldapp/ and sync/).
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check --quiet .
	$(BIN)/mypy

# The web pages' tests (tests/e2e/test_web_browser.py) drive Debian's headless Chromium:
# installed here when missing and we may (root with apt-get), else this fails with the command.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	  else echo "The browser tests need Chromium; run: sudo apt-get install -y chromium chromium-driver"; exit 1; fi; fi

test: $(STAMP) postgres lint browser
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# The desktop bundle, built in a venv of its own holding only the desktop app's
# dependencies (never the portal's), so nothing server-side can slip into it.
PKG_VENV := build/package-venv

package:
	rm -rf build/pyinstaller dist/fieldapp $(PKG_VENV)
	$(PYTHON) -m venv $(PKG_VENV)
	$(PKG_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PKG_VENV)/bin/python -m pip install --quiet . 'pyinstaller>=6.6'
	$(PKG_VENV)/bin/pyinstaller --noconfirm --clean --workpath build/pyinstaller --distpath dist build.spec
	@du -sh dist/fieldapp

# The smoke test against the built bundle (what CI runs after `make package`).
smoke:
	mkdir -p tests/artifacts
	QT_QPA_PLATFORM=offscreen dist/fieldapp/fieldapp --smoke-test --screenshot tests/artifacts/smoke-bundle.png

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; QT_QPA_PLATFORM=offscreen $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache tests/artifacts
