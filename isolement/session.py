"""Opening a CLI session on a device: netmiko behind the narrow Session protocol.

Host keys are always verified against the inventory's known-hosts file; an unknown or changed
key refuses the connection. Secrets are read at connect time and never stored elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)
from paramiko.ssh_exception import BadHostKeyException, SSHException

from isolement.drivers import Driver
from isolement.errors import DeviceError
from isolement.inventory import Inventory

# Seconds; a device that has not answered by then is reported, never waited on forever.
CONNECT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 30.0


class NetmikoSession:
    def __init__(self, device: str, connection: Any, timeout: float):
        self._device = device
        self._connection = connection
        self._timeout = timeout

    @contextmanager
    def _talking(self) -> Iterator[None]:
        """A hung or dropped session becomes a DeviceError: reported, and retried."""
        try:
            yield
        except ReadTimeout:
            raise DeviceError(self._device, f"no answer within {self._timeout:g} s") from None
        except (OSError, EOFError, SSHException) as exc:
            raise DeviceError(
                self._device, f"connection lost: {exc or type(exc).__name__}"
            ) from None

    def send_command(self, command: str, *, verify_echo: bool = True) -> str:
        with self._talking():
            return str(
                self._connection.send_command(
                    command, read_timeout=self._timeout, cmd_verify=verify_echo
                )
            )

    def send_config(self, commands: Sequence[str]) -> str:
        with self._talking():
            return str(self._connection.send_config_set(list(commands), read_timeout=self._timeout))

    def prompt(self) -> str:
        with self._talking():
            return str(self._connection.find_prompt())

    def close(self) -> None:
        # A polite logout waits for a prompt; a device whose path was just cut never sends one.
        self._connection.read_timeout_override = 2.0
        self._connection.disconnect()


def connect(
    inventory: Inventory, device: str, driver: Driver, timeout: float = COMMAND_TIMEOUT
) -> NetmikoSession:
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
        "conn_timeout": min(CONNECT_TIMEOUT, timeout),
        "auth_timeout": min(CONNECT_TIMEOUT, timeout),
        "banner_timeout": min(CONNECT_TIMEOUT, timeout),
        # Bounds every read during login too (a device that prints a banner, then hangs).
        "read_timeout_override": timeout,
        "fast_cli": True,
    }
    if credential.key_file:
        params.update(use_keys=True, key_file=str(credential.key_file))
    else:
        params.update(use_keys=False, password=credential.password())
    try:
        return NetmikoSession(device, ConnectHandler(**params), timeout)
    except NetmikoAuthenticationException:
        raise DeviceError(device, f"authentication failed as {credential.username}") from None
    except NetmikoTimeoutException as exc:
        # netmiko reports every paramiko failure as a timeout; the real cause is in the context.
        cause = exc.__context__
        if isinstance(cause, BadHostKeyException):
            raise DeviceError(
                device,
                f"HOST KEY MISMATCH for {spec.host}: the device presented a key that is not the "
                f"one in {inventory.known_hosts} (device replaced, or someone in the middle); "
                "refusing to connect",
            ) from None
        if isinstance(cause, SSHException):
            raise DeviceError(device, f"SSH refused: {cause}") from None
        raise DeviceError(device, f"no answer from {spec.host}:{spec.port}") from None
    except SSHException as exc:
        raise DeviceError(device, f"SSH refused: {exc}") from None
    except ReadTimeout:
        raise DeviceError(device, f"logged in, then no answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:
        raise DeviceError(device, f"cannot connect to {spec.host}:{spec.port}: {exc}") from None
