"""Load a YAML file into a pydantic model, turning every failure into an InputError that names
the file and the field, so a typo is reported before anything reaches a device."""

from __future__ import annotations

import os
import stat
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

try:  # libyaml's scanner and parser, when PyYAML was built with it: twice as fast
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - pure-Python PyYAML
    from yaml.parser import Parser as _Parser  # type: ignore[assignment]


class _TooDeep(yaml.composer.ComposerError):
    """Nesting beyond MAX_DEPTH, with the mark of the node that went too deep."""


class _UniqueKeyLoader(
    _Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    yaml.resolver.Resolver,
):
    """A safe loader that refuses duplicate mapping keys (YAML silently keeps the last one,
    which would let a second definition of a device quietly replace the first) and nesting
    deeper than MAX_DEPTH (refused as it is read, before Python's stack runs out).

    The composer is PyYAML's own, in Python, even over libyaml's parser: it is where the depth
    is counted."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._depth = 0

    # The composer's own methods, not libyaml's (CParser defines them too, in C, and comes first).
    get_single_node = yaml.composer.Composer.get_single_node
    compose_document = yaml.composer.Composer.compose_document

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event: Any = self.peek_event()
                raise _TooDeep(None, None, "nested too deeply", event.start_mark)
            return yaml.composer.Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


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


def _expanded_nodes(node: yaml.Node, limit: int) -> int:
    """How many nodes the document holds once its aliases are expanded, counted without
    expanding them; stops counting past `limit`. The depth is already bounded (MAX_DEPTH)."""
    sizes: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        known = sizes.get(id(n))
        if known is not None:
            return known
        total = 1
        if isinstance(n, yaml.SequenceNode):
            total += sum(size(child) for child in n.value)
        elif isinstance(n, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in n.value)
        sizes[id(n)] = total = min(total, limit + 1)
        return total

    return size(node)


def read_yaml(path: Path) -> Any:
    text = read_text(path)
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Aliases share nodes, and what reads the data walks each use of them: a few lines of
        # nested aliases ("billion laughs") would expand to 10^9 nodes.
        limit = max_input_bytes() // 2
        if _expanded_nodes(node, limit) > limit:
            raise InputError(
                f"its aliases (*name) expand to more than {limit} values: refused",
                source=str(path),
            )
        return loader.construct_document(node)
    except _TooDeep as exc:
        raise InputError(
            f"nested too deeply: more than {MAX_DEPTH} levels at {_where(exc.problem_mark)}",
            source=str(path),
        ) from None
    except yaml.YAMLError as exc:
        if isinstance(exc, yaml.MarkedYAMLError) and "nesting depth" in (exc.problem or ""):
            # libyaml's own limit (1000 levels), met while it reads ahead of the composer.
            raise InputError(
                f"nested too deeply: more than {MAX_DEPTH} levels, seen at "
                f"{_where(exc.problem_mark)}",
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
