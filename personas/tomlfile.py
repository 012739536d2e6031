"""The one reader of hogfleet's TOML files (``hogfleet.toml``, site profiles), with one error wording.

Every failure is a one-line :class:`HogfleetError` of the form ``<what> <path>: <problem>``, where the
problem names the key at fault when validation fails, e.g. ``config hogfleet.toml: fleet.trace:
Input should be 'on', 'off', ...``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from personas.errors import HogfleetError

CONFIG_FILENAME = "hogfleet.toml"
M = TypeVar("M", bound=BaseModel)


def config_path(path: Path | None) -> Path | None:
    """The ``hogfleet.toml`` a run reads: ``path``, else ``./hogfleet.toml`` if present, else None."""
    if path is not None:
        return path
    candidate = Path.cwd() / CONFIG_FILENAME
    return candidate if candidate.is_file() else None


def read_toml(path: Path, what: str = "config") -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HogfleetError(f"{what} {path}: file not found") from None
    except OSError as exc:
        raise HogfleetError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HogfleetError(f"{what} {path}: not valid TOML ({exc})".replace("\n", " ")) from None


def read_config(path: Path | None) -> dict[str, Any]:
    """The whole ``hogfleet.toml`` as a mapping (empty when there is none)."""
    found = config_path(path)
    return {} if found is None else read_toml(found)


def describe_error(exc: ValidationError, source: str, prefix: str = "") -> str:
    """One line for the first validation error, naming the key: ``<source>: <prefix><key>: <why>``."""
    errors = exc.errors()
    # A value that may take several shapes (a selector: a string or a table) fails once per shape;
    # the shape it did not try to be ("should be a valid string") says least.
    err = next((e for e in errors if e["type"] not in _SHAPE_ERRORS), errors[0])
    loc = prefix + ".".join(str(part) for part in err["loc"] if part != "[key]" and not _is_shape(part))
    kind = err["type"]
    # Dict keys that are not enum members show up as an "enum" error on the key: an unknown key.
    if kind in ("extra_forbidden", "enum"):
        return f"{source}: unknown key {loc}"
    if kind in ("less_than_equal", "greater_than_equal", "greater_than", "less_than"):
        return f"{source}: {loc} out of range ({err['msg'].lower()}, got {err.get('input')!r})"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{source}: {loc + ': ' if loc else ''}{msg}"


_SHAPE_ERRORS = frozenset({"string_type", "list_type", "model_type", "dict_type"})


def _is_shape(part: object) -> bool:
    """A union member's tag in an error location, not a key: a builtin ("str", "list[str]") or a
    table model, whose names end in "Spec" by convention (flows/profile.py: SelectorSpec)."""
    text = str(part)
    return text in ("str", "int", "float", "bool") or text.startswith("list[") or text.endswith("Spec")


def validate(model: type[M], data: Any, source: str, prefix: str = "") -> M:
    """``model`` from ``data``, or a one-line :class:`HogfleetError` naming the key at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise HogfleetError(describe_error(exc, source, prefix)) from None
