#!/usr/bin/env bash
# Sets everything up and runs the checks: lint, format, types, then every test (unit and lab).
#
#   ./scripts/test.sh [PYTEST OPTIONS]        everything
#   ./scripts/test.sh tests/unit/test_x.py     only what is named, as plain pytest
#
# The lab tests share one lab, so they run one after the other in one pytest process; they
# take the longest, so the unit tests run beside them, spread over three pytest-xdist workers.
# (70 lab tests: 12.0 min alone on a 2-core machine, 12.4 min with the unit tests beside them.)
# Both must pass.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

for arg in "$@"; do
    if [[ "$arg" != -* ]]; then
        exec .venv/bin/pytest "$@"
    fi
done

lab_log="$(mktemp -t isolement-lab-tests.XXXXXX)"
trap 'rm -f "$lab_log"' EXIT
.venv/bin/pytest tests/integration "$@" >"$lab_log" 2>&1 &
lab_pid=$!
unit=0
.venv/bin/pytest -n 3 tests/unit "$@" || unit=$?
lab=0
wait "$lab_pid" || lab=$?
echo "--- lab tests (tests/integration) ---"
cat "$lab_log"
echo "unit tests: exit $unit; lab tests: exit $lab"
if ((unit != 0 || lab != 0)); then
    exit 1
fi
