"""Odd input (#10 item 11): each case is refused fast, on one line, with no traceback and the
exit code the CLI's docstring gives, through the real entry point, and nothing is sent: every
device of the inventory points at a TCP listener on 127.0.0.1 that counts the connections it
accepts (test_cli_bad_input.Listener), so no session was even opened.

Exit codes: 2 for bad input refused before anything was sent (a file, a key, an option), 5 when
the journal cannot be written (the state directory), as `isolement.cli.main` documents.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import InventoryWriter, base_inventory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_cli_bad_input import Listener, run

from isolement.journal.store import Journal
from isolement.model import yamlfile
from isolement.model.errors import InputError
from isolement.model.yamlfile import DEFAULT_MAX_MIB, MAX_DEPTH, MAX_MIB_ENV

EXIT_INPUT, EXIT_JOURNAL = 2, 5
REPO = Path(__file__).resolve().parents[2]
# Every refusal here is met before parsing a big file or opening a session: well under this.
FAST_S = 3.0


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv("ISOLEMENT_STATE_DIR", str(directory))
    monkeypatch.setenv("ISOLEMENT_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.delenv(MAX_MIB_ENV, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no one at the terminal
    return directory


def inventory_at(listener: Listener) -> dict[str, Any]:
    return base_inventory(host="127.0.0.1", port=listener.port)


def timed(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code, out, err = run(capsys, *argv)
    return code, out, err, time.monotonic() - started


def assert_refused(
    code: int,
    err: str,
    listener: Listener,
    state_dir: Path,
    *named: str,
    exit_code: int = EXIT_INPUT,
    lines: int = 1,
) -> None:
    assert code == exit_code, err
    assert err.startswith("isolement"), err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == lines, err
    for text in named:
        assert text in err, f"{text!r} not in {err!r}"
    assert listener.connections() == 0
    # Nothing journaled either (a cut opens its journal, empty, before it checks credentials).
    assert not state_dir.exists() or all(f.stat().st_size == 0 for f in state_dir.rglob("*.jsonl"))


def cut(path: Path, *extra: str) -> list[str]:
    return ["--inventory", str(path), *extra, "cut", "cut-intersite", "--reason", "t", "--yes"]


# --- 1. deeply nested YAML ------------------------------------------------------------------


@pytest.mark.parametrize(
    "nesting",
    [
        pytest.param("[" * 10_000, id="10000-flow-brackets"),  # met by libyaml's own limit
        pytest.param("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), id="closed-flow"),
        pytest.param(
            "\n" + "".join("  " * (i + 1) + "-\n" for i in range(MAX_DEPTH + 5)), id="block"
        ),
    ],
)
def test_deeply_nested_yaml_is_refused_with_its_line(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
    nesting: str,
) -> None:
    text = yaml.safe_dump(inventory_at(listener), sort_keys=False)
    path = write_inventory(text=text.replace("links:", f"links: {nesting}\nlater:", 1))
    line = text.split("\n").index("links:") + 1
    code, _, err, took = timed(capsys, *cut(path))
    assert_refused(code, err, listener, state_dir, str(path), "nested too deeply", "line ")
    assert took < FAST_S
    where = int(err.split("line ", 1)[1].split(",", 1)[0])
    assert line <= where <= line + MAX_DEPTH + 5  # the line the nesting goes too deep on


def test_deep_nesting_in_a_fresh_process_prints_no_traceback(
    tmp_path: Path, write_inventory: InventoryWriter
) -> None:
    """The installed entry point, in its own process (its own stack and recursion limit)."""
    path = write_inventory(text="name: deep\nlinks: " + "[" * 10_000 + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "isolement", "--inventory", str(path), "validate"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "ISOLEMENT_STATE_DIR": str(tmp_path / "state")},
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_INPUT, done.stderr
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    assert done.stderr.startswith(f"isolement: error: {path}: nested too deeply")
    assert "line 2" in done.stderr


@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_both_loaders_refuse_deep_nesting_and_duplicate_keys(
    write_inventory: InventoryWriter, monkeypatch: pytest.MonkeyPatch, loader: str
) -> None:
    """PyYAML built without libyaml gets the pure-Python parser under the same checks."""
    if loader == "libyaml" and not hasattr(yamlfile, "_LibyamlLoader"):
        pytest.skip("this PyYAML has no libyaml")
    chosen = yamlfile._PythonLoader if loader == "python" else yamlfile._LibyamlLoader
    monkeypatch.setattr(yamlfile, "_Loader", chosen)
    deep = write_inventory(text="a:\n  b: " + "[" * 2000 + "\n")
    with pytest.raises(
        InputError, match=r"nested too deeply \(more than 64 levels\) at line 2, column"
    ):
        yamlfile.read_yaml(deep)
    twice = write_inventory(text="a: 1\nb: 2\na: 3\n")
    with pytest.raises(InputError, match=r"duplicate key 'a' \(line 3, column 1\)"):
        yamlfile.read_yaml(twice)
    good = write_inventory(text="a: [1, {b: c}]\n")
    assert yamlfile.read_yaml(good) == {"a": [1, {"b": "c"}]}


def test_nesting_an_inventory_needs_is_accepted(write_inventory: InventoryWriter) -> None:
    """The control: a real inventory nests about six levels; sixty are still read."""
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH - 2):
        deep = [deep]
    path = write_inventory(text=yaml.safe_dump({"x": deep}))
    assert yamlfile.read_yaml(path)["x"] == deep


# --- 2. a state directory that cannot be written -----------------------------------------------


def test_state_directory_under_a_file_is_refused_before_any_session(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real failure for root too: no one can make a directory under a plain file."""
    (tmp_path / "a-file").write_text("")
    state = tmp_path / "a-file" / "state"
    monkeypatch.setenv("ISOLEMENT_STATE_DIR", str(state))
    path = write_inventory(inventory_at(listener))
    code, _, err, took = timed(capsys, *cut(path))
    assert_refused(
        code, err, listener, state, "could not be written", str(state), "Not a directory",
        exit_code=EXIT_JOURNAL,
    )  # fmt: skip
    assert took < FAST_S


@contextmanager
def read_only_tmpfs(where: Path) -> Iterator[Path]:
    """A tmpfs mounted read-only here, removed afterwards: EROFS stops root as well."""
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], check=True)
    try:
        (where / "state").mkdir(mode=0o700)  # the directory exists; its files cannot be made
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where / "state"
    finally:
        subprocess.run(["umount", str(where)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_read_only_state_directory_is_refused_before_any_session(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_inventory(inventory_at(listener))
    with read_only_tmpfs(tmp_path / "ro") as state:
        monkeypatch.setenv("ISOLEMENT_STATE_DIR", str(state))
        code, _, err, took = timed(capsys, *cut(path))
        assert_refused(
            code, err, listener, state, "could not be written", "Read-only file system",
            "use a writable state directory", exit_code=EXIT_JOURNAL,
        )  # fmt: skip
    assert took < FAST_S


def _immutable(path: Path) -> bool:
    """Set the immutable attribute (chattr +i): False where the filesystem or the user cannot."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    return done.returncode == 0


def test_immutable_state_directory_is_refused_before_any_session(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    """An immutable journal directory (chattr +i stops root too): nothing can be created in it."""
    directory = state_dir / "unit-test"
    directory.mkdir(parents=True, mode=0o700)
    if not _immutable(directory):
        pytest.skip("chattr +i is not available here")
    path = write_inventory(inventory_at(listener))
    try:
        code, _, err, took = timed(capsys, *cut(path))
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)
    assert_refused(
        code, err, listener, state_dir, "could not be written", str(directory),
        "Operation not permitted", "immutable", exit_code=EXIT_JOURNAL,
    )  # fmt: skip
    assert took < FAST_S


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root (see the tmpfs test)")
def test_state_directory_without_write_permission_is_refused_before_any_session(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o555)
    monkeypatch.setenv("ISOLEMENT_STATE_DIR", str(state))
    path = write_inventory(inventory_at(listener))
    try:
        code, _, err, _ = timed(capsys, *cut(path))
    finally:
        state.chmod(0o700)
    assert_refused(
        code, err, listener, state, "could not be written", "Permission denied",
        exit_code=EXIT_JOURNAL,
    )  # fmt: skip


# --- 3. export --output onto a symbolic link ------------------------------------------------


@pytest.fixture
def journal_file(tmp_path: Path) -> Path:
    path = tmp_path / "evidence" / "journal.jsonl"
    with Journal(path) as journal:
        journal.record("test.event")
    return path


def export(inventory: Path, journal: Path, *extra: str) -> list[str]:
    return ["--inventory", str(inventory), "--journal", str(journal), "journal", "export", *extra]


def test_export_onto_a_symlink_is_refused_and_its_target_left_alone(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    journal_file: Path,
    tmp_path: Path,
    state_dir: Path,
) -> None:
    target = tmp_path / "precious"
    target.write_text("not to be overwritten\n")
    link = tmp_path / "report.md"
    link.symlink_to(target)
    path = write_inventory(inventory_at(listener))
    code, _, err, _ = timed(
        capsys, *export(path, journal_file, "--format", "md", "--output", str(link))
    )
    assert_refused(
        code, err, listener, state_dir, str(link), "symbolic link", "nothing was written"
    )
    assert target.read_text() == "not to be overwritten\n"
    assert link.is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_signature_onto_a_symlink_is_refused(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    journal_file: Path,
    tmp_path: Path,
    state_dir: Path,
) -> None:
    private, public = tmp_path / "sign.key", tmp_path / "sign.pub"
    assert (
        run(capsys, "journal", "keygen", "--private", str(private), "--public", str(public))[0] == 0
    )
    target = tmp_path / "precious"
    target.write_text("kept\n")
    (tmp_path / "report.md.sig").symlink_to(target)
    path = write_inventory(inventory_at(listener))
    output = tmp_path / "report.md"
    code, _, err, _ = timed(
        capsys,
        *export(
            path, journal_file, "--format", "md", "--output", str(output), "--sign", str(private)
        ),
    )
    assert_refused(code, err, listener, state_dir, "report.md.sig", "symbolic link")
    assert target.read_text() == "kept\n"


@pytest.mark.parametrize("special", ["directory", "/dev/null"])
def test_export_onto_something_not_a_plain_file_is_refused(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    journal_file: Path,
    tmp_path: Path,
    state_dir: Path,
    special: str,
) -> None:
    output = tmp_path if special == "directory" else Path(special)
    path = write_inventory(inventory_at(listener))
    code, _, err, _ = timed(capsys, *export(path, journal_file, "--output", str(output)))
    assert_refused(code, err, listener, state_dir, str(output), "not a plain file")


def test_export_into_a_place_that_cannot_be_written_is_one_line(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    journal_file: Path,
    tmp_path: Path,
    state_dir: Path,
) -> None:
    (tmp_path / "a-file").write_text("")
    output = tmp_path / "a-file" / "report.md"
    path = write_inventory(inventory_at(listener))
    code, _, err, _ = timed(capsys, *export(path, journal_file, "--output", str(output)))
    assert_refused(code, err, listener, state_dir, "the report could not be written", str(output))


def test_export_replaces_a_plain_file_atomically_and_owner_only(
    capsys: pytest.CaptureFixture[str],
    write_inventory: InventoryWriter,
    journal_file: Path,
    tmp_path: Path,
) -> None:
    """The control: an existing report is replaced by a new file (mode 0600 even if the old one
    was 0644), so a second name hard-linked to the old one keeps the old bytes."""
    output = tmp_path / "report.md"
    output.write_text("old report\n")
    output.chmod(0o644)
    other_name = tmp_path / "other-name"
    os.link(output, other_name)
    path = write_inventory()
    code, _, err = run(
        capsys, *export(path, journal_file, "--format", "md", "--output", str(output))
    )
    assert code == 0, err
    assert "incident report" in output.read_text()
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert other_name.read_text() == "old report\n"


# --- 4. a world-writable journal directory --------------------------------------------------
# Also in test_journal_directory.py (the journal's own check, and a cut on an emulated estate).


def test_world_writable_journal_directory_is_refused_before_any_session_and_left_alone(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    directory = state_dir / "unit-test"
    directory.mkdir(parents=True)
    directory.chmod(0o777)
    path = write_inventory(inventory_at(listener))
    code, _, err, _ = timed(capsys, *cut(path))
    assert_refused(
        code, err, listener, state_dir, "writable by every user", f"chmod 700 {directory}",
        exit_code=EXIT_JOURNAL,
    )  # fmt: skip
    assert stat.S_IMODE(directory.stat().st_mode) == 0o777  # refused, not silently changed


# --- 5. a private key other users may read --------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_unprotected_private_key_is_refused_as_ssh_does(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
    mode: int,
) -> None:
    path = write_inventory(inventory_at(listener))
    key = path.parent / "keys" / "id_ed25519"
    key.chmod(mode)
    for command in (cut(path), ["--inventory", str(path), "plan", "cut-intersite"]):
        code, _, err, took = timed(capsys, *command)
        assert_refused(
            code, err, listener, state_dir, "UNPROTECTED PRIVATE KEY FILE", str(key),
            f"{mode:04o}", f"chmod 600 {key}", "field credentials.ops.key_file",
        )  # fmt: skip
        assert took < FAST_S


def test_owner_only_key_is_used(
    capsys: pytest.CaptureFixture[str], listener: Listener, write_inventory: InventoryWriter
) -> None:
    """The control: the same inventory with its key at 0600 (0400 too) does connect."""
    path = write_inventory(inventory_at(listener))
    (path.parent / "keys" / "id_ed25519").chmod(0o400)
    code, _out, err = run(capsys, "--inventory", str(path), "plan", "cut-intersite")
    assert code == 0, err
    assert listener.connections() >= 2


# --- 6. validate checks that the credentials can be used --------------------------------------


def _key_missing(key: Path) -> None:
    key.unlink()


def _key_is_a_directory(key: Path) -> None:
    key.unlink()
    key.mkdir(mode=0o700)


def _key_is_dev_null(key: Path) -> None:
    key.unlink()
    key.symlink_to("/dev/null")


def _key_is_not_a_key(key: Path) -> None:
    key.write_text("this is not a private key\n")


def _key_is_empty(key: Path) -> None:
    key.write_bytes(b"")


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (_key_missing, "does not exist"),
        (_key_is_a_directory, "is a directory, not a private key file"),
        (_key_is_dev_null, "is a device or a pipe, not a private key file"),
        (_key_is_not_a_key, "is not a private key ssh can use"),
        (_key_is_empty, "is not a private key ssh can use"),
    ],
)
def test_validate_refuses_a_key_file_that_cannot_be_used(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
    spoil: Any,
    said: str,
) -> None:
    path = write_inventory(inventory_at(listener))
    key = path.parent / "keys" / "id_ed25519"
    spoil(key)
    code, out, err, took = timed(capsys, "--inventory", str(path), "validate")
    assert_refused(
        code, err, listener, state_dir, str(path), "field credentials.ops.key_file", str(key),
        said, "needed by dc-fw, dc-rtr, h1-rtr",
    )  # fmt: skip
    assert out == ""
    assert took < FAST_S


@pytest.mark.parametrize(("value", "said"), [(None, "is not set"), ("", "is empty")])
def test_validate_refuses_an_unset_password_variable(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str | None,
    said: str,
) -> None:
    data = inventory_at(listener)
    data["credentials"]["ops"] = {"username": "ops", "password_env": "ISOLEMENT_ODD_PASSWORD"}
    path = write_inventory(data)
    if value is None:
        monkeypatch.delenv("ISOLEMENT_ODD_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("ISOLEMENT_ODD_PASSWORD", value)
    code, _, err, _ = timed(capsys, "--inventory", str(path), "validate")
    assert_refused(
        code, err, listener, state_dir, "field credentials.ops.password_env",
        f"environment variable ISOLEMENT_ODD_PASSWORD {said}",
    )  # fmt: skip


def test_validate_names_every_credential_problem(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = inventory_at(listener)
    data["credentials"]["fw"] = {"username": "fw", "password_env": "ISOLEMENT_ODD_FW"}
    data["credentials"]["spare"] = {"username": "spare", "key_file": "keys/id_ed25519"}
    data["devices"]["dc-fw"]["credential"] = "fw"
    path = write_inventory(data)
    monkeypatch.delenv("ISOLEMENT_ODD_FW", raising=False)
    key = path.parent / "keys" / "id_ed25519"
    key.chmod(0o644)
    code, _, err, _ = timed(capsys, "--inventory", str(path), "validate")
    assert_refused(
        code, err, listener, state_dir, "2 problems with credentials",
        "field credentials.fw.password_env: environment variable ISOLEMENT_ODD_FW is not set "
        "(needed by dc-fw)",
        f"field credentials.ops.key_file: UNPROTECTED PRIVATE KEY FILE {key}",
        lines=3,
    )  # fmt: skip
    # A credential no device uses is not a problem of this inventory's runs.
    assert "credentials.spare" not in err


def test_validate_with_usable_credentials_says_so(
    capsys: pytest.CaptureFixture[str], write_inventory: InventoryWriter
) -> None:
    """The control, and `--no-credentials` for an inventory drafted on another machine."""
    path = write_inventory()
    code, out, err = run(capsys, "--inventory", str(path), "validate")
    assert code == 0, err
    assert "credentials OK" in out
    (path.parent / "keys" / "id_ed25519").unlink()
    code, out, err = run(capsys, "--inventory", str(path), "validate", "--no-credentials")
    assert code == 0, err
    assert "credentials not checked (--no-credentials)" in out


def test_an_encrypted_key_is_accepted_unread(
    capsys: pytest.CaptureFixture[str], write_inventory: InventoryWriter, tmp_path: Path
) -> None:
    """Its passphrase is not isolement's to ask for (ssh-agent holds it): existence, kind and
    permissions are checked, the content is not."""
    path = write_inventory()
    key = path.parent / "keys" / "id_ed25519"
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    key.write_bytes(pem)
    key.chmod(0o600)
    code, _out, err = run(capsys, "--inventory", str(path), "validate")
    assert code == 0, err


# --- 7. big input, refused before it is parsed ------------------------------------------------


def big_inventory(size: int, listener: Listener) -> str:
    """A well-formed inventory of about `size` bytes: the base one, then many links."""
    text = yaml.safe_dump(inventory_at(listener), sort_keys=False)
    link = "  l{}: {{kind: internet, endpoints: [{{device: dc-fw, interface: x{}}}]}}\n"
    head, tail = text.split("links:\n", 1)
    lines = []
    total, i = len(text), 0
    while total < size:
        line = link.format(i, i)
        lines.append(line)
        total += len(line)
        i += 1
    return head + "links:\n" + "".join(lines) + tail


def test_a_40_mib_file_is_refused_in_a_second(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    path = write_inventory(text=big_inventory(40 * 1024 * 1024, listener))
    code, _, err, took = timed(capsys, *cut(path))
    assert_refused(
        code, err, listener, state_dir, str(path), "40.0 MiB", f"{DEFAULT_MAX_MIB} MiB",
        "refused before parsing", f"{MAX_MIB_ENV}=",
    )  # fmt: skip
    assert took < 1.0


def test_the_size_cap_can_be_raised_and_lowered(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_inventory(text=big_inventory(64 * 1024, listener))
    monkeypatch.setenv(MAX_MIB_ENV, "0.05")
    code, _, err, _ = timed(capsys, "--inventory", str(path), "validate")
    assert_refused(code, err, listener, state_dir, "more than the 0.05 MiB isolement reads")
    monkeypatch.setenv(MAX_MIB_ENV, "1")
    code, _, err = run(capsys, "--inventory", str(path), "validate")
    assert code == 0, err
    monkeypatch.setenv(MAX_MIB_ENV, "lots")
    code, _, err, _ = timed(capsys, "--inventory", str(path), "validate")
    assert_refused(code, err, listener, state_dir, f"{MAX_MIB_ENV}='lots' is not a size in MiB")


def test_an_endless_file_is_refused_after_reading_no_more_than_the_cap(
    capsys: pytest.CaptureFixture[str], listener: Listener, state_dir: Path
) -> None:
    code, _, err, took = timed(capsys, "--inventory", "/dev/zero", "validate")
    assert_refused(code, err, listener, state_dir, "/dev/zero: its content is more than")
    assert took < FAST_S


def test_aliases_that_expand_a_billion_times_are_refused(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = write_inventory(text="\n".join(lines) + "\n")
    code, _, err, took = timed(capsys, "--inventory", str(path), "validate")
    assert_refused(code, err, listener, state_dir, str(path), "aliases (*name) expand to more than")
    assert took < FAST_S


def test_a_directory_as_inventory_is_one_line(
    capsys: pytest.CaptureFixture[str], listener: Listener, tmp_path: Path, state_dir: Path
) -> None:
    code, _, err, _ = timed(capsys, "--inventory", str(tmp_path), "validate")
    assert_refused(code, err, listener, state_dir, str(tmp_path), "is a directory, not a file")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a: &a [x, *a]\n", "an alias (*name) refers to a node that contains it"),
        ("a: &a {b: *a}\n", "an alias (*name) refers to a node that contains it"),
        (
            "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 3000)),
            "nested too deeply (more than 64 levels)",
        ),
    ],
    ids=["sequence-cycle", "mapping-cycle", "alias-chain"],
)
def test_aliases_that_loop_or_nest_too_deep_are_refused(
    capsys: pytest.CaptureFixture[str],
    listener: Listener,
    write_inventory: InventoryWriter,
    state_dir: Path,
    text: str,
    said: str,
) -> None:
    """Shared nodes: main recursed forever on a cycle (RecursionError)."""
    path = write_inventory(text=text)
    code, _, err, took = timed(capsys, "--inventory", str(path), "validate")
    assert_refused(code, err, listener, state_dir, str(path), said, "line ")
    assert took < FAST_S


def test_merge_keys_and_shared_defaults_are_still_read(write_inventory: InventoryWriter) -> None:
    """The control: `<<: *defaults` is YAML's way to share device settings; a mapping's own key
    overrides a merged one, and a key written twice in one mapping is still refused."""
    path = write_inventory(
        text="d: &d {role: router, site: dc}\nx: {<<: *d, site: h1}\ny: [*d, *d]\n"
    )
    data = yamlfile.read_yaml(path)
    assert data["x"] == {"role": "router", "site": "h1"}
    assert data["y"] == [{"role": "router", "site": "dc"}] * 2
    twice = write_inventory(text="d: &d {role: router}\nx: {<<: *d, site: a, site: b}\n")
    with pytest.raises(InputError, match="duplicate key 'site'"):
        yamlfile.read_yaml(twice)
