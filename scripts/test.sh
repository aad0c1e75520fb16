#!/usr/bin/env bash
# Set dubkit up (idempotent), then run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check dubkit tests bench
.venv/bin/ruff format --check dubkit tests bench
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
# one worker per core; each test module stays on one worker (its fixtures are built once)
.venv/bin/python -m pytest -n auto --dist loadscope "$@"
