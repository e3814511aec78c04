# Two entry points (README): `make run` sets up and runs the main job, `make test` sets up and runs the tests.
# The virtualenv gets the CPU torch wheel first so no requirement can pull a CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
# Use the read-only mirror of raw dataset files beside the project when it exists.
export GRAPHITE_DATA ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
# Pytest selection: CI skips the slow reproduction runs.
PYTEST_ARGS ?= -m "not slow"

.PHONY: setup run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[test]"
	touch $@

setup: $(VENV)/.installed

# The main job: Actor before/after the transform, then GRAPHITE trained on one Geom-GCN split (about a minute).
# `graphite run --dataset actor --model graphite` runs all 10 splits (see README).
run: setup
	$(BIN)/graphite report --dataset actor
	$(BIN)/graphite run --dataset actor --model graphite --splits 0 --out experiments/results/quickstart/actor-graphite.json

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python benchmarks/ops.py

clean:
	rm -rf $(VENV) build dist *.egg-info
