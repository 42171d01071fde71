# Fieldapp: `make run` starts the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint package smoke bench clean postgres

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[portal,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fieldapp demo

postgres:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done; echo "PostgreSQL did not start on 127.0.0.1:5432"; exit 1

lint: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP) postgres lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

package: $(STAMP)
	rm -rf build/pyinstaller dist/fieldapp
	$(BIN)/pyinstaller --noconfirm --clean --workpath build/pyinstaller --distpath dist build.spec

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; QT_QPA_PLATFORM=offscreen $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache tests/artifacts
