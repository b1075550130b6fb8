"""Secrets masked before anything reaches the journal or a snapshot: the values in what devices
print (configurations, answers) and the fields of a record named like a secret.

What is masked is the value, never the keyword before it, so a record still says which setting
held a secret (`set psksecret ENC <redacted>`). The lines isolement sends (interface names, its
rule names and comments) and the decision's own words (reason, operator, approver: what a person
typed, evidence in itself) are never touched; tests/unit/test_redaction.py checks both sides on
real configuration lines.

The forms, each a substitution over the whole text:
- any PEM private key, over all the lines of its body;
- per platform, the secret forms a generic keyword rule misses (FortiOS `ENC` values, PAN-OS
  `phash` and its XML elements, IOS/NX-OS `key-string`, NX-OS SNMPv3 localized keys, OmniSwitch
  community maps);
- the generic rule: on one line, everything after `password`, `secret`, `community`,
  `pre-shared-key`, `key`, `token` and the like.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

MARK = "<redacted>"

# A PEM private key, with its header and trailer; one cut short (no END line: output truncated)
# is masked up to the closing quote of the setting that holds it, or to the end of the text.
_PEM = re.compile(
    r"(-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----)"
    r"(?:.*?-----END \2PRIVATE KEY-----|[^\"]*)",
    re.DOTALL,
)

# (platform or "any", pattern whose group 1 is kept and the rest of the match replaced)
_VALUE_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # FortiOS writes every secret it stores as `set <name> ENC <ciphertext>`.
    ("fortinet", re.compile(r"^([ \t]*set[ \t]+[\w-]+[ \t]+ENC[ \t]+)\S.*$", re.MULTILINE)),
    # ... and some in clear, under names the generic rule does not know.
    (
        "fortinet",
        re.compile(
            r"^([ \t]*set[ \t]+(?:passwd|psksecret|ppk-secret|auth-pwd|priv-pwd|"
            r"[\w-]*-password|[\w-]*-passwd)[ \t]+)\S.*$",
            re.MULTILINE,
        ),
    ),
    # PAN-OS: the admin's password hash, in set form ...
    ("paloalto_panos", re.compile(r"(\bphash[ \t]+)\S+")),
    # ... and in the XML of `show config`: the element's content goes, its tags stay.
    (
        "paloalto_panos",
        re.compile(
            r"(<(phash|password|key|private-key|secret|passphrase|community|"
            r"snmp-community-string|auth-password|priv-password)>)[^<]*(?=</\2>)"
        ),
    ),
    # IOS, NX-OS, AOS-CX: key chains and HSRP/VRRP keys, with or without an encryption type.
    ("cisco_ios", re.compile(r"(\bkey-string[ \t]+(?:\d[ \t]+)?)\S+")),
    # IOS: OSPF keys, which the generic rule cannot see after a hyphenated keyword.
    (
        "cisco_ios",
        re.compile(
            r"(\b(?:authentication-key|message-digest-key[ \t]+\d+[ \t]+md5)[ \t]+(?:\d[ \t]+)?)\S+"
        ),
    ),
    # NX-OS SNMPv3 users: localized keys after `auth <algorithm>` and `priv [<algorithm>]`;
    # a terminal may wrap the line so that `priv` starts a line of its own.
    (
        "cisco_nxos",
        re.compile(
            r"(\b(?:auth[ \t]+(?:md5|sha\S*)|"
            r"priv(?:[ \t]+(?:aes-128|aes-192|aes-256|aes|des|3des))?)[ \t]+)0x[0-9A-Fa-f]+"
        ),
    ),
    # OmniSwitch: the community string mapped to a user, in clear or as AOS 8 stores it.
    (
        "alcatel_aos",
        re.compile(
            r"^([ \t]*snmp[ \t]+community-map[ \t]+(?:hash-key[ \t]+)?)(?:\"[^\"\n]*\"|\S+)"
            r"(?=[ \t]+user\b)",
            re.MULTILINE,
        ),
    ),
    # Junos: `$9$` secrets, wherever they stand.
    ("juniper_junos", re.compile(r"(\")\$9\$[^\"\n]*(?=\")")),
)

# The generic rule: everything after the keyword, on its line (IOS puts an encryption type
# first: `secret 5 $1$...`). `key` alone only as a word of its own (not `admin-key`), and not
# `key chain NAME` (a name, no secret).
_SECRET_LINE = re.compile(
    r"(?im)^(.*?(?:\b(?:password|secret|community|pre-shared-key|token)|(?<![\w-])key"
    r"(?![ \t]+chain\b))[ \t]+)\S.*$"
)
_SECRET_KEYS = re.compile(r"(?i)(password|secret|token|passphrase|private_key)")
# A person's words in a decision: journaled as typed, never taken for a device's output.
_DECISION_FIELDS = frozenset({"reason", "operator", "approved_by"})


# A word every form above needs, one of them at least (each form's keyword contains one):
# a text with none holds nothing to mask, and is returned after this check instead of a dozen
# substitutions (a 5000-step plan journaled for rehearsals is 50 000 such short texts).
_MAY_HOLD_SECRET = re.compile(r"(?i)key|secret|pass|pwd|communit|token|phash|enc|0x|\$9\$")


def may_hold_secret(text: str) -> bool:
    """Whether any form could match in this text (False: redact_text returns it as it is)."""
    if text.isascii():  # the same words, by plain substring tests: 7 times faster
        low = text.lower()
        return (
            "key" in low
            or "secret" in low
            or "pass" in low
            or "pwd" in low
            or "communit" in low
            or "token" in low
            or "phash" in low
            or "enc" in low
            or "0x" in low
            or "$9$" in low
        )
    # Beyond ASCII, a case-insensitive pattern also matches the long s, the dotless i, the
    # dotted capital I and the Kelvin sign to ASCII letters, as the forms do: it decides.
    return _MAY_HOLD_SECRET.search(text) is not None


def redact_text(text: str) -> str:
    """Device output or configuration with every secret value replaced by MARK."""
    if not may_hold_secret(text):
        return text
    text = _PEM.sub(_pem_masked, text)
    for _, pattern in _VALUE_FORMS:
        text = pattern.sub(lambda m: m.group(1) + MARK, text)
    return _SECRET_LINE.sub(lambda m: m.group(1) + MARK, text)


def _pem_masked(match: re.Match[str]) -> str:
    whole = match.group(0)
    trailer = f"-----END {match.group(2)}PRIVATE KEY-----"
    return match.group(1) + MARK + (trailer if whole.endswith(trailer) else "")


def redact(value: Any) -> Any:
    """Mask anything that looks like a secret, in nested records and in device output."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact_field(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def redact_record(record: dict[str, Any]) -> dict[str, Any]:
    """`redact` of a journal record, field by field: a field whose name and whole JSON text
    hold none of the words a secret form or a secret field's name needs is kept as it is after
    one test, instead of one per value (a 5000-step plan is 75,000 values in one field). JSON
    escapes only quotes, backslashes and controls, none of which is in such a word, so a word
    in a value is whole in the text."""
    return {
        key: value
        if not may_hold_secret(key) and not may_hold_secret(json.dumps(value, ensure_ascii=False))
        else _redact_field(key, value)
        for key, value in record.items()
    }


@functools.lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    # Records repeat a few field names thousands of times (a plan's steps): decided once each.
    return _SECRET_KEYS.search(key) is not None


def _redact_field(key: str, value: Any) -> Any:
    if key in _DECISION_FIELDS and isinstance(value, str):
        return value
    if _secret_key(key):
        return MARK
    return redact(value)
