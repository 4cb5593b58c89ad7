"""Placeholders in request templates: `${name}` expanded at send time.

Sources, in order: values given for this record (`--set name=value`, a rows-file column),
then the built-ins — `${env:NAME}` (the environment), `${uuid}` (a fresh id), `${now}` /
`${now:FORMAT}` (the current UTC time, ISO 8601 or strftime), `${today}` (YYYY-MM-DD),
`${seq}` (the record's number in the run, from 1). `$${` writes a literal `${`.
A placeholder with no value is an error that names it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["PLACEHOLDER", "PlaceholderError", "names_in", "expand", "BUILT_INS"]

PLACEHOLDER = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_.-]*)(?::([^}]*))?\}")
BUILT_INS = frozenset({"uuid", "now", "today", "seq", "env"})


class PlaceholderError(ValueError):
    """A placeholder that cannot be expanded; `name` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def names_in(text: str) -> list[str]:
    """Placeholder names used in `text` (`env` for `${env:X}`)."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1)]


def _value(name: str, arg: str | None, values: Mapping[str, Any], seq: int,
           now: dt.datetime) -> str:
    if name in values and arg is None:
        return str(values[name])
    if name == "env":
        if not arg:
            raise PlaceholderError(name, "${env:NAME} needs a variable name")
        if arg not in os.environ:
            raise PlaceholderError(name, f"${{env:{arg}}}: the environment variable {arg} is "
                                   "not set")
        return os.environ[arg]
    if name == "uuid":
        return uuid.uuid4().hex
    if name == "now":
        return now.strftime(arg) if arg else now.isoformat(timespec="seconds")
    if name == "today":
        return now.date().isoformat()
    if name == "seq":
        return str(seq)
    raise PlaceholderError(name, f"no value for ${{{name}}}: give it with --set {name}=... or a "
                           f"rows-file column named {name}")


def expand(value: Any, values: Mapping[str, Any], seq: int = 1,
           now: dt.datetime | None = None) -> Any:
    """`value` with every placeholder in its strings (at any depth) replaced."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    if isinstance(value, str):
        if "$" not in value:
            return value

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            return _value(match.group(1), match.group(2), values, seq, moment)

        return PLACEHOLDER.sub(replace, value)
    if isinstance(value, dict):
        return {k: expand(v, values, seq, moment) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, values, seq, moment) for v in value]
    return value
