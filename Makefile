# Two set-up commands: `make demo` and `make test`. Both need only Python 3.11+ and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint venv clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(BIN)/pmed demo

lint: venv
	$(BIN)/ruff check src tests tools benchmarks
	$(BIN)/ruff format --check src tests tools benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) .pmed .pytest_cache .mypy_cache .ruff_cache
