"""`isolement region ...`: the regional mode (issue #16), for a group too large for one
controller, whose regions must keep containing while the WAN between them is cut.

  region server-config hub|region   the nats-server configuration of each part
  region hub --regions A B ...       declare the hub's streams (once; adding a region later is fine)
  region agent --region NAME --trust KEY   a region's daemon, beside its own nats-server leaf
  region order PLAYBOOK --reason R --sign KEY [--regions ...]   fan a signed order out
  region status ORDER                what each region said of it, as the hub holds it now
  region report ORDER                the merged record: every entry tagged with its region

Exit codes of status and report: 0 every region reported its cut done and its mirrored
journal chains at the hub; 6 some region not heard from yet (or its chain is broken there); 3 a
region refused the order; otherwise the first region's own non-zero exit. 2 bad input, 4 the
NATS server could not be reached.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

from isolement.cli import paths
from isolement.cli.operator import default_operator
from isolement.journal.keys import load_private_key, load_public_key
from isolement.journal.store import default_journal_path
from isolement.model.errors import InputError, IsolementError
from isolement.model.inventory import load_inventory
from isolement.model.names import check_name, check_statement
from isolement.model.text import escape_json, shown

DEFAULT_SERVER = os.environ.get("ISOLEMENT_NATS_URL", "nats://127.0.0.1:4222")


class Unreachable(IsolementError):
    """The NATS server named by --server did not answer."""


def _checked(check: Callable[[str], str], option: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        try:
            return check(value)
        except (ValueError, InputError) as exc:
            raise argparse.ArgumentTypeError(f"{option}: {exc}") from None

    return parse


def add_parser(sub: Any) -> None:
    from isolement.regions.names import check_region

    region_name = _checked(check_region, "region")
    parser = sub.add_parser(
        "region", help="regional mode: one controller per region, orders from the hub"
    )
    rsub = parser.add_subparsers(dest="region_command", required=True)

    def with_server(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--server",
            default=DEFAULT_SERVER,
            metavar="URL",
            help="the NATS server: the region's leaf for `agent`, the hub otherwise "
            "(default $ISOLEMENT_NATS_URL or nats://127.0.0.1:4222)",
        )
        p.add_argument("--creds", type=Path, metavar="FILE", help="NATS credentials file")
        return p

    config = rsub.add_parser(
        "server-config", help="the nats-server configuration of the hub or of a region's leaf"
    )
    config.add_argument("side", choices=["hub", "region"])
    config.add_argument("--region", type=region_name, help="for a region: its name")
    config.add_argument(
        "--hub", metavar="URL", help="for a region: the hub's leaf address, nats-leaf://HOST:PORT"
    )
    config.add_argument("--store", type=Path, required=True, help="JetStream's directory")
    config.add_argument("--host", default="127.0.0.1", help="address to listen on")
    config.add_argument("--port", type=int, default=4222, help="clients' port (default 4222)")
    config.add_argument(
        "--leaf-port", type=int, default=7422, help="hub: the regions' port (default 7422)"
    )

    hub = with_server(rsub.add_parser("hub", help="declare the hub's streams for these regions"))
    hub.add_argument("--regions", nargs="+", type=region_name, required=True, metavar="REGION")

    agent = with_server(
        rsub.add_parser(
            "agent",
            help="a region's daemon: run the hub's orders on this inventory, mirror the journal",
        )
    )
    agent.add_argument("--region", type=region_name, required=True)
    agent.add_argument(
        "--trust",
        type=Path,
        required=True,
        metavar="PUBLIC_KEY",
        help="the crisis cell's public key: only orders it signed are run",
    )

    order = with_server(rsub.add_parser("order", help="fan a signed order out to the regions"))
    order.add_argument("playbook", type=_checked(check_name, "playbook"))
    order.add_argument("--reason", type=_checked(check_statement, "--reason"), required=True)
    order.add_argument("--operator", type=_checked(check_statement, "--operator"))
    order.add_argument("--site", type=_checked(check_name, "--site"), help="for isolate-site")
    order.add_argument(
        "--regions", nargs="+", type=region_name, metavar="REGION", help="default: every one"
    )
    order.add_argument(
        "--sign", type=Path, required=True, metavar="PRIVATE_KEY", help="the cell's key"
    )
    order.add_argument("--passphrase", action="store_true", help="ask for the key's passphrase")
    order.add_argument(
        "--valid-for",
        type=float,
        default=60.0,
        metavar="MINUTES",
        help="a region that gets the order later refuses it (default 60)",
    )

    for name, help_ in (
        ("status", "what each region said of an order, as the hub holds it now"),
        ("report", "the merged record of an order: every entry tagged with its region"),
    ):
        p = with_server(rsub.add_parser(name, help=help_))
        p.add_argument("order_id", metavar="ORDER")


def cmd_region(args: argparse.Namespace) -> int:
    if args.region_command == "server-config":
        return _server_config(args)
    try:
        import nats  # noqa: F401 (only to say what is missing)
    except ModuleNotFoundError:
        raise InputError(
            "the regional mode needs the NATS client: pip install 'isolement[regions]'"
        ) from None
    commands: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
        "hub": _hub,
        "agent": _agent,
        "order": _order,
        "status": _status,
        "report": _report,
    }
    import asyncio  # for the regional commands only: 0.03 s at every other command's start

    return asyncio.run(commands[args.region_command](args))


def _connect_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"user_credentials": str(args.creds)} if args.creds else {}


async def _connect(args: argparse.Namespace) -> Any:
    import nats
    from nats.errors import NoServersError

    seen: list[BaseException] = []

    async def noted(exc: BaseException) -> None:
        seen.append(exc)  # said once, below, not as a traceback per attempt

    try:
        return await nats.connect(
            args.server,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            connect_timeout=5,
            error_cb=noted,
            **_connect_options(args),
        )
    except (NoServersError, OSError, TimeoutError) as exc:
        why = seen[-1] if seen else exc
        raise Unreachable(f"the NATS server at {args.server} did not answer: {why}") from None


def _emit(args: argparse.Namespace, text: str, data: Any) -> None:
    if args.json:
        print(escape_json(json.dumps(data, indent=2, ensure_ascii=False, default=str)))
    else:
        print(shown(text, lines=True))


def _server_config(args: argparse.Namespace) -> int:
    from isolement.regions import servers

    store = args.store.resolve()
    if args.side == "hub":
        print(
            servers.hub_config(store, host=args.host, port=args.port, leaf_port=args.leaf_port),
            end="",
        )
        return 0
    if not args.region or not args.hub:
        raise InputError("a region's configuration needs --region NAME and --hub URL")
    if not args.hub.startswith("nats-leaf://"):
        raise InputError(f"--hub {args.hub!r}: expected nats-leaf://HOST:PORT", field="--hub")
    print(
        servers.region_config(args.region, store, args.hub, host=args.host, port=args.port),
        end="",
    )
    return 0


async def _hub(args: argparse.Namespace) -> int:
    from isolement.regions import streams

    nc = await _connect(args)
    try:
        every = await streams.ensure_hub(nc.jetstream(), args.regions)
    finally:
        await nc.close()
    _emit(args, f"hub streams ready; regions: {', '.join(every)}", {"regions": every})
    return 0


async def _agent(args: argparse.Namespace) -> int:
    from isolement.regions.agent import Agent, AgentConfig

    inventory = load_inventory(args.inventory)  # bad input refused before serving
    journal = args.journal or default_journal_path(paths.state_dir(), inventory.name)
    options = ["--inventory", str(args.inventory), "--timeout", f"{args.timeout:g}"]
    for option, value in (
        ("--anchor-dir", args.anchor_dir),
        ("--anchor-key", args.anchor_key),
        ("--anchor-public-key", args.anchor_public_key),
    ):
        if value is not None:
            options += [option, str(value)]
    agent = Agent(
        AgentConfig(
            region=args.region,
            server=args.server,
            trusted=load_public_key(args.trust),
            journal=journal,
            playbooks=args.playbooks,
            isolement_options=options,
            connect_options=_connect_options(args),
            say=lambda line: print(shown(line), flush=True),
        )
    )
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        stop.set()
        agent.interrupt()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stopping)
    print(f"region {args.region}: inventory {args.inventory}, journal {journal}", flush=True)
    await agent.serve(stop)
    return 0


async def _order(args: argparse.Namespace) -> int:
    from isolement.regions import hub, streams
    from isolement.regions.order import Order, OrderRefused

    passphrase = None
    if args.passphrase:
        if not sys.stdin.isatty():
            raise InputError("--passphrase needs a terminal to ask on")
        passphrase = getpass.getpass(f"Passphrase for {args.sign}: ").encode() or None
    key = load_private_key(args.sign, passphrase)
    if args.valid_for <= 0:
        raise InputError("--valid-for: must be more than 0 minutes")
    operator = args.operator or default_operator()[0]
    nc = await _connect(args)
    try:
        js = nc.jetstream()
        known = await streams.hub_regions(js)
        regions = args.regions or known
        if not regions:
            raise InputError("no region declared at the hub: run 'isolement region hub' first")
        unknown = sorted(set(regions) - set(known))
        if unknown:
            raise InputError(
                f"region(s) {', '.join(unknown)} not declared at the hub (known: "
                f"{', '.join(known) or 'none'}); nothing was sent"
            )
        try:
            order = Order.new(
                args.playbook,
                reason=args.reason,
                operator=operator,
                regions=sorted(regions),
                valid_for=timedelta(minutes=args.valid_for),
                site=args.site,
            )
        except OrderRefused as exc:
            raise InputError(f"{exc}; nothing was sent") from None
        seq = await hub.issue(js, order, order.signed(key))
    finally:
        await nc.close()
    text = (
        f"order {order.order_id}: {order.playbook} sent to {', '.join(order.regions)} "
        f"(hub sequence {seq}), valid until {order.expires_at}\n"
        f"follow it: isolement region status {order.order_id}"
    )
    _emit(args, text, {"order": order.order_id, "regions": order.regions, "hub_seq": seq})
    return 0


async def _merged(args: argparse.Namespace) -> Any:
    from isolement.regions import hub, merge

    nc = await _connect(args)
    try:
        js = nc.jetstream()
        order = await hub.find_order(js, args.order_id)
        if order is None:
            raise InputError(f"no order {args.order_id!r} at the hub")
        said = await hub.events(js, order.order_id)
        journals = await hub.journals(js, list(order.regions))
    finally:
        await nc.close()
    return merge.merge(order, said, journals)


async def _status(args: argparse.Namespace) -> int:
    report = await _merged(args)
    lines = [f"order {report.order.order_id}: {report.order.playbook}: {report.order.reason}"]
    lines += [f"  {r.region:<16} {r.word}; journal at the hub: {r.chain}" for r in report.regions]
    data = {
        "order": report.order.order_id,
        "regions": {
            r.region: {"said": r.word, "result": r.result, "journal": r.chain}
            for r in report.regions
        },
    }
    _emit(args, "\n".join(lines), data)
    return int(report.exit_code())


async def _report(args: argparse.Namespace) -> int:
    report = await _merged(args)
    order = report.order
    lines = [
        f"Regional incident record: order {order.order_id}",
        f"  playbook {order.playbook}, by {order.operator}, issued {order.issued_at}: "
        f"{order.reason}",
        "",
        "Regions",
    ]
    lines += [f"  {r.region:<16} {r.word}; journal: {r.chain}" for r in report.regions]
    lines += ["", "Timeline (UTC), each entry with the region that wrote it"]
    lines += [
        f"  {e['ts']}  [{e['region']}] #{e['seq']} {e['event']:<16} {e['device'] or '-':<12} "
        f"{e['detail']}"
        for e in report.entries
    ]
    data = {
        "order": order.order_id,
        "playbook": order.playbook,
        "reason": order.reason,
        "regions": {
            r.region: {
                "said": r.word,
                "result": r.result,
                "journal": {
                    "records": r.records,
                    "chained": r.chain_good,
                    "problem": r.chain_problem,
                },
            }
            for r in report.regions
        },
        "entries": report.entries,
    }
    _emit(args, "\n".join(lines), data)
    return int(report.exit_code())
