"""The rehearsal lab: real FRR, sshd and nftables in network namespaces on this machine."""

from __future__ import annotations

from .drill import drill
from .stand import down, status, up
from .topology import topology_path

__all__ = ["down", "drill", "status", "topology_path", "up"]
