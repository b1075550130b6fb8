"""A stateful SSH emulator of network devices, for tests, benchmarks and the lab, without hardware.

One process serves many emulated devices, each on its own port of 127.0.0.1 (chosen by the OS),
each with its own interfaces and state. What a device says and does is its platform's profile
(`lab/profiles/<platform>.py`, registered in `lab/profiles/__init__.py`): prompts, modes, the
configuration and show commands isolement's driver uses, commit where the platform has one,
its error answers. Each profile is good enough for netmiko's own driver for that platform to
log in and work unchanged. A device's model (spec, state, faults) is lab/device.py, which the
profiles build on; this module, which builds on the profiles (no import goes back), serves them:

- public-key login against one authorized key (and a password, when one is given); with
  `forwarding`, each device is also a jump host (`direct-tcpip`, to 127.0.0.0/8 or the lab's
  range only); host keys generated at start (Ed25519), shared or one per device, with
  `write_known_hosts` producing the `[127.0.0.1]:PORT` lines that paramiko and netmiko look up
  for a port other than 22;
- a terminal: typed characters echoed back, line editing, Ctrl-Z and Ctrl-C, typed-ahead lines
  echoed after the prompt that follows the previous answer, as a vty does; `exit` ending the
  session closes the connection at once;
- an optional latency per command, and one at login (before the first prompt), to behave like
  a slow device;
- faults, set per device while running (`EmulatedDevice.set_faults`, see `Faults`): the
  connection dropped after the Nth configuration line, a session that logs in then never
  answers, a command refused as the platform refuses an unknown one;
- a data plane hook (`DataPlane`): in the lab, a device's state changes take its namespace's
  real links down and up, and load its deny rules into nftables, so probes see real packets.

Nothing here listens anywhere but 127.0.0.1, or a lab address inside a lab namespace. Read a
device's state from Python with `Emulator.device(name)`.
"""

from __future__ import annotations

import codecs
import contextlib
import hmac
import io
import ipaddress
import logging
import os
import select
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

# The only address the emulator binds outside the lab: it must never be reachable from elsewhere.
from .device import (
    Bubble,  # noqa: F401 - the tests name it here
    Cli,
    DataPlane,
    DeviceSpec,
    Echoes,
    EmulatedDevice,
    Faults,
    HistoryEntry,
    Interface,
    InterfaceSpec,
    Pinger,
    Reply,
)
from .profiles import PROFILES

LISTEN_HOST = "127.0.0.1"
# The lab's range: a lab node binds its management address, inside its own namespace.
LAB_RANGE = ipaddress.ip_network("198.18.0.0/15")
# paramiko's server-side transports log here; a connection reset around `exit` is routine, so
# nothing is printed unless the application configures logging.
LOG_CHANNEL = "isolement.lab.emulator.ssh"
logging.getLogger("isolement.lab.emulator").addHandler(logging.NullHandler())
# Seconds a client has to authenticate and open its shell before the connection is dropped.
LOGIN_TIMEOUT = 30.0

CRLF = "\r\n"


# --- keys ------------------------------------------------------------------------------------


def generate_key() -> paramiko.PKey:
    """A new Ed25519 key pair, held in memory."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return paramiko.Ed25519Key(file_obj=io.StringIO(pem.decode("ascii")))


def generate_login_key(private_key_file: Path) -> paramiko.PKey:
    """Write a new Ed25519 private key (OpenSSH format, mode 0600) for a client to log in with,
    and return the key: pass it as the emulator's `authorized_key`."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    private_key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file already existed
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return paramiko.Ed25519Key(filename=str(private_key_file))


def known_hosts_line(port: int, key: paramiko.PKey) -> str:
    """One known_hosts line for 127.0.0.1:port, in the `[host]:port` form paramiko looks up for
    any port other than 22."""
    host = LISTEN_HOST if port == 22 else f"[{LISTEN_HOST}]:{port}"
    return f"{host} {key.get_name()} {key.get_base64()}"


def write_known_hosts(path: Path, entries: Iterable[tuple[int, paramiko.PKey]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(known_hosts_line(port, key) + "\n" for port, key in entries))
    return path


def inventory_for(
    name: str,
    ports: Mapping[str, int],
    *,
    username: str,
    key_file: str,
    links: Mapping[str, object],
    sites: Mapping[str, str] | None = None,
    platforms: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """An isolement inventory (as YAML data) for emulated devices on 127.0.0.1.

    `sites` maps device -> site (one site, `dc`, when left out); `platforms` maps device ->
    platform (`cisco_ios` when left out); the host keys are expected in `known_hosts` beside
    the inventory, as `Emulator.write_known_hosts` writes them.
    """
    site_of = dict(sites) if sites else {device: "dc" for device in ports}
    return {
        "name": name,
        "known_hosts": "known_hosts",
        "credentials": {"ops": {"username": username, "key_file": key_file}},
        "sites": {site: {} for site in sorted(set(site_of.values()))},
        "devices": {
            device: {
                "site": site_of[device],
                "role": "router",
                "platform": (platforms or {}).get(device, "cisco_ios"),
                "host": "127.0.0.1",
                "port": port,
                "credential": "ops",
            }
            for device, port in ports.items()
        },
        "links": dict(links),
    }


def exit_links(devices: Iterable[str], interface: str) -> dict[str, object]:
    """One internet exit per device, on the given interface: `inet-<device>`."""
    return {
        f"inet-{device}": {
            "kind": "internet",
            "endpoints": [{"device": device, "interface": interface}],
        }
        for device in devices
    }


def profile_for(platform: str) -> type[EmulatedDevice]:
    """The device class of a platform's profile; ValueError names the known ones."""
    try:
        return PROFILES[platform]
    except KeyError:
        raise ValueError(
            f"no emulator profile for platform {platform!r}; known: {', '.join(sorted(PROFILES))}"
        ) from None


# --- SSH -------------------------------------------------------------------------------------


class _SshServer(paramiko.ServerInterface):
    """One connection's SSH policy: public key only, a PTY and a shell, nothing else."""

    def __init__(
        self,
        authorized_key: paramiko.PKey,
        username: str | None,
        password: str | None = None,
        forwarding: bool = False,
        login_delay: Callable[[], float] = lambda: 0.0,
    ):
        self._authorized = authorized_key.asbytes()
        self._login_delay = login_delay
        self._username = username
        self._password = password
        self._forwarding = forwarding
        self.shell_requested = threading.Event()
        # Channel id -> (address, port) of each `direct-tcpip` channel opened (a jump host).
        self.forwards: dict[int, tuple[str, int]] = {}

    def check_channel_direct_tcpip_request(
        self, chanid: int, origin: tuple[str, int], destination: tuple[str, int]
    ) -> int:
        """As a jump host (`forwarding`): to 127.0.0.0/8 or the lab's range only, never
        anywhere else."""
        host, port = destination
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        if not self._forwarding or not (address.is_loopback or address in LAB_RANGE):
            return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        self.forwards[chanid] = (str(address), port)
        return OPEN_SUCCEEDED

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,password" if self._password is not None else "publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        time.sleep(self._login_delay())
        if self._password is None:
            return AUTH_FAILED
        if self._username is not None and username != self._username:
            return AUTH_FAILED
        if hmac.compare_digest(password.encode(), self._password.encode()):
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        time.sleep(self._login_delay())
        if self._username is not None and username != self._username:
            return AUTH_FAILED
        if hmac.compare_digest(key.asbytes(), self._authorized):
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(
        self,
        channel: paramiko.Channel,
        term: bytes,
        width: int,
        height: int,
        pixelwidth: int,
        pixelheight: int,
        modes: bytes,
    ) -> bool:
        return True

    def check_channel_window_change_request(
        self, channel: paramiko.Channel, width: int, height: int, pixelwidth: int, pixelheight: int
    ) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell_requested.set()
        return True


_SSH_ERRORS = (paramiko.SSHException, EOFError, OSError)
# Seconds between checks while a client logs in, and in the accept loop: how fast `stop` is.
_POLL_S = 0.1


class Emulator:
    """Many emulated devices in this process, each listening on its own 127.0.0.1 port (or, for
    a lab node inside its namespace, on its management address in the lab's range).

        emulator = Emulator([DeviceSpec("r1", ["GigabitEthernet0/0", "GigabitEthernet0/1"])], key)
        ports = emulator.start()          # {"r1": 40321}
        emulator.write_known_hosts(path)
        ...
        emulator.device("r1").admin_up()  # {"GigabitEthernet0/0": True, ...}
        emulator.stop()

    One thread accepts for every device; each connection gets a thread for its shell (plus
    paramiko's own transport thread). `latency` (seconds) is slept before answering each
    non-empty command line, `login_latency` once a session's shell is open, before its first
    prompt (a device's AAA and exec start); both may be changed while running.
    """

    def __init__(
        self,
        devices: Sequence[DeviceSpec],
        authorized_key: paramiko.PKey,
        *,
        username: str | None = None,
        host_key: paramiko.PKey | None = None,
        host_key_per_device: bool = False,
        latency: float = 0.0,
        login_latency: float = 0.0,
        listen: str = LISTEN_HOST,
        password: str | None = None,
        forwarding: bool = False,
    ):
        address = ipaddress.IPv4Address(listen)
        if not (address.is_loopback or address in LAB_RANGE):
            raise ValueError(f"the emulator listens on 127.0.0.0/8 or in {LAB_RANGE} only")
        self._listen = listen
        names = [d.name for d in devices]
        if len(set(names)) != len(names):
            raise ValueError("emulated device names must be unique")
        shared = host_key or generate_key()
        self._devices = {
            d.name: profile_for(d.platform)(
                d, d.host_key or (generate_key() if host_key_per_device else shared)
            )
            for d in devices
        }
        for device in self._devices.values():
            device.boot()
        self._authorized_key = authorized_key
        self._username = username
        # Password login too when set (the credential tests), besides the authorized key.
        self._password = password
        # Every device also a jump host (`direct-tcpip` to 127.0.0.0/8 or the lab's range).
        self._forwarding = forwarding
        self.latency = latency
        self.login_latency = login_latency
        self._lock = threading.Lock()
        self._listeners: dict[socket.socket, EmulatedDevice] = {}
        self._transports: set[paramiko.Transport] = set()
        self._threads: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._accept_thread: threading.Thread | None = None
        self._active = 0
        self.max_concurrent_sessions = 0

    # Lifecycle.

    def start(self) -> dict[str, int]:
        """Bind every device to a free port of 127.0.0.1 and start serving; name -> port."""
        if self._accept_thread is not None:
            raise RuntimeError("emulator already started")
        selector = selectors.DefaultSelector()
        try:
            for device in self._devices.values():
                listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self._listeners[listener] = device
                listener.bind((self._listen, device.port))
                listener.listen(128)
                listener.setblocking(False)
                device.port = listener.getsockname()[1]
                selector.register(listener, selectors.EVENT_READ, device)
        except OSError:
            selector.close()
            self._close_listeners()
            raise
        self._accept_thread = threading.Thread(
            target=self._accept_loop, args=(selector,), name="ios-emulator-accept", daemon=True
        )
        self._accept_thread.start()
        return self.ports

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, close every session, and wait for the threads to end."""
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        self._close_listeners()
        with self._lock:
            transports = list(self._transports)
        for transport in transports:
            transport.close()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # What tests and benchmarks read.

    @property
    def ports(self) -> dict[str, int]:
        return {name: device.port for name, device in self._devices.items()}

    @property
    def devices(self) -> dict[str, EmulatedDevice]:
        return dict(self._devices)

    def device(self, name: str) -> EmulatedDevice:
        return self._devices[name]

    @property
    def active_sessions(self) -> int:
        with self._lock:
            return self._active

    def reset_session_peak(self) -> int:
        """Return `max_concurrent_sessions` and start counting again from the sessions open now."""
        with self._lock:
            peak, self.max_concurrent_sessions = self.max_concurrent_sessions, self._active
            return peak

    def known_hosts_lines(self) -> list[str]:
        return [known_hosts_line(d.port, d.host_key) for d in self._devices.values()]

    def write_known_hosts(self, path: Path) -> Path:
        return write_known_hosts(path, ((d.port, d.host_key) for d in self._devices.values()))

    # Serving.

    def _close_listeners(self) -> None:
        for listener in list(self._listeners):
            listener.close()

    def _accept_loop(self, selector: selectors.BaseSelector) -> None:
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=_POLL_S):
                    listener = key.fileobj
                    assert isinstance(listener, socket.socket)
                    try:
                        conn, _peer = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        if self._stopping.is_set():
                            return
                        # Out of file descriptors, or the client gave up: keep serving the rest.
                        self._stopping.wait(_POLL_S)
                        continue
                    conn.setblocking(True)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    thread = threading.Thread(
                        target=self._serve,
                        args=(conn, key.data),
                        name=f"ios-emulator-{key.data.name}",
                        daemon=True,
                    )
                    with self._lock:
                        self._threads.add(thread)
                    thread.start()
        finally:
            selector.close()

    def _serve(self, conn: socket.socket, device: EmulatedDevice) -> None:
        fault = device._connection_fault()
        if fault is not None:
            self._refuse(conn, fault)
            return
        self._serve_ssh(conn, device)

    def _serve_ssh(self, conn: socket.socket, device: EmulatedDevice) -> None:
        transport = paramiko.Transport(conn)
        transport.set_log_channel(LOG_CHANNEL)
        with self._lock:
            self._transports.add(transport)
        channel: paramiko.Channel | None = None
        try:
            transport.add_server_key(device.host_key)
            server = _SshServer(
                self._authorized_key,
                self._username,
                self._password,
                self._forwarding,
                lambda: device.faults.slow_login_s,
            )
            negotiated = threading.Event()
            try:
                transport.start_server(negotiated, server=server)
            except _SSH_ERRORS:
                return
            # Every wait is short, so `stop` never waits on a client that is slow to log in.
            deadline = time.monotonic() + LOGIN_TIMEOUT
            if not self._wait(negotiated, deadline) or not transport.is_active():
                return
            while channel is None:
                if self._stopping.is_set() or time.monotonic() >= deadline:
                    return
                if not transport.is_active():
                    return
                channel = transport.accept(_POLL_S)
            if channel.get_id() in server.forwards:
                self._jump(transport, server, channel)
                return
            if not self._wait(server.shell_requested, deadline):
                return
            try:
                self._session(channel, device)
            except _Dropped:
                # Abruptly: no channel close, no SSH disconnect; closing with a zero linger
                # time sends the client a TCP reset.
                channel = None
                with contextlib.suppress(OSError):
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            if channel is not None:
                with contextlib.suppress(*_SSH_ERRORS):
                    channel.close()
            transport.close()
            with self._lock:
                self._transports.discard(transport)
                self._threads.discard(threading.current_thread())

    def _refuse(self, conn: socket.socket, fault: str) -> None:
        """The `drop_connections` and `silent_connections` faults: a TCP reset at once, or no
        banner until the client leaves (or the emulator stops)."""
        try:
            if fault == "silent":
                conn.settimeout(_POLL_S)
                while not self._stopping.is_set():
                    try:
                        if not conn.recv(4096):
                            break
                    except TimeoutError:
                        continue
            else:
                # A zero linger time: closing sends the client a TCP reset.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass  # the client went away first
        finally:
            conn.close()
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _jump(
        self, transport: paramiko.Transport, server: _SshServer, first: paramiko.Channel
    ) -> None:
        """A jump host's connection: each `direct-tcpip` channel relayed to its destination,
        until the client or a stop ends it."""
        relays = []
        channel: paramiko.Channel | None = first
        while not self._stopping.is_set() and transport.is_active():
            if channel is not None:
                destination = server.forwards.get(channel.get_id())
                if destination is None:
                    channel.close()  # a shell on a jump connection: not served
                else:
                    relay = threading.Thread(
                        target=self._relay, args=(channel, destination), daemon=True
                    )
                    relay.start()
                    relays.append(relay)
            channel = transport.accept(_POLL_S)
        for relay in relays:
            relay.join(1.0)

    def _relay(self, channel: paramiko.Channel, destination: tuple[str, int]) -> None:
        try:
            target = socket.create_connection(destination, timeout=LOGIN_TIMEOUT)
        except OSError:
            channel.close()
            return
        try:
            while not self._stopping.is_set():
                ready, _, _ = select.select([channel.fileno(), target.fileno()], [], [], _POLL_S)
                if channel.fileno() in ready:
                    data = channel.recv(32768)
                    if not data:
                        return
                    target.sendall(data)
                if target.fileno() in ready:
                    data = target.recv(32768)
                    if not data:
                        return
                    channel.sendall(data)
        except _SSH_ERRORS:
            return
        finally:
            target.close()
            # Closing sends a message: the client may already be gone (EOFError).
            with contextlib.suppress(*_SSH_ERRORS):
                channel.close()

    def _wait(self, event: threading.Event, deadline: float) -> bool:
        """Wait for `event` (True), in short steps so that a stop or the deadline ends the wait
        (False)."""
        while not event.wait(_POLL_S):
            if self._stopping.is_set() or time.monotonic() >= deadline:
                return False
        return not self._stopping.is_set()

    def _session(self, channel: paramiko.Channel, device: EmulatedDevice) -> None:
        device._session_opened()
        with self._lock:
            self._active += 1
            self.max_concurrent_sessions = max(self.max_concurrent_sessions, self._active)
        try:
            delay = self.login_latency if device.login_latency is None else device.login_latency
            if delay > 0:
                self._stopping.wait(delay)  # a stop does not wait for it
            if device.faults.hang_after_login:
                self._hang(channel, device)
            else:
                _Terminal(channel, device, lambda: self._latency_of(device)).run()
        except _SSH_ERRORS:
            pass  # the client went away
        finally:
            device._session_closed()
            with self._lock:
                self._active -= 1

    def _hang(self, channel: paramiko.Channel, device: EmulatedDevice) -> None:
        """The `hang_after_login` fault: the prompt, then silence until the client leaves."""
        channel.sendall((CRLF + device.cli().prompt()).encode("utf-8"))
        channel.settimeout(_POLL_S)
        while not self._stopping.is_set():
            try:
                if not channel.recv(4096):
                    return
            except TimeoutError:
                continue

    def _latency_of(self, device: EmulatedDevice) -> float:
        return self.latency if device.latency is None else device.latency


def _echoes(cli: Cli) -> bool:
    """Whether the CLI echoes what is typed now: a profile's CLI says `echo = False` while it
    reads a secret (IOS's `enable` password)."""
    return bool(getattr(cli, "echo", True))


class _Dropped(Exception):
    """The `drop_after_config_lines` fault: the connection is to be dropped at once."""


class _Terminal:
    """The line discipline of a vty: echo as typed, line editing, one line executed at a time.

    Lines typed ahead while a command runs are echoed once the prompt after it is printed, as
    IOS does."""

    def __init__(
        self, channel: paramiko.Channel, device: EmulatedDevice, latency: Callable[[], float]
    ):
        self._channel = channel
        self._device = device
        self._cli = device.cli()
        self._latency = latency
        self._out: list[str] = []
        self._config_lines = 0  # non-empty lines typed in configuration mode, this session

    def _flush(self) -> None:
        if self._out:
            self._channel.sendall("".join(self._out).encode("utf-8"))
            self._out.clear()

    def run(self) -> None:
        cli = self._cli
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        line: list[str] = []
        after_cr = False
        self._out.append(CRLF + cli.prompt())
        self._flush()
        while not cli.closed:
            data = self._channel.recv(4096)
            if not data:
                return
            for char in decoder.decode(data):
                if char == "\n" and after_cr:  # CR LF is one Enter
                    after_cr = False
                    continue
                after_cr = char == "\r"
                if char in "\r\n":
                    self._out.append(CRLF)
                    self._enter("".join(line))
                    line.clear()
                    if cli.closed:
                        break
                elif char in "\x7f\x08":
                    if line:
                        line.pop()
                        if _echoes(cli):
                            self._out.append("\b \b")
                elif char == "\x1a":  # Ctrl-Z: end of configuration
                    self._out.append("^Z" + CRLF)
                    cli.ctrl_z()
                    line.clear()
                    self._out.append(cli.prompt())
                elif char == "\x03":  # Ctrl-C: the line is dropped
                    self._out.append("^C" + CRLF + cli.prompt())
                    line.clear()
                elif char >= " ":
                    line.append(char)
                    if _echoes(cli):
                        self._out.append(char)
            self._flush()
        self._flush()
        with contextlib.suppress(*_SSH_ERRORS):
            self._channel.send_exit_status(0)

    def _enter(self, line: str) -> None:
        cli = self._cli
        if line.strip():
            delay = self._latency() + self._device.faults.delay(line)
            if delay > 0:
                self._flush()  # the echo is immediate; the answer is what is slow
                time.sleep(delay)
        configuring = cli.configuring and bool(line.strip())
        if not line.strip():
            answer: list[str] = []
        else:
            if _echoes(cli):  # a secret typed at a password prompt is not kept either
                self._device._record(cli.prompt(), line)
            answer = cli.invalid(line) if self._device.faults.refuses(line) else cli.execute(line)
        if configuring:
            self._config_lines += 1
            limit = self._device.faults.drop_after_config_lines
            if limit is not None and self._config_lines >= limit:
                if self._device.faults.drop_once:
                    self._device.set_faults(drop_after_config_lines=None, drop_once=False)
                self._flush()  # what was typed was echoed; the answer never comes
                raise _Dropped
        self._out.extend(text + CRLF for text in answer)
        if not cli.closed:
            self._out.append(cli.prompt())


__all__ = [
    "LISTEN_HOST",
    "Cli",
    "DataPlane",
    "DeviceSpec",
    "Echoes",
    "EmulatedDevice",
    "Emulator",
    "Faults",
    "HistoryEntry",
    "Interface",
    "InterfaceSpec",
    "Pinger",
    "Reply",
    "generate_key",
    "generate_login_key",
    "known_hosts_line",
    "write_known_hosts",
]
