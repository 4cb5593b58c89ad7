"""Faults the simulator can inject, chosen at start and switchable at run time.

All randomness comes from one `random.Random(seed)`, so a run with the same seed and the same
sequence of requests injects the same faults. A fault whose rate is 0 draws nothing, so adding
one never changes the sequence of the others.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

from console.sim.bayeux import BayeuxTuning
from console.sim.knobs import KnobRules, apply_changes
from console.sim.knobs import parse_assignments as _parse_assignments


class FaultError(ValueError):
    """A fault setting that cannot be used; the message names the key and the fix."""


#: What an AddRecord's HTTP reply becomes after GWS accepted it (record stored, notified).
REPLY_FAULTS: tuple[str, ...] = ("accept_then_reset", "accept_then_hang", "accept_then_garbage")


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
    accept_then_reset: float = 0.0
    """Fraction (0..1) of AddRecords GWS accepts (stored, notified as usual) whose HTTP reply
    is a reset connection instead of `{"statusCode": 0}`."""
    accept_then_hang: float = 0.0
    """Fraction (0..1) of AddRecords accepted whose HTTP reply never comes (the connection stays
    open until the client gives up)."""
    accept_then_garbage: float = 0.0
    """Fraction (0..1) of AddRecords accepted whose HTTP reply is HTTP 200 with a body that is
    not JSON (a truncated JSON text followed by bytes that are not UTF-8)."""
    reset_before_accept: float = 0.0
    """Fraction (0..1) of AddRecord POSTs refused by a plain connection reset before anything is
    stored (the other side of "unknown": here nothing happened)."""
    hold_forever: bool = False
    """Hold every long-poll connect without ever answering (a stuck GWS node)."""
    hold_extra_ms: float = 0.0
    """Hold connects this much longer than the advised timeout (a slow node or proxy: a client
    waits advice.timeout + its maxNetworkDelay before giving up)."""
    advice_interval_ms: int = 0
    """When > 0, the `interval` advised to clients (wait this long between connects); the
    session sweep waits interval + maxInterval."""
    advice_timeout_ms: int = 0
    """When > 0, the `timeout` advised to clients and used to hold connects."""
    advice_reconnect: str = "retry"
    """The `reconnect` advice of connect replies: retry (normal), handshake or none."""
    multiple_clients: bool = False
    """CometD's maxSessionsPerBrowser = 1: a second session sharing the BAYEUX_BROWSER cookie
    gets its connects answered at once with `multiple-clients` advice (interval 2000 ms)."""
    slow_ms: float = 0.0
    """Delay added before every HTTP reply (REST and Bayeux)."""
    seed: int = 0
    """Seed of the random generator; the same seed gives the same faults."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def bayeux_tuning(self) -> BayeuxTuning:
        """The part of the faults the Bayeux server applies."""
        return BayeuxTuning(
            hold_forever=self.hold_forever, hold_extra_ms=self.hold_extra_ms,
            interval_ms=self.advice_interval_ms or None,
            timeout_ms=self.advice_timeout_ms or None, reconnect=self.advice_reconnect,
            multiple_clients=self.multiple_clients)


RULES = KnobRules(
    kind="fault",
    fractions=frozenset({"ack_drop", "ack_error", "http_error_rate", "status_rate",
                         *REPLY_FAULTS, "reset_before_accept"}),
    non_negative=frozenset({"ack_delay_ms", "ack_jitter_ms", "slow_ms", "hold_extra_ms"}),
    choices={"advice_reconnect": ("retry", "handshake", "none")},
    ranges={"http_error": (400, 599, "an HTTP error status"),
            "http_error_burst": (1, 1_000_000, "1 or more"),
            "advice_interval_ms": (0, 600_000, "a duration in ms"),
            "advice_timeout_ms": (0, 600_000, "a duration in ms"),
            "status_code": (0, 20, "a GWS statusCode")},
)


def apply_settings(base: Faults, settings: Any) -> Faults:
    """A copy of `base` with `settings` applied; unknown keys and bad values raise FaultError."""
    return apply_changes(base, settings, RULES, FaultError)


def parse_assignments(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["ack_drop=0.1", ...]` from the command line into a settings mapping."""
    return _parse_assignments(items, "--fault", FaultError)


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

    def _draw(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def http_error(self) -> int | None:
        """The HTTP status to fail this AddRecord POST with, if a burst is on."""
        f = self.faults
        if self._burst_left == 0 and self._draw(f.http_error_rate):
            self._burst_left = f.http_error_burst
        if self._burst_left > 0:
            self._burst_left -= 1
            return f.http_error
        return None

    def status_code(self) -> int | None:
        f = self.faults
        if f.status_code and self._draw(f.status_rate):
            return f.status_code
        return None

    def reset_before_accept(self) -> bool:
        return self._draw(self.faults.reset_before_accept)

    def reply_fault(self) -> str | None:
        """What happens to the HTTP reply of an accepted AddRecord: one of REPLY_FAULTS, or
        None for the normal reply."""
        for name in REPLY_FAULTS:
            if self._draw(getattr(self.faults, name)):
                return name
        return None

    def ack_fate(self) -> str:
        """'ack', 'drop' or 'error' for an accepted record."""
        f = self.faults
        if self._draw(f.ack_drop):
            return "drop"
        if self._draw(f.ack_error):
            return "error"
        return "ack"

    def ack_delay_s(self) -> float:
        f = self.faults
        delay = f.ack_delay_ms
        if f.ack_jitter_ms > 0:
            delay += self._rng.uniform(0.0, f.ack_jitter_ms)
        return delay / 1000.0
