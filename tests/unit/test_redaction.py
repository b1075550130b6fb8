"""Secrets in what devices print never reach the journal or the snapshots; nothing else is hidden.

Each case is a configuration line published by another project or a vendor-format capture,
named beside it (tests/unit/SOURCES-redaction.md says where each was found). Where the publisher
had already masked the value (`xxx`, `passhash`), the line is kept as published: the assertion is
that the value, whatever it is, is gone. PEM bodies are made by `cryptography` here, so the body
is a real key's and nothing secret is stored in the repository.

The other half: the lines isolement sends (every golden cut/restore file) and the real captures'
interface and state lines pass unchanged, and so do the decision's own words (reason, operator).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from isolement.journal import redaction
from isolement.journal.redaction import MARK, redact
from isolement.journal.store import Journal

DATA = Path(__file__).resolve().parents[1] / "data"
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def gone(text: str, secret: str) -> bool:
    """The secret is not in the redacted text, and the redaction says where it was."""
    out = redact(text)
    return secret not in out and MARK in out


# --- FortiOS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        pytest.param(
            # wallacebrf/dns, README.md ("config vpn ipsec phase1-interface", edit "HomeVPN-IPsec")
            "        set psksecret ENC xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            id="psksecret-enc",
        ),
        pytest.param(
            # FortiOS REST example, "FG # sh user local" (SOURCES-redaction.md, fortinet 2)
            "            set passwd ENC xxx",
            "xxx",
            id="passwd-enc",
        ),
        pytest.param(
            # FortiOS "config system admin" as exported, the shape of every FortiOS admin
            # (SOURCES-redaction.md, fortinet 3)
            "        set password ENC AbCdEfGh1234567890iVrandomA==",
            "AbCdEfGh1234567890iVrandomA==",
            id="password-enc",
        ),
    ],
)
def test_fortios_encrypted_secrets_are_redacted(line: str, secret: str) -> None:
    assert gone(line, secret)
    # The keyword stays: the record still says which setting held a secret.
    assert redact(line).split()[:2] == line.split()[:2]


def _pem(kind: str) -> str:
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
    key_ec = ec.generate_private_key(ec.SECP256R1())
    return key_ec.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"drill"),
    ).decode()


@pytest.mark.parametrize("kind", ["rsa", "encrypted-pkcs8"])
def test_pem_key_body_is_redacted_over_all_its_lines(kind: str) -> None:
    pem = _pem(kind).strip()
    body = pem.splitlines()[1:-1]
    assert len(body) >= 3  # a multi-line body, as FortiOS prints it inside its quotes
    # FortiOS "config vpn certificate local" (SOURCES-redaction.md, fortinet 4): the key is a
    # quoted multi-line value, followed by the rest of the configuration.
    config = (
        'config vpn certificate local\n    edit "Fortinet_CA_SSL"\n'
        f'        set private-key "{pem}"\n    next\nend\n'
        'config system interface\n    edit "port1"\n        set status down\n    next\nend\n'
    )
    out = redact(config)
    assert not any(line in out for line in body)
    assert MARK in out
    # What follows the key is the configuration as it was: the cut's own lines.
    assert out.endswith(
        'config system interface\n    edit "port1"\n        set status down\n    next\nend\n'
    )
    # A PEM key anywhere else (a `show crypto` answer, a Linux file) is redacted the same way.
    bare = redact(f"key follows\n{pem}\nafter\n")
    assert not any(line in bare for line in body)
    assert bare.endswith("after\n")


# --- PAN-OS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param(
            # networktocode/netutils, tests/unit/mock/config/compliance/compliance/
            # paloalto_panos/paloalto_backup.txt (the value is masked there)
            "set mgt-config users user1 phash passhash",
            "passhash",
            id="phash-set",
        ),
        pytest.param(
            # cdot65/saute, panorama-config.xml.md (a Panorama's `show config running`)
            "                        <phash>$5$durmgopf$rDQ8hT9K3RPjyJCA8of8RZ7XWQ1R9aqE1yrw8/zQFjB"
            "</phash>",
            "$5$durmgopf$rDQ8hT9K3RPjyJCA8of8RZ7XWQ1R9aqE1yrw8/zQFjB",
            id="phash-xml",
        ),
        pytest.param(
            # an IKE gateway template (SOURCES-redaction.md, paloalto_panos 3)
            "    <authentication>\n        <pre-shared-key>\n"
            "            <key>-AQ==A4vEGnxsZCP7poqzjhJD4Gc+tbE=DS4xndFfZiigUHPCm4ASFQ==</key>\n"
            "        </pre-shared-key>\n    </authentication>",
            "A4vEGnxsZCP7poqzjhJD4Gc+tbE=DS4xndFfZiigUHPCm4ASFQ==",
            id="pre-shared-key-xml",
        ),
        pytest.param(
            # the same key in set form
            "set network ike gateway GW-h4 authentication pre-shared-key key "
            "-AQ==A4vEGnxsZCP7poqzjhJD4Gc+tbE=DS4xndFfZiigUHPCm4ASFQ==",
            "A4vEGnxsZCP7poqzjhJD4Gc+tbE=DS4xndFfZiigUHPCm4ASFQ==",
            id="pre-shared-key-set",
        ),
    ],
)
def test_panos_secrets_are_redacted(text: str, secret: str) -> None:
    assert gone(text, secret)


def test_panos_xml_keeps_its_structure() -> None:
    out = redact("<entry name='admin'>\n  <phash>$1$abcdefgh$XyZ</phash>\n</entry>")
    assert out == f"<entry name='admin'>\n  <phash>{MARK}</phash>\n</entry>"


# --- IOS, NX-OS ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        pytest.param(
            # an NX-OS/IOS lab configuration, "key chain OSPF / key 0" (SOURCES-redaction.md,
            # cisco_ios 1)
            "    key-string 7 075e731f1a5c4f",
            "075e731f1a5c4f",
            id="key-chain-key-string-7",
        ),
        pytest.param(
            # an HSRP group (SOURCES-redaction.md, cisco_ios 2)
            "             standby 10 authentication md5 key-string 7 0123456789ABCDEF",
            "0123456789ABCDEF",
            id="hsrp-key-string-7",
        ),
    ],
)
def test_ios_key_string_7_is_redacted(line: str, secret: str) -> None:
    assert gone(line, secret)


def test_nxos_snmpv3_localized_keys_are_redacted() -> None:
    # napalm, test/nxos_ssh/mocked_data/test_get_config_sanitized_filtered/normal/
    # show_running_config.txt, kept in tests/data/cisco_nxos (see its SOURCES.md).
    config = (DATA / "cisco_nxos" / "show_running_config_n7k_excerpt.txt").read_text()
    keys = ["0xd1e3bf7019f3a9c3ee4dccd381f0e4f3", "0x9e902c388e9b4c616e7c7c98d1079325"]
    assert all(key in config for key in keys)
    out = redact(config)
    assert not any(key in out for key in keys)
    assert "snmp-server user pyclass network-admin auth md5 <redacted> priv <redacted>" in out
    # The SNMPv2 community in the same file, and the user hashes, are gone too.
    assert "bogus123" not in out
    assert "$5$aH4ttsPk$" not in out


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        pytest.param(
            # an N9K lab's running configuration (SOURCES-redaction.md, cisco_nxos 2)
            "snmp-server user admin network-admin auth md5 0xbf30e5192ea42806f331cd6233e13734 "
            "priv des 0xbf30e5192ea42806f331cd6233e13734 localizedkey",
            ["0xbf30e5192ea42806f331cd6233e13734"],
            id="priv-des",
        ),
        pytest.param(
            # the same, as a terminal 80 columns wide wrapped it (SOURCES-redaction.md,
            # cisco_nxos 3): `priv` starts a line of its own
            "snmp-server user admin network-admin auth md5 0x60fb4ae284b0f0f0511c95429ee54d0b\n"
            " priv 0x60fb4ae284b0f0f0511c95429ee54d0b localizedkey",
            ["0x60fb4ae284b0f0f0511c95429ee54d0b"],
            id="wrapped",
        ),
        pytest.param(
            # ansible-collections/cisco.nxos, tests/unit/modules/network/nxos/
            # test_nxos_snmp_server.py
            "snmp-server user snmp_user_3 network-admin auth md5 0x5632724fb8ac3699296af26281e1d0f1"
            " priv aes-128 0x5632724fb8ac3699296af26281e1d0f1 localizedkey",
            ["0x5632724fb8ac3699296af26281e1d0f1"],
            id="priv-aes-128",
        ),
    ],
)
def test_nxos_snmpv3_forms(text: str, secrets: list[str]) -> None:
    out = redact(text)
    assert not any(s in out for s in secrets), out
    assert out.startswith("snmp-server user ")


# --- OmniSwitch ------------------------------------------------------------------------------


def test_omniswitch_community_map_is_redacted() -> None:
    # napalm-automation-community/napalm-aos, test/unit/aos/mock_data/
    # show_configuration_snapshot.txt, kept in tests/data/alcatel_aos (see its SOURCES.md).
    snapshot = (DATA / "alcatel_aos" / "show_configuration_snapshot.txt").read_text()
    line = 'snmp community-map hash-key 2afb1c2035338a93 user "public" enable'
    assert line in snapshot
    out = redact(snapshot)
    assert "2afb1c2035338a93" not in out
    # Only that line changed; the cut's own line is still there, whole.
    changed = [
        (a, b) for a, b in zip(snapshot.splitlines(), out.splitlines(), strict=True) if a != b
    ]
    assert [a for a, _ in changed] == [line]
    assert "interfaces port 1/1/22 admin-state disable" in out.splitlines()


@pytest.mark.parametrize(
    "line",
    [
        # an OV2500 discovery procedure's OmniSwitch lines (SOURCES-redaction.md, alcatel_aos 2)
        "snmp community-map public user snmpuser enable",
        'snmp community-map "public" user "snmpuser" enable',
    ],
)
def test_omniswitch_clear_community_is_redacted(line: str) -> None:
    out = redact(line)
    assert "public" not in out
    assert out.startswith("snmp community-map ")
    assert "snmpuser" in out  # the user it maps to is no secret


# --- what must stay --------------------------------------------------------------------------


def _golden_lines() -> list[tuple[str, str]]:
    return [
        (f"{path.parent.name}/{path.name}", line)
        for path in sorted(GOLDEN.glob("*/*.txt"))
        for line in path.read_text().splitlines()
    ]


def test_the_lines_isolement_sends_are_never_redacted() -> None:
    lines = _golden_lines()
    assert len(lines) > 50
    changed = [(where, line) for where, line in lines if redact(line) != line]
    assert changed == []


@pytest.mark.parametrize(
    "capture",
    [
        "cisco_nxos/show_running_config_n7k_excerpt.txt",
        "alcatel_aos/show_configuration_snapshot.txt",
        "cisco_asa/show_running-config_9.2.txt",
        "fortinet/show_full_configuration_interfaces_excerpt.txt",
    ],
)
def test_interface_and_rule_lines_of_real_configurations_stay(capture: str) -> None:
    text = (DATA / capture).read_text()
    out = redact(text)
    kept = [
        line
        for line in text.splitlines()
        if line.strip().startswith(
            (
                "interface",
                "interfaces",
                "shutdown",
                "no shutdown",
                "edit",
                "set status",
                "access-group",
                "access-list",
                "set name",
                "set srcintf",
                "set dstintf",
            )
        )
    ]
    assert kept, capture
    assert all(line in out.splitlines() for line in kept)


def test_the_decision_is_journaled_in_its_own_words(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    reason = "admin password and key server of h1 compromised; secret ransom note found"
    with Journal(path) as journal:
        journal.record(
            "run.started",
            reason=reason,
            operator="dr key",
            approved_by="secret service liaison",
            output="enable secret 5 $1$abc$Xy9zQ",
        )
    record = json.loads(path.read_text())
    assert record["reason"] == reason
    assert record["operator"] == "dr key"
    assert record["approved_by"] == "secret service liaison"
    assert "$1$abc$Xy9zQ" not in record["output"]


def _every_form(text: str) -> str:
    """redact_text without its quick check: every substitution, on every text."""
    text = redaction._PEM.sub(redaction._pem_masked, text)
    for _, pattern in redaction._VALUE_FORMS:
        text = pattern.sub(lambda m: m.group(1) + MARK, text)
    return redaction._SECRET_LINE.sub(lambda m: m.group(1) + MARK, text)


def test_the_quick_check_passes_over_only_what_no_form_would_change() -> None:
    # Every real text the tests hold (configurations, captures, golden commands), whole and
    # line by line: with or without the quick check, the same redaction.
    texts = [
        path.read_text(encoding="utf-8", errors="replace")
        for folder in (DATA, GOLDEN)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.stat().st_size < 1_000_000
    ]
    assert texts
    skipped = 0
    for text in texts:
        for piece in [text, *text.splitlines()]:
            assert redaction.redact_text(piece) == _every_form(piece), piece
            skipped += not redaction.may_hold_secret(piece)
    assert skipped  # the check does pass over texts: interface lines, commands


@pytest.mark.parametrize(
    "text",
    [
        "enable \u017fecret 5 $1$abc",  # long s: a case-insensitive `secret` matches it
        "snmp-server commun\u0131ty public RO",  # dotless i
        "crypto isakmp \u212aey 0 hunter2 address 0.0.0.0",  # Kelvin sign
        "username admin PASSWORD 0 Hunter2",
        "interface GigabitEthernet0/1",
        "description uplink to d00042",
    ],
)
def test_the_quick_check_beyond_ascii_and_case_decides_as_the_forms_do(text: str) -> None:
    assert redaction.redact_text(text) == _every_form(text)
    assert redaction.may_hold_secret(text) or _every_form(text) == text


@pytest.mark.parametrize(
    "fields",
    [
        {"output": "crypto isakmp \u212aey 0 hunter2 address 0.0.0.0"},  # beyond ASCII
        {"output": 'a "quoted" line\nusername admin password 0 Hunter2'},  # JSON escapes
        {"private_key": "anything", "steps": [{"device": "r1"}]},  # a secret field's name
        {"steps": [{"commands": ["interface Gi0/1", "shutdown"]}], "note": "snmp community x"},
    ],
)
def test_a_record_is_redacted_as_value_by_value_after_the_field_check(
    tmp_path: Path, fields: dict[str, object]
) -> None:
    # The journal passes over a field whose whole text holds no word a secret needs; what it
    # writes must be what value-by-value redaction writes, whatever the record holds.
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.record("device.observed", **fields)
    record = json.loads(path.read_text())
    assert {k: record[k] for k in fields} == redaction.redact(fields)
    assert record != {**record, **fields}  # each of these holds something masked


def test_every_secret_field_name_holds_a_word_of_the_quick_check() -> None:
    # The field check (redact_record) relies on it: a field named for a secret is
    # never passed over.
    for name in ("password", "secret", "token", "passphrase", "private_key", "enable_Password"):
        assert redaction._secret_key(name)
        assert redaction.may_hold_secret(name)
