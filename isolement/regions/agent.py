"""The regional daemon: takes the crisis cell's orders from its own leaf node, runs each one
through `isolement cut` on the region's inventory, and publishes what happened.

Orders come through a durable JetStream consumer on the region's `ORDERS` stream (sourced from
the hub's): an order that reached the region before its link to the hub went down is executed
all the same, and one delivered while the agent was down is delivered when it is back. The cut
is the real command line, in its own process, with this controller's inventory, credentials
and journal: the regional mode adds no second way of changing a device. Every record that
journal gains is mirrored, in order, to the region's stream, where it waits for the link to
the hub to come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from isolement.journal.records import parse_record
from isolement.regions import names, streams
from isolement.regions.order import Order, OrderRefused, read_order, verify_order

# How often the journal is read for new records while nothing else happens.
MIRROR_EVERY_S = 0.5
# JetStream redelivers an order unacknowledged for this long; a running cut says "still
# working" well within it, so only a dead agent's order is delivered again.
ACK_WAIT_S = 60.0
HEARTBEAT_S = 15.0


@dataclass
class AgentConfig:
    region: str
    server: str
    trusted: Ed25519PublicKey
    journal: Path
    playbooks: Path
    # The global options of `isolement` the cut runs with (--inventory, --timeout, ...).
    isolement_options: list[str] = field(default_factory=list)
    connect_options: dict[str, Any] = field(default_factory=dict)
    # Where the agent says what it does, one line per event (the daemon's log).
    say: Callable[[str], None] = print


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JournalMirror:
    """Publishes the journal's whole records past the last one the region's stream holds, in
    order, each once (its JetStream message id is region:seq)."""

    def __init__(self, js: Any, region: str, journal: Path):
        self._js, self._region, self._journal = js, region, journal
        self._offset = 0
        self._published = 0
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        try:
            last = await self._js.get_last_msg(
                names.region_stream(self._region), names.journal_subject(self._region)
            )
            self._published = int(json.loads(last.data)["seq"])
        except NotFoundError:
            self._published = 0

    async def publish_new(self) -> int:
        """Records published now."""
        async with self._lock:
            if not self._journal.exists():
                return 0
            with self._journal.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
            # Only whole lines: the last one may still be being written.
            whole = chunk[: chunk.rfind(b"\n") + 1]
            sent = 0
            for line in whole.splitlines():
                record = parse_record(line.decode("utf-8", errors="replace"))
                seq = record.get("seq") if isinstance(record, dict) else None
                if isinstance(seq, int) and seq > self._published:
                    await self._js.publish(
                        names.journal_subject(self._region),
                        line,
                        headers={"Nats-Msg-Id": f"{self._region}:journal:{seq}"},
                    )
                    self._published = seq
                    sent += 1
            self._offset += len(whole)
            return sent


class Agent:
    def __init__(self, config: AgentConfig):
        self.config = config
        self._child: asyncio.subprocess.Process | None = None

    async def serve(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: take orders, one at a time; an order being run when it is set
        is finished (the cut is told to stop starting new changes) and reported first."""
        cfg = self.config

        async def noted(exc: BaseException) -> None:
            cfg.say(f"region {cfg.region}: NATS server {cfg.server}: {exc}")

        # Its own region's server: retried for ever (the agent is a daemon).
        nc = await nats.connect(
            cfg.server, max_reconnect_attempts=-1, error_cb=noted, **cfg.connect_options
        )
        try:
            js = nc.jetstream()
            await streams.ensure_region(js, cfg.region)
            mirror = JournalMirror(js, cfg.region, cfg.journal)
            await mirror.start()
            orders = await self._subscribe(js)
            cfg.say(f"region {cfg.region}: agent taking orders from {cfg.server}")
            while not stop.is_set():
                await mirror.publish_new()
                try:
                    messages = await orders.fetch(1, timeout=MIRROR_EVERY_S)
                except TimeoutError:
                    continue
                for message in messages:
                    await self._handle(js, mirror, message)
        finally:
            await nc.drain()

    def interrupt(self) -> None:
        """A stop asked of the agent goes to the cut in progress too, as SIGTERM: the cut lets
        its changes in flight finish and starts nothing new."""
        if self._child is not None and self._child.returncode is None:
            self._child.send_signal(signal.SIGTERM)

    async def _subscribe(self, js: Any) -> Any:
        durable = f"agent-{self.config.region}"
        try:
            await js.consumer_info(names.ORDERS, durable)
        except NotFoundError:
            # Orders from now on: an agent started after a crisis does not replay old ones.
            await js.add_consumer(
                names.ORDERS,
                ConsumerConfig(
                    durable_name=durable,
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.NEW,
                    ack_wait=ACK_WAIT_S,
                    max_ack_pending=1,
                ),
            )
        return await js.pull_subscribe_bind(durable, stream=names.ORDERS)

    async def _handle(self, js: Any, mirror: JournalMirror, message: Any) -> None:
        cfg = self.config
        attempt = message.metadata.num_delivered
        try:
            order = verify_order(message.data, cfg.trusted)
            if cfg.region not in order.regions:
                await message.ack()  # another region's order
                return
            self._check_runnable(order)
        except OrderRefused as exc:
            await self._event(js, _order_id(message), "refused", attempt, why=str(exc))
            await message.ack()
            return
        await self._event(js, order.order_id, "accepted", attempt, playbook=order.playbook)
        heartbeat = asyncio.create_task(_keep_alive(message))
        try:
            result = await self._cut(order)
        finally:
            heartbeat.cancel()
        # Every record of the run first: the result never reaches the hub before them.
        await mirror.publish_new()
        await self._event(js, order.order_id, "result", attempt, **result)
        await message.ack()

    def _check_runnable(self, order: Order) -> None:
        if order.expired():
            raise OrderRefused(f"order {order.order_id}: expired at {order.expires_at}: refused")
        if not (self.config.playbooks / f"{order.playbook}.yaml").is_file():
            raise OrderRefused(
                f"order {order.order_id}: no playbook named {order.playbook!r} in region "
                f"{self.config.region}'s {self.config.playbooks}: refused"
            )

    async def _cut(self, order: Order) -> dict[str, Any]:
        cfg = self.config
        argv = [
            sys.executable,
            "-m",
            "isolement",
            *cfg.isolement_options,
            "--playbooks",
            str(cfg.playbooks),
            "--journal",
            str(cfg.journal),
            "--json",
            "cut",
            order.playbook,
            "--reason",
            f"{order.reason} [order {order.order_id}]",
            "--operator",
            order.operator,
            "--yes",
            *(["--site", order.site] if order.site else []),
        ]
        started = _now()
        self._child = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own process group: a Ctrl-C at the agent's terminal reaches it through
            # `interrupt`, once, not twice.
            start_new_session=True,
        )
        out, err = await self._child.communicate()
        code = self._child.returncode
        self._child = None
        return {"started": started, "exit": code, **_run_summary(out), "stderr": _tail(err)}

    async def _event(self, js: Any, order_id: str, kind: str, attempt: int, **fields: Any) -> None:
        region = self.config.region
        body = {"region": region, "order": order_id, "event": kind, "at": _now(), **fields}
        detail = fields.get("why") or fields.get("playbook") or fields.get("outcome") or ""
        self.config.say(f"region {region}: order {order_id}: {kind} {detail}".rstrip())
        await js.publish(
            names.event_subject(region, order_id),
            json.dumps(body, sort_keys=True).encode(),
            headers={"Nats-Msg-Id": f"{region}:{order_id}:{kind}:{attempt}"},
        )


async def _keep_alive(message: Any) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        await message.in_progress()


def _order_id(message: Any) -> str:
    """The order's identifier from its subject: a refused order is still named."""
    with contextlib.suppress(OrderRefused):
        return read_order(message.data)[0].order_id
    token = str(message.subject).rsplit(".", 1)[-1]
    return token if token.isalnum() else "unreadable"


def _run_summary(out: bytes) -> dict[str, Any]:
    """What the cut's --json said, as the hub needs it."""
    try:
        report = json.loads(out)
    except ValueError:
        return {"outcome": None, "run": None}
    keys = ("outcome", "run", "still_open", "unreachable", "unknown", "out_of_reach", "journal")
    return {k: report.get(k) for k in keys}


def _tail(text: bytes, lines: int = 20) -> str:
    return "\n".join(text.decode("utf-8", errors="replace").splitlines()[-lines:])
