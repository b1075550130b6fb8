"""The contract every driver is held to on its platform's emulator: a cut, read back, restored,
read back again, leaves the device exactly as it was.

Each emulated platform (lab/profiles/) is stood up from its profile's `sample()` device, on
127.0.0.1, and driven through isolement's own session (netmiko's driver for the platform,
unchanged, with host keys checked) and the platform's driver, for every cut method the driver
declares. The emulator's own state is read alongside, so a driver cannot pass by reading back
what it wished it had written. frr and linux have no emulator: the same round trip runs against
the real lab (tests/integration).
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from emulated import Emulate, LoginKey, write_inventory_for
from isolement.lab.emulator import Bubble, Emulator
from isolement.lab.profiles import PROFILES

from isolement.drivers import PLATFORMS, driver_for
from isolement.drivers.base import AllowTarget, CutTarget, Driver, Flow
from isolement.flows.transaction import transact
from isolement.model.change import ChangeSet
from isolement.model.errors import DeviceError, PlanRefused
from isolement.model.inventory import Inventory, load_inventory
from isolement.model.state import CutMethod, DeviceState
from isolement.transport.session import NetmikoSession, connect

EMULATED = sorted(platform for platform in PLATFORMS if platform in PROFILES)
# Platforms whose round trip runs on the real lab's FRR and nftables instead.
LAB_PROVEN = {"frr", "linux"}
DEVICE = "contract1"
CASES = [
    (platform, method)
    for platform in EMULATED
    for method in sorted(PLATFORMS[platform].facts.methods, key=str)
]


def test_every_platform_has_an_emulator_profile_or_runs_on_the_real_lab() -> None:
    assert set(PLATFORMS) == set(EMULATED) | LAB_PROVEN
    assert set(PROFILES) <= set(PLATFORMS), "an emulator profile without a driver"


class Bench:
    def __init__(self, emu: Emulator, inventory: Inventory, platform: str):
        self.emu = emu
        self.driver: Driver = driver_for(platform)
        self.session: NetmikoSession = connect(inventory, DEVICE, self.driver, 20.0)

    def read(self) -> DeviceState:
        return self.driver.read_state(self.session)

    def apply(self, change: ChangeSet) -> str:
        return transact(self.driver, self.session, DEVICE, change)


@pytest.fixture
def bench(
    request: pytest.FixtureRequest, emulate: Emulate, login_key: LoginKey, tmp_path: Path
) -> Iterator[Bench]:
    platform = request.param
    emu = emulate([PROFILES[platform].sample(DEVICE)])
    path = write_inventory_for(
        tmp_path,
        emu,
        login_key,
        f"contract-{platform}".replace("_", "-"),
        links={},
        platforms={DEVICE: platform},
    )
    b = Bench(emu, load_inventory(path), platform)
    try:
        yield b
    finally:
        b.session.close()


def _first_open(state: DeviceState, method: CutMethod) -> str:
    open_ = [name for name, up in state.interfaces.items() if up and not state.is_cut(name, method)]
    assert open_, "the sample device has no interface to cut"
    return open_[0]


@pytest.mark.parametrize(("bench", "method"), CASES, indirect=["bench"])
def test_cut_read_restore_read_leaves_the_device_as_it_was(bench: Bench, method: CutMethod) -> None:
    emulated = bench.emu.device(DEVICE)
    before = bench.read()
    snapshot_before = bench.driver.snapshot(bench.session)
    emulated_before = emulated.state()
    interface = _first_open(before, method)
    target = CutTarget("contract-link", interface, method)

    bench.apply(bench.driver.render_cut([target], before))
    cut = bench.read()

    assert cut.reached(interface, method, cut=True)
    # The device itself, not only the driver's reading of it.
    if method is CutMethod.SHUTDOWN:
        assert emulated.admin_up()[interface] is False
    else:
        assert interface in emulated.blocked_interfaces()
    others = {name: up for name, up in before.interfaces.items() if name != interface}
    assert {name: cut.interfaces[name] for name in others} == others

    bench.apply(bench.driver.render_restore([target], cut))
    after = bench.read()

    assert after.reached(interface, method, cut=False)
    assert after == before
    assert emulated.state() == emulated_before
    assert bench.driver.snapshot(bench.session) == snapshot_before


@pytest.mark.parametrize(("bench", "method"), CASES, indirect=["bench"])
def test_a_second_cut_finds_the_interface_cut(bench: Bench, method: CutMethod) -> None:
    before = bench.read()
    interface = _first_open(before, method)
    target = CutTarget("contract-link", interface, method)
    bench.apply(bench.driver.render_cut([target], before))

    again = bench.read()

    # What the planner relies on to send nothing the second time.
    assert again.is_cut(interface, method)
    assert again.reached(interface, method, cut=True)


@pytest.mark.parametrize("bench", EMULATED, indirect=True)
def test_the_session_has_the_privilege_to_change_the_configuration(bench: Bench) -> None:
    assert bench.driver.has_privilege(bench.session)


@pytest.mark.parametrize("bench", EMULATED, indirect=True)
def test_an_unknown_interface_is_refused_or_a_device_error_and_changes_nothing(
    bench: Bench,
) -> None:
    """Refused while rendering (the driver knows it cannot name it: nothing is sent), or sent
    and answered with an error the driver recognises; never taken for a cut."""
    emulated = bench.emu.device(DEVICE)
    before = emulated.state()
    driver = bench.driver
    target = CutTarget("contract-link", "nosuch99", driver.facts.preferred_method)
    state = bench.read()
    typed = len(emulated.history)

    with pytest.raises((DeviceError, PlanRefused)) as caught:
        bench.apply(driver.render_cut([target], state))

    if caught.type is PlanRefused:
        assert "nosuch99" in str(caught.value)
        assert len(emulated.history) == typed, "a refused cut sent something"
    else:
        assert "error" in str(caught.value)
    assert emulated.state() == before


# --- bubbles (#12 §2): chosen flows through a deny cut, on the platforms that hold one -------

BUBBLES = [platform for platform in EMULATED if PLATFORMS[platform].facts.can_allow]
PORTAL = IPv4Network("198.18.61.5/32")
LAB = IPv4Network("198.18.60.0/24")
FLOWS = (Flow("tcp", LAB, PORTAL, 443), Flow("icmp", LAB, PORTAL))


def test_the_firewalls_hold_bubbles_on_their_emulators() -> None:
    assert set(BUBBLES) == {"cisco_asa", "fortinet", "paloalto_panos"}


@pytest.mark.parametrize("bench", BUBBLES, indirect=True)
def test_a_bubble_through_a_cut_passes_its_flows_closes_with_the_cut_and_restores_exactly(
    bench: Bench,
) -> None:
    emulated = bench.emu.device(DEVICE)
    before = bench.read()
    snapshot_before = bench.driver.snapshot(bench.session)
    emulated_before = emulated.state()
    interface = _first_open(before, CutMethod.DENY)
    target = CutTarget("contract-link", interface, CutMethod.DENY)
    bubble = AllowTarget("contract-link", interface, "lab-results", FLOWS)
    bench.apply(bench.driver.render_cut([target], before))
    cut = bench.read()
    snapshot_cut = bench.driver.snapshot(bench.session)

    bench.apply(bench.driver.render_allow([bubble], cut))
    opened = bench.read()

    # Read back under its stage, the deny still in place beneath it: not a full cut.
    assert opened.allows[interface]["lab-results"]
    assert opened.is_cut(interface, CutMethod.DENY)
    assert not opened.reached(interface, CutMethod.DENY, cut=True)
    # The device's own policy: still blocked, but these flows, and only these, pass.
    assert interface in emulated.blocked_interfaces()
    assert set(emulated.bubbles()) == {
        Bubble(interface, "tcp", str(LAB), str(PORTAL), 443),
        Bubble(interface, "icmp", str(LAB), str(PORTAL)),
    }

    # Closing the stage is a cut of its link: the bubble goes, the cut stays as it was.
    bench.apply(bench.driver.render_cut([target], opened))
    assert bench.read() == cut
    assert emulated.bubbles() == ()
    assert bench.driver.snapshot(bench.session) == snapshot_cut

    # Opened again, then the full restore: the device exactly as before the cut.
    bench.apply(bench.driver.render_allow([bubble], cut))
    bench.apply(bench.driver.render_restore([target], bench.read()))
    assert bench.read() == before
    assert emulated.state() == emulated_before
    assert bench.driver.snapshot(bench.session) == snapshot_before


# --- persistence (#12 §3): what a restart of the device does to a cut --------------------------


@pytest.mark.parametrize(("bench", "method"), CASES, indirect=["bench"])
def test_a_cut_made_persistent_holds_across_a_restart(bench: Bench, method: CutMethod) -> None:
    emulated = bench.emu.device(DEVICE)
    before = bench.read()
    interface = _first_open(before, method)
    target = CutTarget("contract-link", interface, method)
    bench.apply(bench.driver.render_cut([target], before))
    if bench.driver.facts.persistence == "save":
        bench.driver.save(bench.session, DEVICE)

    emulated.restart()

    assert bench.read().is_cut(interface, method)


SAVED = [(p, m) for p, m in CASES if PLATFORMS[p].facts.persistence == "save"]


@pytest.mark.parametrize(("bench", "method"), SAVED, indirect=["bench"])
def test_a_cut_never_saved_is_gone_after_a_restart(bench: Bench, method: CutMethod) -> None:
    emulated = bench.emu.device(DEVICE)
    before = bench.read()
    interface = _first_open(before, method)
    bench.apply(bench.driver.render_cut([CutTarget("contract-link", interface, method)], before))

    emulated.restart()

    assert bench.read() == before
