#!/usr/bin/env bash
# Sets everything up and runs a drill on the lab shaped like the seeds' group (grand-ouest):
# lab up; pre-flight, plan, cut, verify with packets, staged reconnection, restore, the lab
# checked back exactly; lab down; the report, kept and compared with the previous drill.
# With no arguments: cut-all on a bad night (a device dropping the session mid-change, a fibre
# missing from the inventory). Arguments replace that: `./scripts/drill.sh cut-intersite`,
# `./scripts/drill.sh --faults device-down,wrong-credentials`, `./scripts/drill.sh --history`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ "$#" -eq 0 ]; then
  set -- cut-all --faults session-drop,unknown-link
fi
exec .venv/bin/isolement lab drill --topology grand-ouest "$@"
