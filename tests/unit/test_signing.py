"""Detached Ed25519 signatures of exported reports: a changed byte or another key is caught."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from isolement.model.errors import InputError
from isolement.report import signing


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "keys" / "report.key", tmp_path / "keys" / "report.pub"
    signing.generate_keypair(private, public)
    return private, public


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text("<!DOCTYPE html><p>RECONNECTED: nothing is still cut</p>\n", encoding="utf-8")
    return path


def test_signed_report_verifies(keys: tuple[Path, Path], report: Path) -> None:
    private, public = keys
    sig = signing.sign_file(report, private)

    assert sig == report.with_name("report.html.sig")
    ok, message = signing.verify_file(report, public)
    assert ok, message
    assert "good signature" in message


def test_signature_file_names_the_file_its_hash_and_the_key(
    keys: tuple[Path, Path], report: Path
) -> None:
    private, public = keys
    document = json.loads(signing.sign_file(report, private).read_text())

    assert document["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert document["key_fingerprint"] == signing.fingerprint(signing.load_public_key(public))
    assert document["file"] == "report.html"
    assert len(base64.b64decode(document["signature"])) == 64  # an Ed25519 signature


def test_one_changed_byte_fails_verification(keys: tuple[Path, Path], report: Path) -> None:
    private, public = keys
    signing.sign_file(report, private)
    data = bytearray(report.read_bytes())
    data[20] ^= 0x01
    report.write_bytes(bytes(data))

    ok, message = signing.verify_file(report, public)
    assert not ok
    assert "ALTERED since it was signed" in message


def test_altered_file_with_a_matching_hash_in_the_sig_still_fails(
    keys: tuple[Path, Path], report: Path
) -> None:
    # The hash in the .sig is a diagnostic only: the signature itself is always checked.
    private, public = keys
    sig = signing.sign_file(report, private)
    report.write_text("<!DOCTYPE html><p>CUT: 3 interfaces still cut</p>\n", encoding="utf-8")
    document = json.loads(sig.read_text())

    document["sha256"] = hashlib.sha256(report.read_bytes()).hexdigest()
    sig.write_text(json.dumps(document))

    ok, message = signing.verify_file(report, public)
    assert not ok
    assert "does not verify" in message


def test_another_public_key_fails_verification(
    keys: tuple[Path, Path], report: Path, tmp_path: Path
) -> None:
    private, _ = keys
    other_private, other_public = tmp_path / "other.key", tmp_path / "other.pub"
    signing.generate_keypair(other_private, other_public)
    signing.sign_file(report, private)

    ok, message = signing.verify_file(report, other_public)
    assert not ok
    assert "signed with another key" in message


def test_missing_signature_fails_verification(keys: tuple[Path, Path], report: Path) -> None:
    ok, message = signing.verify_file(report, keys[1])
    assert not ok
    assert "no signature file" in message


def test_private_key_is_readable_by_its_owner_only(keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_existing_key_is_not_overwritten(keys: tuple[Path, Path]) -> None:
    private, public = keys
    before = private.read_bytes()
    with pytest.raises(InputError, match="already exists"):
        signing.generate_keypair(private, public.with_name("new.pub"))
    assert private.read_bytes() == before


def test_passphrase_protected_key(tmp_path: Path, report: Path) -> None:
    private, public = tmp_path / "p.key", tmp_path / "p.pub"
    signing.generate_keypair(private, public, passphrase=b"correct horse")
    assert "ENCRYPTED" in private.read_text()

    with pytest.raises(InputError, match="needs a passphrase"):
        signing.sign_file(report, private)
    signing.sign_file(report, private, passphrase=b"correct horse")
    assert signing.verify_file(report, public)[0]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_signature_without_isolement(
    keys: tuple[Path, Path], report: Path, tmp_path: Path
) -> None:
    private, public = keys
    document = json.loads(signing.sign_file(report, private).read_text())
    raw = tmp_path / "sig.bin"
    raw.write_bytes(base64.b64decode(document["signature"]))

    result = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(public),
            "-rawin",
            "-in",
            str(report),
            "-sigfile",
            str(raw),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout
