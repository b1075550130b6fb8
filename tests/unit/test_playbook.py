"""Playbooks: the shipped ones load, a bad one is refused naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import BAD_DATA, PLAYBOOKS

from isolement.errors import InputError
from isolement.inventory import LinkKind
from isolement.playbook import Playbook, available_playbooks, load_playbook
from isolement.state import CutMethod

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
