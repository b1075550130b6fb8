"""The journal's format: one JSON object per line, each carrying its sequence number, the hash
of the record before it and its own hash; read strictly (a key given twice is refused)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
# A head given by hand may be shortened to this many hex digits (64 bits); the full hash is
# the strong check.
MIN_HEAD_DIGITS = 16
_HEAD = re.compile(rf"(\d+):([0-9a-f]{{{MIN_HEAD_DIGITS},64}})")


def record_hash(body: dict[str, Any]) -> str:
    """SHA-256 of the record without its `hash`, as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Head:
    """A point of the chain: record `seq` has hash `hash` (or a prefix of it, typed by hand)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    def matches(self, full_hash: str) -> bool:
        return full_hash.startswith(self.hash)

    @classmethod
    def parse(cls, text: str) -> Head:
        """`SEQ:HASH` as a run prints it; ValueError says what is expected."""
        found = _HEAD.fullmatch(text.strip().lower())
        if not found:
            raise ValueError(
                f"{text!r} is not a journal head: expected SEQ:HASH as a run prints it "
                f"(the sequence number, a colon, and at least {MIN_HEAD_DIGITS} hex digits of "
                "the hash)"
            )
        return cls(int(found.group(1)), found.group(2))


GENESIS_HEAD = Head(0, GENESIS)


@dataclass(frozen=True)
class TornRecord:
    """A line that is not one whole record: torn by a write that did not finish (no newline at
    its end), or not isolement's (not JSON, not an object, a key given twice)."""

    line_number: int
    text: str
    why: str = "not a whole JSON record"
    # False when the line has no newline at its end: the last write did not finish.
    whole_line: bool = True


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record:
            # json.loads would keep the last value and another reader the first: a record
            # with two values for one key says two things, and isolement never writes one.
            raise _DuplicateKey(key)
        record[key] = value
    return record


def parse_record(line: str) -> dict[str, Any] | str:
    """The record on this line, or why it is not one."""
    try:
        record = json.loads(line, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey as exc:
        return f"duplicated key {exc.args[0]!r} (two values for one field: altered)"
    except ValueError:
        return "not a whole JSON record"
    if not isinstance(record, dict):
        return "not a JSON object"
    return record


def read_records(path: Path) -> Iterator[dict[str, Any] | TornRecord]:
    """Every record in order; a line that is not one whole record comes back as a TornRecord."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace", newline="\n") as handle:
        for number, line in enumerate(handle, 1):
            record = parse_record(line)
            if isinstance(record, str):
                yield TornRecord(number, line.rstrip("\n"), record, line.endswith("\n"))
            else:
                yield record
