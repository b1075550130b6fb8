#!/usr/bin/env bash
# Sets everything up and runs a drill on the lab: lab up, plan, cut, verify, restore, lab down.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/isolement lab drill "$@"
