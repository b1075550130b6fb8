"""The merged incident record of one order: what each region said and did, from the hub's
`REGIONS` stream, every journal entry tagged with the region that wrote it, and each region's
mirrored chain checked as `isolement journal verify` checks a journal."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from isolement.journal.verification import verify_chain
from isolement.regions.order import Order
from isolement.report.extract import timeline
from isolement.report.records import RunStarted, parse_all

# The cut's exit codes (cli/main.py) a region's result carries.
EXIT_OK, EXIT_PARTIAL, EXIT_UNKNOWN = 0, 3, 6


@dataclass(frozen=True)
class RegionReport:
    region: str
    accepted: dict[str, Any] | None
    refused: dict[str, Any] | None
    result: dict[str, Any] | None
    records: int
    chain_good: int
    chain_problem: str | None
    entries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def word(self) -> str:
        """What the hub knows of this region now, in the words `isolement cut` uses."""
        if self.refused is not None:
            return f"refused: {self.refused.get('why')}"
        if self.result is not None:
            outcome = self.result.get("outcome") or "no report"
            return f"{outcome} (exit {self.result.get('exit')})"
        if self.accepted is not None:
            return "accepted, no result at the hub yet"
        return "no word at the hub yet"

    @property
    def chain(self) -> str:
        if not self.records:
            return "no record at the hub"
        if self.chain_problem:
            return f"BROKEN after {self.chain_good} of {self.records}: {self.chain_problem}"
        return f"intact, {self.records} records"


@dataclass(frozen=True)
class MergedReport:
    order: Order
    regions: list[RegionReport]

    @property
    def entries(self) -> list[dict[str, Any]]:
        """Every entry of the order's runs, all regions, by time."""
        merged = [e for r in self.regions for e in r.entries]
        return sorted(merged, key=lambda e: (e["ts"], e["region"], e["seq"] or 0))

    def exit_code(self) -> int:
        """0 when every region reported its cut done (exit 0) and its chain holds at the hub;
        6 when some region has not been heard from, or its chain is broken; else the first
        region's non-zero exit (3 partial, 4 failed, ...)."""
        codes = []
        for r in self.regions:
            if r.result is None or r.chain_problem:
                return EXIT_UNKNOWN if r.refused is None else EXIT_PARTIAL
            codes.append(int(r.result.get("exit") or 0))
        return next((c for c in codes if c != EXIT_OK), EXIT_OK)


def _chain(records: list[dict[str, Any]]) -> tuple[int, str | None]:
    """The records as one journal file would hold them, checked by the journal's own reader."""
    with tempfile.TemporaryDirectory(prefix="isolement-region-") as tmp:
        path = Path(tmp) / "journal.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        return verify_chain(path)


def _last(said: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((e for e in reversed(said) if e.get("event") == kind), None)


def _run_entries(
    region: str, records: list[dict[str, Any]], run: str | None, order_id: str
) -> list[dict[str, Any]]:
    """The entries of the order's run, each tagged with its region."""
    parsed = parse_all(records)
    # The run the result names; before the result arrives, the run whose reason names the
    # order (the agent writes it there).
    runs = (
        {run}
        if run
        else {r.run for r in parsed if isinstance(r, RunStarted) and order_id in r.reason}
    )
    return [
        {"region": region, **asdict(entry)}
        for entry in timeline([r for r in parsed if r.run in runs])
    ]


def merge(
    order: Order,
    events: dict[str, list[dict[str, Any]]],
    journals: dict[str, list[dict[str, Any]]],
) -> MergedReport:
    regions = []
    for region in order.regions:
        said = events.get(region, [])
        records = journals.get(region, [])
        result = _last(said, "result")
        good, problem = _chain(records)
        run = result.get("run") if result else None
        regions.append(
            RegionReport(
                region=region,
                accepted=_last(said, "accepted"),
                refused=_last(said, "refused"),
                result=result,
                records=len(records),
                chain_good=good,
                chain_problem=problem,
                entries=_run_entries(region, records, run, order.order_id),
            )
        )
    return MergedReport(order, regions)
