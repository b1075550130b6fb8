#!/usr/bin/env bash
# Sets everything up and runs the checks: lint, format, types, then every test (unit and lab).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
