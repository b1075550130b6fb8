"""isolement.transport.session against emulated IOS devices (lab/emulator.py, 127.0.0.1 only):
host keys are verified against the inventory's known_hosts, of which each connection is
handed only its own host's lines.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import paramiko
import pytest
from emulated import Emulate, LoginKey, write_inventory_for
from isolement.lab.emulator import DeviceSpec, Emulator, exit_links, generate_key
from paramiko.hostkeys import HostKeys

from isolement.drivers import driver_for
from isolement.model.errors import DeviceError
from isolement.model.inventory import Inventory, load_inventory
from isolement.transport import known_hosts
from isolement.transport import session as sessions

GI0 = "GigabitEthernet0/0"
NAMES = ("r1", "r2", "r3")


@pytest.fixture
def estate(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> tuple[Emulator, Inventory]:
    specs = [DeviceSpec(name, [GI0]) for name in NAMES]
    emu = emulate(specs, host_key_per_device=True)
    path = write_inventory_for(
        tmp_path, emu, login_key, "session-test", links=exit_links(NAMES, GI0)
    )
    return emu, load_inventory(path)


def connect(inventory: Inventory, device: str) -> sessions.NetmikoSession:
    return sessions.connect(inventory, device, driver_for("cisco_ios"), 10.0)


def set_line(known_hosts: Path, port: int, line: str | None) -> None:
    """Replace (or with None remove) the line of `[127.0.0.1]:port` in the file."""
    prefix = f"[127.0.0.1]:{port} "
    lines = [x for x in known_hosts.read_text().splitlines() if not x.startswith(prefix)]
    if line is not None:
        lines.append(line)
    known_hosts.write_text("".join(x + "\n" for x in lines))


# --- through netmiko, against the emulator ---------------------------------------------------


def test_the_right_host_key_logs_in(estate: tuple[Emulator, Inventory]) -> None:
    emu, inventory = estate
    session = connect(inventory, "r2")
    try:
        assert session.prompt() == "r2#"
    finally:
        session.close()
    assert emu.device("r2").logins == 1


def test_a_wrong_host_key_is_refused(estate: tuple[Emulator, Inventory]) -> None:
    emu, inventory = estate
    connect(inventory, "r1").close()  # the file is indexed and cached by now
    port = emu.ports["r1"]
    # Same length, same type: only the content tells the new file from the old one.
    set_line(
        inventory.known_hosts, port, f"[127.0.0.1]:{port} ssh-ed25519 {generate_key().get_base64()}"
    )

    with pytest.raises(DeviceError, match=r"HOST KEY MISMATCH for 127\.0\.0\.1.*refusing"):
        connect(inventory, "r1")
    assert emu.device("r1").logins == 1  # the first, good, login only


def test_a_host_missing_from_known_hosts_is_refused(estate: tuple[Emulator, Inventory]) -> None:
    emu, inventory = estate
    port = emu.ports["r3"]
    key = emu.device("r3").host_key
    # Its key on file for another port, and under the bare address (port 22), is not its entry.
    set_line(inventory.known_hosts, port, None)
    with inventory.known_hosts.open("a") as handle:
        handle.write(f"127.0.0.1 {key.get_name()} {key.get_base64()}\n")
        handle.write(f"[127.0.0.1]:{port + 1} {key.get_name()} {key.get_base64()}\n")

    with pytest.raises(DeviceError, match=r"SSH refused: .*not found in known_hosts"):
        connect(inventory, "r3")
    assert emu.device("r3").logins == 0
    # The others still log in.
    connect(inventory, "r2").close()


def test_a_revoked_key_line_refuses_its_host_only(estate: tuple[Emulator, Inventory]) -> None:
    """paramiko cannot read marker lines; the host named is refused, the others are not."""
    emu, inventory = estate
    key = emu.device("r1").host_key
    with inventory.known_hosts.open("a") as handle:
        handle.write(
            f"@revoked [127.0.0.1]:{emu.ports['r1']} {key.get_name()} {key.get_base64()}\n"
        )

    with pytest.raises(DeviceError, match=r"unreadable host key for \[127\.0\.0\.1\]:\d+ in "):
        connect(inventory, "r1")
    assert emu.device("r1").logins == 0
    connect(inventory, "r2").close()


def test_no_known_hosts_file_refuses_every_host(estate: tuple[Emulator, Inventory]) -> None:
    emu, inventory = estate
    inventory.known_hosts.unlink()
    with pytest.raises(DeviceError, match="SSH refused"):
        connect(inventory, "r1")
    assert emu.device("r1").logins == 0


def test_each_connection_gets_only_its_host_lines(
    estate: tuple[Emulator, Inventory], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu, inventory = estate
    handed: list[dict[str, Any]] = []
    real = sessions.ConnectHandler

    def spy(**params: Any) -> Any:
        path = Path(params["alt_key_file"])
        handed.append(
            {
                "path": path,
                "text": path.read_text(),
                "file_mode": stat.S_IMODE(path.stat().st_mode),
                "dir_mode": stat.S_IMODE(path.parent.stat().st_mode),
                "params": params,
            }
        )
        return real(**params)

    monkeypatch.setattr(sessions, "ConnectHandler", spy)
    connect(inventory, "r2").close()

    [seen] = handed
    own = f"[127.0.0.1]:{emu.ports['r2']} "
    assert [line for line in inventory.known_hosts.read_text().splitlines() if line.startswith(own)]
    assert seen["text"].splitlines() == [
        line for line in inventory.known_hosts.read_text().splitlines() if line.startswith(own)
    ]
    assert (seen["file_mode"], seen["dir_mode"]) == (0o600, 0o700)
    assert seen["path"].parent != inventory.known_hosts.parent
    assert not seen["path"].exists()  # removed once netmiko has read it
    params = seen["params"]
    assert (params["ssh_strict"], params["system_host_keys"], params["alt_host_keys"]) == (
        True,
        False,
        True,
    )


def test_the_file_is_parsed_once_until_it_changes(
    estate: tuple[Emulator, Inventory], monkeypatch: pytest.MonkeyPatch
) -> None:
    _emu, inventory = estate
    parsed: list[str] = []
    real = known_hosts.KnownHostsIndex.parse

    def counting(text: str) -> known_hosts.KnownHostsIndex:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(known_hosts.KnownHostsIndex, "parse", staticmethod(counting))
    inventory.known_hosts.write_text(inventory.known_hosts.read_text() + "# changed\n")
    for name in NAMES:
        connect(inventory, name).close()
    assert len(parsed) == 1
    with inventory.known_hosts.open("a") as handle:
        handle.write("# changed again\n")
    connect(inventory, "r1").close()
    assert len(parsed) == 2


# --- the index on its own ---------------------------------------------------------------------


def test_index_matches_what_paramiko_looks_up(tmp_path: Path) -> None:
    a, b, c = generate_key(), generate_key(), generate_key()

    def line(names: str, key: paramiko.PKey) -> str:
        return f"{names} {key.get_name()} {key.get_base64()}"

    hashed = HostKeys.hash_host("[10.0.0.1]:2222")
    text = "\n".join(
        [
            "# a comment naming [10.0.0.1]:2222",
            line("[10.0.0.1]:2222", a),
            line("10.0.0.1", b),  # port 22: another name
            line("[10.0.0.1]:22222", b),
            line("rtr1,[10.0.0.1]:2222", c),  # one of several names
            "@revoked [10.0.0.9]:2222 " + f"{a.get_name()} {a.get_base64()}",
            "  " + line(hashed, b) + "  ",
            line("|1|bm90IGJhc2U2NA==|AAAA", a),  # malformed hash: matches nothing
            line("[10.0.0.1]:2222", a) + " trailing comment",
        ]
    )
    index = known_hosts.KnownHostsIndex.parse(text)

    assert index.lines_for("[10.0.0.1]:2222") == [
        line("[10.0.0.1]:2222", a),
        line("rtr1,[10.0.0.1]:2222", c),
        line(hashed, b),
        line("[10.0.0.1]:2222", a) + " trailing comment",
    ]
    assert index.lines_for("10.0.0.1") == [line("10.0.0.1", b)]
    assert index.lines_for("rtr1") == [line("rtr1,[10.0.0.1]:2222", c)]
    # paramiko cannot read a marker line: the host it names gets it, and is refused.
    assert index.lines_for("[10.0.0.9]:2222") == [
        "@revoked [10.0.0.9]:2222 " + f"{a.get_name()} {a.get_base64()}"
    ]
    assert index.lines_for("[10.0.0.8]:2222") == []
    assert known_hosts.host_key_name("10.0.0.1", 22) == "10.0.0.1"
    assert known_hosts.host_key_name("10.0.0.1", 2222) == "[10.0.0.1]:2222"

    # What paramiko reads from the subset is what it would have found in the whole file.
    # (paramiko cannot read the marker line or the malformed hash: they are left out.)
    whole = "\n".join(x for x in text.splitlines() if "@revoked" not in x and "bm90" not in x)
    (tmp_path / "whole").write_text(whole)
    (tmp_path / "subset").write_text("\n".join(index.lines_for("[10.0.0.1]:2222")))
    full, subset = HostKeys(str(tmp_path / "whole")), HostKeys(str(tmp_path / "subset"))
    found_full, found_subset = full.lookup("[10.0.0.1]:2222"), subset.lookup("[10.0.0.1]:2222")
    assert found_full is not None and found_subset is not None
    assert {k: v.asbytes() for k, v in found_full.items()} == {
        k: v.asbytes() for k, v in found_subset.items()
    }
