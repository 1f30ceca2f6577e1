# Two commands set everything up on a fresh machine:
#   make serve   - install into .venv and start the service on 127.0.0.1:8080
#   make test    - install into .venv (with test extras) and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8080
BIN     = $(VENV)/bin

$(BIN)/crs-cds: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

.PHONY: install serve test bench
install: $(BIN)/crs-cds

serve: install
	$(BIN)/crs-cds serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_patient_view.py
	$(BIN)/python benchmarks/bench_fetch.py
