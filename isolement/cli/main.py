"""The command line: parse arguments, call a containment flow, render its result.

Exit codes: 0 done (contained / restored / intact), 2 bad input or refused before anything was
sent, 3 partial: some paths are still open (for `status` and `verify`: a cut that vanished,
REOPENED, is an open path; an end reopened on a link still cut at its other end is reported, and
is not an open path), 4 nothing could be done (devices unreachable or all
failed), 5 the journal is altered or could not be written (the run stopped at once), 6 unknown:
no targeted path is known open, but some could not be read in this run (a device out of reach
behind a cut management link, a change whose outcome was not seen; the report says which, and
how to read them), 7 (journal verify) the journal is consistent but not anchored: nothing
proves that its last records were not removed, 8 proven by read-back state only: `verify`
says contained as the devices read back, with no probe contradicting it, but some cut is not
proven by packets (no probe crossing that link alone ran and was blocked: none declared, or
none could run here); `restore --stage` opened the stage but its checks could not run
("opened, not proven"; `--accept-state-proof REASON` takes the read-back state as its proof,
journaled, and exits 0), 130 interrupted before anything was sent, or a second interrupt
stopped waiting for the changes in flight (the journal says what is known).

`verify` exits 0 only when every targeted link is proven cut by packets in this run; its
--json says it too: `verdict` (contained, contained-by-state, not-proven, not-contained) and
`proof` (link -> packets, state or none). A probe that could not run is listed with why, and
never counted as passing or blocked.

`rehearse` (cli/rehearsing.py): 0 ready, 4 not ready (something would block the cut), 6 nothing
blocks but some targets could not be read; `cut --expect-plan` refuses a different plan with 2.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import getpass
import json
import logging
import os
import resource
import sys
import typing
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic_core

from isolement import __version__
from isolement.cli import (
    completion,
    documents,
    hostkeys,
    importing,
    lab,
    paths,
    regions,
    rehearsing,
    render,
)
from isolement.cli.operator import default_operator
from isolement.cli.terminal import Terminal
from isolement.flows import containment, preflight, rehearse, status, verify
from isolement.flows import stages as reconnection
from isolement.flows.interrupt import Interrupted
from isolement.flows.results import (
    Outcome,
    PlanReport,
    RunReport,
    StageState,
    StatusReport,
    StepResult,
    Verdict,
)
from isolement.flows.runtime import Options, Runtime
from isolement.journal.anchor import Anchoring
from isolement.journal.files import NotAPlainFile
from isolement.journal.records import Head
from isolement.journal.store import (
    Custody,
    Network,
    Override,
    TornRecord,
    default_journal_path,
    read_records,
    repair,
)
from isolement.journal.verification import Verification, verify_journal
from isolement.journal.view import JournalView
from isolement.model.errors import InputError, IsolementError, JournalError, LabError, LockedError
from isolement.model.inventory import Inventory, check_credentials, load_inventory
from isolement.model.names import check_name, check_statement
from isolement.model.plan import Direction
from isolement.model.playbook import Playbook, available_playbooks, load_playbook
from isolement.model.text import escape_json, shown
from isolement.planning.fingerprint import PREFIX
from isolement.planning.impact import impact
from isolement.planning.planner import plan_cut, resolve_parameters, select_targets
from isolement.report import incident as reporting
from isolement.report import map as site_map
from isolement.report import signing
from isolement.transport import credentials

EXIT_OK, EXIT_INPUT, EXIT_PARTIAL, EXIT_FAILED, EXIT_JOURNAL, EXIT_UNKNOWN = 0, 2, 3, 4, 5, 6
EXIT_STATE_ONLY = 8
EXIT_INTERRUPTED = 130
_RUN_EXIT = {
    Outcome.DONE: EXIT_OK,
    Outcome.NOTHING_TO_DO: EXIT_OK,
    Outcome.PARTIAL: EXIT_PARTIAL,
    Outcome.FAILED: EXIT_FAILED,
    Outcome.STOPPED: EXIT_FAILED,
    Outcome.UNKNOWN: EXIT_UNKNOWN,
    Outcome.JOURNAL_FAILED: EXIT_JOURNAL,
}


def _safe(kind: str, check: Any) -> Any:
    def parse(value: str) -> str:
        try:
            return str(check(value))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{kind}: {exc}") from None

    return parse


def _moment(value: str) -> datetime:
    try:
        return reporting.parse_moment(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _head(value: str) -> Head:
    try:
        return Head.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


EXIT_CODES_HELP = """exit codes (stable; scripts may rely on them):
  0    done: contained, restored, intact, ready
  2    bad input, or refused before anything was sent
  3    partial: some targeted paths are still open (status, verify: a cut that vanished too)
  4    nothing could be done: devices unreachable, every change failed; not ready (rehearse)
  5    the journal is altered or could not be written: the run stopped at once
  6    unknown: nothing known open, but some paths could not be read in this run
  7    journal verify: consistent but not anchored
  8    proven by read-back state only, not by packets (verify; restore --stage)
  130  interrupted (Ctrl-C) before anything was sent, or a second Ctrl-C stopped waiting
       for the changes in flight (the journal says what is known)
  141  output closed early (piped into head)
with --json, a refusal or failure prints {"error": {"kind", "message", "exit_code"}} on stdout
(isolement schema error); the exit code is the same."""

EXAMPLES_HELP = """examples:
  isolement validate                                   check inventory, playbooks, keys
  isolement plan cut-all                               what a cut would send (-v: commands)
  isolement cut cut-all --reason "ransomware, cell decision 03:12"
  isolement verify cut-all                             read back and probe
  isolement status cut-all --map status.svg            the links by state, as a map
  isolement restore cut-all --stage clinical-h1 --approved-by "ANSSI" --reason "doubt lifted"
  isolement --json status cut-all | jq .links          machine-readable (isolement schema)
  isolement --inventory prod.yaml plan cut-intersite   another inventory than the lab's"""


class UsageError(Exception):
    """A command line argparse refuses: raised, so --json can still say it as a document."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="isolement",
        description="Cut and restore network paths during a cyber-containment.",
        epilog=f"{EXAMPLES_HELP}\n\n{EXIT_CODES_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global_options(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser(
        "validate", help="check the inventory, every playbook and the credentials they need"
    )
    validate.add_argument(
        "--no-credentials",
        action="store_true",
        help="do not check that this machine holds the keys, passwords and known hosts "
        "(an inventory drafted elsewhere)",
    )

    _add_playbook_commands(sub)
    _add_restore_command(sub)
    _add_journal_commands(sub)
    lab.add_parser(sub)
    importing.add_parser(sub)
    hostkeys.add_parser(sub)
    regions.add_parser(sub)
    documents.add_parser(sub)
    completion.add_parser(sub)
    return parser


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"isolement {__version__}")
    parser.add_argument(
        "--inventory",
        type=Path,
        default=paths.DEFAULT_INVENTORY,
        help="inventory file (default: the lab's)",
    )
    parser.add_argument(
        "--playbooks", type=Path, default=paths.PLAYBOOKS, help="directory of named playbooks"
    )
    parser.add_argument("--journal", type=Path, help="journal file (default: in the state dir)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a device may take to answer one command (default 30)",
    )
    anchors = Anchoring.from_environment()
    parser.add_argument(
        "--anchor-dir",
        type=Path,
        default=anchors.location,
        metavar="DIR",
        help="where every run anchors the journal's head: another medium "
        "(default $ISOLEMENT_ANCHOR_DIR; none: each run prints its head to keep)",
    )
    parser.add_argument(
        "--anchor-key",
        type=Path,
        default=anchors.signing_key,
        metavar="PRIVATE_KEY",
        help="Ed25519 key signing the anchors (default $ISOLEMENT_ANCHOR_KEY)",
    )
    parser.add_argument(
        "--anchor-public-key",
        type=Path,
        default=anchors.public_key,
        metavar="PUBLIC_KEY",
        help="check the anchors' signatures with it (default $ISOLEMENT_ANCHOR_PUBLIC_KEY)",
    )


def _accept_altered(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--accept-altered-journal",
        type=_safe("--accept-altered-journal", check_statement),
        metavar="REASON",
        help="act on a journal that fails verification, as it is (journaled: who, why)",
    )


def _playbook_command(
    sub: Any, name: str, help_: str, optional: bool = False
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
    p.add_argument("playbook", nargs="?" if optional else None)
    p.add_argument("--site", type=_safe("--site", check_name), help="for isolate-site")
    return p


def _add_decision(p: argparse.ArgumentParser) -> None:
    """Who decides a change and why (journaled), and whether to ask before it."""
    p.add_argument("--reason", type=_safe("--reason", check_statement), required=True)
    p.add_argument("--operator", type=_safe("--operator", check_statement))
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _add_playbook_commands(sub: Any) -> None:
    p = _playbook_command(sub, "plan", "dry run: the commands per device; nothing is sent")
    p.add_argument("--offline", action="store_true", help="do not read device state")
    p.add_argument("-v", "--verbose", action="store_true", help="show each device's raw commands")
    p.add_argument(
        "--restore",
        action="store_true",
        help="the reconnection stages instead: commands and what becomes reachable",
    )
    p = _playbook_command(sub, "cut", "apply a playbook's cuts (idempotent)")
    _add_decision(p)
    p.add_argument(
        "--partial",
        action="store_true",
        help="cut what can be cut when pre-flight fails on some devices (default: change nothing)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=2,
        choices=range(0, 6),
        metavar="0-5",
        help="extra attempts for a device whose change failed (default 2)",
    )
    _accept_altered(p)
    p.add_argument(
        "--reach",
        action="append",
        default=[],
        metavar="DEVICE",
        type=_safe("--reach", check_name),
        help="a device out of reach behind a link this playbook cut: reopen that link at the "
        "controller's side, read and re-cut the device, cut the link again (repeatable)",
    )
    p.add_argument(
        "--expect-plan",
        type=_safe("--expect-plan", rehearse.normal_hash),
        metavar="HASH",
        help="the plan hash a rehearsal printed: refuse (nothing sent) if the plan now differs",
    )
    p = _playbook_command(
        sub,
        "rehearse",
        "readiness with no change: pre-flight and plan, timed; the plan hash to cut with",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a playbook parameter (site=NAME, as --site)",
    )
    p.add_argument("--operator", type=_safe("--operator", check_statement))
    _playbook_command(sub, "preflight", "check every targeted device is ready; changes nothing")
    p = _playbook_command(sub, "status", "live state of each targeted path", optional=True)
    p.add_argument(
        "--map",
        type=Path,
        metavar="FILE.svg",
        help="also draw the sites and links, each link by its state, as an SVG (prints in "
        "black and white)",
    )
    _accept_altered(
        _playbook_command(sub, "verify", "state read back and probes; non-zero if a path is open")
    )


def _add_restore_command(sub: Any) -> None:
    p = _playbook_command(sub, "restore", "undo what a playbook cut, exactly")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every cut of this playbook")
    which.add_argument(
        "--stage",
        type=_safe("--stage", check_name),
        help="open the next reconnection stage (the ones before must be open)",
    )
    which.add_argument(
        "--close",
        type=_safe("--close", check_name),
        metavar="STAGE",
        help="close this stage, and every later one, at once",
    )
    p.add_argument(
        "--approved-by",
        type=_safe("--approved-by", check_statement),
        help="who lifted the doubt (required to open)",
    )
    p.add_argument(
        "--accept-state-proof",
        type=_safe("--accept-state-proof", check_statement),
        metavar="REASON",
        help="with --stage: if its checks cannot run, take the devices' read-back state as its "
        "proof (journaled: who, why)",
    )
    _add_decision(p)
    _accept_altered(p)


def _add_journal_commands(sub: Any) -> None:
    journal = sub.add_parser("journal", help="the record of every decision and change")
    jsub = journal.add_subparsers(dest="journal_command", required=True)

    def journal_filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--device", help="this device's records, and the runs that concern it")
        p.add_argument("--playbook")
        p.add_argument("--since", type=_moment, metavar="TIME", help="UTC unless an offset")
        p.add_argument("--until", type=_moment, metavar="TIME", help="UTC unless an offset")

    show = jsub.add_parser("show", help="timeline (times are UTC unless an offset is given)")
    journal_filters(show)
    verify_ = jsub.add_parser(
        "verify",
        help="check the chain and its head against the anchors: 0 intact, 5 altered, "
        "7 consistent but not anchored",
    )
    verify_.add_argument(
        "--head",
        type=_head,
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a head a run printed, kept elsewhere: the journal must still hold it",
    )
    verify_.add_argument(
        "--anchors",
        type=Path,
        metavar="PATH",
        help="an anchor directory, or one anchor file (to check a copy of the journal)",
    )
    repair_ = jsub.add_parser(
        "repair", help="move a torn last line aside; every whole record stays; journaled"
    )
    repair_.add_argument("--reason", type=_safe("--reason", check_statement))
    repair_.add_argument("--operator", type=_safe("--operator", check_statement))
    export = jsub.add_parser(
        "export", help="a report for the crisis cell and investigators, or every record"
    )
    export.add_argument(
        "--format",
        choices=["records", *reporting.FORMATS],
        default="records",
        help="records: every record as one JSON document (default); md, html (one "
        "self-contained page that prints on A4), json (structured report), csv (timeline)",
    )
    export.add_argument("--output", type=Path, help="write to this file (mode 0600)")
    export.add_argument(
        "--sign", type=Path, metavar="PRIVATE_KEY", help="also write OUTPUT.sig (Ed25519)"
    )
    export.add_argument(
        "--passphrase", action="store_true", help="ask for the signing key's passphrase"
    )
    journal_filters(export)
    keygen = jsub.add_parser("keygen", help="a new Ed25519 key pair to sign exported reports")
    keygen.add_argument("--private", type=Path, required=True, help="private key (mode 0600)")
    keygen.add_argument("--public", type=Path, required=True, help="public key, to hand out")
    keygen.add_argument(
        "--passphrase", action="store_true", help="ask for a passphrase to encrypt it"
    )
    check = jsub.add_parser("verify-report", help="check an exported report's FILE.sig")
    check.add_argument("file", type=Path)
    check.add_argument("--public-key", type=Path, required=True)
    check.add_argument(
        "--head",
        type=_head,
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a head kept elsewhere: the report must cover it",
    )


def _emit(args: argparse.Namespace, text: str | Callable[[], str], data: Any) -> None:
    """The result, as text or (--json) as a document; `text` may be given as how to make it,
    for a result whose text is long to write (a plan of thousands of steps)."""
    # Device answers and journal text are in both: nothing they carry may act on the terminal.
    if args.json:
        # pydantic_core's encoder writes what json.dumps(indent=2, ensure_ascii=False) writes,
        # ten times faster (Python's own is pure Python once indented): 0.2 s for 5000 steps.
        document = pydantic_core.to_json(data, indent=2, fallback=_jsonable).decode()
        print(escape_json(document))
    else:
        term = _terminal()
        text = shown(text() if callable(text) else text, lines=True)
        # Raw commands (-v) are shown whole: a command wrapped could be copied wrong.
        print(term.paint(text if getattr(args, "verbose", False) else term.fit(text)))


def _terminal() -> Terminal:
    """stdout's width and colour, read when the result is printed."""
    return Terminal.of(sys.stdout)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _confirm(args: argparse.Namespace, what: str, impact_: list[str] | None = None) -> None:
    """Ask, on a terminal, once the impact is said (`impact_`: its lines, on stderr)."""
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise InputError(f"refusing to {what} without --yes when no one is at the terminal")
    if impact_:
        term = Terminal.of(sys.stderr)
        print(term.paint(shown("\n".join(impact_), lines=True)), file=sys.stderr)
    answer = input(f"{what}? Type the playbook name to confirm: ")
    if answer.strip() != args.playbook:
        raise InputError("not confirmed; nothing was sent")


def anchoring(args: argparse.Namespace) -> Anchoring:
    return Anchoring(args.anchor_dir, args.anchor_key, args.anchor_public_key)


class App:
    """The loaded inputs of one invocation."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.inventory: Inventory = load_inventory(args.inventory)
        journal = args.journal or default_journal_path(paths.state_dir(), self.inventory.name)
        self.anchoring = anchoring(args)
        accepted = getattr(args, "accept_altered_journal", None)
        custody = Custody(
            anchoring=self.anchoring,
            network=Network.reached_by(self.inventory),
            override=(Override(accepted, _operator(args)) if accepted else None),
        )
        self.runtime = Runtime(self.inventory, journal, timeout=args.timeout, custody=custody)

    def verification(self) -> Verification:
        return verify_journal(self.runtime.journal_path, self.anchoring)

    def warn_if_altered(self) -> None:
        """For commands that read the journal to decide without writing it: say it loudly."""
        found = self.verification()
        if found.fails:
            print(
                "isolement: WARNING: the journal fails verification; what follows reads it "
                f"as it is:\n  {found.describe()}",
                file=sys.stderr,
            )

    def head_line(self) -> str:
        """The line a run that wrote the journal ends with: its head, to keep elsewhere."""
        return self.verification().head_line()

    @contextlib.contextmanager
    def watched(self, verb: str) -> Iterator[None]:
        """Live progress on stderr while the block runs (none with --json); the result is
        printed after it, once the live panel is gone."""
        from isolement.cli import progress  # rich's live panel: only for a run that shows one

        target = _invoked_as(self) if self.args.playbook else "every link"
        json_ = self.args.json
        with progress.watching(verb, target, json=json_, stream=sys.stderr) as watchers:
            self.runtime.watchers.extend(watchers)
            try:
                yield
            finally:
                self.runtime.watchers.clear()

    def playbook(self) -> tuple[Playbook, dict[str, str]]:
        playbook = load_playbook(self.args.playbook, self.args.playbooks)
        params = resolve_parameters(playbook, self.inventory, {"site": self.args.site})
        # Resolve the selection now: a bad reference is reported before any device is touched.
        select_targets(self.inventory, playbook, params)
        return playbook, params


def _credential_lines(creds: list[credentials.Resolution]) -> str:
    """Each credential: how it logs in, whether it can be resolved now, who uses it."""
    lines = ["credentials:"]
    for c in creds:
        users = ", ".join(c.devices)
        lines.append(f"  {c.name}: {c.state}: {c.description}; used by {users}")
        lines.extend(f"    {problem}" for problem in c.problems)
        if c.asked and not c.problems:
            lines.append(f"    asked on the terminal when a run starts: {', '.join(c.asked)}")
    return "\n".join(lines)


def cmd_validate(app: App) -> int:
    inv = app.inventory
    names = available_playbooks(app.args.playbooks)
    # Playbook -> why its reconnection stages cannot be used with this inventory: what `plan
    # --restore` and `restore --stage` would refuse. Refused for the operator's own playbooks
    # (written for this estate, a stage naming what it lacks is a mistake to fix before the
    # night); only said for the shipped ones, whose stages name the lab's probes: their cuts
    # are still usable on another estate.
    own_playbooks = app.args.playbooks.resolve() != paths.PLAYBOOKS.resolve()
    unusable: dict[str, str] = {}
    for name in names:
        playbook = load_playbook(name, app.args.playbooks)
        for site in sorted(inv.sites) if playbook.parameters else [None]:
            params = resolve_parameters(playbook, inv, {"site": site})
            select_targets(inv, playbook, params)
        try:
            for stage in playbook.stages:
                reconnection.check_references(inv, playbook, stage)
        except InputError as exc:
            unusable[name] = str(exc)
    # A key file that is missing, a directory, /dev/null, open to other users or not a key,
    # an unset password variable: refused here, not at the first login of a crisis.
    checked = not app.args.no_credentials
    if checked:
        check_credentials(inv)
    # How each credential resolves now (environment, keyring, agent, key and passphrase), said
    # without prompting: a prompt or a keyring entry may be meant for the night itself.
    creds = credentials.resolutions(inv)
    text = (
        f"{inv.source}: OK: {len(inv.sites)} sites, {len(inv.devices)} devices, "
        f"{len(inv.links)} links, {len(inv.probes)} probes\n"
        f"playbooks OK: {', '.join(names)}"
        + (" (their cuts; their stages: see below)" if unusable else "")
        + "\n"
        + "".join(
            f"STAGES NOT USABLE with this inventory ({name}: plan --restore and restore "
            f"--stage refuse them): {why}\n"
            for name, why in sorted(unusable.items())
        )
        + (
            "credentials OK: every key file and password variable usable, known hosts present"
            if checked
            else "credentials not checked (--no-credentials)"
        )
        + f"\n{_credential_lines(creds)}"
    )
    data = {
        "inventory": str(inv.source),
        "playbooks": names,
        "stages_not_usable": unusable,
        "credentials_checked": checked,
        "credentials": [dataclasses.asdict(c) | {"state": c.state} for c in creds],
        "ok": not (own_playbooks and unusable),
    }
    _emit(app.args, text, data)
    return EXIT_OK if data["ok"] else EXIT_INPUT


def cmd_plan(app: App) -> int:
    playbook, params = app.playbook()
    app.warn_if_altered()
    if app.args.restore:
        stages = reconnection.plan_stages(app.runtime, playbook, params)
        _emit(
            app.args,
            render.stage_plans_text(playbook.name, stages),
            {
                "stages": [
                    {
                        "stage": s.stage.name,
                        "open": s.state.open,
                        "plans": s.plans,
                        "reopens": s.reopened,
                        "reachable": s.reachable,
                        "newly_reachable": s.new,
                        "unprobed": s.unprobed,
                        "verified": s.state.verified,
                        "state_proof_accepted": s.state.accepted,
                    }
                    for s in stages
                ]
            },
        )
        return EXIT_OK
    done = rehearse.planned(app.runtime, playbook, params, app.args.offline)
    report, fingerprint = done.report, done.fingerprint
    event = rehearse.computed_event(report.plan, fingerprint, by="plan", offline=report.offline)
    try:
        rehearse.record(app.runtime, event)
        kept = f"plan hash: {fingerprint.plan}"
    except IsolementError as exc:
        # A plan changes nothing: shown all the same, its record missing (and said).
        kept = f"plan hash: {fingerprint.plan} (not journaled: {exc})"
    _emit(
        app.args,
        lambda: f"{_plan_text(app, report)}\n{kept}",
        {
            "plan": report.plan,
            "hash": fingerprint.plan.removeprefix(PREFIX),
            "plan_hash": fingerprint.plan,
            "computed_from": fingerprint.model_dump(exclude={"steps", "plan"}),
            "unreachable": report.unreachable,
        },
    )
    return EXIT_OK


def _plan_text(app: App, report: PlanReport) -> str:
    plan = report.plan
    shown_impact = impact(app.inventory, plan) if plan.direction is Direction.CUT else None
    return render.plan_text(report, shown_impact, verbose=app.args.verbose, term=_terminal())


def cmd_rehearse(app: App) -> int:
    for given in app.args.param:
        name, sep, value = given.partition("=")
        if not sep or name != "site":
            raise InputError(f"--param {given}: the playbooks' one parameter is site=NAME")
        try:
            app.args.site = check_name(value)
        except ValueError as exc:
            raise InputError(f"--param {given}: {exc}") from None
    playbook, params = app.playbook()
    app.warn_if_altered()
    done = rehearse.rehearse(app.runtime, playbook, params)
    if done.report is not None and done.fingerprint is not None:
        event = rehearse.computed_event(
            done.report.plan,
            done.fingerprint,
            by="rehearse",
            operator=_operator(app.args),
            rehearsal=done,
        )
        rehearse.record(app.runtime, event)
    _emit(app.args, rehearsing.text(done, _invoked_as(app)), rehearsing.data(done))
    return rehearsing.exit_code(done)


def _emit_run(app: App, text: str, data: dict[str, Any]) -> None:
    """A run's output, ending with the journal's head as the run left it."""
    found = app.verification()
    _emit(app.args, f"{text}\n{found.head_line()}", {**data, "journal": found.as_dict()})


def _invoked_as(app: App) -> str:
    """The playbook as the operator named it, for the commands a report suggests."""
    site = f" --site {app.args.site}" if getattr(app.args, "site", None) else ""
    return f"{app.args.playbook}{site}"


def _step_json(result: StepResult) -> dict[str, Any]:
    return {
        "step": result.step,
        "status": result.status,
        "error": result.error,
        "output": result.output,
        "duration_s": result.duration_s,
        "attempts": result.attempts,
        "drift": result.drift,
        "notes": result.notes,
    }


def _run_json(report: RunReport) -> dict[str, Any]:
    return {
        "outcome": report.outcome,
        "run": report.run_id,
        "plan": report.plan,
        "hash": report.plan.digest(),
        "steps": [_step_json(s) for s in report.steps],
        "unreachable": report.unreachable,
        "still_open": report.still_open,
        "unknown": report.unknown,
        "out_of_reach": report.out_of_reach,
        "interrupted": report.interrupted,
        "aborted": report.aborted,
        "journal_error": report.journal_error,
        "duration_s": report.duration_s,
        "reopened": _run_json(report.reopened) if report.reopened else None,
    }


def _exit_of(report: RunReport) -> int:
    return EXIT_INTERRUPTED if report.aborted else _RUN_EXIT[report.outcome]


def _run_exit(app: App, report: RunReport) -> int:
    _emit_run(app, render.run_text(report, _invoked_as(app), _terminal()), _run_json(report))
    if report.journal_error:
        # The report says it too, but a stopped run is an error: said where errors go.
        print(f"isolement: journal: {shown(report.journal_error)}", file=sys.stderr)
    return _exit_of(report)


def _operator(args: argparse.Namespace) -> str:
    given = getattr(args, "operator", None)  # not every command takes --operator
    if given:
        return str(given)
    name, note = default_operator()
    if note:
        print(f"isolement: note: {note}", file=sys.stderr)
    return name


def _cut_impact(app: App, playbook: Playbook, params: dict[str, str]) -> list[str]:
    """What the cut will do, from the inventory alone (devices are read once confirmed): said
    before the operator is asked."""
    if app.args.yes:
        return []
    plan = plan_cut(app.inventory, playbook, params, None)
    return [
        f"Impact of cut {_invoked_as(app)}, from the inventory (every targeted endpoint taken "
        "as open: the devices are read once you confirm):",
        *render.impact_text(impact(app.inventory, plan), Terminal.of(sys.stderr)),
    ]


def _restore_impact(app: App, playbook: Playbook, params: dict[str, str]) -> list[str]:
    """What `restore --all` undoes, as the journal records it (the devices are read once
    confirmed)."""
    if app.args.yes:
        return []
    view = JournalView.read(app.runtime.journal_path)
    cuts = containment.recorded_cuts(app.runtime, view, playbook, params)
    links = sorted({r.change.link for r in cuts})
    term = Terminal.of(sys.stderr)
    head = f"  {len({r.device for r in cuts})} devices to change, {len(links)} links to reopen: "
    return [
        f"Impact of restore {_invoked_as(app)}, from the journal (every cut it still records):",
        head + (term.listed(links, len(head)) or "none"),
    ]


def _stage_impact(app: App, playbook: Playbook, name: str) -> list[str]:
    """What opening the stage brings back, from the playbook (nothing read yet)."""
    if app.args.yes:
        return []
    stage = next((s for s in playbook.stages if s.name == name), None)
    if stage is None:
        return []  # refused with the list of stages by the flow itself
    reopens = ", ".join(stage.open.link or []) if stage.open else ""
    lines = [f"Impact of opening stage {name}: {stage.description}".rstrip(": ")]
    if reopens:
        lines.append(f"  links reopened: {reopens}")
    elif stage.open is not None:
        lines.append("  links reopened: those its selector picks (plan --restore lists them)")
    for bubble in stage.allow:
        lines.append(f"  only some flows let through {bubble.via}; everything else stays cut")
    checks = stage.checks
    lines.append(
        f"  then checked: must pass {', '.join(checks.passes) or '-'}; must still fail "
        f"{', '.join(checks.blocked) or '-'} (a check that comes out wrong closes it again)"
    )
    return lines


def cmd_cut(app: App) -> int:
    playbook, params = app.playbook()
    _confirm(app.args, f"cut {playbook.name}", _cut_impact(app, playbook, params))
    options = Options(partial=app.args.partial, retries=app.args.retries)
    expected = app.args.expect_plan
    check = rehearse.ExpectedPlan(app.runtime, playbook, expected) if expected else None
    operator = _operator(app.args)
    with app.watched("CUT"):
        report = containment.cut(
            app.runtime,
            playbook,
            params,
            reason=app.args.reason,
            operator=operator,
            options=options,
            reach=app.args.reach,
            check=check,
        )
    if check is not None and check.checked:
        print(f"isolement: the plan is the one expected: {expected}", file=sys.stderr)
    return _run_exit(app, report)


def cmd_restore(app: App) -> int:
    if app.args.accept_state_proof and not app.args.stage:
        raise InputError("--accept-state-proof applies to opening a stage: give --stage NAME")
    playbook, params = app.playbook()
    operator = _operator(app.args)
    if app.args.close:
        with app.watched("CLOSE"):
            runs = reconnection.close_stage(
                app.runtime,
                playbook,
                params,
                app.args.close,
                reason=app.args.reason,
                operator=operator,
            )
        _emit_run(
            app,
            "\n".join(render.run_text(run, _invoked_as(app), _terminal()) for run in runs),
            {
                "closed": app.args.close,
                "runs": [
                    {
                        "outcome": r.outcome,
                        "run": r.run_id,
                        "still_open": r.still_open,
                        "unknown": r.unknown,
                    }
                    for r in runs
                ],
            },
        )
        return max(_exit_of(run) for run in runs)
    if not app.args.approved_by:
        raise InputError("--approved-by is required to reopen anything: who lifted the doubt?")
    if app.args.stage:
        _confirm(
            app.args,
            f"open stage {app.args.stage} of {playbook.name}",
            _stage_impact(app, playbook, app.args.stage),
        )
        with app.watched("OPEN STAGE"):
            opened = reconnection.open_stage(
                app.runtime,
                playbook,
                params,
                app.args.stage,
                approved_by=app.args.approved_by,
                reason=app.args.reason,
                operator=operator,
                accept_state_proof=app.args.accept_state_proof or "",
            )
        _emit_run(
            app,
            render.stage_text(opened, _invoked_as(app)),
            {
                "stage": opened.stage,
                "opened": opened.opened,
                "verified": opened.verified,
                "state_proof_accepted": opened.accepted,
                "closed_again": opened.closed_again,
                "why": opened.why,
                "checks": {c.outcome.probe.name: c.outcome.result for c in opened.checks},
                "unproven": {c.outcome.probe.name: c.outcome.detail for c in opened.unproven},
            },
        )
        if not opened.opened:
            return EXIT_FAILED
        return EXIT_OK if opened.verified or opened.accepted else EXIT_STATE_ONLY
    _confirm(app.args, f"restore {playbook.name}", _restore_impact(app, playbook, params))
    with app.watched("RESTORE"):
        report = containment.restore(
            app.runtime,
            playbook,
            params,
            reason=app.args.reason,
            approved_by=app.args.approved_by,
            operator=operator,
        )
    return _run_exit(app, report)


def cmd_preflight(app: App) -> int:
    playbook, params = app.playbook()
    app.warn_if_altered()
    with app.watched("PRE-FLIGHT"):
        problems, central = preflight.preflight(app.runtime, playbook, params)
    lines = [
        f"  {'ready' if not why else 'NOT READY':<10} {device}  {why}".rstrip()
        for device, why in problems.items()
    ]
    lines += [render.central_warning(device, manager) for device, manager in central.items()]
    bad = sum(1 for why in problems.values() if why)
    lines.append(f"{len(problems) - bad}/{len(problems)} devices ready for {playbook.name}")
    payload = {"devices": problems, "ready": not bad, "central_managers": central}
    _emit(app.args, "\n".join(lines), payload)
    return EXIT_FAILED if bad else EXIT_OK


def cmd_status(app: App) -> int:
    app.warn_if_altered()
    stages: dict[str, StageState] = {}
    if app.args.playbook:
        playbook, params = app.playbook()
        with app.watched("STATUS"):
            found = status.status(app.runtime, playbook, params)
        view = JournalView.read(app.runtime.journal_path)
        stages = reconnection.stage_states(view, playbook, params)
    else:
        with app.watched("STATUS"):
            found = status.status(app.runtime, None, {})
    invoked = _invoked_as(app) if app.args.playbook else None
    text = render.status_text(found, invoked) + render.stages_text(list(stages.values()))
    if app.args.map:
        text += "\n" + _write_map(app, found, invoked)
    data = {
        "links": found.links,
        "stages": list(stages.values()),
        "out_of_reach": found.out_of_reach,
    }
    _emit(app.args, text, data)
    # A cut that vanished leaves its path open: "some paths are still open" (3), before unknown.
    if found.reopened:
        return EXIT_PARTIAL
    return EXIT_UNKNOWN if found.unknown else EXIT_OK


def _write_map(app: App, found: StatusReport, invoked: str | None) -> str:
    """The status as a map (report/map.py), written with the exports' care; its line."""
    states = {link.link: str(link.state) for link in found.links}
    moment = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    scope = f"playbook {invoked}" if invoked else "every link"
    svg = site_map.draw_map(
        app.inventory,
        states,
        title=f"{app.inventory.name}: links as read at {moment}",
        subtitle=f"isolement status, {scope}; only what was read in this run is cut or open",
    )
    with _writing(app.args.map, "the map"):
        reporting.write_export(app.args.map, svg)
    return f"map: {app.args.map}"


def cmd_verify(app: App) -> int:
    playbook, params = app.playbook()
    with app.watched("VERIFY"):
        report = verify.verify(app.runtime, playbook, params)
    _emit_run(
        app,
        render.verify_text(report, _invoked_as(app)),
        {
            "contained": report.contained,
            "verdict": report.verdict,
            "proof": report.proof,
            "links": report.links,
            "probes": [
                {
                    "name": c.outcome.probe.name,
                    "result": c.outcome.result,
                    "expected": c.expected,
                    "detail": c.outcome.detail,
                }
                for c in report.probes
            ],
        },
    )
    return {
        Verdict.CONTAINED: EXIT_OK,
        Verdict.CONTAINED_BY_STATE: EXIT_STATE_ONLY,
        Verdict.NOT_PROVEN: EXIT_UNKNOWN,
        Verdict.NOT_CONTAINED: EXIT_PARTIAL,
    }[report.verdict]


def _journal_filters(args: argparse.Namespace) -> reporting.Filters:
    return reporting.Filters(
        device=args.device, playbook=args.playbook, since=args.since, until=args.until
    )


def _passphrase(args: argparse.Namespace, prompt: str) -> bytes | None:
    if not args.passphrase:
        return None
    if not sys.stdin.isatty():
        raise InputError("--passphrase needs a terminal to ask on")
    return getpass.getpass(prompt).encode() or None


def cmd_journal_keys(args: argparse.Namespace) -> int:
    """keygen and verify-report: no inventory or journal needed (an investigator's machine)."""
    if args.journal_command == "keygen":
        passphrase = _passphrase(args, "Passphrase for the new private key: ")
        if passphrase is not None and getpass.getpass("Again: ").encode() != passphrase:
            raise InputError("the two passphrases differ; no key was written")
        fingerprint = signing.generate_keypair(args.private, args.public, passphrase)
        text = f"{args.private}: private key (keep it); {args.public}: public key (hand it out)"
        _emit(args, f"{text}\nfingerprint {fingerprint}", {"fingerprint": fingerprint})
        return EXIT_OK
    ok, message = signing.verify_file(args.file, args.public_key, heads=args.head)
    _emit(args, message, {"file": str(args.file), "ok": ok, "message": message})
    return EXIT_OK if ok else EXIT_JOURNAL


def cmd_journal(app: App) -> int:
    path = app.runtime.journal_path
    sub = app.args.journal_command
    if sub == "verify":
        anchors = app.anchoring
        if app.args.anchors is not None:
            anchors = dataclasses.replace(anchors, location=app.args.anchors)
        found = verify_journal(path, anchors, app.args.head)
        _emit(app.args, found.describe(), found.as_dict())
        return found.exit_code
    if sub == "repair":
        return _repair(app, path)
    app.warn_if_altered()
    records = [r for r in read_records(path) if not isinstance(r, TornRecord)]
    filters = _journal_filters(app.args)
    if sub == "export":
        return _export(app, path, records, filters)
    selected = reporting.filter_records(records, filters)
    _emit(
        app.args,
        reporting.timeline_text(selected) or f"{path}: no records",
        selected,
    )
    return EXIT_OK


def _repair(app: App, path: Path) -> int:
    done = repair(
        path,
        custody=dataclasses.replace(app.runtime.custody, network=None),
        operator=_operator(app.args),
        reason=app.args.reason or "",
    )
    if done.moved_to is None:
        text = f"{path}: nothing to repair: every line is a whole record"
    else:
        text = (
            f"{path}: line {done.line} was torn ({done.torn_bytes} bytes, a write that did not "
            f"finish): moved to {done.moved_to}; every whole record kept in place; the repair "
            "is journaled (journal.repaired)"
        )
    data = {"path": str(path), "moved_to": str(done.moved_to) if done.moved_to else None}
    _emit_run(app, text, data)
    return EXIT_OK


@contextlib.contextmanager
def _writing(path: Path, what: str) -> Iterator[None]:
    """A file export writes: a link or a special file at its place refused, a failed write said
    in one line (exit 2; an export sends nothing to any device)."""
    try:
        yield
    except NotAPlainFile as exc:
        raise InputError(f"{exc}; nothing was written") from None
    except OSError as exc:
        raise InputError(f"{what} could not be written to {path}: {exc.strerror or exc}") from None


def _recorded_map(app: App, built: reporting.IncidentReport) -> str:
    """The report's map: the inventory's links as the journal last recorded them."""
    return site_map.draw_map(
        app.inventory,
        site_map.recorded_states(built),
        title=f"{app.inventory.name}: links as the journal last recorded them",
        subtitle="not read now (isolement status --map reads them); up to "
        f"{built.last_ts or 'the last record'}",
    )


def _export(app: App, path: Path, records: list[dict[str, Any]], filters: reporting.Filters) -> int:
    args = app.args
    if args.sign and not args.output:
        raise InputError("--sign signs a file: give --output too")
    found = app.verification()
    if args.format == "records":
        # The exact records, with what could act on a terminal written as JSON escapes.
        text = escape_json(
            json.dumps(reporting.filter_records(records, filters), indent=2, ensure_ascii=False)
        )
    else:
        built = reporting.build_report(records, chain=found, filters=filters, source=str(path))
        if args.format == "html":
            text = reporting.to_html(built, _recorded_map(app, built))
        else:
            text = reporting.FORMATS[args.format](built)
    if not args.output:
        print(text, end="" if text.endswith("\n") else "\n")
        return EXIT_OK
    with _writing(args.output, "the report"):
        reporting.write_export(args.output, text)
    lines = [f"{args.output}: {args.format} report of {path}"]
    if args.sign:
        passphrase = _passphrase(args, f"Passphrase for {args.sign}: ")
        with _writing(signing.signature_path(args.output), "the signature"):
            sig = signing.sign_file(args.output, args.sign, passphrase, journal=found.as_dict())
        lines.append(f"{sig}: signature (check with 'isolement journal verify-report')")
    print("\n".join(lines), file=sys.stderr)
    return EXIT_OK


COMMANDS = {
    "validate": cmd_validate,
    "plan": cmd_plan,
    "cut": cmd_cut,
    "restore": cmd_restore,
    "preflight": cmd_preflight,
    "rehearse": cmd_rehearse,
    "status": cmd_status,
    "verify": cmd_verify,
    "journal": cmd_journal,
}


# The commands that open no inventory nor journal of the operator's: each runs on its own.
_STANDALONE: dict[str, Callable[[argparse.Namespace], int]] = {
    "schema": documents.cmd_schema,  # about isolement itself: reads nothing
    "completion": lambda args: completion.cmd_completion(args, build_parser),
    "lab": lab.cmd_lab,  # the lab's own distribution, if installed
    "inventory": importing.cmd_import,  # writes an inventory: reads none
    "hostkeys": hostkeys.cmd_hostkeys,  # key exchanges only: no journal, no lock
    "region": regions.cmd_region,  # a daemon or the hub: each cut is its own `cut` run
}


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in _STANDALONE:
        return _STANDALONE[args.command](args)
    if args.command == "journal" and args.journal_command in ("keygen", "verify-report"):
        return cmd_journal_keys(args)  # needs no inventory: runs on an investigator's machine
    return COMMANDS[args.command](App(args))


# An error isolement raises on purpose -> (how the message starts, exit code, its kind in the
# --json error document); the first class the error is an instance of wins.
_ERROR_EXITS: list[tuple[type[IsolementError], str, int, str]] = [
    (InputError, "isolement: error", EXIT_INPUT, "input"),
    (LockedError, "isolement: error", EXIT_INPUT, "locked"),
    (Interrupted, "isolement", EXIT_INTERRUPTED, "interrupted"),
    (JournalError, "isolement: journal", EXIT_JOURNAL, "journal"),
    (LabError, "isolement lab: error", EXIT_FAILED, "lab"),
    (IsolementError, "isolement: error", EXIT_FAILED, "failed"),
]


def _error_document(json_: bool, kind: str, message: str, code: int) -> int:
    """With --json, the error as a document on stdout too (isolement schema error)."""
    if json_:
        error = {"kind": kind, "message": message, "exit_code": code}
        print(escape_json(json.dumps({"error": error}, indent=2, ensure_ascii=False)))
    return code


def _refused(exc: IsolementError, json_: bool = False) -> int:
    prefix, code, kind = next((p, c, k) for cls, p, c, k in _ERROR_EXITS if isinstance(exc, cls))
    message = shown(exc, lines=True)
    print(f"{prefix}: {message}", file=sys.stderr)
    return _error_document(json_, kind, message, code)


def main(argv: Sequence[str] | None = None) -> int:
    # paramiko logs tracebacks for a port that is not an SSH server; the report already says it.
    logging.getLogger("paramiko").addHandler(logging.NullHandler())
    # One SSH session per device stays open for a whole run: allow as many as the system does.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    argv = sys.argv[1:] if argv is None else list(argv)
    wants_json = "--json" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"{exc}", file=sys.stderr)
        return _error_document(wants_json, "usage", str(exc), EXIT_INPUT)
    try:
        return _dispatch(args)
    except BrokenPipeError:
        # Output piped into `head`: stop quietly. (Not SIGPIPE's default, which would also kill
        # the run when a device resets a connection netmiko is still writing to.)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except IsolementError as exc:
        return _refused(exc, args.json)
    except KeyboardInterrupt:
        message = "interrupted; see 'isolement journal show' for what was done"
        print(f"isolement: {message}", file=sys.stderr)
        return _error_document(args.json, "interrupted", message, EXIT_INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
