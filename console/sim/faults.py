"""Faults the simulator can inject, chosen at start and switchable at run time.

All randomness comes from one `random.Random(seed)`, so a run with the same seed and the same
sequence of requests injects the same faults.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, fields
from typing import Any


class FaultError(ValueError):
    """A fault setting that cannot be used; the message names the key and the fix."""


@dataclass
class Faults:
    """The fault settings. Every field defaults to "no fault"."""

    ack_delay_ms: float = 0.0
    """Delay between the HTTP reply and the acknowledgement notification."""
    ack_jitter_ms: float = 0.0
    """Uniform random extra delay (0..jitter) added to `ack_delay_ms`."""
    ack_drop: float = 0.0
    """Fraction (0..1) of accepted records whose notifications are never sent."""
    ack_error: float = 0.0
    """Fraction (0..1) of accepted records answered by an Error notification instead of an ack."""
    http_error: int = 503
    """HTTP status used for error bursts (500 or 503 are the useful ones)."""
    http_error_rate: float = 0.0
    """Chance (0..1) that an AddRecord POST starts a burst of `http_error` replies."""
    http_error_burst: int = 1
    """Length of a burst: this many consecutive AddRecord POSTs get `http_error`."""
    status_code: int = 0
    """A GWS statusCode (e.g. 2, 4, 13) to answer some AddRecord POSTs with instead of 0."""
    status_rate: float = 0.0
    """Fraction (0..1) of AddRecord POSTs answered with `status_code`."""
    hold_forever: bool = False
    """Hold every long-poll connect without ever answering (a stuck GWS node)."""
    slow_ms: float = 0.0
    """Delay added before every HTTP reply (REST and Bayeux)."""
    seed: int = 0
    """Seed of the random generator; the same seed gives the same faults."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_PROBABILITIES = {"ack_drop", "ack_error", "http_error_rate", "status_rate"}
_NON_NEGATIVE = {"ack_delay_ms", "ack_jitter_ms", "slow_ms"}
_FIELD_TYPES: dict[str, type] = {
    f.name: {"float": float, "int": int, "bool": bool}[str(f.type)] for f in fields(Faults)
}


def _coerce(key: str, value: Any) -> Any:
    kind = _FIELD_TYPES[key]
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false",
                                                          "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
        raise FaultError(f"fault '{key}' must be true or false, got {value!r}")
    if isinstance(value, bool):
        raise FaultError(f"fault '{key}' must be a number, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise FaultError(f"fault '{key}' must be a {kind.__name__}, got {value!r}") from None
    if key in _PROBABILITIES and not 0.0 <= number <= 1.0:
        raise FaultError(f"fault '{key}' is a fraction: give a value from 0 to 1, got {value!r}")
    if key in _NON_NEGATIVE and number < 0:
        raise FaultError(f"fault '{key}' is a duration in ms: give 0 or more, got {value!r}")
    if key == "http_error" and not 400 <= number <= 599:
        raise FaultError(f"fault 'http_error' must be an HTTP error status (400..599), got {value!r}")
    if key == "http_error_burst" and number < 1:
        raise FaultError(f"fault 'http_error_burst' must be 1 or more, got {value!r}")
    return number


def apply_settings(base: Faults, settings: dict[str, Any]) -> Faults:
    """A copy of `base` with `settings` applied; unknown keys and bad values raise FaultError."""
    if not isinstance(settings, dict):
        raise FaultError("fault settings must be a mapping of name: value")
    changes: dict[str, Any] = {}
    for key, value in settings.items():
        if key not in _FIELD_TYPES:
            known = ", ".join(sorted(_FIELD_TYPES))
            raise FaultError(f"unknown fault '{key}'; known faults: {known}")
        changes[key] = _coerce(key, value)
    return dataclasses.replace(base, **changes)


def parse_assignments(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["ack_drop=0.1", ...]` from the command line into a settings mapping."""
    settings: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise FaultError(f"--fault takes name=value (e.g. ack_drop=0.1), got {item!r}")
        settings[key.strip()] = value.strip()
    return settings


class FaultInjector:
    """Draws fault decisions from the settings with a seeded generator."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)
        self._burst_left = 0

    def update(self, faults: Faults) -> None:
        """Switch to new settings; a changed seed restarts the generator."""
        if faults.seed != self.faults.seed:
            self._rng = random.Random(faults.seed)
        self.faults = faults
        self._burst_left = 0

    def http_error(self) -> int | None:
        """The HTTP status to fail this AddRecord POST with, if a burst is on."""
        f = self.faults
        if self._burst_left == 0 and f.http_error_rate > 0 and self._rng.random() < f.http_error_rate:
            self._burst_left = f.http_error_burst
        if self._burst_left > 0:
            self._burst_left -= 1
            return f.http_error
        return None

    def status_code(self) -> int | None:
        f = self.faults
        if f.status_rate > 0 and f.status_code and self._rng.random() < f.status_rate:
            return f.status_code
        return None

    def ack_fate(self) -> str:
        """'ack', 'drop' or 'error' for an accepted record."""
        f = self.faults
        if f.ack_drop > 0 and self._rng.random() < f.ack_drop:
            return "drop"
        if f.ack_error > 0 and self._rng.random() < f.ack_error:
            return "error"
        return "ack"

    def ack_delay_s(self) -> float:
        f = self.faults
        delay = f.ack_delay_ms
        if f.ack_jitter_ms > 0:
            delay += self._rng.uniform(0.0, f.ack_jitter_ms)
        return delay / 1000.0
