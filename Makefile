# espnet-cause: `make install` sets up .venv, `make deps` the Debian packages the tests use,
# `make test` (both first) runs the test suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= all

# Debian packages the test suite needs (`make deps`):
#   libflite1        CMU Flite voices, loaded with ctypes (tests/corpora/test_flite.py)
#   chromium         headless browser for the live page (tests/serve/test_browser.py)
#   chromium-driver  its WebDriver, /usr/bin/chromedriver (same test)
DEB_PACKAGES := libflite1 chromium chromium-driver
# Where they are looked for (the paths the tests use).
LDCONFIG ?= /sbin/ldconfig
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: install deps test lint format clean-venv

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

# Installs the missing packages with apt-get (after apt-get update) when it can: as root, or with
# password-less sudo. Otherwise it names the missing ones and the command that installs them, and
# fails: the suite does not skip their tests. Each package is found by the file its tests use.
deps:
	@missing=""; \
	for pkg in $(DEB_PACKAGES); do \
	  case $$pkg in \
	    libflite1) $(LDCONFIG) -p 2>/dev/null | grep -q 'libflite_cmu_us_slt\.so\.1' ;; \
	    chromium) [ -x $(CHROMIUM) ] ;; \
	    chromium-driver) [ -x $(CHROMEDRIVER) ] ;; \
	  esac || missing="$$missing $$pkg"; \
	done; \
	missing=$${missing# }; \
	if [ -z "$$missing" ]; then echo "deps: Debian packages present: $(DEB_PACKAGES)"; exit 0; fi; \
	fix="sudo apt-get update && sudo apt-get install -y $$missing"; \
	sudo=""; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=sudo; else sudo=none; fi; \
	fi; \
	if [ "$$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "error: the tests need Debian packages that are missing: $$missing" >&2; \
	  echo "fix: $$fix   (then run make test again)" >&2; \
	  exit 1; \
	fi; \
	echo "deps: installing $$missing with apt-get"; \
	if ! { $$sudo apt-get update -qq && \
	       $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }; then \
	  echo "error: apt-get could not install: $$missing" >&2; echo "fix: $$fix" >&2; exit 1; \
	fi; \
	echo "deps: installed $$missing"

test: install deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-venv:
	rm -rf $(VENV)
