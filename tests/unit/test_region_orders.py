"""The regional mode's pieces that need no server: the signed order an agent acts on (and the
ones it refuses), the merge of the regions' mirrored journals, and the command line's refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from isolement.journal.keys import generate_keypair, load_private_key, load_public_key
from isolement.journal.records import GENESIS, record_hash
from isolement.regions import merge
from isolement.regions.order import Order, OrderRefused, verify_order


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "cell.key", tmp_path / "cell.pub"
    generate_keypair(private, public)
    return private, public


def _order(**changes: Any) -> Order:
    fields: dict[str, Any] = {
        "reason": "ransomware at h1",
        "operator": "crisis cell",
        "regions": ["a", "b"],
        "valid_for": timedelta(minutes=60),
    }
    return Order.new("cut-all", **(fields | changes))


def test_an_order_signed_by_the_trusted_key_reads_back_as_sent(keys: tuple[Path, Path]) -> None:
    order = _order()
    message = order.signed(load_private_key(keys[0]))
    assert verify_order(message, load_public_key(keys[1])) == order
    assert not order.expired()


def test_an_order_altered_after_signing_is_refused(keys: tuple[Path, Path]) -> None:
    document = json.loads(_order().signed(load_private_key(keys[0])))
    document["order"]["playbook"] = "cut-intersite"
    with pytest.raises(OrderRefused, match="not signed by the trusted key"):
        verify_order(json.dumps(document).encode(), load_public_key(keys[1]))


def test_an_order_signed_by_another_key_is_refused(keys: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    generate_keypair(other, tmp_path / "other.pub")
    message = _order().signed(load_private_key(other))
    with pytest.raises(OrderRefused, match="not signed by the trusted key"):
        verify_order(message, load_public_key(keys[1]))


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"regions": []}, "names no region"),
        ({"regions": ["A b"]}, "not a region name"),
        ({"reason": "line\nbreak"}, "line breaks"),
    ],
)
def test_a_malformed_order_cannot_be_made(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(OrderRefused, match=why):
        _order(**changes)


def test_a_playbook_path_is_refused_even_when_signed(keys: tuple[Path, Path]) -> None:
    # A path sent over the bus would make a region run a file of the sender's choosing.
    order = _order()
    document = json.loads(order.signed(load_private_key(keys[0])))
    document["order"]["playbook"] = "../../tmp/evil"
    with pytest.raises(OrderRefused, match="not a playbook name"):
        verify_order(json.dumps(document).encode(), load_public_key(keys[1]))
    with pytest.raises(OrderRefused, match="not an order message"):
        verify_order(b"{not json", load_public_key(keys[1]))


def test_an_order_expires() -> None:
    order = _order(valid_for=timedelta(minutes=1))
    assert order.expired(datetime.now(UTC) + timedelta(minutes=2))


# --- the merge -------------------------------------------------------------------------------


def _chain(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records chained as the journal writes them."""
    records, prev = [], GENESIS
    for seq, event in enumerate(events, 1):
        body = {**event, "seq": seq, "prev": prev}
        body["hash"] = record_hash(body)
        records.append(body)
        prev = body["hash"]
    return records


def _run(order: Order) -> list[dict[str, Any]]:
    run = {"run": "r1", "playbook": "cut-all", "ts": "2026-01-01T03:00:00Z"}
    return _chain(
        [
            {**run, "event": "run.started", "reason": f"x [order {order.order_id}]"},
            {**run, "event": "change.applied", "device": "a-edge1", "ts": "2026-01-01T03:00:01Z"},
            {**run, "event": "run.finished", "outcome": "done", "ts": "2026-01-01T03:00:02Z"},
        ]
    )


def test_the_merge_tags_each_entry_with_its_region_and_checks_each_chain() -> None:
    order = _order()
    records = _run(order)
    said = {r: [{"event": "result", "exit": 0, "outcome": "done", "run": "r1"}] for r in "ab"}
    report = merge.merge(order, said, {"a": records, "b": records})
    assert report.exit_code() == 0
    assert [r.chain for r in report.regions] == ["intact, 3 records"] * 2
    assert {(e["region"], e["event"]) for e in report.entries} >= {
        ("a", "change.applied"),
        ("b", "change.applied"),
    }


def test_a_record_missing_at_the_hub_breaks_that_region_s_chain() -> None:
    order = _order()
    records = _run(order)
    said = {r: [{"event": "result", "exit": 0, "outcome": "done", "run": "r1"}] for r in "ab"}
    report = merge.merge(order, said, {"a": records, "b": [records[0], records[2]]})
    b = report.regions[1]
    assert b.chain_problem is not None and "BROKEN after 1 of 2" in b.chain
    assert report.exit_code() == merge.EXIT_UNKNOWN


def test_a_region_not_heard_from_is_said_so() -> None:
    order = _order()
    report = merge.merge(order, {"a": [{"event": "accepted"}]}, {})
    assert [r.word for r in report.regions] == [
        "accepted, no result at the hub yet",
        "no word at the hub yet",
    ]
    assert report.exit_code() == merge.EXIT_UNKNOWN


# --- the command line's refusals: nothing sent -------------------------------------------------


def _isolement(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "isolement", "region", *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_a_bad_region_name_is_refused() -> None:
    done = _isolement("agent", "--region", "Region A", "--trust", "x.pub")
    assert done.returncode == 2
    assert "not a region name" in done.stderr


def test_an_order_without_a_readable_signing_key_is_refused(tmp_path: Path) -> None:
    done = _isolement(
        "order", "cut-all", "--reason", "r", "--sign", str(tmp_path / "none.key"),
        "--server", "nats://127.0.0.1:1",
    )  # fmt: skip
    assert done.returncode == 2
    assert "no such private key file" in done.stderr


def test_a_hub_that_does_not_answer_is_said_so(keys: tuple[Path, Path]) -> None:
    done = _isolement("status", "0" * 32, "--server", "nats://127.0.0.1:1")
    assert done.returncode == 4
    assert "did not answer" in done.stderr


def test_a_region_s_server_configuration_names_its_domain_and_its_hub(tmp_path: Path) -> None:
    hub = "nats-leaf://127.0.0.1:7422"
    done = _isolement("server-config", "region", "--region", "north", "--hub", hub,
                      "--store", str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "domain: region-north" in done.stdout and f'url: "{hub}"' in done.stdout
    missing = _isolement("server-config", "region", "--store", str(tmp_path))
    assert missing.returncode == 2 and "needs --region NAME and --hub URL" in missing.stderr
