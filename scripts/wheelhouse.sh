#!/usr/bin/env bash
# Builds a wheelhouse for an offline install of the controller on a crisis laptop: isolement's
# wheel and every dependency's, for the Python that runs this script (use the laptop's version).
#
#   ./scripts/wheelhouse.sh DIR [--with-lab]
#
# Then, on the laptop, with no index:
#   python3 -m venv venv && venv/bin/pip install --no-index --find-links DIR isolement
# --with-lab adds isolement-lab (the rehearsal lab; needs root, FRR, sshd and nftables to run).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: ./scripts/wheelhouse.sh DIR [--with-lab]}
python=${PYTHON:-python3}
projects=(.)
if [ "${2:-}" = "--with-lab" ]; then
    projects+=(./lab)
fi
"$python" -m pip wheel -q --disable-pip-version-check --wheel-dir "$dir" "${projects[@]}"
echo "wheelhouse: $(find "$dir" -name '*.whl' | wc -l) wheels in $dir"
