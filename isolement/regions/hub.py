"""The crisis cell's side: publish an order at the hub, and read back what each region said of
it and every journal record the regions mirrored, from the hub's merged `REGIONS` stream."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from isolement.regions import names
from isolement.regions.order import Order, read_order

# Messages read from a stream per request.
_BATCH = 256


async def issue(js: Any, order: Order, message: bytes) -> int:
    """The order in the hub's `ORDERS` stream (each region's stream sources it); its stream
    sequence."""
    ack = await js.publish(
        names.order_subject(order.order_id),
        message,
        headers={"Nats-Msg-Id": f"order:{order.order_id}"},
    )
    return int(ack.seq)


async def find_order(js: Any, order_id: str) -> Order | None:
    try:
        found = await js.get_last_msg(names.ORDERS, names.order_subject(order_id))
    except NotFoundError:
        return None
    return read_order(found.data)[0]


async def read_stream(js: Any, stream: str, subject: str) -> list[Any]:
    """Every message of `stream` on `subject` (wildcards allowed), oldest first, with a
    consumer that leaves nothing behind."""
    info = await js.stream_info(stream, subjects_filter=subject)
    if not info.state.messages:
        return []
    sub = await js.pull_subscribe(
        subject,
        stream=stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30.0
        ),
    )
    messages: list[Any] = []
    try:
        while True:
            pending = (await sub.consumer_info()).num_pending
            if not pending:
                break
            messages += await sub.fetch(min(pending, _BATCH), timeout=5)
    finally:
        await sub.unsubscribe()
    return messages


async def events(js: Any, order_id: str) -> dict[str, list[dict[str, Any]]]:
    """Region -> what it said of the order (accepted, refused, result), in order, as the hub
    holds it now."""
    said: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in await read_stream(js, names.MERGED, f"isolement.region.*.order.{order_id}"):
        body = json.loads(message.data)
        said[str(body["region"])].append(body)
    return dict(said)


async def journals(js: Any, regions: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Region -> every journal record it mirrored, in the order the hub holds them (the chain
    check in merge.py says whether they are whole and in order)."""
    return {
        region: [
            json.loads(m.data)
            for m in await read_stream(js, names.MERGED, names.journal_subject(region))
        ]
        for region in regions
    }
