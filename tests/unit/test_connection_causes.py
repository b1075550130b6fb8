"""Why a device could not be reached, told truly, and what passes tried again (issue #16).

Against emulated IOS devices (lab/emulator.py, 127.0.0.1 only) whose faults stand for a
controller or an SSH server under a connection storm: a connection reset before the banner, no
banner, a login not answered. Each is named for what it is (time-out, refused, dropped) and
tried again by the pre-flight's login; an authentication refused is named so and never tried
again; a session that logs in and then says nothing is a time-out, never an authentication.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from emulated import Emulate, LoginKey, write_inventory_for
from isolement.lab.emulator import DeviceSpec, Emulator, exit_links

from isolement.drivers import driver_for
from isolement.flows.preflight import login
from isolement.flows.runtime import Runtime
from isolement.model.errors import DeviceError, NoAnswer, NotReached
from isolement.model.inventory import Inventory, load_inventory
from isolement.transport import admission
from isolement.transport import session as sessions

GI0 = "GigabitEthernet0/0"
TIMEOUT = 2.0


def _estate(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path, **kw: object
) -> tuple[Emulator, Inventory]:
    emu = emulate([DeviceSpec("r1", [GI0])], **kw)  # type: ignore[arg-type]
    path = write_inventory_for(tmp_path, emu, login_key, "causes", links=exit_links(["r1"], GI0))
    return emu, load_inventory(path)


@pytest.fixture
def estate(emulate: Emulate, login_key: LoginKey, tmp_path: Path) -> tuple[Emulator, Inventory]:
    return _estate(emulate, login_key, tmp_path)


def connect(inventory: Inventory) -> sessions.NetmikoSession:
    return sessions.connect(inventory, "r1", driver_for("cisco_ios"), TIMEOUT)


def no_wait(_seconds: float) -> bool:
    return False


def test_a_connection_reset_before_the_banner_is_dropped_not_refused(
    estate: tuple[Emulator, Inventory],
) -> None:
    emu, inventory = estate
    emu.device("r1").set_faults(drop_connections=1)

    with pytest.raises(NotReached) as caught:
        connect(inventory)
    assert caught.value.cause == "dropped"
    assert caught.value.reason.startswith("dropped: 127.0.0.1:"), caught.value.reason
    assert "during the SSH handshake" in caught.value.reason
    assert "authentication" not in caught.value.reason


def test_no_banner_is_a_time_out_of_the_handshake(estate: tuple[Emulator, Inventory]) -> None:
    """A server that never sends its banner: paramiko either says `No existing session` (its
    key exchange did not end in time) or times the banner out itself, whichever of its two
    2-second clocks runs out first; both are the same time-out, never an authentication."""
    emu, inventory = estate
    emu.device("r1").set_faults(silent_connections=1)

    with pytest.raises(NotReached) as caught:
        connect(inventory)
    assert caught.value.cause == "time-out", caught.value.reason
    where = re.escape(f"127.0.0.1:{emu.ports['r1']}")
    assert re.fullmatch(
        rf"time-out: (the SSH handshake with {where} did not finish|no SSH banner from {where})"
        r" within 2 s",
        caught.value.reason,
    ), caught.value.reason


def test_nothing_listening_is_refused(estate: tuple[Emulator, Inventory]) -> None:
    _emu, inventory = estate
    with socket.socket() as probe:  # a port the OS gives, then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    device = inventory.devices["r1"]
    closed = inventory.model_copy(
        update={"devices": {"r1": device.model_copy(update={"port": port})}}
    )

    with pytest.raises(NotReached) as caught:
        connect(closed)
    assert caught.value.cause == "refused"
    assert caught.value.reason == (
        f"refused: 127.0.0.1:{port} refused the TCP connection (nothing listening?)"
    )


def test_a_login_not_answered_in_time_is_a_time_out_not_an_authentication_failure(
    estate: tuple[Emulator, Inventory],
) -> None:
    emu, inventory = estate
    emu.device("r1").set_faults(slow_login_s=TIMEOUT + 1.5)

    with pytest.raises(NotReached) as caught:
        connect(inventory)
    assert caught.value.cause == "time-out"
    assert "did not answer the login within 2 s" in caught.value.reason
    assert "authentication failed" not in caught.value.reason


def test_logged_in_then_silent_is_no_answer_not_an_authentication_failure(
    estate: tuple[Emulator, Inventory],
) -> None:
    emu, inventory = estate
    emu.device("r1").set_faults(hang_after_login=True)

    with pytest.raises(NoAnswer) as caught:
        connect(inventory)
    assert not isinstance(caught.value, NotReached)  # not tried again: the SSH login worked
    assert caught.value.reason == "logged in, then no answer within 2 s"


def test_a_refused_authentication_is_named_and_not_tried_again(
    emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> None:
    emu, inventory = _estate(emulate, login_key, tmp_path, username="someone-else")
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return False

    with pytest.raises(DeviceError) as caught:
        admission.with_retries(lambda: connect(inventory), wait)
    assert not isinstance(caught.value, NotReached)
    assert caught.value.reason.startswith("authentication failed as ")
    assert waits == []  # never tried again
    assert emu.device("r1").logins == 0


def test_transient_failures_are_tried_again_until_the_login_succeeds(
    estate: tuple[Emulator, Inventory], tmp_path: Path
) -> None:
    emu, inventory = estate
    emu.device("r1").set_faults(drop_connections=2)
    rt = Runtime(inventory, tmp_path / "journal")
    waits: list[float] = []
    rt.interrupt.wait = lambda seconds: bool(waits.append(seconds))  # type: ignore[method-assign]

    session, state = login(rt, "r1")
    session.close()
    assert GI0 in state.interfaces
    assert len(waits) == 2  # two back-offs, the second about twice the first
    assert 0.5 * admission.FIRST_BACKOFF_S <= waits[0] <= 1.5 * admission.FIRST_BACKOFF_S
    assert emu.device("r1").logins == 1


def test_a_device_still_failing_is_declared_unreachable_with_its_cause_and_attempts(
    estate: tuple[Emulator, Inventory],
) -> None:
    emu, inventory = estate
    emu.device("r1").set_faults(drop_connections=admission.CONNECT_ATTEMPTS)

    with pytest.raises(NotReached) as caught:
        admission.with_retries(lambda: connect(inventory), no_wait)
    assert caught.value.reason.endswith(f"({admission.CONNECT_ATTEMPTS} attempts)")
    assert caught.value.reason.startswith("dropped: ")
    assert emu.device("r1").faults.drop_connections == 0  # every attempt reached the device


def test_an_interrupt_during_the_back_off_stops_trying(
    estate: tuple[Emulator, Inventory],
) -> None:
    emu, inventory = estate
    emu.device("r1").set_faults(drop_connections=2)

    with pytest.raises(NotReached) as caught:
        admission.with_retries(lambda: connect(inventory), lambda _s: True)
    assert caught.value.reason.endswith("(1 attempt)")
    assert emu.device("r1").faults.drop_connections == 1  # not dialled again
