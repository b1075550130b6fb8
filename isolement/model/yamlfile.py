"""Load a YAML file into a pydantic model, turning every failure into an InputError that names
the file and the field, so a typo is reported before anything reaches a device."""

from __future__ import annotations

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


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys: YAML silently keeps the last one, which
    would let a second definition of a device quietly replace the first."""


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


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", source=str(path)) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", source=str(path)) from None


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
