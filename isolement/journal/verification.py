"""Whether the journal can be trusted as evidence: its chain, and its head against the anchors.

The chain alone (each record holds the hash of the one before) shows an edit, a removal, a
reordering or an insertion *inside* the file, unless every hash after it was recomputed. It
cannot show that the last records were removed, that the file was emptied or deleted, or that
the whole chain was rewritten: only a head kept elsewhere can (an anchor directory, or a head
given back by hand). So the verdict is "intact" only when every record is covered by an anchor
that matches; a chain that is merely consistent is said to be so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from isolement.journal.anchor import Anchor, Anchoring, Anchors, read_anchors
from isolement.journal.records import (
    GENESIS,
    GENESIS_HEAD,
    Head,
    TornRecord,
    read_records,
    record_hash,
)


class Verdict(StrEnum):
    INTACT = "intact"  # consistent, and every record is covered by a matching anchor
    NOT_ANCHORED = "not-anchored"  # consistent; nothing kept elsewhere covers its end
    UNFINISHED = "unfinished"  # consistent; the records after the last anchor are a run's
    #                            that never closed (killed), so no anchor covers them yet
    EMPTY = "empty"  # no record, and no anchor says there were any
    MISSING = "missing"  # no file, and no anchor says there was one
    TORN = "torn"  # the last line is a write that did not finish: `journal repair`
    ALTERED = "altered"  # the chain is broken, or contradicts an anchor


# What `journal verify` exits with: 0 intact, 5 altered, 6 not proven either way.
EXIT_CODES = {
    Verdict.INTACT: 0,
    Verdict.ALTERED: 5,
    Verdict.TORN: 5,
    Verdict.NOT_ANCHORED: 7,
    Verdict.UNFINISHED: 7,
    Verdict.EMPTY: 7,
    Verdict.MISSING: 7,
}


@dataclass(frozen=True)
class Verification:
    path: Path
    verdict: Verdict
    records: int  # whole records that chain correctly from the first
    head: Head | None  # the last of them
    problem: str | None = None  # why ALTERED or TORN
    anchored: Head | None = None  # the furthest head an anchor confirmed
    source: str | None = None  # where those anchors were read
    # The last record in the file whatever its state: where a run accepted by override goes on.
    last: Head | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def intact(self) -> bool:
        return self.verdict is Verdict.INTACT

    @property
    def fails(self) -> bool:
        """Whether nothing may act on this journal without an explicit override."""
        return self.verdict in (Verdict.ALTERED, Verdict.TORN)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def describe(self) -> str:
        """One paragraph for the terminal and the reports."""
        where = f"{self.path}: "
        head = f"head seq {self.head.seq} sha256 {self.head.hash}" if self.head is not None else ""
        if self.verdict is Verdict.INTACT:
            text = f"intact: {self.records} records; {head} matches the anchor in {self.source}"
        elif self.verdict is Verdict.ALTERED:
            text = f"NOT INTACT after {self.records} good records: {self.problem}"
        elif self.verdict is Verdict.TORN:
            text = (
                f"NOT INTACT: {self.problem}. Keep the file as evidence; `isolement journal "
                "repair` moves the torn tail aside and keeps every whole record"
            )
        elif self.verdict is Verdict.UNFINISHED:
            assert self.anchored is not None and self.head is not None
            text = (
                f"consistent, anchored up to seq {self.anchored.seq} in {self.source}; records "
                f"{self.anchored.seq + 1}-{self.head.seq} ({head}) come from a run that has not "
                "closed its anchor (still running, or killed), so no anchor covers them yet (the "
                "next run's will)"
            )
        elif self.verdict is Verdict.NOT_ANCHORED:
            text = (
                f"consistent, not anchored: {self.records} records chain correctly up to {head}; "
                "removal of the last records cannot be detected, nor a rewrite of the whole "
                "chain, without a head kept elsewhere (ISOLEMENT_ANCHOR_DIR, or --head SEQ:HASH "
                "as a run prints it)"
            )
        elif self.verdict is Verdict.EMPTY:
            text = "empty (0 records): nothing to check; had it held records, only an anchor "
            text += "could tell"
        else:
            text = "no journal (no such file): nothing to check; had there been one, only an "
            text += "anchor could tell"
        return where + text + "".join(f"\n  note: {note}" for note in self.notes)

    def head_line(self) -> str:
        """The line a run ends with: the head to keep outside the controller."""
        if self.fails:
            return f"journal: {self.describe()}"
        if self.head is None:
            return f"journal {self.path}: no record"
        head = f"journal head: seq {self.head.seq} sha256 {self.head.hash}"
        if self.verdict is Verdict.INTACT:
            return f"{head}, anchored in {self.source}"
        return (
            f"{head}, NOT ANCHORED: keep this line outside the controller; "
            f"'isolement journal verify --head {self.head}' checks the journal against it"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "verdict": self.verdict,
            "intact": self.intact,
            "records": self.records,
            "head": {"seq": self.head.seq, "hash": self.head.hash} if self.head else None,
            "problem": self.problem,
            "anchored_seq": self.anchored.seq if self.anchored else None,
            "anchors": self.source,
            "notes": list(self.notes),
        }


@dataclass
class _Chain:
    """The chain as read: how far it holds, and every good record's hash by seq."""

    good: int = 0
    problem: str | None = None
    torn: bool = False
    hashes: dict[int, str] = field(default_factory=dict)
    last: Head | None = None
    # What the journal itself says was accepted or repaired, for every verdict to mention.
    notes: list[str] = field(default_factory=list)


def _read_chain(path: Path) -> _Chain:
    chain = _Chain()
    prev = GENESIS
    for number, record in enumerate(read_records(path), 1):
        if isinstance(record, TornRecord):
            # Only the last line can lack its newline: that is a write that did not finish.
            if chain.problem is None:
                chain.torn = not record.whole_line
                chain.problem = (
                    f"line {number}: the last line is torn (a run was killed while writing "
                    f"it): {record.text[:60]!r}"
                    if chain.torn
                    else f"line {number}: {record.why}: {record.text[:60]!r}"
                )
            continue
        seq, claimed = record.get("seq"), record.get("hash")
        if isinstance(seq, int) and isinstance(claimed, str):
            chain.last = Head(seq, claimed)
        # Said even past a break in the chain: an acceptance follows the break it accepts.
        chain.notes += _said_of_itself(record)
        if chain.problem is not None:
            continue
        body: dict[str, Any] = {k: v for k, v in record.items() if k != "hash"}
        if body.get("prev") != prev:
            chain.problem = (
                f"line {number} (seq {seq}): does not follow the record before it (a record "
                "was removed, reordered or inserted)"
            )
        elif claimed != record_hash(body):
            chain.problem = f"line {number} (seq {seq}): content was altered"
        elif seq != number:
            chain.problem = f"line {number}: sequence number {seq} is out of order"
        else:
            prev = claimed
            chain.good += 1
            chain.hashes[number] = claimed
    return chain


def _said_of_itself(record: dict[str, Any]) -> list[str]:
    event, at = record.get("event"), f"seq {record.get('seq')} ({record.get('ts', '?')})"
    if event == "journal.override":
        return [
            f"{at}: {record.get('accepted_by')} accepted the journal as it was, failing "
            f"verification ({record.get('problem')}), because: {record.get('reason')}"
        ]
    if event == "journal.repaired":
        return [
            f"{at}: {record.get('operator')} moved a torn last line ({record.get('torn_bytes')} "
            f"bytes, line {record.get('line')}) to {record.get('moved_to')}"
        ]
    return []


def verify_chain(path: Path) -> tuple[int, str | None]:
    """(records that chain correctly, the first problem or None). The chain only: a journal
    cut short, emptied or rewritten whole passes; `verify_journal` checks it against anchors."""
    chain = _read_chain(path)
    return chain.good, chain.problem


def verify_journal(
    path: Path, anchoring: Anchoring | None = None, heads: Sequence[Head] = ()
) -> Verification:
    """The journal's chain, and its head against the anchors and the heads given by hand."""
    chain = _read_chain(path)
    head = Head(chain.good, chain.hashes[chain.good]) if chain.good else None
    found = Verification(
        path, Verdict.NOT_ANCHORED, chain.good, head, last=chain.last, notes=tuple(chain.notes)
    )
    if chain.problem is not None:
        verdict = Verdict.TORN if chain.torn else Verdict.ALTERED
        return replace(found, verdict=verdict, problem=chain.problem)
    anchors = read_anchors(anchoring, path) if anchoring is not None else None
    if anchors is not None and anchors.problems:
        problem = f"the anchors cannot be trusted: {anchors.problems[0]}"
        return replace(found, verdict=Verdict.ALTERED, problem=problem)
    known: list[tuple[Head, str]] = []
    if anchors is not None:
        known += [
            (a.head, f"the anchor at {anchors.source} line {a.line} ({a.mark}, {a.who()})")
            for a in anchors.lines
        ]
    known += [(h, f"the head you gave ({h})") for h in heads]
    contradiction = _contradiction(chain, known, path.exists())
    if contradiction is not None:
        return replace(found, verdict=Verdict.ALTERED, problem=contradiction)
    if not chain.good:
        return replace(found, verdict=Verdict.EMPTY if path.exists() else Verdict.MISSING)
    if not known:
        notes = (f"{anchors.source} holds no anchor for this journal",) if anchors else ()
        return replace(found, notes=(*found.notes, *notes))
    return _coverage(found, chain, max(point.seq for point, _ in known), anchors)


def _contradiction(chain: _Chain, known: list[tuple[Head, str]], exists: bool) -> str | None:
    """The first head kept elsewhere that the journal does not have, in words."""
    for point, said_by in known:
        if point.seq > chain.good:
            what = (
                "there is no journal"
                if not exists
                else "the journal is empty"
                if not chain.good
                else f"the journal ends at seq {chain.good}"
            )
            return (
                f"{said_by} says it reached seq {point.seq}, but {what}: records "
                f"{chain.good + 1}-{point.seq} were removed"
            )
        if point.seq and not point.matches(chain.hashes[point.seq]):
            return (
                f"record seq {point.seq} is not the one anchored ({said_by} says sha256 "
                f"{point.hash}, the journal has {chain.hashes[point.seq]}): the journal was "
                "rewritten from there or before"
            )
    return None


def _coverage(
    found: Verification, chain: _Chain, covered: int, anchors: Anchors | None
) -> Verification:
    """The verdict on a consistent journal whose anchors all match, by how far they reach."""
    lines = anchors.lines if anchors is not None else []
    anchored = Head(covered, chain.hashes[covered]) if covered else GENESIS_HEAD
    source = str(anchors.source) if anchors is not None and lines else "the head you gave"
    notes = (*found.notes, *_unfinished_sessions(lines))
    found = replace(found, anchored=anchored, source=source, notes=notes)
    if covered == chain.good:
        return replace(found, verdict=Verdict.INTACT)
    if lines and lines[-1].mark == "open" and lines[-1].head.seq == covered:
        return replace(found, verdict=Verdict.UNFINISHED)
    if lines:
        assert anchors is not None
        problem = (
            f"records {covered + 1}-{chain.good} are not covered by any anchor: they were "
            f"added after the last run closed its anchor at seq {covered} ({anchors.source}), "
            "by hand or by a forger"
        )
        return replace(found, verdict=Verdict.ALTERED, problem=problem)
    note = f"records {covered + 1}-{chain.good} come after the head you gave"
    return replace(found, notes=(*found.notes, note))


def _unfinished_sessions(lines: Sequence[Anchor]) -> tuple[str, ...]:
    """A note per run that opened the journal and never closed it (killed), for the record."""
    closed = {a.session for a in lines if a.mark == "close"}
    return tuple(
        f"a run opened the journal at seq {a.head.seq} and did not close it ({a.who()})"
        for a in lines[:-1]
        if a.mark == "open" and a.session not in closed
    )
