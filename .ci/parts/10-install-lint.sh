#!/usr/bin/env bash
# Install from the clean clone (make install finds Python >= 3.12 and creates .venv), then lint.
set -euo pipefail
make install
.venv/bin/ruff check .
.venv/bin/ruff format --check .
