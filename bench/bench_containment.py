"""Time to contain, side by side: isolement as a user runs it, the machine's floor, and what
engineers would otherwise run, against the same emulated IOS estate, in one run per size.

For each N, N emulated Cisco IOS devices (lab/emulator.py, 127.0.0.1 only, several emulator
processes for large N) with a latency at login and per command; every tool does the same work
per device (log in, read state, a 2-line change, read back, log out), from every port open,
and the emulators themselves say afterwards which devices really ended cut. See
bench/README.md for what each row runs and how it is measured.

    .venv/bin/python bench/bench_containment.py [--sizes 10,50,200,1000] [--repeat 1]
        [--login-latency 0.2] [--latency 0.02] [--skip TOOL,...] [--json PATH] [--logs DIR]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# bench/ is not a package: run as a script, its own directory is on sys.path.
import estate
import procstat
import yaml

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
ISOLEMENT = Path(sys.executable).parent / "isolement"
ANSIBLE_VENV = BENCH / ".venv-ansible"
SHUT_PATTERN = rf"{estate.TARGETED} +\\S+ +\\S+ +\\S+ +administratively down"  # in a Jinja test


@dataclass(frozen=True)
class Tool:
    key: str
    label: str
    changes: bool  # it should leave every device cut (else: change nothing)
    fresh: bool = True  # it starts from every port open (else: from the previous tool's end)


TOOLS = (
    Tool("cut", "isolement cut (CLI)", changes=True),
    Tool("rerun", "isolement cut, re-run", changes=True, fresh=False),
    Tool("preflight", "isolement preflight", changes=False),
    Tool("floor", "floor: asyncssh", changes=True),
    Tool("netmiko-seq", "netmiko, sequential", changes=True),
    Tool("netmiko-threads", "netmiko, a thread per device", changes=True),
    Tool("ansible", "Ansible network_cli, cisco.ios", changes=True),
)
FLOOR = "floor"


def label(tool: Tool, args: argparse.Namespace) -> str:
    if tool.key == FLOOR:
        k = args.floor_concurrency
        return f"{tool.label}, {f'{k} at a time' if k else 'all at once'}"
    return tool.label


@dataclass
class Result:
    """One tool's run on one estate: what procstat measured, and what the emulators say."""

    tool: str
    devices: int
    wall_s: float
    cpu_s: float
    peak_mb: float
    exit: int | None
    cut: int  # devices whose targeted port is shut afterwards, as the emulators say
    other_shut: int  # ports that should not have been touched and are shut
    emulator_cpu_s: float
    sessions: int  # most SSH sessions open at once on the emulators
    lingered: int
    summary: str  # the tool's own word, shortened
    causes: list[str] = field(default_factory=list)  # why devices failed, most frequent first


# --- what each tool runs ----------------------------------------------------------------------


@dataclass
class Estate:
    work: Path
    devices: int
    inventory: Path
    playbooks: Path
    state_dir: Path


def _isolement(estate_: Estate, *command: str) -> list[str]:
    return [
        str(ISOLEMENT),
        "--inventory",
        str(estate_.inventory),
        "--playbooks",
        str(estate_.playbooks),
        *command,
    ]


def _ansible_files(estate_: Estate, ports: dict[str, int]) -> Path:
    """An Ansible inventory and playbook doing the same work as the others; HOME holds the
    host keys, where Ansible's paramiko connection looks for them."""
    root = estate_.work / "ansible"
    (root / "home" / ".ssh").mkdir(parents=True, exist_ok=True)
    (root / "home" / ".ssh" / "known_hosts").write_text((estate_.work / "known_hosts").read_text())
    hosts = {
        name: {"ansible_host": "127.0.0.1", "ansible_port": port} for name, port in ports.items()
    }
    group_vars = {
        "ansible_connection": "ansible.netcommon.network_cli",
        "ansible_network_os": "cisco.ios.ios",
        "ansible_user": estate.USERNAME,
        "ansible_ssh_private_key_file": str(estate_.work / estate.KEY_FILE),
        # The same SSH library as isolement and netmiko (ansible-pylibssh is not installed).
        "ansible_network_cli_ssh_type": "paramiko",
        "ansible_python_interpreter": str(ANSIBLE_VENV / "bin" / "python"),
    }
    (root / "hosts.yaml").write_text(yaml.safe_dump({"all": {"hosts": hosts, "vars": group_vars}}))
    shut = f"is search('{SHUT_PATTERN}')"
    play = {
        "name": "cut every internet exit",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {
                "name": "read state",
                "cisco.ios.ios_command": {"commands": ["show ip interface brief"]},
                "register": "before",
            },
            {
                "name": "cut",
                "cisco.ios.ios_config": {
                    "parents": [f"interface {estate.TARGETED}"],
                    "lines": ["shutdown"],
                    "match": "none",  # the read above decides, as with the other tools
                },
                "when": f"not (before.stdout[0] {shut})",
            },
            {
                "name": "read back",
                "cisco.ios.ios_command": {"commands": ["show ip interface brief"]},
                "register": "after",
            },
            {"name": "check", "ansible.builtin.assert": {"that": [f"after.stdout[0] {shut}"]}},
            {"name": "log out", "ansible.builtin.meta": "reset_connection"},
        ],
    }
    (root / "cut.yaml").write_text(yaml.safe_dump([play], sort_keys=False))
    return root


def command_for(
    tool: str, estate_: Estate, ports: dict[str, int], args: argparse.Namespace
) -> tuple[list[str], dict[str, str], Path | None]:
    """(argv, environment, working directory) of one tool on this estate."""
    env = dict(os.environ)
    python = sys.executable
    if tool in ("cut", "rerun"):
        env["ISOLEMENT_STATE_DIR"] = str(estate_.state_dir)
        command = _isolement(estate_, "cut", estate.PLAYBOOK_NAME, "--reason", "bench", "--yes")
        return command, env, None
    if tool == "preflight":
        env["ISOLEMENT_STATE_DIR"] = str(estate_.state_dir)
        return _isolement(estate_, "preflight", estate.PLAYBOOK_NAME), env, None
    if tool == FLOOR:
        command = [python, str(BENCH / "floor_asyncssh.py"), str(estate_.work)]
        return [*command, "--concurrency", str(args.floor_concurrency)], env, None
    if tool == "netmiko-seq":
        return [python, str(BENCH / "netmiko_script.py"), str(estate_.work)], env, None
    if tool == "netmiko-threads":
        command = [python, str(BENCH / "netmiko_script.py"), str(estate_.work)]
        return [*command, "--threads", str(estate_.devices)], env, None
    if tool == "ansible":
        root = _ansible_files(estate_, ports)
        env.update(
            HOME=str(root / "home"),
            ANSIBLE_HOST_KEY_CHECKING="True",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCAL_TEMP=str(root / "tmp"),
            ANSIBLE_RETRY_FILES_ENABLED="False",
        )
        forks = args.ansible_forks or estate_.devices
        command = [str(ANSIBLE_VENV / "bin" / "ansible-playbook"), "-i", "hosts.yaml"]
        return [*command, "-f", str(forks), "cut.yaml"], env, root
    raise ValueError(tool)


def why_skipped(tool: str, devices: int, args: argparse.Namespace) -> str | None:
    if tool in args.skip:
        return "left out (--skip)"
    if tool == FLOOR and importlib.util.find_spec("asyncssh") is None:
        return "asyncssh is not installed: run bench/setup.sh"
    if tool == "netmiko-seq" and devices > args.sequential_max:
        return f"N > --sequential-max {args.sequential_max} (it grows linearly with N)"
    if tool == "ansible":
        if devices > args.ansible_max:
            return f"N > --ansible-max {args.ansible_max}"
        if not (ANSIBLE_VENV / "bin" / "ansible-playbook").exists():
            return f"Ansible is not installed in {ANSIBLE_VENV}: run bench/setup.sh"
        if ansible_versions().get("cisco.ios") is None:
            return "the cisco.ios collection is not installed: run bench/setup.sh"
    return None


# --- what a tool said -------------------------------------------------------------------------

_DEVICE = re.compile(r"\br\d{4}\b")
_PORT = re.compile(r"\b\d{4,5}\b")


def _cause(text: str) -> str:
    return _PORT.sub("PORT", _DEVICE.sub("DEV", text.strip()))[:110]


def _ansible_error(result: str) -> str:
    """The message of a failed task's result; of a traceback, its last line (the exception)."""
    try:
        message = str(json.loads(result).get("msg", result))
    except ValueError:
        message = result
    lines = [line for line in message.splitlines() if line.strip()]
    return lines[-1] if lines else message


def read_outcome(tool: str, measured: procstat.Measured) -> tuple[str, list[str]]:
    """(the tool's own summary, the causes of its failures, most frequent first)."""
    out = measured.stdout
    lines = out.splitlines()
    causes: Counter[str] = Counter()
    if tool in ("cut", "rerun"):
        summary = lines[0] if lines else measured.stderr.strip()[-110:]
        summary = re.sub(r" \(run .*", "", summary)
        for n, line in enumerate(lines):
            if line.startswith("  UNKNOWN "):
                causes[_cause(line.split(":", 1)[1])] += 1
            elif line.startswith("  FAILED ") and n + 1 < len(lines):
                causes[_cause(lines[n + 1])] += 1
    elif tool == "preflight":
        summary = lines[-1] if lines else measured.stderr.strip()[-110:]
        for line in lines:
            if line.startswith("  NOT READY"):
                causes[_cause(line.split(None, 3)[-1])] += 1
    elif tool == "ansible":
        recap = [line for line in lines if re.match(r"^r\d{4} +: ok=", line)]
        failed = sum(1 for line in recap if not re.search(r"unreachable=0 +failed=0", line))
        summary = f"{len(recap) - failed}/{len(recap)} hosts ok in the PLAY RECAP"
        for line in lines:
            if line.startswith("fatal: "):
                causes[_cause(_ansible_error(line.split("=>", 1)[-1]))] += 1
    else:
        try:
            result = json.loads(lines[-1])
            summary = f"{result['ok']} ok, {len(result['failed'])} failed"
            causes.update(_cause(why) for why in result["failed"].values())
        except (IndexError, ValueError, KeyError):
            summary = (measured.stderr.strip() or out.strip())[-110:]
    if measured.timed_out:
        summary = f"did not finish in {measured.wall_s:.0f} s (killed); " + summary
    return summary, [f"{n}x {cause}" for cause, n in causes.most_common(3)]


# --- one size ---------------------------------------------------------------------------------


def run_tool(tool: Tool, estate_: Estate, fleet: estate.Fleet, args: argparse.Namespace) -> Result:
    if tool.fresh:
        fleet.reopen()
    command, env, cwd = command_for(tool.key, estate_, fleet.ports, args)
    before = fleet.stats()  # also restarts the emulators' session peak
    measured = procstat.run(command, env=env, cwd=cwd, timeout=args.timeout)
    after = fleet.stats()
    summary, causes = read_outcome(tool.key, measured)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        stem = args.logs / f"{estate_.devices}-{tool.key}-{estate_.state_dir.name}"
        stem.with_suffix(".out").write_text(measured.stdout)
        stem.with_suffix(".err").write_text(measured.stderr)
    return Result(
        tool=tool.key,
        devices=estate_.devices,
        wall_s=measured.wall_s,
        cpu_s=measured.cpu_s,
        peak_mb=measured.peak_mb,
        exit=measured.exit,
        cut=len(fleet.cut_devices()),
        other_shut=fleet.other_ports_shut(),
        emulator_cpu_s=after["cpu_s"] - before["cpu_s"],
        sessions=int(after["max_sessions"]),
        lingered=measured.lingered,
        summary=summary,
        causes=causes,
    )


def bench_size(
    devices: int, args: argparse.Namespace, report: Callable[[str], None]
) -> dict[str, list[Result]]:
    results: dict[str, list[Result]] = {t.key: [] for t in TOOLS}
    with tempfile.TemporaryDirectory(prefix=f"isolement-bench-{devices}-") as tmp:
        work = Path(tmp)
        from isolement.lab.emulator import generate_login_key

        generate_login_key(work / estate.KEY_FILE)
        started = time.perf_counter()
        with estate.Fleet(
            work,
            devices,
            latency=args.latency,
            login_latency=args.login_latency,
            per_process=args.devices_per_emulator,
        ) as fleet:
            inventory, playbooks = estate.write_estate(work, fleet.ports)
            report(
                f"\nN = {devices}: {fleet.processes} emulator process(es) up in "
                f"{time.perf_counter() - started:.1f} s"
            )
            for repeat in range(args.repeat):
                estate_ = Estate(work, devices, inventory, playbooks, work / f"state-{repeat}")
                for tool in TOOLS:
                    skipped = why_skipped(tool.key, devices, args)
                    if skipped:
                        continue
                    result = run_tool(tool, estate_, fleet, args)
                    results[tool.key].append(result)
                    report(
                        f"  run {repeat + 1}/{args.repeat} {label(tool, args)}: "
                        f"{result.wall_s:.1f} s, "
                        f"{result.cut}/{devices} cut; {result.summary}"
                    )
            fleet.reopen()
    return results


# --- the table --------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _ratio(value: float, floor: float | None) -> str:
    return f"{value / floor:.1f}x" if floor else "-"


def table(devices: int, results: dict[str, list[Result]], args: argparse.Namespace) -> str:
    floor = results[FLOOR]
    floor_wall = _median([r.wall_s for r in floor]) if floor else None
    floor_cpu = _median([r.cpu_s for r in floor]) if floor else None
    head = (
        f"{'N = ' + str(devices):<31} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} "
        f"{'ended cut':>10} {'wall/floor':>10} {'CPU/floor':>9} {'emu CPU s':>9} {'sessions':>8}"
    )
    lines = [head]
    notes: list[str] = []
    for tool in TOOLS:
        runs = results[tool.key]
        if not runs:
            skipped = why_skipped(tool.key, devices, args)
            lines.append(f"  {label(tool, args):<29} skipped: {skipped}")
            continue
        wall = _median([r.wall_s for r in runs])
        cpu = _median([r.cpu_s for r in runs])
        peak = _median([r.peak_mb for r in runs])
        expected = devices if tool.changes else 0
        cut = sorted({r.cut for r in runs})
        ended = "/".join(str(c) for c in cut) + f"/{devices}"
        if any(r.cut != expected or r.other_shut for r in runs):
            ended += " !"
        lines.append(
            f"  {label(tool, args):<29} {wall:>7.1f} {cpu:>7.1f} {peak:>8.0f} {ended:>10} "
            f"{_ratio(wall, floor_wall):>10} {_ratio(cpu, floor_cpu):>9} "
            f"{_median([r.emulator_cpu_s for r in runs]):>9.1f} "
            f"{max(r.sessions for r in runs):>8}"
        )
        for n, r in enumerate(runs, 1):
            trouble = r.exit != 0 or r.cut != expected or r.other_shut or r.lingered
            if trouble:
                what = f"{label(tool, args)}, run {n}: exit {r.exit}, {r.cut}/{devices} cut"
                if r.other_shut:
                    what += f", {r.other_shut} other ports shut"
                if r.lingered:
                    what += f", {r.lingered} processes still running {procstat.LINGER_S:.0f} s"
                    what += " after it exited (killed)"
                notes.append(f"{what}: {r.summary}")
                notes += [f"    {cause}" for cause in r.causes]
        if tool.key == "rerun":
            said = {r.summary.split(": ", 1)[-1].split(" in ")[0] for r in runs}
            notes.append(f"{tool.label}: isolement said {', '.join(sorted(said))}")
    return "\n".join(lines + [f"  - {note}" for note in notes])


def ansible_versions() -> dict[str, str | None]:
    site = list((ANSIBLE_VENV / "lib").glob("python*/site-packages"))
    found: dict[str, str | None] = {"ansible-core": None, "cisco.ios": None, "netcommon": None}
    if not site:
        return found
    for meta in site[0].glob("ansible_core-*.dist-info"):
        found["ansible-core"] = meta.name.removesuffix(".dist-info").split("-")[1]
    collections = site[0] / "ansible_collections"
    for key, path in (("cisco.ios", "cisco/ios"), ("netcommon", "ansible/netcommon")):
        manifest = collections / path / "MANIFEST.json"
        if manifest.exists():
            found[key] = json.loads(manifest.read_text())["collection_info"]["version"]
    return found


def versions() -> str:
    def v(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    a = ansible_versions()
    return (
        f"Python {platform.python_version()}, isolement {v('isolement')}, netmiko "
        f"{v('netmiko')}, paramiko {v('paramiko')}, asyncssh {v('asyncssh')}, ansible-core "
        f"{a['ansible-core'] or 'not installed'} (cisco.ios {a['cisco.ios'] or '-'}, "
        f"ansible.netcommon {a['netcommon'] or '-'})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,200,1000", help="estate sizes, in order")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and size (median)")
    parser.add_argument("--login-latency", type=float, default=0.2, help="seconds at login (0.2)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per command (0.02)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before a tool's run is killed"
    )
    parser.add_argument("--ansible-max", type=int, default=200, help="largest N for Ansible")
    parser.add_argument(
        "--ansible-forks", type=int, default=0, help="Ansible forks (0: one per device)"
    )
    parser.add_argument(
        "--floor-concurrency",
        type=int,
        default=128,
        # 1000 handshakes at once collapse on 2 cores (bench/README.md): the floor admits them
        # as isolement does, at its worker bound.
        help="devices the floor works on at once (128, isolement's worker bound; 0: all at once)",
    )
    parser.add_argument(
        "--sequential-max", type=int, default=50, help="largest N for sequential netmiko"
    )
    parser.add_argument(
        "--devices-per-emulator",
        type=int,
        default=estate.DEVICES_PER_EMULATOR,
        help=f"devices per emulator process ({estate.DEVICES_PER_EMULATOR})",
    )
    parser.add_argument(
        "--skip", default="", help=f"tools left out: {','.join(t.key for t in TOOLS)}"
    )
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--logs", type=Path, help="keep each run's output in this directory")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = args.skip - {t.key for t in TOOLS}
    if not sizes or min(sizes) < 1 or args.repeat < 1 or unknown:
        parser.error(f"sizes and --repeat must be at least 1; unknown tools: {unknown or '-'}")

    estate.raise_open_files_limit()
    procstat.become_subreaper()
    started = time.perf_counter()
    shown = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    print(f"$ .venv/bin/python bench/bench_containment.py {shown}".rstrip())
    print(
        f"Emulated cisco_ios devices on 127.0.0.1: {args.login_latency:g} s at login, "
        f"{args.latency:g} s per command; medians of {args.repeat} run(s) per tool"
    )
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; {versions()}")
    print("Each tool, per device: log in, read state, a 2-line change, read back, log out.")
    everything: dict[int, dict[str, list[Result]]] = {}
    tables = []
    for devices in sizes:
        results = bench_size(devices, args, lambda line: print(line, flush=True))
        everything[devices] = results
        tables.append(table(devices, results, args))
        print("\n" + tables[-1], flush=True)
    print(
        f"\nWhole bench: {time.perf_counter() - started:.0f} s; load average "
        f"{os.getloadavg()[0]:.1f} at the end. Columns: bench/README.md.\n"
    )
    print("\n\n".join(tables))
    if args.json:
        data: dict[str, Any] = {
            str(n): {tool: [asdict(r) for r in runs] for tool, runs in results.items()}
            for n, results in everything.items()
        }
        args.json.write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
