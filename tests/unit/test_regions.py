"""The regional mode end to end on loopback (issue #16): a hub and two regional nats-servers
as its leaves, two regional agents each on its own emulated devices, one order from the hub;
region b's link to the hub cut while its cut runs. Each region contains (read from the
emulators), and once the link is back every record of both regional journals is at the hub,
each region's chain intact, the merged report tagging every entry with its region."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulated import LoginKey, emulated, write_inventory_for
from isolement.lab.emulator import DeviceSpec, Emulator, exit_links
from regional import (
    Daemon,
    NatsServer,
    TcpLink,
    hub_server,
    isolement_command,
    region_server,
    run_isolement,
    stream_messages,
    wait_until,
)

from isolement.journal.keys import generate_keypair

UPLINK = "GigabitEthernet0/1"
PLAYBOOK = {"name": "cut-internet", "cut": [{"select": {"kind": ["internet"]}}]}
DEVICES = {"a": ["a-edge1", "a-edge2"], "b": ["b-edge1", "b-edge2"]}
# Region b's devices answer slowly, so that its cut is still running when its link is cut.
LATENCY = {"a": 0.0, "b": 0.2}


def _region_files(
    directory: Path, region: str, emu: Emulator, login_key: LoginKey
) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    emu.write_known_hosts(directory / "known_hosts")
    inventory = write_inventory_for(
        directory, emu, login_key, f"region-{region}", links=exit_links(DEVICES[region], UPLINK)
    )
    playbooks = directory / "playbooks"
    playbooks.mkdir()
    (playbooks / "cut-internet.yaml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    return {"inventory": inventory, "playbooks": playbooks, "state": directory / "state"}


def _env(state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ISOLEMENT_STATE_DIR": str(state),
        "ISOLEMENT_ANCHOR_DIR": str(state.with_name("anchors")),
    }


def _journal(files: dict[str, Path], region: str) -> list[dict[str, Any]]:
    path = files["state"] / f"region-{region}" / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _at_hub(hub: NatsServer, command: str, order: str) -> tuple[int, dict[str, Any]]:
    done = run_isolement("--json", "region", command, order, "--server", hub.url)
    assert done.returncode in (0, 3, 6), done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def processes() -> Iterator[list[Any]]:
    """Everything the test starts, ended by PID (last started, first ended)."""
    started: list[Any] = []
    yield started
    for thing in reversed(started):
        with contextlib.suppress(Exception):
            thing.stop() if hasattr(thing, "stop") else thing.down()


@dataclasses.dataclass
class Group:
    """A hub and its regions as a test stood them up."""

    hub: NatsServer
    cell_key: Path
    cell_public: Path
    emus: dict[str, Emulator] = dataclasses.field(default_factory=dict)
    files: dict[str, dict[str, Path]] = dataclasses.field(default_factory=dict)
    leaves: dict[str, NatsServer] = dataclasses.field(default_factory=dict)
    agents: dict[str, Daemon] = dataclasses.field(default_factory=dict)


def _stand(
    tmp_path: Path,
    login_key: LoginKey,
    processes: list[Any],
    running: contextlib.ExitStack,
    hub: NatsServer,
    leaf_ports: dict[str, int],
) -> Group:
    """Each region of `leaf_ports`: its emulated devices, files, leaf server (a leaf of the hub
    through that port) and agent, ready; the hub's streams declared for them."""
    group = Group(hub, tmp_path / "cell.key", tmp_path / "cell.pub")
    generate_keypair(group.cell_key, group.cell_public)
    for region, leaf_port in leaf_ports.items():
        specs = [DeviceSpec(n, ["GigabitEthernet0/0", UPLINK]) for n in DEVICES[region]]
        emu = running.enter_context(emulated(specs, login_key, None, latency=LATENCY[region]))
        group.emus[region] = emu
        group.files[region] = _region_files(tmp_path / region, region, emu, login_key)
        leaf = region_server(tmp_path / f"{region}-nats", region, leaf_port)
        processes.append(leaf)
        group.leaves[region] = leaf
    for leaf in group.leaves.values():
        wait_until(leaf.leaf_connected, "a region's leaf connected to the hub")
    declared = run_isolement("region", "hub", "--server", hub.url, "--regions", *leaf_ports)
    assert declared.returncode == 0, declared.stderr
    for region, leaf in group.leaves.items():
        f = group.files[region]
        agent = Daemon(
            isolement_command(
                *("--inventory", str(f["inventory"]), "--playbooks", str(f["playbooks"])),
                *("--timeout", "10", "region", "agent", "--region", region),
                *("--server", leaf.url, "--trust", str(group.cell_public)),
            ),
            _env(f["state"]),
        )
        processes.append(agent)
        group.agents[region] = agent
    for region, agent in group.agents.items():
        wait_until(lambda a=agent: a.said("agent taking orders"), f"agent {region} ready")
    return group


def test_each_region_contains_through_a_cut_link_and_the_journals_merge_at_the_hub(
    tmp_path: Path, login_key: LoginKey, processes: list[Any]
) -> None:
    hub = hub_server(tmp_path / "hub")
    processes.append(hub)
    assert hub.leaf_port is not None
    # Region b reaches the hub through a link the test can cut; region a directly.
    link_b = TcpLink(hub.leaf_port)
    processes.append(link_b)

    with contextlib.ExitStack() as running:
        group = _stand(
            tmp_path, login_key, processes, running, hub, {"a": hub.leaf_port, "b": link_b.port}
        )
        emus, files, agents, leaves = group.emus, group.files, group.agents, group.leaves
        cell_key = group.cell_key
        sent = run_isolement(
            "--json",
            *("region", "order", "cut-internet", "--server", hub.url),
            *("--reason", "ransomware in region b", "--operator", "crisis cell"),
            *("--sign", str(cell_key)),
        )
        assert sent.returncode == 0, sent.stderr
        order = json.loads(sent.stdout)["order"]
        assert json.loads(sent.stdout)["regions"] == ["a", "b"]

        # Mid-run: region b has taken the order and its cut has started; then its WAN goes.
        wait_until(lambda: agents["b"].said(f"order {order}: accepted"), "b accepted the order")
        link_b.down()
        b_records = _journal(files["b"], "b")
        assert not any(r["event"] == "run.finished" for r in b_records), "b's cut had ended"

        # Both regions contain on their own: region a reports to the hub; b only locally.
        for region, agent in agents.items():
            wait_until(lambda a=agent: a.said(f"order {order}: result"), f"{region}'s result")
        for region, names in DEVICES.items():
            for name in names:
                assert emus[region].device(name).is_shutdown(UPLINK), f"{name} not cut"
                assert not emus[region].device(name).is_shutdown("GigabitEthernet0/0")
        code, status = _at_hub(hub, "status", order)
        assert code == 6  # b not heard from
        assert status["regions"]["a"]["result"]["exit"] == 0
        assert status["regions"]["a"]["result"]["outcome"] == "done"
        assert status["regions"]["b"]["result"] is None
        # ... where b's journal and result wait, in b's own stream, for the link.
        queued = stream_messages(leaves["b"].url, "REGION-b", "isolement.region.b.>")
        assert [r for r in queued if "seq" in r] == _journal(files["b"], "b")
        assert any(m.get("event") == "result" and m["exit"] == 0 for m in queued)

        # The link back: the hub's merged stream catches up, nothing lost.
        link_b.up()
        wait_until(lambda: _at_hub(hub, "status", order)[0] == 0, "b's result at the hub")
        code, report = _at_hub(hub, "report", order)
        assert code == 0
        for region in DEVICES:
            mirrored = stream_messages(hub.url, "REGIONS", f"isolement.region.{region}.journal")
            assert mirrored == _journal(files[region], region)  # every record, in order
            journal = report["regions"][region]["journal"]
            assert journal == {"records": len(mirrored), "chained": len(mirrored), "problem": None}
            assert report["regions"][region]["result"]["outcome"] == "done"
        applied = {
            (e["region"], e["device"]) for e in report["entries"] if e["event"] == "change.applied"
        }
        assert applied == {(r, n) for r, names in DEVICES.items() for n in names}
        assert {e["region"] for e in report["entries"]} == {"a", "b"}
        text = run_isolement("region", "report", order, "--server", hub.url).stdout
        assert "[b]" in text and "[a]" in text and "intact" in text


def test_an_order_the_region_does_not_trust_is_refused_and_nothing_is_cut(
    tmp_path: Path, login_key: LoginKey, processes: list[Any]
) -> None:
    hub = hub_server(tmp_path / "hub")
    processes.append(hub)
    assert hub.leaf_port is not None
    with contextlib.ExitStack() as running:
        group = _stand(tmp_path, login_key, processes, running, hub, {"a": hub.leaf_port})
        other = tmp_path / "other.key"
        generate_keypair(other, tmp_path / "other.pub")
        sent = run_isolement(
            "--json",
            *("region", "order", "cut-internet", "--server", hub.url),
            *("--reason", "forged", "--sign", str(other)),
        )
        assert sent.returncode == 0, sent.stderr
        order = json.loads(sent.stdout)["order"]
        wait_until(lambda: group.agents["a"].said(f"order {order}: refused"), "a refused it")
        wait_until(lambda: _at_hub(hub, "status", order)[0] == 3, "the refusal at the hub")
        said = _at_hub(hub, "status", order)[1]["regions"]["a"]["said"]
        assert "not signed by the trusted key" in said
        for name in DEVICES["a"]:
            assert not group.emus["a"].device(name).is_shutdown(UPLINK)
        assert _journal(group.files["a"], "a") == []  # no run started
