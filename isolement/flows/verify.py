"""Verification: each targeted path read back from the devices (status), and real probes.

A link is cut once one of its ends is; the probes say whether traffic really stops where it
should, and still passes where it should. A path not read in this run is not proven cut, and a
probe that could not run proves nothing: it is reported, never counted as passing or blocked.
Each targeted link is proven cut by packets (a probe crossing it alone ran and was blocked), by
read-back state only, or not at all (results.Proof).
"""

from __future__ import annotations

from collections.abc import Mapping

from isolement.flows.results import ProbeCheck, VerifyReport
from isolement.flows.runtime import Runtime
from isolement.flows.status import status
from isolement.journal.events import ReopenedEnd, VerifyResult, to_fields
from isolement.journal.store import Journal
from isolement.model.errors import LockedError
from isolement.model.playbook import Playbook
from isolement.probes import run_probes
from isolement.probes.outcome import ProbeResult


def verify(rt: Runtime, playbook: Playbook, parameters: Mapping[str, str]) -> VerifyReport:
    found = status(rt, playbook, parameters)
    targeted = {link.link for link in found.links}
    checks = []
    for outcome in run_probes(rt, rt.inventory.probes):
        crosses_cut = bool(targeted & set(outcome.probe.crosses))
        expected = ProbeResult.BLOCKED if crosses_cut else ProbeResult.PASSES
        checks.append(ProbeCheck(outcome, expected))
    report = VerifyReport(found, checks)
    # The verification is evidence too. A verify run while a cut holds the journal is still
    # answered; it is then not journaled, and says so.
    event = VerifyResult(
        playbook=playbook.name,
        parameters=dict(parameters),
        contained=report.contained,
        verdict=report.verdict,
        links={link.link: link.state for link in found.links},
        proof=dict(report.proof),
        probes={
            c.outcome.probe.name: {"result": c.outcome.result, "expected": c.expected}
            for c in checks
        },
        # A cut that vanished is evidence of when it was seen gone (the report's interval).
        reopened=[
            ReopenedEnd(
                device=e.device,
                interface=e.interface,
                method=e.method,
                link=link.link,
                last_seen_cut=e.last_seen_cut,
            )
            for link, e in found.reopened_ends
        ],
    )
    try:
        with Journal(rt.journal_path, custody=rt.custody) as journal:
            name, fields = to_fields(event)
            journal.record(name, **fields)
    except LockedError:
        report.journaled = False
    return report
