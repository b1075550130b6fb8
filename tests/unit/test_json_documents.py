"""Every reporting command's --json document follows the JSON Schema shipped for it (isolement
schema NAME), errors included: the error document on stdout, the exit code unchanged. --help
documents the exit codes; completion scripts come from the parser."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from emulated import ISOLEMENT_BIN, Emulate, IsolementCli, LoginKey, write_cli_files
from isolement.lab.emulator import DeviceSpec, InterfaceSpec

from isolement.cli import documents
from isolement.cli.main import main


def _checked(name: str, text: str) -> dict[str, Any]:
    document = json.loads(text)
    jsonschema.validate(document, documents.schema(name))
    return dict(document)


def test_every_shipped_schema_is_a_valid_json_schema() -> None:
    assert set(documents.SCHEMA_OF.values()) == set(documents.names())
    for name in documents.names():
        jsonschema.Draft202012Validator.check_schema(documents.schema(name))


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["--json", "plan", "no-such-playbook"], "input"),
        (["--json", "cut", "cut-all"], "usage"),  # --reason missing: argparse refuses
        (["--json", "restore", "cut-all", "--all", "--reason", "r", "--yes"], "input"),
    ],
)
def test_an_error_is_a_document_on_stdout_with_the_same_exit_code(
    in_process_cli: None, capsys: pytest.CaptureFixture[str], argv: list[str], kind: str
) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    error = _checked("error", out)["error"]
    assert code == error["exit_code"] == 2
    assert error["kind"] == kind
    assert error["message"] in err  # the same words as without --json


def test_validate_plan_and_journal_verify_follow_their_schemas(
    in_process_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--json", "validate", "--no-credentials"]) == 0
    _checked("validate", capsys.readouterr().out)
    assert main(["--json", "plan", "cut-all", "--offline"]) == 0
    _checked("plan", capsys.readouterr().out)
    main(["--json", "journal", "verify"])
    _checked("journal-verify", capsys.readouterr().out)


def test_preflight_cut_status_verify_and_restore_follow_their_schemas(
    tmp_path: Path, emulate: Emulate, login_key: LoginKey
) -> None:
    emu = emulate([DeviceSpec(n, [InterfaceSpec("Gi0/0")]) for n in ("r1", "r2")])
    links = {
        f"inet-{n}": {"kind": "internet", "endpoints": [{"device": n, "interface": "Gi0/0"}]}
        for n in ("r1", "r2")
    }
    playbook = {"name": "cut-net", "cut": [{"select": {"kind": "internet"}}]}
    options, path = write_cli_files(tmp_path, emu, login_key, "two", links=links, playbook=playbook)
    cli = IsolementCli(Path(options[1]), tmp_path / "state")
    p = str(path)
    for schema, argv in [
        ("preflight", ["preflight", p]),
        ("run", ["cut", p, "--reason", "drill", "--yes"]),
        ("status", ["status", p]),
        ("verify", ["verify", p]),
        ("run", ["restore", p, "--all", "--approved-by", "a", "--reason", "r", "--yes"]),
    ]:
        done = cli.run("--json", *argv)
        document = _checked(schema, done.stdout)
        assert "error" not in document, done.stdout
        assert "sending" not in done.stderr  # no progress with --json


def test_help_documents_the_exit_codes_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for line in ("  0    done", "  3    partial", "  6    unknown", "  130  interrupted"):
        assert line in out
    assert "examples:" in out and "isolement cut cut-all --reason" in out


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_knows_every_command_and_option(shell: str) -> None:
    program = [str(ISOLEMENT_BIN)]
    script = subprocess.run(
        [*program, "completion", shell], capture_output=True, text=True, check=True
    ).stdout
    for word in ("validate", "plan", "cut", "restore", "--approved-by", "--map", "--reason"):
        assert word in script, word
    if shell == "bash":  # it loads in a real bash
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)
