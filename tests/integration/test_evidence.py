"""The journal as evidence, against the real lab: snapshots, drift, verification records,
reports, and no secret on disk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from labtools import LAB_DIR, journal_records, running_config, vtysh_config

from isolement.journal.redaction import redact


def test_no_lab_secret_reaches_any_file_the_tool_wrote(cli, state_dir: Path, tmp_path) -> None:
    secrets = list(json.loads((LAB_DIR / "secrets.json").read_text()).values())
    secrets.append((LAB_DIR / "id_ed25519").read_text().splitlines()[1])  # the login key
    assert secrets[0] in running_config("dc-rtr")  # the devices really hold them
    assert cli("cut", "cut-all", "--reason", "evidence", "--yes").returncode == 0
    assert cli("verify", "cut-all").returncode == 8  # the backup link: read-back state only
    assert (
        cli(
            "restore", "cut-all", "--all", "--approved-by", "cell", "--reason", "r", "--yes"
        ).returncode
        == 0
    )
    for fmt in ("md", "html", "json", "csv"):
        out = tmp_path / f"report.{fmt}"
        assert cli("journal", "export", "--format", fmt, "--output", str(out)).returncode == 0
    written = [p for p in [*state_dir.rglob("*"), *tmp_path.glob("report.*")] if p.is_file()]
    snapshots = [p for p in written if p.parent.name == "snapshots"]
    assert snapshots, "no configuration snapshot was kept"
    assert any("password <redacted>" in p.read_text() for p in snapshots)
    for path in written:
        content = path.read_text(errors="replace")
        for secret in secrets:
            assert secret not in content, f"a lab secret reached {path}"


def test_snapshot_before_the_cut_is_referenced_and_restore_matches_it(cli, state_dir) -> None:
    before = running_config("dc-rtr")
    assert cli("cut", "cut-intersite", "--reason", "snap", "--yes").returncode == 0
    intent = next(
        r
        for r in journal_records(state_dir)
        if r["event"] == "change.intent" and r["device"] == "dc-rtr"
    )
    stored = state_dir / "lab-hospital-group" / "snapshots" / f"{intent['snapshot']}.txt"
    text = stored.read_text()
    assert hashlib.sha256(text.encode()).hexdigest() == intent["snapshot"]
    assert stored.stat().st_mode & 0o777 == 0o600
    # The snapshot is the configuration as it was before the cut (secrets masked).
    assert text.splitlines() == redact(before).splitlines()
    assert "interface wan-h1\n shutdown" not in text
    done = cli(
        "restore", "cut-intersite", "--all", "--approved-by", "cell", "--reason", "r", "--yes"
    )
    assert done.returncode == 0
    # dc-rtr, h1-rtr, and the emulated dc-core, h3-sw, h4-sw, h5-sw
    assert done.stdout.count("configuration identical to before the cut") == 6


def test_hand_change_since_the_cut_is_reported_as_drift_and_left_alone(cli) -> None:
    assert cli("cut", "cut-intersite", "--reason", "drift", "--yes").returncode == 0
    vtysh_config("dc-rtr", "interface lan0", "description changed-by-hand")
    try:
        done = cli(
            "restore", "cut-intersite", "--all", "--approved-by", "cell", "--reason", "r", "--yes"
        )
        assert done.returncode == 0, done.stdout
        assert "DRIFT" in done.stdout and "+ description changed-by-hand" in done.stdout
        assert "description changed-by-hand" in running_config("dc-rtr")  # left alone
    finally:
        vtysh_config("dc-rtr", "interface lan0", "no description")


def test_verification_results_are_journaled(cli, state_dir) -> None:
    assert cli("cut", "cut-internet", "--reason", "v", "--yes").returncode == 0
    assert cli("verify", "cut-internet").returncode == 0
    result = [r for r in journal_records(state_dir) if r["event"] == "verify.result"][-1]
    assert result["contained"] is True
    assert result["links"] == {
        f"inet-{site}": "cut" for site in ("dc", "h1", "h2", "h3", "h4", "h5")
    }
    assert result["probes"]["h1-to-internet"] == {"result": "blocked", "expected": "blocked"}


def test_exported_report_holds_the_real_timeline(cli, state_dir, tmp_path) -> None:
    assert (
        cli(
            "cut", "cut-intersite", "--reason", "ransomware at h1", "--operator", "alice", "--yes"
        ).returncode
        == 0
    )
    assert (
        cli(
            "restore",
            "cut-intersite",
            "--all",
            "--approved-by",
            "Dr Martin",
            "--reason",
            "doubt lifted",
            "--yes",
        ).returncode
        == 0
    )
    out = tmp_path / "report.md"
    assert cli("journal", "export", "--format", "md", "--output", str(out)).returncode == 0
    text = out.read_text()
    records = journal_records(state_dir)
    for run in {r["run"] for r in records if r["event"] == "run.started"}:
        assert run in text
    assert "alice" in text and "ransomware at h1" in text and "Dr Martin" in text
    assert records[-1]["hash"] in text


def test_port_reopened_by_hand_since_the_cut_is_reported_as_drift(cli) -> None:
    assert cli("cut", "cut-intersite", "--reason", "drift", "--yes").returncode == 0
    vtysh_config("h1-rtr", "interface wan-dc", "no shutdown")  # someone, by hand
    done = cli(
        "restore", "cut-intersite", "--all", "--approved-by", "cell", "--reason", "r", "--yes"
    )
    assert done.returncode == 0, done.stdout
    assert "DRIFT  h1-rtr: wan-dc (wan-dc-h1) was already open: reopened by hand" in done.stdout
