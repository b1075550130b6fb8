#!/usr/bin/env bash
# What bench/bench_containment.py needs beyond ./scripts/setup.sh: asyncssh in .venv (the
# floor client), and Ansible with the cisco.ios and ansible.netcommon collections in a venv of
# its own (bench/.venv-ansible, ignored by git), all from PyPI: the `ansible` package ships
# those collections, so Ansible Galaxy is not needed. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || ./scripts/setup.sh
# compat: a path entry, as scripts/setup.sh installs it; the default editable finder would hide
# the `isolement` package behind isolement-lab's (`cannot import name '__version__'`).
.venv/bin/pip install -q --disable-pip-version-check --config-settings editable_mode=compat -e '.[bench]'
python=${PYTHON:-python3}
[ -x bench/.venv-ansible/bin/python ] || "$python" -m venv bench/.venv-ansible
# ansible 12 = ansible-core 2.19, the last line that runs on Python 3.11. paramiko: Ansible's
# network_cli then speaks SSH through the same library as isolement and netmiko.
bench/.venv-ansible/bin/pip install -q --disable-pip-version-check 'ansible==12.3.0' 'paramiko>=3.4'
echo "bench setup: ready ($(bench/.venv-ansible/bin/ansible --version | head -1))"
