"""Repaints driven by the event stream, at most N a second (issue 11: thin SSH links).

sshd reads all a program writes into its channel window and the link drains it later: a console
that repaints its events pane for every event queues seconds of output ahead of the next key
press. Here the stream's repaints (the event list, its status line) are coalesced: the data is
taken in at once (counts, rows, journal: nothing is lost), the screen shows it at most `rate`
times a second. Repaints caused by keys (focus, cursor, typing, F-keys) are never held back:
they first paint whatever the stream left waiting, so the screen is current.

The rate: `--max-repaint-rate N` / a profile's `max_repaint_rate: N` (per second; 0 or `off`:
unlimited); by default `DEFAULT_OVER_SSH` when the console runs under SSH (`SSH_CONNECTION` or
`SSH_CLIENT` set, as sshd sets them), unlimited otherwise (the stream is then drawn every
50 ms tick).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Textual only for the types: profiles read the rate without importing it
    from textual.message_pump import MessagePump
    from textual.timer import Timer

__all__ = ["DEFAULT_OVER_SSH", "MAX_RATE", "RepaintLimiter", "RepaintRateError",
           "default_max_repaint_rate", "parse_max_repaint_rate", "rate_label"]

DEFAULT_OVER_SSH = 2.0
"""Stream repaints per second under SSH when nothing says otherwise: at 80x24 one repaint of
the events pane is ~2-3 KB, so the stream costs ~5 KB/s of the link at most."""
MAX_RATE = 100.0
"""Highest rate accepted (above it the limit means nothing: the stream is drawn every 50 ms)."""
MIN_RATE = 0.1
"""Lowest non-zero rate accepted (one repaint every 10 s)."""
SSH_VARIABLES = ("SSH_CONNECTION", "SSH_CLIENT")
OFF_WORDS = frozenset({"off", "unlimited", "none", "0"})
INDICATOR_S = 2.0
"""The indicator stays this long after the last repaint that had to wait."""


class RepaintRateError(ValueError):
    """A maximum repaint rate that is not one: the message says what is accepted."""


def parse_max_repaint_rate(value: object) -> float:
    """Repaints per second from an option or a profile value (0.0: unlimited);
    RepaintRateError naming what is accepted otherwise."""
    accepted = (f"a number of repaints per second from {MIN_RATE:g} to {MAX_RATE:g}, or 0 / "
                f"off for unlimited")
    if isinstance(value, str) and value.strip().lower() in OFF_WORDS or value is False:
        return 0.0  # False: YAML reads a bare `off` as false
    if isinstance(value, bool) or value is None:
        raise RepaintRateError(f"expected {accepted}, got {value!r}")
    try:
        rate = float(value) if isinstance(value, (int, float, str)) else math.nan
    except ValueError:
        rate = math.nan
    if rate == 0:
        return 0.0
    if not (math.isfinite(rate) and MIN_RATE <= rate <= MAX_RATE):
        raise RepaintRateError(f"expected {accepted}, got {value!r}")
    return rate


def default_max_repaint_rate(environ: Mapping[str, str]) -> float:
    """`DEFAULT_OVER_SSH` under SSH, unlimited (0.0) otherwise."""
    return DEFAULT_OVER_SSH if any(environ.get(name) for name in SSH_VARIABLES) else 0.0


def rate_label(rate: float) -> str:
    """`2/s`, `0.5/s`, `off`."""
    return f"{rate:g}/s" if rate > 0 else "off"


class RepaintLimiter:
    """Coalesces the stream's repaints to at most `rate` a second (0: paint at once).

    `request(key, paint)` runs `paint` now if the last stream repaint is old enough, or once
    the interval is over (one call per key, however many requests came meanwhile).
    `flush()` runs what waits at once: call it before a key-driven repaint."""

    def __init__(self, rate: float = 0.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        """Stream repaints per second (0.0: unlimited)."""
        self.paints = 0
        """Stream repaints done (each may cover many requests)."""
        self.requests = 0
        """Stream repaints asked for."""
        self._clock = clock
        self._owner: MessagePump | None = None
        self._pending: dict[str, Callable[[], object]] = {}
        self._last = -math.inf
        self._deferred_at = -math.inf
        self._timer: Timer | None = None
        self._expiry: Timer | None = None
        self._on_quiet: list[Callable[[], object]] = []

    def attach(self, owner: MessagePump) -> None:
        """The app or widget whose timers pace the repaints (until then: paint at once)."""
        self._owner = owner

    def on_quiet(self, callback: Callable[[], object]) -> None:
        """`callback` runs when the display stops being rate-limited (the indicator goes)."""
        self._on_quiet.append(callback)

    @property
    def limited(self) -> bool:
        """A stream repaint had to wait a moment ago: the screen lags the stream a little."""
        return self.rate > 0 and self._clock() - self._deferred_at <= INDICATOR_S

    def request(self, key: str, paint: Callable[[], object]) -> None:
        self.requests += 1
        if self.rate <= 0 or self._owner is None:
            self.paints += 1
            paint()
            return
        self._pending[key] = paint
        if self._timer is not None:
            return  # a repaint is already due: it will show this too
        wait = self._last + 1.0 / self.rate - self._clock()
        if wait <= 0:
            self.flush()
            return
        self._deferred_at = self._clock()
        self._timer = self._owner.set_timer(wait, self.flush, name="repaint-limit")
        if self._expiry is not None:
            self._expiry.stop()
        self._expiry = self._owner.set_timer(INDICATOR_S + wait + 0.05, self._quiet,
                                             name="repaint-limit-quiet")

    def flush(self) -> None:
        """Paint what waits, now."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        pending, self._pending = self._pending, {}
        if not pending:
            return
        self._last = self._clock()
        self.paints += 1
        for paint in pending.values():
            paint()

    def _quiet(self) -> None:
        self._expiry = None
        if not self.limited:
            for callback in self._on_quiet:
                callback()
