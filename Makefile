# Two commands: `make run` (quick start) and `make test` (the whole suite).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test install lint messages bench-dispatch bench-order-intake

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import tomllib; p=tomllib.load(open('pyproject.toml','rb'))['project']; print('\n'.join(p['dependencies']+p['optional-dependencies']['dev']))" > $(VENV)/requirements.txt
	$(BIN)/python -m pip install -q -r $(VENV)/requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	bash scripts/run.sh

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/python -m ruff check .

# Needs gettext; the compiled .mo files are committed so a fresh machine does not.
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --no-obsolete -i ".venv/*" -i "bench/*"
	$(BIN)/python manage.py compilemessages -i ".venv"
