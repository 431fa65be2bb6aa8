"""TOML tables checked against the config dataclasses: the fields are the schema.

A key is the field's name with - for _, and its TOML type follows the annotation, so a
new setting is one new field and one default, never a second list of keys to keep in step.
"""

from __future__ import annotations

import collections.abc
import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from wheelworks.shared.errors import ConfigError

_EXPECTED = {"str": "a string", "strs": "a list of strings", "env": "a table of strings",
             "int": "a positive integer", "bool": "true or false"}


def _kind(hint: Any) -> str:
    """The TOML type a field's annotation asks for: "str", "strs" (a list of strings, or
    one string), "env" (a table of scalars), "int" (positive) or "bool"."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return _kind(args[0])
    if hint in (str, Path):
        return "str"
    if hint in (bool, int):
        return str(hint.__name__)
    if typing.get_origin(hint) is tuple:
        return "strs"
    if typing.get_origin(hint) in (Mapping, collections.abc.Mapping, dict):
        return "env"
    raise TypeError(f"no TOML kind for {hint!r}")


def schema_of(cls: type) -> dict[str, str]:
    """TOML key -> kind, from a config dataclass; fields marked ``toml=False`` are not keys."""
    hints = typing.get_type_hints(cls)
    return {f.name.replace("_", "-"): _kind(hints[f.name]) for f in fields(cls) if f.metadata.get("toml", True)}


def check_table(table: Mapping[str, Any], schema: Mapping[str, str], where: str) -> dict[str, Any]:
    """The table with each value checked against its key's kind (a lone string becomes a
    list where a list is asked for, table values become strings)."""
    check_keys(table, schema, where)
    out: dict[str, Any] = {}
    for key, value in table.items():
        kind = schema[key]
        if kind == "str" and isinstance(value, str):
            out[key] = value
        elif kind == "strs" and isinstance(value, str):
            out[key] = value.split()
        elif kind == "strs" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = value
        elif kind == "bool" and isinstance(value, bool):
            out[key] = value
        elif kind == "int" and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            out[key] = value
        elif kind == "env" and isinstance(value, dict) and all(
            isinstance(v, (str, int, float, bool)) for v in value.values()
        ):
            out[key] = {k: str(v) for k, v in value.items()}
        else:
            raise ConfigError(f"{where}: '{key}' must be {_EXPECTED[kind]}, not {value!r}")
    return out


def check_keys(table: Mapping[str, Any], known: Mapping[str, str], where: str) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
            raise ConfigError(f"{where}: unknown key '{key}'", hint)


def require(table: Mapping[str, Any], key: str, where: str) -> None:
    if not table.get(key):
        raise ConfigError(f"{where}: missing required key '{key}'")


def strs(value: Any) -> tuple[str, ...]:
    return tuple(value or ())
