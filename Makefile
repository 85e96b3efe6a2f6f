# The two commands of the README: `make reproduce` and `make test`. Both set up .venv first.
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PRESET ?= tiny
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export MPLBACKEND ?= Agg
export PYTHONHASHSEED ?= 0

.PHONY: setup reproduce test check export clean-nbs lint-nbs gpu-test device-wheels docs readme

# Stamp so a second `make` does not reinstall; it is redone whenever the pins or settings change.
$(BIN)/.installed: constraints.txt settings.ini setup.py
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip<26"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip check
	@touch $@

setup: $(BIN)/.installed

reproduce: setup
	$(BIN)/rf-nb reproduce --preset $(PRESET)

# The docs site (_docs/: the front page, every notebook, the API; rf_nb.reproduce.build_docs) and README.md
# (rendered from nbs/index.ipynb, the tables pasted from figures/).
docs: setup
	$(BIN)/rf-nb docs --out _docs

readme: setup
	$(BIN)/rf-nb readme

# Notebooks are the source: exporting must not change rf_nb/, cleaning must not change nbs/.
check: setup
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	@if [ -n "$$(git status --porcelain -- rf_nb nbs)" ]; then \
	  echo "nbdev: notebooks and rf_nb/ differ, or notebooks are not clean. Run 'make export' and commit:"; \
	  git status --porcelain -- rf_nb nbs; exit 1; fi
	@echo "nbdev: rf_nb/ is in step with nbs/, notebooks are clean"

export: setup
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

test: check
	$(BIN)/python -m pytest -q --durations=10 tests   # the ten slowest tests listed: CI should stay under ~20 min

# On the GPU machine: the same tests plus the cells and tests flagged `gpu`.
gpu-test:
	RF_NB_FLAGS=gpu python3 -m pytest -q tests

# Wheels for the GPU machine (Python 3.12) into .whl/ (ignored); see ops/device_wheels.sh.
device-wheels:
	bash ops/device_wheels.sh

# The separate VBench environment (issue: evaluation); tested to resolve and pass `pip check`.
vbench-env:
	@test -x .venv-vbench/bin/python || $(PY) -m venv .venv-vbench
	.venv-vbench/bin/python -m pip install -q -c constraints-vbench.txt vbench==0.1.5 torch==2.14.1 torchvision==0.29.1
	.venv-vbench/bin/python -m pip check

# The ImageReward reference environment (issue 35): the `image-reward` package with the old pins it needs
# (constraints-imagereward.txt), only for tests/test_imagereward_reference.py; rf_nb never imports the package.
# About 2 minutes from the local mirror. Its own .gitignore keeps it out of git.
IR_VENV ?= .venv-imagereward
imagereward-ref-env: $(IR_VENV)/.installed

$(IR_VENV)/.installed: constraints-imagereward.txt
	@test -x $(IR_VENV)/bin/python || $(PY) -m venv $(IR_VENV)
	@echo '*' > $(IR_VENV)/.gitignore
	$(IR_VENV)/bin/python -m pip install -q --upgrade "pip<26"
	$(IR_VENV)/bin/python -m pip install -q -c constraints-imagereward.txt image-reward torch torchvision safetensors setuptools
	$(IR_VENV)/bin/python -m pip check
	@touch $@

# Once, in a .venv made before ImageReward left the main environment (issue 35): the packages only `image-reward`
# pulled in would fail `pip check` against the new pins (datasets wants huggingface-hub<2). Then `make setup`.
drop-imagereward-pkgs:
	$(BIN)/python -m pip uninstall -y image-reward timm fairscale openai-clip datasets
