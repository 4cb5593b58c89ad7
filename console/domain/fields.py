"""AddRecord facts that need no validation library: the phone types and clock times.

Kept apart from `console.domain.model` so the console can draw its first screen before
the heavier modules are imported.
"""

from __future__ import annotations

import os
import re
from typing import Any

from console.errors import FieldProblem

__all__ = ["repeated_name", "PHONE_TYPES", "SECONDS_PER_DAY", "parse_time_of_day", "format_time_of_day",
           "new_reference_id"]

#: The twelve phoneType values of the GWS documentation, in its order.
PHONE_TYPES: tuple[str, ...] = (
    "NoContactType", "HomePhone", "DirectBusinessPhone", "BusinessWithExt", "Mobile",
    "VacationPhone", "Pager", "Modem", "VoiceMail", "PinPager", "EmailAddress",
    "InstantMessaging",
)
SECONDS_PER_DAY = 86400
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_time_of_day(value: Any) -> int:
    """Seconds since midnight from an int/digit string or `HH:MM[:SS]`; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("not a time of day")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    elif isinstance(value, str) and (m := _TIME.match(value.strip())):
        hours, minutes, secs = int(m[1]), int(m[2]), int(m[3] or 0)
        if hours > 23 or minutes > 59 or secs > 59:
            raise ValueError("not a time of day")
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise ValueError("not a time of day")
    if not 0 <= seconds < SECONDS_PER_DAY:
        raise ValueError("out of range")
    return seconds


def format_time_of_day(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# A random (version 4) UUID's bits: what uuid.uuid4() sets, without building a UUID object
# (half the cost of a replay's referenceId) or importing the uuid module.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_reference_id() -> str:
    """A fresh, unique referenceId: a random UUID as 32 hex digits (`uuid.uuid4().hex`)."""
    return f"{int.from_bytes(os.urandom(16), 'big') & _UUID4_CLEAR | _UUID4_SET:032x}"


def repeated_name(names: list[str]) -> FieldProblem | None:
    """The problem of otherFields rows typed with the same name (a map keeps only the last,
    so the first row's value would be dropped without a word), or None."""
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            return FieldProblem("otherFields", name, f"each field name once: {name!r} is in "
                                "two rows; remove or rename one")
        seen.add(name)
    return None
