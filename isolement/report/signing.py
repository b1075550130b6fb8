"""Optional detached signature of an exported report, with an Ed25519 key the operator holds.

`sign_file(report, key)` writes `<report>.sig`, a small JSON document: the base64 Ed25519
signature of the file's bytes, the file's SHA-256 and the fingerprint of the signing key (the
SHA-256 of its raw 32-byte public key). Anyone with the public key can then check, with
`verify_file`, that the report is the one the operator signed, byte for byte.

The signature covers the file's bytes; the SHA-256 and fingerprint in the .sig only make a
failure say *why* (a different key, or a file changed since it was signed) — a forged .sig
cannot pass, since the signature itself is always checked.

A report exported from a journal also carries, in its .sig, the journal's head and verdict
at export time (`journal`), signed with the same key (`journal_signature`): `verify_file`
then says which head the report covers, fails when the journal was not intact when it was
made, and checks it against heads kept elsewhere (a head later than the report's means records
were removed before the export).

The keys are the cell's (isolement/journal/keys.py); the signature over the file's bytes is
plain Ed25519, so `openssl pkeyutl -verify -rawin` can check it without isolement.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from isolement.journal.files import replace_file
from isolement.journal.keys import (
    fingerprint,
    generate_keypair,
    load_private_key,
    load_public_key,
)
from isolement.journal.records import Head
from isolement.model.errors import InputError

__all__ = [
    "SIGNATURE_FORMAT",
    "fingerprint",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "sign_file",
    "signature_path",
    "verify_file",
]

SIGNATURE_FORMAT = "isolement-signature/1"
SUFFIX = ".sig"


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def _statement(document: dict[str, Any]) -> bytes:
    """What `journal_signature` signs: the file's hash and what it says of its journal."""
    body = {"sha256": document["sha256"], "journal": document["journal"]}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_file(
    path: Path,
    private_key_path: Path,
    passphrase: bytes | None = None,
    *,
    journal: dict[str, Any] | None = None,
) -> Path:
    """Sign the file's bytes (and, for a report, the journal's verification at export: its
    head and verdict); write and return `<path>.sig`."""
    key = load_private_key(private_key_path, passphrase)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file to sign", source=str(path)) from None
    document: dict[str, Any] = {
        "format": SIGNATURE_FORMAT,
        "algorithm": "ed25519",
        "file": path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "key_fingerprint": fingerprint(key.public_key()),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
    }
    if journal is not None:
        document["journal"] = journal
        document["journal_signature"] = base64.b64encode(key.sign(_statement(document))).decode(
            "ascii"
        )
    target = signature_path(path)
    replace_file(target, (json.dumps(document, indent=2) + "\n").encode("utf-8"), mode=0o644)
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
    path: Path,
    public_key_path: Path,
    sig_path: Path | None = None,
    *,
    heads: Sequence[Head] = (),
) -> tuple[bool, str]:
    """(True, who signed what) if `<path>.sig` is a good signature of the file by this key, of
    a report on a journal intact at export that holds every head in `heads`; (False, why not)
    otherwise."""
    checked = _good_signature(path, public_key_path, sig_path or signature_path(path))
    if isinstance(checked, str):
        return False, checked
    document, public_key = checked
    signed = (
        f"{path}: good signature by key {fingerprint(public_key)} over SHA-256 {document['sha256']}"
    )
    if "journal" not in document:
        if heads:
            return False, f"{signed}; but it holds no journal head to check --head against"
        return True, signed
    return _journal_covered(signed, public_key, document, heads)


def _good_signature(
    path: Path, public_key_path: Path, sig_path: Path
) -> tuple[dict[str, Any], Ed25519PublicKey] | str:
    """The .sig document and the key it verifies with, or why the file's signature fails."""
    try:
        public_key = load_public_key(public_key_path)
        data = path.read_bytes()
    except InputError as exc:
        return str(exc)
    except FileNotFoundError:
        return f"no such file {path}"
    document = _read_signature(sig_path)
    if isinstance(document, str):
        return document
    problem = _mismatch(path, public_key_path, public_key, document, data)
    if problem is not None:
        return problem
    try:
        signature = base64.b64decode(document["signature"], validate=True)
        public_key.verify(signature, data)
    except (InvalidSignature, binascii.Error, ValueError):
        return f"{path}: the signature in {sig_path} does not verify with this key"
    return document, public_key


def _journal_covered(
    signed: str, public_key: Ed25519PublicKey, document: dict[str, Any], heads: Sequence[Head]
) -> tuple[bool, str]:
    """Whether the journal the report was made from was intact then, and holds `heads`."""
    try:
        signature = base64.b64decode(str(document.get("journal_signature")), validate=True)
        public_key.verify(signature, _statement(document))
        journal = document["journal"]
        verdict = str(journal["verdict"])
        covered = (
            Head(int(journal["head"]["seq"]), str(journal["head"]["hash"]))
            if journal["head"]
            else Head(0, "")
        )
    except (InvalidSignature, binascii.Error, ValueError, KeyError, TypeError):
        return False, f"{signed}; but what it says of its journal was changed since it was signed"
    text = (
        f"{signed}; a report of journal {journal.get('path')} up to head seq {covered.seq} "
        f"sha256 {covered.hash or '-'}, found {verdict} when it was made"
    )
    if verdict in ("altered", "torn"):
        return False, f"{text}: the journal was NOT INTACT: {journal.get('problem')}"
    for head in heads:
        if head.seq > covered.seq:
            return False, (
                f"{text}; the head you gave (seq {head.seq}) is later: records "
                f"{covered.seq + 1}-{head.seq} were removed from the journal before this report "
                "was made"
            )
        if head.seq == covered.seq and not head.matches(covered.hash):
            return False, f"{text}; the head you gave differs: the journal was rewritten"
        if head.seq < covered.seq:
            text += (
                f"; the head you gave (seq {head.seq}) is older: check the journal itself "
                "with 'journal verify --head'"
            )
    if verdict != "intact" and not heads:
        text += "; only a head kept elsewhere (--head) can tell whether records were removed"
    return True, text


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
