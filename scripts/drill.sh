#!/usr/bin/env bash
# Sets everything up and runs a drill on the lab shaped like the seeds' group (grand-ouest):
# lab up, then per playbook pre-flight, plan, cut, verify with packets, staged reconnection,
# restore, the lab checked back exactly; lab down; the report, kept and compared with the last.
# Arguments go to `isolement lab drill` (e.g. --faults device-down,session-drop,unknown-link).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/isolement lab drill --topology grand-ouest "$@"
