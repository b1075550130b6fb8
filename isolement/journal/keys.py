"""The crisis cell's Ed25519 keys: made, loaded and named (by fingerprint) in one place, for
the anchors of the journal and the signatures of exported reports.

Why `cryptography` (PyCA): it is the well-kept reference Python binding to OpenSSL's Ed25519,
and it is already installed as a dependency of paramiko (which isolement uses for SSH), so
keys add no new dependency. The keys are standard PEM (PKCS#8 private, SubjectPublicKeyInfo
public), so `openssl pkey` reads them without isolement.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from isolement.model.errors import InputError


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
