"""The names the hub and the regions share: JetStream domains, streams and subjects. A region's
name is part of each, so it is checked once, here."""

from __future__ import annotations

import re

from isolement.model.errors import InputError

HUB_DOMAIN = "hub"
ORDERS = "ORDERS"
MERGED = "REGIONS"
ORDER_SUBJECTS = "isolement.orders.*"
# A region's name becomes a subject token, a stream name and a JetStream domain.
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def check_region(name: str) -> str:
    if not _REGION.fullmatch(name):
        raise InputError(
            f"{name!r} is not a region name: lower-case letters, digits and '-', "
            "at most 32 characters, starting with a letter or digit"
        )
    return name


def order_subject(order_id: str) -> str:
    return f"isolement.orders.{order_id}"


def domain(region: str) -> str:
    return f"region-{region}"


def region_stream(region: str) -> str:
    return f"REGION-{region}"


def region_subjects(region: str) -> str:
    """Everything a region publishes."""
    return f"isolement.region.{region}.>"


def journal_subject(region: str) -> str:
    return f"isolement.region.{region}.journal"


def event_subject(region: str, order_id: str) -> str:
    """What the region says of one order: accepted, refused, result."""
    return f"isolement.region.{region}.order.{order_id}"
