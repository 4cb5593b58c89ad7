"""Validated `name: value` changes to a dataclass of knobs: the simulator's faults and settings.

Values may come typed (JSON, YAML) or as text (`--fault ack_drop=0.1`); each is coerced to the
field's type and checked against the rules, and every refusal names the knob and the fix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

__all__ = ["KnobRules", "apply_changes", "parse_assignments"]

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_TYPES: dict[str, type] = {"float": float, "int": int, "bool": bool, "str": str}


@dataclass(frozen=True)
class KnobRules:
    """How the knobs of one dataclass are checked."""

    kind: str
    """What a knob is called in messages ("fault", "setting")."""
    fractions: frozenset[str] = frozenset()
    """Knobs that are a fraction 0..1."""
    non_negative: frozenset[str] = frozenset()
    """Numeric knobs that must be 0 or more."""
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Text knobs and the values they accept."""
    ranges: Mapping[str, tuple[float, float, str]] = field(default_factory=dict)
    """Numeric knobs with bounds: (lowest, highest, what the value is)."""


def _coerce(rules: KnobRules, error: type[ValueError], key: str, kind: type,
            value: Any) -> Any:
    what = f"{rules.kind} '{key}'"
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise error(f"{what} must be true or false, got {value!r}")
    if kind is str:
        if not isinstance(value, str):
            raise error(f"{what} must be text, got {value!r}")
        allowed = rules.choices.get(key)
        if allowed is not None and value not in allowed:
            raise error(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise error(f"{what} must be a number, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise error(f"{what} must be a {kind.__name__}, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise error(f"{what} must be a finite number, got {value!r}")
    if key in rules.fractions and not 0.0 <= number <= 1.0:
        raise error(f"{what} is a fraction: give a value from 0 to 1, got {value!r}")
    if key in rules.non_negative and number < 0:
        raise error(f"{what} must be 0 or more, got {value!r}")
    if key in rules.ranges:
        low, high, meaning = rules.ranges[key]
        if not low <= number <= high:
            raise error(f"{what} must be {meaning} ({low:g}..{high:g}), got {value!r}")
    return number


def apply_changes(base: T, changes: Any, rules: KnobRules, error: type[ValueError]) -> T:
    """A copy of the dataclass `base` with `changes` applied; unknown keys and bad values raise
    `error` naming the knob. Nothing is applied unless everything is valid."""
    if not isinstance(changes, dict):
        raise error(f"{rules.kind} settings must be a mapping of name: value")
    assert dataclasses.is_dataclass(base) and not isinstance(base, type)
    types = {f.name: _TYPES[str(f.type)] for f in fields(base)}
    coerced: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in types:
            known = ", ".join(sorted(types))
            raise error(f"unknown {rules.kind} '{key}'; known {rules.kind}s: {known}")
        coerced[key] = _coerce(rules, error, key, types[key], value)
    return dataclasses.replace(base, **coerced)


def parse_assignments(items: list[str] | tuple[str, ...], option: str,
                      error: type[ValueError]) -> dict[str, str]:
    """`["ack_drop=0.1", ...]` from the command line into a mapping (`option` names the flag)."""
    settings: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise error(f"{option} takes name=value (e.g. {option} ack_drop=0.1), got {item!r}")
        settings[key.strip()] = value.strip()
    return settings
