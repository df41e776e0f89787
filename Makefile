# Two commands on a fresh machine: `make demo` (a rehearsal of the example chat, no account
# needed) and `make test` (the whole suite). Both create the virtualenv from the pinned
# constraints first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint check

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/tweetchat rehearse config/example.yaml --speed 120

# Three workers: the suite mostly waits on real servers (compressed chats, a browser, an AT
# Protocol network), so they overlap on two cores; a file's tests stay on one worker.
test: install
	$(BIN)/python -m pytest -q -n 3 --dist loadfile

lint: install
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

check: lint test
