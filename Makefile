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

# Service over HTTP vs its parse-only floor vs json.loads, the no-prefetch fetch, then worker
# memory over 1,000 14-day calls and the feedback database's growth per call. wrk is the load generator (Debian package, installed if missing).
bench: install
	@command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || sudo apt-get install -y wrk; }
	$(BIN)/python benchmarks/bench_http.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_feedback_growth.py
	$(BIN)/python benchmarks/bench_timeline.py
