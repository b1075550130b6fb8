"""Opening a CLI session on a device: netmiko behind the narrow Session protocol.

Host keys are always verified against the inventory's known-hosts file; an unknown or changed
key refuses the connection. Secrets are read at connect time and never stored elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException
from paramiko.ssh_exception import SSHException

from isolement.drivers import Driver
from isolement.errors import DeviceError
from isolement.inventory import Inventory

# Seconds; a device that has not answered by then is reported, never waited on forever.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0


class NetmikoSession:
    def __init__(self, connection: Any):
        self._connection = connection

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        return str(
            self._connection.send_command(
                command, read_timeout=READ_TIMEOUT, cmd_verify=verify_echo
            )
        )

    def send_config(self, commands: Sequence[str]) -> str:
        return str(self._connection.send_config_set(list(commands), read_timeout=READ_TIMEOUT))

    def prompt(self) -> str:
        return str(self._connection.find_prompt())

    def close(self) -> None:
        # A polite logout waits for a prompt; a device whose path was just cut never sends one.
        self._connection.read_timeout_override = 2.0
        self._connection.disconnect()


def connect(inventory: Inventory, device: str, driver: Driver) -> NetmikoSession:
    spec = inventory.devices[device]
    credential = inventory.credentials[spec.credential]
    params: dict[str, Any] = {
        "device_type": driver.netmiko_device_type,
        "host": spec.host,
        "port": spec.port,
        "username": credential.username,
        "allow_agent": False,
        # Verify host keys against the inventory's file only: never the user's, never "accept".
        "ssh_strict": True,
        "system_host_keys": False,
        "alt_host_keys": True,
        "alt_key_file": str(inventory.known_hosts),
        "conn_timeout": CONNECT_TIMEOUT,
        "auth_timeout": CONNECT_TIMEOUT,
        "banner_timeout": CONNECT_TIMEOUT,
        "fast_cli": True,
    }
    if credential.key_file:
        params.update(use_keys=True, key_file=str(credential.key_file))
    else:
        params.update(use_keys=False, password=credential.password())
    try:
        return NetmikoSession(ConnectHandler(**params))
    except NetmikoAuthenticationException:
        raise DeviceError(device, f"authentication failed as {credential.username}") from None
    except NetmikoTimeoutException:
        raise DeviceError(device, f"no answer from {spec.host}:{spec.port}") from None
    except SSHException as exc:
        raise DeviceError(device, f"SSH refused: {exc}") from None
    except (OSError, ValueError) as exc:
        raise DeviceError(device, f"cannot connect to {spec.host}:{spec.port}: {exc}") from None
