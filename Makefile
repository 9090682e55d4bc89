# The two README commands: `make run` (set up, then run the pipeline on the sample dump)
# and `make test` (set up, start the Docker engine, then run the test suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

export DAGSTER_HOME := $(CURDIR)/dagster_home
export CODEBOOST_DUMPS_DIR := $(CURDIR)/data/dumps
export CODEBOOST_STORAGE := $(CURDIR)/data/storage
export HF_HOME := $(CURDIR)/.tmp/hf
export RAY_TMPDIR := $(CURDIR)/.tmp/ray
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: setup run test dev sandbox-engine clean

setup: $(VENV)/.installed data/dumps/sample.jsonl

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

data/dumps/sample.jsonl: $(VENV)/.installed
	$(BIN)/python -m codeboost_dagster.core.sample_dump $@

run: setup
	$(BIN)/codeboost run --dump sample.jsonl

# The Docker sandbox backend's engine and image (root, Debian): idempotent, no image registry.
sandbox-engine:
	bash docker/sandbox/start_dockerd.sh
	bash docker/sandbox/build_image.sh

test: setup sandbox-engine
	$(BIN)/pytest

dev: setup
	$(BIN)/dg dev

clean:
	rm -rf data/storage .tmp
