"""The nats-server configurations of the hub and of a region's leaf node, as text to write to a
file: the same ones the tests start and the README shows."""

from __future__ import annotations

import json
from pathlib import Path

from isolement.regions.names import HUB_DOMAIN, domain


def _quoted(value: str) -> str:
    return json.dumps(value)


def hub_config(
    store: Path, *, host: str = "127.0.0.1", port: int = 4222, leaf_port: int = 7422
) -> str:
    """The crisis cell's server: clients on `port`, the regions' leaf nodes on `leaf_port`
    (-1: a port the system chooses, see `ports_file_dir`)."""
    return (
        f"listen: {_quoted(f'{host}:{port}')}\n"
        f"jetstream {{ store_dir: {_quoted(str(store))}, domain: {HUB_DOMAIN} }}\n"
        # no_advertise: a region reconnects through the address it was given, never to one
        # the hub gossips (a leaf would otherwise go round its own link once cut).
        f"leafnodes {{ listen: {_quoted(f'{host}:{leaf_port}')}, no_advertise: true }}\n"
    )


def region_config(
    region: str, store: Path, hub_leaf_url: str, *, host: str = "127.0.0.1", port: int = 4222
) -> str:
    """A region's server: its own JetStream domain, a leaf of the hub at `hub_leaf_url`
    (nats-leaf://HOST:PORT); it keeps serving its agent while that link is down."""
    return (
        f"listen: {_quoted(f'{host}:{port}')}\n"
        f"jetstream {{ store_dir: {_quoted(str(store))}, domain: {domain(region)} }}\n"
        f"leafnodes {{ remotes: [ {{ url: {_quoted(hub_leaf_url)} }} ] }}\n"
    )
