"""How long planning takes on large inventories: `isolement validate` and `plan --offline` as a
user runs them (the CLI, a fresh process each), then, in this process, the parts: reading the
YAML, building the inventory model, and the planner alone (`plan_cut` with no device state).

The inventories are generated (bench/estate.py `planning_inventory`): routers in a ring of WAN
links, each with an internet exit, three in four managed in-band through the link from
their neighbour, and a playbook that cuts every link. Nothing is sent anywhere: no device
exists behind them.

    .venv/bin/python bench/bench_planner.py [--links 1000,10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# bench/ is not a package: run as a script, its own directory is on sys.path.
import estate
import procstat
import yaml

ISOLEMENT = Path(sys.executable).parent / "isolement"


def write_planning_estate(work: Path, links: int) -> tuple[Path, Path]:
    """The generated inventory and a playbooks directory with `PLANNING_PLAYBOOK`."""
    inventory = work / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(estate.planning_inventory(links), sort_keys=False))
    playbooks = work / "playbooks"
    playbooks.mkdir(exist_ok=True)
    name = str(estate.PLANNING_PLAYBOOK["name"])
    (playbooks / f"{name}.yaml").write_text(
        yaml.safe_dump(estate.PLANNING_PLAYBOOK, sort_keys=False)
    )
    return inventory, playbooks


def _fresh_run(command: list[str], work: Path) -> procstat.Measured:
    """One CLI run with a state directory of its own: `plan` journals its plan, and a journal
    already holding the previous repeats' 5000-step records would be verified again first."""
    state = tempfile.mkdtemp(prefix="state-", dir=work)
    return procstat.run(command, env={**os.environ, "ISOLEMENT_STATE_DIR": state}, timeout=1800)


def _timed(repeat: int, action: Callable[[], object]) -> float:
    """The median of `repeat` timings of `action`, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_links(links: int, repeat: int) -> list[tuple[str, float, str]]:
    # The in-process rows run as the command line does: with its collector threshold, which
    # isolement.cli sets on import (at the interpreter's default, the collector walks the
    # inventory's objects again and again: load_inventory and the planner twice as long).
    import isolement.cli  # noqa: F401
    from isolement.model.inventory import Inventory, load_inventory
    from isolement.model.playbook import load_playbook
    from isolement.model.yamlfile import read_yaml
    from isolement.planning.planner import plan_cut

    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix=f"isolement-bench-plan-{links}-") as tmp:
        work = Path(tmp)
        inventory_file, playbooks = write_planning_estate(work, links)
        name = str(estate.PLANNING_PLAYBOOK["name"])
        base = [str(ISOLEMENT), "--inventory", str(inventory_file), "--playbooks", str(playbooks)]
        for label, command in (
            ("isolement validate (CLI)", [*base, "validate", "--no-credentials"]),
            ("isolement plan --offline (CLI)", [*base, "--json", "plan", name, "--offline"]),
        ):
            runs = [_fresh_run(command, work) for _ in range(repeat)]
            failed = [r for r in runs if r.exit != 0]
            note = f"exit {failed[0].exit}: {failed[0].stderr.strip()[-200:]}" if failed else ""
            cpu = statistics.median(r.cpu_s for r in runs)
            peak = statistics.median(r.peak_mb for r in runs)
            note = note or f"{cpu:.1f} CPU-s, {peak:.0f} MB"
            rows.append((label, statistics.median(r.wall_s for r in runs), note))

        inventory = load_inventory(inventory_file)
        playbook = load_playbook(name, playbooks)
        plan = plan_cut(inventory, playbook, {}, None)
        waves = max(step.wave for step in plan.steps)
        data = read_yaml(inventory_file)
        rows += [
            ("  reading its YAML", _timed(repeat, lambda: read_yaml(inventory_file)), ""),
            ("  its model (pydantic)", _timed(repeat, lambda: Inventory.model_validate(data)), ""),
            ("  load_inventory (both)", _timed(repeat, lambda: load_inventory(inventory_file)), ""),
            (
                "  the planner alone (plan_cut, offline)",
                # A copy of the playbook each time, so that the planner's memo of its last
                # selection (select_targets) does not answer: the selection is timed too.
                _timed(repeat, lambda: plan_cut(inventory, playbook.model_copy(), {}, None)),
                f"{len(plan.steps)} steps in {waves} waves, {len(plan.kept)} ends kept",
            ),
        ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", default="1000,10000", help="inventory sizes, in links")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median)")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.links.split(",") if n.strip()]
    if not sizes or min(sizes) < 2 or args.repeat < 1:
        parser.error("--links sizes must be at least 2, --repeat at least 1")
    procstat.become_subreaper()
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    print(f"$ .venv/bin/python bench/bench_planner.py {shown}".rstrip())
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; Python "
        f"{platform.python_version()}; medians of {args.repeat}"
    )
    for links in sizes:
        devices = max(2, -(-links // 2))
        print(f"\n{links} links, {devices} devices{'':<12}seconds")
        for label, seconds, note in bench_links(links, args.repeat):
            print(f"  {label:<42} {seconds:>7.2f}  {note}".rstrip(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
