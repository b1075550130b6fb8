"""Optional detached signature of an exported report, with an Ed25519 key the operator holds.

`sign_file(report, key)` writes `<report>.sig`, a small JSON document: the base64 Ed25519
signature of the file's bytes, the file's SHA-256 and the fingerprint of the signing key (the
SHA-256 of its raw 32-byte public key). Anyone with the public key can then check, with
`verify_file`, that the report is the one the operator signed, byte for byte.

The signature covers the file's bytes; the SHA-256 and fingerprint in the .sig only make a
failure say *why* (a different key, or a file changed since it was signed) — a forged .sig
cannot pass, since the signature itself is always checked.

Why `cryptography` (PyCA): it is the well-kept reference Python binding to OpenSSL's Ed25519,
and it is already installed as a dependency of paramiko (which isolement uses for SSH), so
signing adds no new dependency. The keys are standard PEM (PKCS#8 private, SubjectPublicKeyInfo
public), so `openssl pkey`/`openssl pkeyutl -verify -rawin` can check a signature without
isolement.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from isolement.model.errors import InputError

SIGNATURE_FORMAT = "isolement-signature/1"
SUFFIX = ".sig"


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: the name a key goes by in a .sig file."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_keypair(private_path: Path, public_path: Path, passphrase: bytes | None = None) -> str:
    """Write a new Ed25519 key pair as PEM (private file mode 0600, encrypted when a passphrase
    is given) and return its fingerprint. Refuses to overwrite an existing file."""
    for path in (private_path, public_path):
        if path.exists():
            raise InputError("already exists; not overwriting a key", source=str(path))
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start (not chmod afterwards), and never over an existing file.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(public_pem)
    return fingerprint(key.public_key())


def load_private_key(path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    except FileNotFoundError:
        raise InputError("no such private key file", source=str(path)) from None
    except TypeError:
        # cryptography's way of saying the key is encrypted and no passphrase was given, or
        # the reverse.
        raise InputError(
            "this private key needs a passphrase"
            if passphrase is None
            else "this private key is not encrypted; give no passphrase",
            source=str(path),
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(
            "not a readable PEM private key (or the passphrase is wrong)", source=str(path)
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("not an Ed25519 private key", source=str(path))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise InputError("no such public key file", source=str(path)) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("not a readable PEM public key", source=str(path)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", source=str(path))
    return key


def sign_file(path: Path, private_key_path: Path, passphrase: bytes | None = None) -> Path:
    """Sign the file's bytes; write and return `<path>.sig`."""
    key = load_private_key(private_key_path, passphrase)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file to sign", source=str(path)) from None
    document = {
        "format": SIGNATURE_FORMAT,
        "algorithm": "ed25519",
        "file": path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "key_fingerprint": fingerprint(key.public_key()),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
    }
    target = signature_path(path)
    target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return target


def _read_signature(sig_path: Path) -> dict[str, Any] | str:
    """The .sig document, or why it cannot be used."""
    try:
        document = json.loads(sig_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"no signature file {sig_path}"
    except (ValueError, UnicodeDecodeError):
        return f"{sig_path} is not a signature file (not JSON)"
    if not isinstance(document, dict) or document.get("format") != SIGNATURE_FORMAT:
        return f"{sig_path} is not an isolement signature ({SIGNATURE_FORMAT})"
    for key in ("sha256", "key_fingerprint", "signature"):
        if not isinstance(document.get(key), str):
            return f"{sig_path}: field {key} is missing"
    return document


def verify_file(
    path: Path, public_key_path: Path, sig_path: Path | None = None
) -> tuple[bool, str]:
    """(True, who signed what) if `<path>.sig` is a good signature of the file by this key;
    (False, why not) otherwise."""
    sig_path = sig_path or signature_path(path)
    try:
        public_key = load_public_key(public_key_path)
        data = path.read_bytes()
    except InputError as exc:
        return False, str(exc)
    except FileNotFoundError:
        return False, f"no such file {path}"
    document = _read_signature(sig_path)
    if isinstance(document, str):
        return False, document
    problem = _mismatch(path, public_key_path, public_key, document, data)
    if problem is not None:
        return False, problem
    try:
        signature = base64.b64decode(document["signature"], validate=True)
        public_key.verify(signature, data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False, f"{path}: the signature in {sig_path} does not verify with this key"
    return True, (
        f"{path}: good signature by key {fingerprint(public_key)} over SHA-256 {document['sha256']}"
    )


def _mismatch(
    path: Path,
    public_key_path: Path,
    public_key: Ed25519PublicKey,
    document: dict[str, Any],
    data: bytes,
) -> str | None:
    """Why the signature cannot be this key's over these bytes, from what the .sig says."""
    expected = fingerprint(public_key)
    if document["key_fingerprint"] != expected:
        return (
            f"{path}: signed with another key (fingerprint {document['key_fingerprint']}), "
            f"not with {public_key_path} (fingerprint {expected})"
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != document["sha256"]:
        return (
            f"{path}: ALTERED since it was signed: its SHA-256 is now {digest}, "
            f"the signature was made over {document['sha256']}"
        )
    return None
