# espnet-cause: `make install` sets up .venv, `make test` runs the test suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= all

.PHONY: install test lint format clean-venv

install: $(STAMP)

# Reinstall only when the package metadata changed: a second `make install` takes seconds.
# Python: the oldest >= 3.12 found (3.12 is what espnet 202611 and mediapipe are tested with).
$(STAMP): setup.py pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  py=""; \
	  for cand in python3.12 python3.13 python3; do \
	    if command -v $$cand >/dev/null 2>&1 && \
	       $$cand -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	      py=$$(command -v $$cand); break; fi; \
	  done; \
	  if [ -z "$$py" ] && command -v pyenv >/dev/null 2>&1; then \
	    for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$$' | sort -V); do \
	      cand="$$(pyenv prefix $$v)/bin/python3"; \
	      if [ -x "$$cand" ]; then py="$$cand"; break; fi; \
	    done; \
	  fi; \
	  if [ -z "$$py" ]; then \
	    echo "error: espnet-cause needs Python >= 3.12 (espnet 202611 requires it), and none was found." >&2; \
	    echo "fix: install one (e.g. 'pyenv install 3.12' or 'apt-get install python3.12-venv'), then re-run 'make install'." >&2; \
	    exit 1; \
	  fi; \
	  echo "Creating $(VENV) with $$py ($$($$py --version))"; \
	  $$py -m venv $(VENV); \
	  $(PY) -m pip install --quiet --upgrade pip setuptools wheel; \
	fi
	$(PY) -m pip install --quiet --progress-bar off -e ".[$(EXTRAS)]"
	@touch $(STAMP)
	@echo "espnet-cause installed in $(VENV) ($$($(PY) --version))"

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-venv:
	rm -rf $(VENV)
