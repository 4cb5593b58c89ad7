"""Text from a server (an event's summary, a statusMessage, a reply quoted in an error) made
safe to print on a terminal: control characters are shown as escapes instead of acting.

Unfiltered, a `\\r` in a statusMessage rewrites the line it is on (`refused\\r acknowledged`
reads "acknowledged"), and ESC starts sequences that recolour, hide or retitle the operator's
terminal. Newlines and tabs are kept: our own messages use them. JSON output needs none of
this (JSON escapes every control character)."""

from __future__ import annotations

import re

__all__ = ["terminal_safe"]

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F: U+009B is CSI).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def terminal_safe(text: str) -> str:
    """`text` with every control character but tab and newline written as `\\xNN`."""
    return _CONTROL.sub(_escaped, text) if _CONTROL.search(text) else text
