"""Load a YAML file into a pydantic model, turning every failure into an InputError that names
the file and the field, so a typo is reported before anything reaches a device."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from isolement.model.errors import InputError

M = TypeVar("M", bound=BaseModel)


class FieldError(ValueError):
    """Raised by a model-level validator to say which field is wrong (pydantic would otherwise
    report the whole model as the location)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


# Deeper than any inventory or playbook nests (about 6 levels), far below what exhausts Python's
# stack: PyYAML composes and constructs nodes recursively, so 10 000 nested `[` would otherwise
# end in a RecursionError.
MAX_DEPTH = 64
# The largest file read, unless raised: a 10 000-link inventory is about 2 MiB and loads in a few
# seconds (bench/bench_loader.py); a file of 40 MiB would take minutes to be refused by its
# content. Read no byte beyond it (a FIFO or /dev/zero is refused the same way).
DEFAULT_MAX_MIB = 16
MAX_MIB_ENV = "ISOLEMENT_MAX_INPUT_MIB"


class _TooDeep(yaml.composer.ComposerError):
    """Nesting beyond MAX_DEPTH, with the mark of the node that went too deep."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *defaults`: its keys are defaults this mapping's own keys override
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


class _Checked(yaml.composer.Composer, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """What isolement's loaders add to a YAML parser: a safe constructor that refuses duplicate
    mapping keys (YAML silently keeps the last one, which would let a second definition of a
    device quietly replace the first), and PyYAML's composer, in Python, counting the depth:
    nesting deeper than MAX_DEPTH is refused as it is read, before Python's stack runs out.

    First in the loaders' bases, so its composer is used even over libyaml's (CParser has its
    own, in C, that counts nothing)."""

    get_single_node = yaml.composer.Composer.get_single_node
    compose_document = yaml.composer.Composer.compose_document

    def _start(self) -> None:
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._depth = 0
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            self.aliases += 1
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event: Any = self.peek_event()  # type: ignore[attr-defined]
                raise _TooDeep(None, None, "nested too deeply", event.start_mark)
            return yaml.composer.Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1


_Checked.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _PythonLoader(_Checked, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's reader, scanner and parser in Python: when PyYAML was built without libyaml."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        self._start()


_Loader: Any = _PythonLoader  # the class, libyaml's below when PyYAML has it
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _LibyamlLoader(_Checked, CParser):
        """libyaml's scanner and parser, in C: about twice as fast (bench/bench_loader.py)."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            self._start()

    _Loader = _LibyamlLoader

    class _EventReader(CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """libyaml's events, and PyYAML's own resolver and scalar constructors, for `_plain`."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


class _NotPlain(Exception):
    """A document `_plain` leaves to the full loader: anchors, aliases, tags, merge keys,
    duplicate keys, too deep, malformed, several documents (the full loader says what)."""


_STR = "tag:yaml.org,2002:str"
_FALLBACK_TAGS = {"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"}


def _plain(text: str) -> Any:
    """The document as the full loader reads it, for a document without anchors, aliases, tags
    or merge keys (every inventory and playbook isolement writes or ships), in one pass over
    libyaml's events: no node tree, no recursion. The loader's composer and constructor are
    in Python and take 80-90 % of a 10 000-link inventory's read (bench/bench_loader.py); each
    scalar is still resolved and constructed by PyYAML itself, so `yes`, `0x1F`, `1:30` or a
    date read as they always did. Anything else raises _NotPlain, before any value is used:
    the full loader then reads the document again and says, with its line, what is wrong."""
    reader = _EventReader(text)
    try:
        return _build(reader)
    except yaml.YAMLError:
        raise _NotPlain from None
    finally:
        reader.dispose()


def _build(reader: Any) -> Any:
    # Each open container: [the dict or list, the key read and waiting for its value (a
    # mapping's), whether a key is waiting].
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    scalar_node = yaml.ScalarNode
    # The first characters an implicit tag (int, bool, null, date...) may start with: a quoted
    # scalar, or a plain one starting otherwise (`d0042`, `GigabitEthernet0/1`), is a string, as
    # the resolver would say after trying its patterns. Its patterns only when neither holds.
    implicit_starts = frozenset(reader.yaml_implicit_resolvers)
    shortcut = None not in implicit_starts and not reader.yaml_path_resolvers
    while True:
        event = reader.get_event()
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or event.tag not in (None, "!") or len(stack) >= MAX_DEPTH:
                raise _NotPlain
            text = event.value
            if shortcut and (not event.implicit[0] or (text and text[0] not in implicit_starts)):
                tag = _STR
            else:
                tag = reader.resolve(scalar_node, text, event.implicit)
            if tag == _STR:
                value: Any = event.value
            elif tag in _FALLBACK_TAGS:
                raise _NotPlain
            else:
                value = reader.construct_object(
                    scalar_node(tag, event.value, event.start_mark, event.end_mark, event.style)
                )
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _NotPlain
            if len(stack) >= MAX_DEPTH:
                raise _NotPlain
            stack.append([{} if kind is yaml.MappingStartEvent else [], None, False])
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            value = stack.pop()[0]
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _NotPlain  # several documents: the full loader refuses them
            continue
        elif kind is yaml.StreamEndEvent:
            return root
        elif kind is yaml.AliasEvent:
            raise _NotPlain
        else:  # stream start, document end
            continue
        if not stack:
            root = value
            continue
        top = stack[-1]
        container = top[0]
        if type(container) is list:
            container.append(value)
        elif not top[2]:
            if not isinstance(value, (str, int, float, bool, type(None))) or value in container:
                raise _NotPlain  # a duplicate key, or one a dict cannot hold as YAML means it
            top[1], top[2] = value, True
        else:
            container[top[1]] = value
            top[2] = False


MIB = 1024 * 1024


def max_input_bytes() -> int:
    """The size cap on a YAML file, from ISOLEMENT_MAX_INPUT_MIB when set."""
    raw = os.environ.get(MAX_MIB_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_MIB * MIB
    try:
        mib = float(raw)
    except ValueError:
        mib = 0.0
    if not 0 < mib < 1024 * 1024:
        raise InputError(f"{MAX_MIB_ENV}={raw!r} is not a size in MiB (for instance 64)")
    return int(mib * MIB)


def _too_big(path: Path, size: str, limit: int) -> InputError:
    return InputError(
        f"{size} is more than the {limit / MIB:.3g} MiB isolement reads (a 10 000-link inventory "
        f"is about 2 MiB): refused before parsing. If this file is really meant, raise the "
        f"limit: {MAX_MIB_ENV}=<MiB>",
        source=str(path),
    )


def read_text(path: Path) -> str:
    """The file's text, read no further than the size cap."""
    limit = max_input_bytes()
    try:
        with path.open("rb") as handle:
            st = os.fstat(handle.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise InputError("is a directory, not a file", source=str(path))
            if stat.S_ISREG(st.st_mode) and st.st_size > limit:
                raise _too_big(path, f"{st.st_size / MIB:.1f} MiB", limit)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None
    if len(data) > limit:  # not a plain file (a pipe, a device): its size is known only now
        raise _too_big(path, "its content", limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=str(path)) from None


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _one_line(exc: yaml.YAMLError) -> str:
    """PyYAML's message on one line: what it was reading, what went wrong, and where."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(str(exc).split())
    parts = []
    if exc.context:
        parts.append(
            f"{exc.context} ({_where(exc.context_mark)})" if exc.context_mark else exc.context
        )
    if exc.problem:
        parts.append(
            f"{exc.problem} ({_where(exc.problem_mark)})" if exc.problem_mark else exc.problem
        )
    return " ".join(", ".join(parts).split())


class _Unreadable(yaml.MarkedYAMLError):
    """A document whose aliases make it a cycle, too deep, or too big once expanded."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_aliases(root: yaml.Node, limit: int) -> None:
    """Refuse a document whose aliases (shared nodes) would make whatever reads it loop, nest
    deeper than MAX_DEPTH once expanded, or expand past `limit` values ("billion laughs": ten
    lines of nested aliases are 10^9 values). Walks the node graph without recursion and
    without expanding it: each node's expanded size and height are counted once."""
    known: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height) once expanded
    on_path = {id(root)}
    # (node, its children still to walk, [values so far, height so far])
    stack: list[tuple[yaml.Node, Iterator[yaml.Node], list[int]]] = [
        (root, iter(_children(root)), [1, 1])
    ]
    while stack:
        node, children, counted = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            on_path.discard(id(node))
            known[id(node)] = (counted[0], counted[1])
            if stack:
                _add(stack[-1][2], counted[0], counted[1], node, limit)
            continue
        key = id(child)
        if key in on_path:
            raise _Unreadable(
                None, None, "an alias (*name) refers to a node that contains it", child.start_mark
            )
        if key in known:
            _add(counted, *known[key], child, limit)
        elif isinstance(child, yaml.ScalarNode):
            _add(counted, 1, 1, child, limit)
        else:
            on_path.add(key)
            stack.append((child, iter(_children(child)), [1, 1]))


def _add(parent: list[int], values: int, height: int, child: yaml.Node, limit: int) -> None:
    """Count a child's expanded values and height into its parent's."""
    parent[0] += values
    parent[1] = max(parent[1], height + 1)
    if parent[0] > limit:
        raise _Unreadable(
            None, None, f"its aliases (*name) expand to more than {limit} values", child.start_mark
        )
    if parent[1] > MAX_DEPTH:
        raise _TooDeep(None, None, "nested too deeply", child.start_mark)


def read_yaml(path: Path) -> Any:
    text = read_text(path)
    if yaml.__with_libyaml__:
        try:
            return _plain(text)
        except _NotPlain:
            pass  # read by the full loader, which says what is wrong, and where
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if loader.aliases:  # without any, the document is a tree: its depth is counted
            _check_aliases(node, max_input_bytes() // 2)
        return loader.construct_document(node)
    except _TooDeep as exc:
        raise InputError(
            f"nested too deeply (more than {MAX_DEPTH} levels) at {_where(exc.problem_mark)}",
            source=str(path),
        ) from None
    except _Unreadable as exc:
        raise InputError(
            f"{exc.problem} (the node at {_where(exc.problem_mark)}): refused", source=str(path)
        ) from None
    except yaml.YAMLError as exc:
        if isinstance(exc, yaml.MarkedYAMLError) and "nesting depth" in (exc.problem or ""):
            # libyaml's own limit (1000 levels), met while it reads ahead of the composer.
            raise InputError(
                f"nested too deeply (more than {MAX_DEPTH} levels) at {_where(exc.problem_mark)}",
                source=str(path),
            ) from None
        raise InputError(f"malformed YAML: {_one_line(exc)}", source=str(path)) from None
    finally:
        loader.dispose()


def field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_model(path: Path, model: type[M]) -> M:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError("expected a mapping at the top level", source=str(path))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            field, message = cause.field, str(cause)
        else:
            field, message = field_path(first["loc"]), first["msg"]
        raise InputError(f"{message}{more}", source=str(path), field=field) from None
