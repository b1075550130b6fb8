"""What a device really is right now, as read from it: the observed state the planner works on.

Never cached between runs: every plan, cut, status and restore reads it again from the device.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class CutMethod(StrEnum):
    """How one endpoint of a link is cut."""

    SHUTDOWN = "shutdown"  # administratively shut the interface
    DENY = "deny"  # a drop rule / deny policy for traffic through the interface


class DeviceState(BaseModel):
    model_config = ConfigDict(frozen=True)

    # interface name -> administratively up
    interfaces: dict[str, bool]
    # interface -> device-side ids (rule handles, policy ids) of the deny rules isolement owns
    denies: dict[str, list[str]] = {}
    # interface -> reconnection stage -> ids of the allow rules ("bubble") opened through a cut
    allows: dict[str, dict[str, list[str]]] = {}
    # interface -> where the platform's rules for it live, or the name they know it by, on a
    # platform where that is not the interface itself (a FortiGate VDOM, a PAN-OS zone, an ASA
    # nameif). Read with the state, so cut commands can be rendered from it. Empty elsewhere.
    contexts: dict[str, str] = {}
    # What the device says about itself that changes how a cut holds: "managed_by" -> the
    # central manager ("Panorama", "FortiManager") when one manages it. Empty elsewhere.
    facts: dict[str, str] = {}
    # interface -> why isolement's deny rules for it are in place yet not in effect (a rule the
    # device evaluates first lets the traffic through): such a deny is no cut.
    shadowed: dict[str, str] = {}

    def is_cut(self, interface: str, method: CutMethod) -> bool:
        if method is CutMethod.SHUTDOWN:
            return not self.interfaces.get(interface, True)
        return bool(self.denies.get(interface)) and interface not in self.shadowed

    def reached(self, interface: str, method: CutMethod, *, cut: bool) -> bool:
        """In the state a cut (fully: no bubble open through it) or a restore wants."""
        if cut:
            return self.is_cut(interface, method) and not self.allows.get(interface)
        # Restored only once isolement's rules are gone, a shadowed (ineffective) deny included.
        holds = self.is_cut(interface, method) or bool(
            method is CutMethod.DENY and self.denies.get(interface)
        )
        return not holds and not self.allows.get(interface)

    def describe(self, interface: str) -> dict[str, object]:
        """The part of the state that matters for one endpoint, as journaled."""
        return {
            "admin_up": self.interfaces.get(interface),
            "deny_rules": self.denies.get(interface, []),
            "allow_rules": self.allows.get(interface, {}),
            **({"not_in_effect": self.shadowed[interface]} if interface in self.shadowed else {}),
        }
