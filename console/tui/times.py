"""Times as people read them: local time, with the date when it is not today."""

from __future__ import annotations

import time
from datetime import datetime

__all__ = ["human_time", "iso_local", "same_day"]


def same_day(at: float, now: float) -> bool:
    """`at` is on the same local calendar day as `now`."""
    return time.localtime(at)[:3] == time.localtime(now)[:3]


def human_time(at: float, now: float, *, short_date: bool = False) -> str:
    """`14:03:07` today; `2026-11-25 14:03:07` (or `11-25 14:03:07`) on another day."""
    local = time.localtime(at)
    if same_day(at, now):
        return time.strftime("%H:%M:%S", local)
    return time.strftime("%m-%d %H:%M:%S" if short_date else "%Y-%m-%d %H:%M:%S", local)


def iso_local(at: float) -> str:
    """ISO 8601 in local time with its offset, to the millisecond (readable and parseable)."""
    return datetime.fromtimestamp(at).astimezone().isoformat(timespec="milliseconds")
