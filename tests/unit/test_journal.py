"""The journal: a hash chain that detects tampering, one writer at a time, no secret inside."""

from __future__ import annotations

import itertools
import json
import os
import stat
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from isolement.journal.store import (
    GENESIS,
    Journal,
    TornRecord,
    read_records,
    record_hash,
    verify_chain,
)
from isolement.model.errors import JournalError, LockedError


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "lab" / "journal.jsonl"


def write_records(path: Path, count: int, **fields: Any) -> None:
    with Journal(path) as journal:
        for n in range(1, count + 1):
            journal.record("test.event", n=n, reason=f"record number {n}", **fields)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


# --- the chain -------------------------------------------------------------------------------


def test_records_chain_each_to_the_one_before(path: Path) -> None:
    write_records(path, 4)
    records = [json.loads(line) for line in lines(path)]

    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert [r["n"] for r in records] == [1, 2, 3, 4]
    assert records[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(records):
        assert after["prev"] == before["hash"]
    assert len({r["hash"] for r in records}) == 4
    for record in records:
        assert record["event"] == "test.event"
        assert datetime.fromisoformat(record["ts"]).utcoffset() is not None
        assert record["ts"].endswith("Z")


def test_reopening_continues_the_chain(path: Path) -> None:
    write_records(path, 2)
    write_records(path, 3)
    records = [r for r in read_records(path) if isinstance(r, dict)]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert records[2]["prev"] == records[1]["hash"]
    assert verify_chain(path) == (5, None)


def test_journal_file_is_readable_by_its_owner_only(path: Path) -> None:
    write_records(path, 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_verify_chain_on_a_good_journal(path: Path) -> None:
    write_records(path, 5)
    assert verify_chain(path) == (5, None)


def test_verify_chain_on_no_journal_yet(path: Path) -> None:
    assert verify_chain(path) == (0, None)


def test_record_outside_the_context_is_refused(path: Path) -> None:
    with pytest.raises(JournalError):
        Journal(path).record("test.event")
    assert not path.exists()


# --- tampering, each named at its first bad line ---------------------------------------------


def test_edited_field_is_detected_at_its_line(path: Path) -> None:
    write_records(path, 4)
    text = lines(path)
    assert '"reason": "record number 3"' in text[2]
    text[2] = text[2].replace("record number 3", "record number 9")
    path.write_text("".join(text))

    good, problem = verify_chain(path)
    assert good == 2
    assert problem is not None
    assert problem.startswith("line 3 (seq 3)")
    assert "altered" in problem


def test_edited_record_with_its_hash_recomputed_breaks_the_next_link(path: Path) -> None:
    write_records(path, 4)
    text = lines(path)
    record = json.loads(text[1])
    record["reason"] = "nothing happened"
    body = {k: v for k, v in record.items() if k != "hash"}
    record["hash"] = record_hash(body)
    text[1] = json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text("".join(text))

    good, problem = verify_chain(path)
    assert good == 2
    assert problem is not None
    assert problem.startswith("line 3 ")
    assert "does not follow" in problem


def test_deleted_record_is_detected(path: Path) -> None:
    write_records(path, 4)
    text = lines(path)
    del text[1]
    path.write_text("".join(text))

    good, problem = verify_chain(path)
    assert good == 1
    assert problem is not None
    assert problem.startswith("line 2 (seq 3)")
    assert "removed" in problem


def test_swapped_records_are_detected(path: Path) -> None:
    write_records(path, 4)
    text = lines(path)
    text[1], text[2] = text[2], text[1]
    path.write_text("".join(text))

    good, problem = verify_chain(path)
    assert good == 1
    assert problem is not None
    assert problem.startswith("line 2 (seq 3)")
    assert "reordered" in problem


def test_torn_last_line_is_detected(path: Path) -> None:
    write_records(path, 4)
    text = lines(path)
    text[3] = text[3][: len(text[3]) // 2]
    path.write_text("".join(text))

    good, problem = verify_chain(path)
    assert good == 3
    assert problem is not None
    assert problem.startswith("line 4: the last line is torn")
    assert isinstance(list(read_records(path))[-1], TornRecord)


def test_journal_with_a_torn_last_line_refuses_to_append(path: Path) -> None:
    write_records(path, 2)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(JournalError, match="torn"):
        Journal(path).__enter__()
    # Nothing was added to the evidence.
    assert len(lines(path)) == 2


def test_refusing_a_torn_journal_does_not_keep_it_locked(path: Path) -> None:
    write_records(path, 2)
    path.write_bytes(path.read_bytes()[:-10])
    for _ in range(2):
        with pytest.raises(JournalError, match="torn"):
            Journal(path).__enter__()


# --- one writer at a time, many threads inside it --------------------------------------------


def test_second_journal_on_the_same_file_is_locked_out(path: Path) -> None:
    with Journal(path) as first:
        first.record("test.event", n=1)
        with pytest.raises(LockedError, match=str(path)):
            Journal(path).__enter__()
        first.record("test.event", n=2)
    # Once the first is closed, the next run may write.
    with Journal(path) as second:
        second.record("test.event", n=3)
    assert verify_chain(path) == (3, None)


def test_concurrent_records_are_whole_lines_on_an_intact_chain(path: Path) -> None:
    threads_count, per_thread = 16, 40
    payload = "x" * 3000  # bigger than a pipe buffer's atomic write, to catch interleaving
    start = threading.Barrier(threads_count)

    with Journal(path) as journal:

        def worker(t: int) -> None:
            start.wait()
            for n in range(per_thread):
                journal.record("test.event", device=f"dev{t}", n=n, output=payload)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    text = lines(path)
    assert len(text) == threads_count * per_thread
    records = [json.loads(line) for line in text]  # every line is whole JSON
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    for t in range(threads_count):
        mine = [r["n"] for r in records if r["device"] == f"dev{t}"]
        assert mine == list(range(per_thread))
    assert verify_chain(path) == (len(records), None)


# --- secrets never reach the file ------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "secret"),
    [
        ("hostname r1\npassword cisco123\n", "cisco123"),
        pytest.param(
            " key 0 Tr0ub4dor\n",
            "Tr0ub4dor",
        ),
        ("snmp-server community PubL1c-RO RO\n", "PubL1c-RO"),
        pytest.param(
            "hostname r1\nenable secret 5 $1$abc$Xy9zQ\n",
            "$1$abc$Xy9zQ",
        ),
        pytest.param(
            "username admin privilege 15 password 7 0822455D0A16\n",
            "0822455D0A16",
        ),
    ],
    ids=["password-line", "key-line", "snmp-community", "enable-secret-5", "username-password-7"],
)
def test_secret_in_device_output_never_reaches_the_file(
    path: Path, output: str, secret: str
) -> None:
    with Journal(path) as journal:
        journal.record("change.applied", device="r1", output=output, commands=[output])
    data = path.read_bytes()
    assert secret.encode() not in data
    assert b"<redacted>" in data
    assert verify_chain(path) == (1, None)


def test_secret_fields_never_reach_the_file(path: Path) -> None:
    with Journal(path) as journal:
        journal.record(
            "test.event",
            password="Hunter2-field",
            nested={"api_token": "tok-5f9d2c", "list": [{"private_key": "PRIVKEY-91"}]},
            ssh_passphrase="phrase-77",
            kept="visible-value",
        )
    data = path.read_bytes()
    for secret in (b"Hunter2-field", b"tok-5f9d2c", b"PRIVKEY-91", b"phrase-77"):
        assert secret not in data
    assert b"visible-value" in data
    record = json.loads(data)
    assert record["password"] == "<redacted>"
    assert record["nested"]["api_token"] == "<redacted>"


def test_journal_directory_is_private(path: Path) -> None:
    write_records(path, 1)
    mode = stat.S_IMODE(path.parent.stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)
    assert os.access(path.parent, os.W_OK)


def test_the_store_exports_what_it_names() -> None:
    from isolement.journal import store

    assert all(hasattr(store, name) for name in store.__all__)
    assert {"Journal", "Custody", "read_records", "verify_chain", "repair"} <= set(store.__all__)
