"""Opening a CLI session on a device: netmiko behind the narrow Session protocol.

Host keys are always verified against the inventory's known-hosts file; an unknown or changed
key refuses the connection. Secrets are read at connect time and never stored elsewhere.

paramiko reads its whole known-hosts file on every connection, with a duplicate check quadratic
in the file's length (200 lines: ~13 ms per connection, 1000 lines: ~240 ms, all holding the
GIL). So the inventory's file is indexed once per process (again when its content changes),
and each connection is handed a file of its own holding only the lines for its host, which
paramiko then checks as strictly as ever: RejectPolicy, no system host keys, nothing else
trusted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import paramiko
from netmiko import ConnectHandler
from netmiko import log as netmiko_log
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)
from paramiko.hostkeys import InvalidHostKey
from paramiko.ssh_exception import BadHostKeyException, NoValidConnectionsError, SSHException

from isolement.drivers import Driver
from isolement.drivers.base import COMMIT_TIMEOUT_S
from isolement.model.errors import ConnectionLost, DeviceError, NoAnswer, NotReached
from isolement.model.inventory import Inventory, JumpHost
from isolement.transport import admission, credentials
from isolement.transport.credentials import Role
from isolement.transport.known_hosts import host_key_name, known_hosts

# Seconds; a device that has not answered by then is reported, never waited on forever.
CONNECT_TIMEOUT = 10.0
# Seconds between two looks of an idle session's transport thread at whether it was closed
# (paramiko's own: 0.1 s). See _quiet_when_idle.
IDLE_WAKE_S = 5.0


# --- sessions ---------------------------------------------------------------------------------


class NetmikoSession:
    def __init__(
        self,
        device: str,
        connection: Any,
        timeout: float,
        jump: paramiko.SSHClient | None = None,
    ):
        self._device = device
        self._connection = connection
        self._timeout = timeout
        self._jump = jump  # the session to the jump host this one goes through, if any
        # Every line written to the device from now on (the login is over: no secret is typed
        # after it), as netmiko writes it: the journal's record of what went over the wire,
        # netmiko's own `configure terminal`, `end` and answers to its questions included.
        self._typed: list[str] = []
        write = connection.write_channel

        def write_channel(out_data: str) -> None:
            self._typed += _typed_lines(out_data)
            write(out_data)

        connection.write_channel = write_channel

    @property
    def typed(self) -> list[str]:
        """The lines written to the device since login, in order (blank lines left out)."""
        return self._typed

    @contextmanager
    def _talking(self) -> Iterator[None]:
        """A hung or dropped session becomes a DeviceError: reported, and retried."""
        try:
            yield
        except ReadTimeout:
            # netmiko waits out its timeout on a connection the device has closed, then says
            # only that nothing came: tell a dropped connection from a silent device.
            if self._closed_by_device():
                raise ConnectionLost(
                    self._device,
                    "connection lost: the device closed the connection before answering",
                ) from None
            raise NoAnswer(self._device, f"no answer within {self._timeout:g} s") from None
        except (OSError, EOFError, SSHException) as exc:
            raise ConnectionLost(
                self._device, f"connection lost: {exc or type(exc).__name__}"
            ) from None

    def _closed_by_device(self) -> bool:
        channel: Any = getattr(self._connection, "remote_conn", None)
        try:
            transport = channel.get_transport()
            return bool(channel.closed or channel.eof_received or not transport.is_active())
        except Exception:  # noqa: BLE001 - only a better message is at stake
            return False

    def send_command(
        self,
        command: str,
        *,
        verify_echo: bool = True,
        expect: str | None = None,
        timeout: float | None = None,
    ) -> str:
        wait = max(self._timeout, timeout or 0.0)
        options: dict[str, Any] = {"read_timeout": wait, "cmd_verify": verify_echo}
        if expect is not None:
            options["expect_string"] = expect
        with self._talking():
            return str(self._connection.send_command(command, **options))

    def send_interrupted(self, command: str, *, after: float) -> str:
        """Type `command`, let it run `after` seconds, send Ctrl-C, read up to the prompt (a
        command that never ends by itself: FRR's vtysh `ping`)."""
        connection = self._connection
        with self._talking():
            prompt = str(connection.find_prompt())
            connection.write_channel(command + connection.RETURN)
            time.sleep(after)
            connection.write_channel("\x03")
            output = str(
                connection.read_until_pattern(pattern=re.escape(prompt), read_timeout=self._timeout)
            )
        # What came back: the echo, the command's lines, the prompt; the lines between are kept.
        lines = output.splitlines()
        if lines and command in lines[0]:
            lines = lines[1:]
        if lines and prompt in lines[-1]:
            lines = lines[:-1]
        return "\n".join(lines)

    def send_config(self, commands: Sequence[str]) -> str:
        with self._talking():
            return str(self._connection.send_config_set(list(commands), read_timeout=self._timeout))

    def commit(self, *, confirm_minutes: int | None = None) -> str:
        options: dict[str, Any] = {"read_timeout": max(self._timeout, COMMIT_TIMEOUT_S)}
        if confirm_minutes is not None:
            options.update(confirm=True, confirm_delay=confirm_minutes)
        with self._talking():
            try:
                return str(self._connection.commit(**options))
            except ValueError as exc:
                # netmiko's commit() raises ValueError with the device's answer when it fails.
                raise DeviceError(self._device, f"commit refused: {exc}") from None

    def prompt(self) -> str:
        with self._talking():
            try:
                return str(self._connection.find_prompt())
            except ValueError:
                # netmiko's find_prompt() gives up after its own series of waits.
                raise NoAnswer(self._device, "no prompt: the device did not answer") from None

    def close(self) -> None:
        connection = self._connection
        # A polite logout waits for a prompt; a device whose path was just cut never sends one.
        connection.read_timeout_override = 2.0
        # Every change leaves configuration mode before it returns (netmiko's send_config_set,
        # the drivers' own sequences), so the logout need not ask the device which mode it is
        # in: on PAN-OS netmiko asks by waiting out two seconds of silence, which held every
        # wave of a cut 2.2 s longer. The rest of netmiko's logout (FortiOS puts its console
        # paging back) is kept.
        connection.check_config_mode = lambda *args, **kwargs: False
        try:
            connection.disconnect()
        finally:
            if self._jump is not None:
                self._jump.close()


def _typed_lines(data: str) -> list[str]:
    """The lines of what netmiko writes: the prompt-finding returns dropped, Ctrl-C named."""
    lines = data.replace("\x03", "^C\n").replace("\r", "\n").split("\n")
    return [line for line in lines if line.strip()]


def _enable(device: str, connection: Any) -> None:
    """Enter the enable level with the credential's secret. netmiko does it by itself on an ASA
    only; IOS and the others log in unprivileged unless the account has `privilege 15`."""
    try:
        if connection.check_enable_mode():
            return
        connection.enable()
    except (ValueError, ReadTimeout):
        # netmiko's own message does not hold the secret, but says nothing useful either.
        with suppress(Exception):
            connection.disconnect()
        raise DeviceError(
            device,
            "logged in, but `enable` with the credential's secret did not reach privileged "
            "mode: wrong secret, or the account may not reach it",
        ) from None


def connect(inventory: Inventory, device: str, driver: Driver, timeout: float) -> NetmikoSession:
    spec = inventory.devices[device]
    credential = inventory.credentials[spec.credential]
    params: dict[str, Any] = {
        "device_type": driver.facts.netmiko_device_type,
        "host": spec.host,
        "port": spec.port,
        "username": credential.username,
        # The agent's keys only where the inventory says so: a run never tries keys it was not
        # told about.
        "allow_agent": credential.agent,
        # Verify host keys against the inventory's file only: never the user's, never "accept".
        "ssh_strict": True,
        "system_host_keys": False,
        "alt_host_keys": True,
        "conn_timeout": min(CONNECT_TIMEOUT, timeout),
        "auth_timeout": min(CONNECT_TIMEOUT, timeout),
        "banner_timeout": min(CONNECT_TIMEOUT, timeout),
        # Bounds every read during login too (a device that prints a banner, then hangs).
        "read_timeout_override": timeout,
        "fast_cli": True,
    }

    # Read once per run (pre-flight has read them already; a prompt is never asked twice).
    def secret_of(role: Role) -> str | None:
        return credentials.secret(inventory, spec.credential, role, device)

    if credential.key_file:
        params.update(use_keys=True, key_file=str(credential.key_file))
        passphrase = secret_of(Role.PASSPHRASE)
        if passphrase is not None:
            params["passphrase"] = passphrase
    else:
        params.update(use_keys=False)
        password = secret_of(Role.PASSWORD)
        if password is not None:
            params["password"] = password
    enable_secret = secret_of(Role.SECRET)
    if enable_secret is not None:
        params["secret"] = enable_secret
    jump = inventory.jump_for(device)
    bastion = None
    if jump is not None:
        bastion, params["sock"] = _through(inventory, device, jump, timeout)
    try:
        return _login(inventory, device, params, timeout, bastion)
    except BaseException:
        if bastion is not None:
            bastion.close()
        raise


def _through(
    inventory: Inventory, device: str, jump: JumpHost, timeout: float
) -> tuple[paramiko.SSHClient, paramiko.Channel]:
    """A session to the jump host, its key checked in the inventory's file as strictly as a
    device's, and a `direct-tcpip` channel through it to the device (as `ssh -J` opens)."""
    spec = inventory.devices[device]
    credential = inventory.credentials[jump.credential]
    wait = min(CONNECT_TIMEOUT, timeout)
    options: dict[str, Any] = {
        "username": credential.username,
        "allow_agent": credential.agent,
        "look_for_keys": False,
        "timeout": wait,
        "banner_timeout": wait,
        "auth_timeout": wait,
    }
    if credential.key_file:
        options["key_filename"] = str(credential.key_file)
        options["passphrase"] = credentials.secret(
            inventory, jump.credential, Role.PASSPHRASE, device
        )
    else:
        options["password"] = credentials.secret(inventory, jump.credential, Role.PASSWORD, device)
    where = f"jump host {jump.host} port {jump.port}"
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        with known_hosts.subset(inventory.known_hosts, jump.host, jump.port) as host_keys:
            client.load_host_keys(str(host_keys))
        with admission.handshake():
            client.connect(jump.host, jump.port, **options)
        _quiet_when_idle(client)
        transport = client.get_transport()
        assert transport is not None
        channel = transport.open_channel(
            "direct-tcpip", (spec.host, spec.port), ("127.0.0.1", 0), timeout=wait
        )
        return client, channel
    except BaseException as exc:
        client.close()
        if isinstance(exc, BadHostKeyException):
            raise DeviceError(
                device, _mismatch(inventory, jump.host, jump.port, exc, "the jump host")
            ) from None
        if isinstance(exc, paramiko.AuthenticationException):
            raise DeviceError(
                device, f"{where}: authentication failed as {credential.username}"
            ) from None
        if isinstance(exc, paramiko.ChannelException):
            raise DeviceError(
                device,
                f"{where} refused to open a channel to {spec.host}:{spec.port} "
                f"({exc.text or exc.code})",
            ) from None
        if isinstance(exc, SSHException):
            raise DeviceError(
                device, f"{where}: " + _refused(inventory, jump.host, jump.port, exc, wait)
            ) from None
        if isinstance(exc, (OSError, EOFError)):
            raise DeviceError(device, f"cannot connect to {where}: {exc}") from None
        raise


def _login(
    inventory: Inventory,
    device: str,
    params: dict[str, Any],
    timeout: float,
    jump: paramiko.SSHClient | None,
) -> NetmikoSession:
    spec = inventory.devices[device]
    credential = inventory.credentials[spec.credential]
    try:
        # Only this host's lines of the inventory's known_hosts, read by paramiko as ever.
        with known_hosts.subset(inventory.known_hosts, spec.host, spec.port) as host_keys:
            connection = ConnectHandler(**params, alt_key_file=str(host_keys), auto_connect=False)
            _open(connection)
        if "secret" in params:
            _enable(device, connection)
        return NetmikoSession(device, connection, timeout, jump)
    except NetmikoAuthenticationException as exc:
        if "enable mode" in str(exc):
            # netmiko's ASA login step (`login` until a `#` prompt) waits a fixed 5 s: the SSH
            # login itself succeeded.
            raise NoAnswer(
                device,
                "logged in, but the device did not reach privileged mode in time (netmiko "
                "waits 5 s for the `#` prompt): too slow to answer, or the account cannot "
                "reach privileged mode",
            ) from None
        passing = _not_reached(device, spec.host, spec.port, exc.__context__, params)
        if passing is not None:
            raise passing from None
        raise DeviceError(device, f"authentication failed as {credential.username}") from None
    except NetmikoTimeoutException as exc:
        # netmiko reports every paramiko failure as a timeout; the real cause is in the context.
        cause = exc.__context__
        if isinstance(cause, BadHostKeyException):
            raise DeviceError(device, _mismatch(inventory, spec.host, spec.port, cause)) from None
        passing = _not_reached(device, spec.host, spec.port, cause, params)
        if passing is not None:
            raise passing from None
        if isinstance(cause, SSHException):
            refused = _refused(inventory, spec.host, spec.port, cause, timeout)
            raise DeviceError(device, refused) from None
        raise DeviceError(device, f"no answer from {spec.host}:{spec.port}") from None
    except BadHostKeyException as exc:
        raise DeviceError(device, _mismatch(inventory, spec.host, spec.port, exc)) from None
    except SSHException as exc:
        passing = _not_reached(device, spec.host, spec.port, exc, params)
        if passing is not None:
            raise passing from None
        refused = _refused(inventory, spec.host, spec.port, exc, timeout)
        raise DeviceError(device, refused) from None
    except InvalidHostKey as exc:
        raise DeviceError(
            device,
            f"unreadable host key for {host_key_name(spec.host, spec.port)} in "
            f"{inventory.known_hosts}: {exc.line!r}; refusing to connect",
        ) from None
    except ReadTimeout:
        raise NoAnswer(device, f"logged in, then no answer within {timeout:g} s") from None
    except (OSError, EOFError, ValueError) as exc:
        passing = _not_reached(device, spec.host, spec.port, exc, params)
        if passing is not None:
            raise passing from None
        raise DeviceError(device, f"cannot connect to {spec.host}:{spec.port}: {exc}") from None


def _open(connection: Any) -> None:
    """netmiko's own `_open`, with the SSH handshake admitted (a bounded number at once, see
    admission.py) and the session's idle wake-ups made rare once it is set up; the login's
    prompt reads (waiting on the device, not computing) hold no handshake slot."""
    try:
        connection._modify_connection_params()
        with admission.handshake():
            connection.establish_connection()
        _quiet_when_idle(connection.remote_conn_pre)
        connection._try_session_preparation()
    except Exception:
        # As netmiko's constructor does on a failed `_open`: its secrets filter on the module
        # logger would otherwise stay there, one per failed connection.
        with suppress(Exception):
            netmiko_log.removeFilter(connection._secrets_filter)
        raise


def _quiet_when_idle(client: paramiko.SSHClient | None) -> None:
    """paramiko's transport thread wakes every 0.1 s to look whether it was closed; a thousand
    sessions held open through a run (pre-flight keeps them for the change) then cost more system
    CPU than the work. Once the handshake is done, that look is made every IDLE_WAKE_S instead:
    what comes in still wakes it at once (the socket read returns), what is sent is written by
    the sending thread, and closing the session does not wait for it (paramiko's `close` marks
    the packetizer closed and returns)."""
    transport = client.get_transport() if client is not None else None
    if transport is not None and transport.is_active():
        with suppress(OSError):
            transport.sock.settimeout(IDLE_WAKE_S)


def _root(exc: BaseException | None) -> BaseException | None:
    """The failure under paramiko's wrappers: the first attempt of a connection to every address
    (NoValidConnectionsError), what broke the banner read."""
    if isinstance(exc, NoValidConnectionsError) and exc.errors:
        return next(iter(exc.errors.values()))
    if isinstance(exc, SSHException) and "protocol banner" in str(exc):
        return exc.__context__ or exc
    return exc


def _not_reached(
    device: str, host: str, port: int, exc: BaseException | None, params: dict[str, Any]
) -> NotReached | None:
    """The failure as a cause that may pass (time-out, refused, dropped), or None when it is
    another (authentication refused, host key, negotiation): those are not tried again."""
    where = f"{host}:{port}"
    root = _root(exc)
    text = str(exc or "")
    if isinstance(root, TimeoutError):  # socket.timeout too
        stage = "no SSH banner" if "protocol banner" in text else "no TCP connection"
        wait = params["banner_timeout" if "protocol banner" in text else "conn_timeout"]
        return NotReached(device, f"time-out: {stage} from {where} within {wait:g} s", "time-out")
    if isinstance(root, ConnectionRefusedError):
        return NotReached(
            device, f"refused: {where} refused the TCP connection (nothing listening?)", "refused"
        )
    if "No existing session" in text:
        # paramiko's client waits `conn_timeout` for the key exchange, then tries to log in on
        # a transport that has none: the handshake did not finish in time (a transport that
        # died before would have raised its own error).
        wait = params["conn_timeout"]
        return NotReached(
            device,
            f"time-out: the SSH handshake with {where} did not finish within {wait:g} s",
            "time-out",
        )
    if isinstance(exc, paramiko.AuthenticationException) and "timeout" in text.lower():
        wait = params["auth_timeout"]
        return NotReached(
            device,
            f"time-out: {where} did not answer the login within {wait:g} s (the key exchange "
            "was done; the credential was neither accepted nor refused)",
            "time-out",
        )
    dropped = isinstance(root, (ConnectionResetError, BrokenPipeError, EOFError))
    dropped = dropped or "protocol banner" in text
    dropped = dropped or (isinstance(exc, paramiko.AuthenticationException) and "EOF" in text)
    if dropped:
        what = f"{type(root).__name__}: {root}" if root is not exc else text
        return NotReached(
            device,
            f"dropped: {where} closed the connection during the SSH handshake ({what.strip()})",
            "dropped",
        )
    return None


def _mismatch(
    inventory: Inventory,
    host: str,
    port: int,
    exc: BadHostKeyException,
    what: str = "the device",
) -> str:
    from isolement.transport.hostkeys import shown

    name = host_key_name(host, port)
    return (
        f"HOST KEY MISMATCH for {host} port {port} ({name} in {inventory.known_hosts}): "
        f"expected {shown(exc.expected_key)}, {what} presented {shown(exc.key)} (device "
        "replaced or its key regenerated, or someone in the middle); refusing to connect. "
        "Check the presented fingerprint on its console; if it is its own, run "
        f"`isolement hostkeys collect --replace {name}`"
    )


def _refused(inventory: Inventory, host: str, port: int, exc: SSHException, timeout: float) -> str:
    """paramiko's refusal, and for a host not in the file what it presents and what to do."""
    if "not found in known_hosts" not in str(exc):
        return f"SSH refused: {exc}"
    from isolement.transport.hostkeys import fetch, shown

    name = host_key_name(host, port)
    try:
        # Only to say which key it is: nothing is logged in to, nothing trusted.
        presented = f"it presents {shown(fetch(host, port, timeout))}"
    except (OSError, SSHException, EOFError) as error:
        presented = f"its key could not be read again ({error or type(error).__name__})"
    return (
        f"SSH refused: host key of {host} port {port} ({name}) not found in known_hosts file "
        f"{inventory.known_hosts}; {presented}; refusing to connect. In peacetime, review and "
        "record the keys with `isolement hostkeys collect`"
    )
