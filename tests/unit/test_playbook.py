"""Playbooks: the shipped ones load, a bad one is refused naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import BAD_DATA, PLAYBOOKS

from isolement.model.errors import InputError
from isolement.model.inventory import LinkKind
from isolement.model.playbook import Playbook, available_playbooks, load_playbook
from isolement.model.state import CutMethod

SHIPPED = sorted(path.stem for path in PLAYBOOKS.glob("*.yaml"))


def write(tmp_path: Path, text: str, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_three_documented_playbooks_are_shipped() -> None:
    assert {"cut-intersite", "cut-internet", "isolate-site"} <= set(SHIPPED)
    assert available_playbooks(PLAYBOOKS) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_playbook_loads_by_name(name: str) -> None:
    raw = yaml.safe_load((PLAYBOOKS / f"{name}.yaml").read_text())
    playbook = load_playbook(name, PLAYBOOKS)

    assert playbook.name == raw["name"] == name
    assert playbook.source == PLAYBOOKS / f"{name}.yaml"
    assert len(playbook.cut) == len(raw["cut"])
    assert playbook.parameters == raw.get("parameters", [])


def test_shipped_cut_intersite_selects_intersite_and_backup() -> None:
    playbook = load_playbook("cut-intersite", PLAYBOOKS)
    (rule,) = playbook.cut
    assert rule.select.kind == [LinkKind.INTERSITE, LinkKind.BACKUP]
    assert rule.method == "auto"


def test_playbook_loads_by_path(tmp_path: Path) -> None:
    path = write(tmp_path, "name: only-wan\ncut:\n  - select: {link: wan-dc-h1}\n")
    playbook = load_playbook(str(path), PLAYBOOKS)
    assert playbook.name == "only-wan"
    assert playbook.source == path
    # A single value is taken as a one-item list.
    assert playbook.cut[0].select.link == ["wan-dc-h1"]


def test_unknown_playbook_name_lists_the_available_ones() -> None:
    with pytest.raises(InputError) as caught:
        load_playbook("cut-everything", PLAYBOOKS)
    message = str(caught.value)
    assert "'cut-everything'" in message
    for name in SHIPPED:
        assert name in message


def test_unknown_playbook_in_an_empty_directory_says_none(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="available playbooks: none"):
        load_playbook("cut-internet", tmp_path)


def test_bad_method_is_refused_naming_file_and_field() -> None:
    path = BAD_DATA / "playbook-bad-method.yaml"
    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)
    assert caught.value.source == str(path)
    assert caught.value.field is not None
    assert caught.value.field.startswith("cut.0.method")
    assert f"field {caught.value.field}" in str(caught.value)


def test_bad_method_names_the_exact_field_and_every_allowed_value() -> None:
    path = BAD_DATA / "playbook-bad-method.yaml"
    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)
    assert caught.value.field == "cut.0.method"
    for method in ("auto", *CutMethod):
        assert f"'{method}'" in str(caught.value)


def test_bad_kind_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncut:\n  - select: {kind: wifi}\n")
    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)
    assert caught.value.field == "cut.0.select.kind.0"


def test_unknown_playbook_field_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncut:\n  - select: {kind: internet}\n    methd: deny\n")
    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)
    assert caught.value.field == "cut.0.methd"


def test_playbook_with_no_cut_rule_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ncut: []\n")
    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)
    assert caught.value.field == "cut"


def test_site_selector_keeps_the_site_placeholder() -> None:
    playbook = load_playbook("isolate-site", PLAYBOOKS)
    assert playbook.parameters == ["site"]
    assert playbook.cut[0].select.site == ["{site}"]


@pytest.mark.parametrize(
    "site",
    ["{site}\nreload", "{site};x", "{Site}", "{site", "h1 h2", "'h1'"],
)
def test_site_selector_that_is_neither_a_name_nor_a_placeholder_is_refused(site: str) -> None:
    with pytest.raises(ValueError, match=r"select\.site\.0"):
        Playbook.model_validate({"name": "x", "cut": [{"select": {"site": site}}]})


def test_only_site_is_a_known_parameter(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nparameters: [zone]\ncut:\n  - select: {kind: internet}\n")
    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)
    assert caught.value.field == "parameters.0"


# --- reconnection stages ---------------------------------------------------------------------

# A playbook with one stage; `stage` is that stage's YAML, indented under `stages:`.
_STAGED = "name: x\ncut:\n  - select: {kind: internet}\nstages:\n"
_FLOW = "{protocol: tcp, source: 198.18.20.0/24, destination: 198.18.250.10/32, port: 80}"


def test_shipped_cut_all_has_its_five_stages_in_clinical_order() -> None:
    playbook = load_playbook("cut-all", PLAYBOOKS)

    assert [stage.name for stage in playbook.stages] == [
        "clinical-h1",
        "clinical-h2",
        "clinical-h3-h5",
        "health-portal",
        "internet",
    ]


def test_stage_opening_nothing_is_refused_naming_the_stage(tmp_path: Path) -> None:
    path = write(tmp_path, _STAGED + "  - name: s1\n    checks: {passes: [dc-to-h1]}\n")

    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)

    assert caught.value.field == "stages.0"
    assert "'open' or 'allow'" in str(caught.value)


def test_duplicate_stage_name_is_refused_at_the_second_one(tmp_path: Path) -> None:
    stages = "".join(
        f"  - name: {name}\n    open: {{kind: internet}}\n" for name in ("s1", "s2", "s1")
    )
    path = write(tmp_path, _STAGED + stages)

    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)

    assert caught.value.field == "stages.2.name"
    assert "'s1'" in str(caught.value)


def test_unknown_stage_name_lists_the_playbooks_stages() -> None:
    playbook = load_playbook("cut-all", PLAYBOOKS)

    with pytest.raises(InputError) as caught:
        playbook.stage("nope")

    message = str(caught.value)
    assert "'nope'" in message
    assert "clinical-h1, clinical-h2, clinical-h3-h5, health-portal, internet" in message


def test_stage_is_found_with_its_index() -> None:
    playbook = load_playbook("cut-all", PLAYBOOKS)

    index, stage = playbook.stage("health-portal")

    assert index == 3
    assert stage is playbook.stages[3]


@pytest.mark.parametrize(
    ("flow", "field"),
    [
        pytest.param(_FLOW.replace("tcp", "gre"), "protocol", id="protocol-gre"),
        pytest.param(_FLOW.replace("port: 80", "port: 70000"), "port", id="port-70000"),
        pytest.param(_FLOW.replace("port: 80", "port: 0"), "port", id="port-0"),
        pytest.param(_FLOW.replace("198.18.20.0/24", "hospital"), "source", id="source-a-word"),
        pytest.param(
            _FLOW.replace("198.18.20.0/24", "198.18.20.1/24"), "source", id="source-host-bits"
        ),
    ],
)
def test_bad_flow_is_refused_naming_its_field(tmp_path: Path, flow: str, field: str) -> None:
    stage = f"  - name: s1\n    allow:\n      - via: inet-h1\n        flows: [{flow}]\n"
    path = write(tmp_path, _STAGED + stage)

    with pytest.raises(InputError) as caught:
        load_playbook(str(path), PLAYBOOKS)

    assert caught.value.field == f"stages.0.allow.0.flows.0.{field}"


def test_well_formed_flow_loads(tmp_path: Path) -> None:
    """The baseline the bad-flow cases above differ from by one field."""
    stage = f"  - name: s1\n    allow:\n      - via: inet-h1\n        flows: [{_FLOW}]\n"
    playbook = load_playbook(str(write(tmp_path, _STAGED + stage)), PLAYBOOKS)

    (flow,) = playbook.stages[0].allow[0].flows
    assert (flow.protocol, str(flow.source), str(flow.destination), flow.port) == (
        "tcp",
        "198.18.20.0/24",
        "198.18.250.10/32",
        80,
    )
