#!/usr/bin/env bash
# The Debian packages the test suite needs, installed by `make deps` (which `make test` runs too):
# headless Chromium and its driver for the live page's browser test (tests/serve/test_browser.py
# drives /usr/bin/chromedriver; nothing is downloaded at test time) and CMU Flite's voices
# (libflite1, tests/corpora/test_flite.py). See the Makefile's deps target.
set -euo pipefail
make deps
