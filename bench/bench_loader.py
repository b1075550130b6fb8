"""How long isolement takes to read an inventory, by size, and how fast it refuses one it must
not parse (#10 item 11): a 40 MiB file, 10 000 nested `[`.

For 100, 1 000 and 10 000 links (bench/estate.py `planning_inventory`), in this process:
the YAML read (`read_yaml`: libyaml's parser under isolement's own composer, which counts the
depth) side by side with main's loader before this change (PyYAML's pure-Python SafeLoader
with the same duplicate-key check), and `load_inventory` (YAML + pydantic + paths); then
`isolement validate --no-credentials` as a user runs it (the CLI, a fresh process). Then the
refusals, through the CLI: the wall time from start to exit 2. Nothing is sent anywhere.

    .venv/bin/python bench/bench_loader.py [--links 100,1000,10000] [--repeat 3] [--old-big]

`--old-big` also times main's loader on the 40 MiB file (minutes: what the cap avoids).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# bench/ is not a package: run as a script, its own directory is on sys.path.
import estate
import yaml

ISOLEMENT = Path(sys.executable).parent / "isolement"
BIG_MIB = 40


class MainLoader(yaml.SafeLoader):
    """The loader on main before this change: pure-Python PyYAML, duplicate keys refused."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


MainLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def main_read(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=MainLoader)


def _timed(repeat: int, action: Callable[[], object]) -> float:
    """The median of `repeat` timings of `action`, in seconds."""
    times = []
    for _ in range(repeat):
        gc.collect()  # not the garbage of the previous timing
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _cli(*argv: str) -> tuple[float, int, str]:
    """(wall seconds, exit code, last line of stderr) of one fresh `isolement` process."""
    env = {**os.environ, "ISOLEMENT_STATE_DIR": tempfile.mkdtemp(prefix="isolement-bench-")}
    env.pop("ISOLEMENT_MAX_INPUT_MIB", None)
    t0 = time.perf_counter()
    done = subprocess.run(
        [str(ISOLEMENT), *argv], capture_output=True, text=True, env=env, timeout=1800, check=False
    )
    lines = done.stderr.strip().splitlines()
    return time.perf_counter() - t0, done.returncode, lines[-1] if lines else ""


def big_text(size: int) -> str:
    """A well-formed inventory of `size` bytes or a little more: a planning inventory of ten
    links, then internet links to its first router until the size is reached."""
    text = yaml.safe_dump(estate.planning_inventory(10), sort_keys=False)
    line = (
        "  x{:07d}:\n    kind: internet\n    endpoints:\n"
        "    - device: d00000\n      interface: X{:07d}\n"
    )
    parts, total, i = [text], len(text), 0
    while total < size:
        parts.append(line.format(i, i))
        total += len(parts[-1])
        i += 1
    return "".join(parts)


def bench_size(work: Path, links: int, repeat: int) -> None:
    from isolement.model.inventory import load_inventory
    from isolement.model.yamlfile import read_yaml

    path = work / f"inventory-{links}.yaml"
    path.write_text(yaml.safe_dump(estate.planning_inventory(links), sort_keys=False))
    before = _timed(repeat, lambda: main_read(path))
    now = _timed(repeat, lambda: read_yaml(path))
    assert read_yaml(path) == main_read(path)  # the same data, read faster
    model = _timed(repeat, lambda: load_inventory(path))
    cli = statistics.median(
        _cli("--inventory", str(path), "validate", "--no-credentials")[0] for _ in range(repeat)
    )
    size = path.stat().st_size / 1024 / 1024
    print(
        f"  {links:>6} links {size:>6.2f} MiB   main's YAML read {before:7.3f}   now {now:7.3f}"
        f"  (x{before / now:.1f})   load_inventory {model:7.3f}   validate (CLI) {cli:6.2f}",
        flush=True,
    )


def bench_refusals(work: Path, old_big: bool) -> None:
    big = work / "big.yaml"
    big.write_text(big_text(BIG_MIB * 1024 * 1024))
    deep = work / "deep.yaml"
    deep.write_text("name: deep\nlinks: " + "[" * 10_000 + "\n")
    for label, path in (
        (f"{big.stat().st_size / 1024 / 1024:.1f} MiB inventory", big),
        ("10 000 nested [", deep),
    ):
        seconds, code, said = _cli("--inventory", str(path), "validate")
        print(f"  {label:<22} refused in {seconds:5.2f} s, exit {code}: {said[:150]}", flush=True)
    if old_big:
        seconds = _timed(1, lambda: main_read(big))
        print(
            f"  main's loader on the {BIG_MIB} MiB file: {seconds:.1f} s to read it "
            "(its model not counted)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", default="100,1000,10000", help="inventory sizes, in links")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median)")
    parser.add_argument("--old-big", action="store_true", help="time main's loader on 40 MiB")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.links.split(",") if n.strip()]
    if not sizes or min(sizes) < 2 or args.repeat < 1:
        parser.error("--links sizes must be at least 2, --repeat at least 1")
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    print(f"$ .venv/bin/python bench/bench_loader.py {shown}".rstrip())
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; Python "
        f"{platform.python_version()}, PyYAML {yaml.__version__} (libyaml: "
        f"{yaml.__with_libyaml__}); medians of {args.repeat}, seconds"
    )
    with tempfile.TemporaryDirectory(prefix="isolement-bench-loader-") as tmp:
        work = Path(tmp)
        print("\nreading an inventory")
        for links in sizes:
            bench_size(work, links, args.repeat)
        print("\nrefusing what is not read (the CLI, start to exit)")
        bench_refusals(work, args.old_big)
    return 0


if __name__ == "__main__":
    sys.exit(main())
