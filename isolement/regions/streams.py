"""The JetStream names the hub and the regions share, and the streams each side declares.

The hub's `ORDERS` stream takes the crisis cell's orders. Each region's server is a leaf of the
hub with a JetStream domain of its own (`region-NAME`); its `ORDERS` stream *sources* the hub's,
so an order the region received before the link went down is held, and executed, in the
region. The regional agent publishes its journal records and its results to its own
`REGION-NAME` stream, which keeps them while the link is down; the hub's `REGIONS` stream
sources every region's stream and so gets them, in order, once the link is back.

Neither `REGIONS` nor a region's `ORDERS` captures subjects of its own: they are filled by
sourcing only, so a message crossing the leaf link is never stored twice.
"""

from __future__ import annotations

from typing import Any

from nats.js.api import (
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import NotFoundError

from isolement.regions.names import (
    HUB_DOMAIN,
    MERGED,
    ORDER_SUBJECTS,
    ORDERS,
    domain,
    region_stream,
    region_subjects,
)


def _source(name: str, of_domain: str) -> StreamSource:
    return StreamSource(name=name, external=ExternalStream(api=f"$JS.{of_domain}.API"))


def _file_stream(name: str, **fields: Any) -> StreamConfig:
    return StreamConfig(
        name=name, storage=StorageType.FILE, retention=RetentionPolicy.LIMITS, **fields
    )


async def ensure_hub(js: Any, regions: list[str]) -> list[str]:
    """The hub's two streams, `REGIONS` sourcing at least `regions`; returns every region it
    sources now (the ones already declared are kept)."""
    await _ensure(js, _file_stream(ORDERS, subjects=[ORDER_SUBJECTS]))
    known = await hub_regions(js)
    every = sorted({*known, *regions})
    await _ensure(
        js, _file_stream(MERGED, sources=[_source(region_stream(r), domain(r)) for r in every])
    )
    return every


async def hub_regions(js: Any) -> list[str]:
    """The regions the hub's `REGIONS` stream sources (none before `ensure_hub`)."""
    try:
        info = await js.stream_info(MERGED)
    except NotFoundError:
        return []
    prefix = region_stream("")
    return sorted(s.name.removeprefix(prefix) for s in info.config.sources or [])


async def ensure_region(js: Any, region: str) -> None:
    """A region's two streams, in its own domain: the orders sourced from the hub, and what the
    region publishes."""
    await _ensure(js, _file_stream(ORDERS, sources=[_source(ORDERS, HUB_DOMAIN)]))
    await _ensure(js, _file_stream(region_stream(region), subjects=[region_subjects(region)]))


async def _ensure(js: Any, config: StreamConfig) -> None:
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
