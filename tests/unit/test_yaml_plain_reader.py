"""The one-pass reader of plain YAML documents (yamlfile._plain, issue #16) reads exactly what
PyYAML's full loader reads, and leaves to it every document it does not handle, so errors keep
their messages and line numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from isolement.model import yamlfile
from isolement.model.errors import InputError

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")

REPO = Path(__file__).resolve().parents[2]


def full(text: str) -> Any:
    loader = yamlfile._Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


SCALARS = """
strings: [a, 'quoted', "double", "123", '', GigabitEthernet0/1, "yes"]
quoted: ["~", 'null', "true", "1.5", "0x1F", "2024-03-01", "", ! 12, ! yes, ! ~]
letters: [d0042, Yes, Off, TRUE, NULL, nothing, yesterday, onward, Te0/0/4, x1]
booleans: [yes, no, on, off, true, False, y, n]
numbers: [1, -2, 0x1F, 0o17, 017, 1_000, 1:30, 1.5, 1e3, .inf, -.Inf, .nan, 6.8523015e+5]
nulls: [~, null, Null, ]
dates: [2024-03-01, 2024-03-01T10:20:30Z]
nested: {a: {b: [1, {c: d}]}, "k v": x, 1: one, false: f, ~: nothing}
folded: >
  one
  two
literal: |
  line 1
  line 2
empty: {}
none:
"""


@pytest.mark.parametrize(
    "text",
    [SCALARS, "", "# only a comment\n", "just a scalar\n", "[1, 2]\n", "---\na: 1\n...\n"],
    ids=["scalars", "empty", "comment", "scalar", "sequence", "explicit-document"],
)
def test_plain_documents_read_as_the_full_loader_reads_them(text: str) -> None:
    # By repr: the types too (1 is not True), and .nan, which equals nothing.
    assert repr(yamlfile._plain(text)) == repr(full(text))


def test_every_shipped_inventory_and_playbook_reads_the_same() -> None:
    files = sorted(REPO.glob("inventories/**/*.yaml")) + sorted(REPO.glob("playbooks/**/*.yaml"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yamlfile._plain(text) == full(text), path


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "base: &b {k: 1}\nthis:\n  <<: *b\n  j: 2\n",  # merge key
        "a: !!str 1\n",  # explicit tag
        "a: 1\na: 2\n",  # duplicate key
        "a: 1\n---\nb: 2\n",  # two documents
        "a: [1\n",  # malformed
        "? [1, 2]\n: v\n",  # a key a dict cannot hold
        "[" * 70 + "]" * 70 + "\n",  # too deep
    ],
    ids=["alias", "merge", "tag", "duplicate", "two-documents", "malformed", "complex-key", "deep"],
)
def test_what_it_does_not_handle_is_left_to_the_full_loader(text: str) -> None:
    with pytest.raises(yamlfile._NotPlain):
        yamlfile._plain(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("devices:\n  r1: {}\n  r1: {}\n", "duplicate key 'r1' (line 3, column 3)"),
        ("devices:\n  r1: [\n", "line 3, column 1"),
        ("a: " + "[" * 70 + "]" * 70 + "\n", "nested too deeply (more than 64 levels) at line 1"),
    ],
    ids=["duplicate", "malformed", "deep"],
)
def test_errors_keep_the_full_loaders_message_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        yamlfile.read_yaml(path)
    assert message in str(caught.value), str(caught.value)
    assert str(path) in str(caught.value)


def test_aliases_are_still_read_by_the_full_loader(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text("base: &b {site: s1}\nr1:\n  <<: *b\n  role: router\n")
    assert yamlfile.read_yaml(path) == {
        "base": {"site": "s1"},
        "r1": {"site": "s1", "role": "router"},
    }
