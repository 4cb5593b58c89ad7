"""The requests sent: of this session and read back from a journal, with their verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["HistoryEntry", "STATE_WORDS", "read_journal_requests", "state_words"]

#: A verdict's state in the words the form uses under the request.
STATE_WORDS = {"acknowledged": "acknowledged", "failed": "failed", "no_answer": "no answer",
               "pending": "pending", "sent": "sent, no verdict"}


def state_words(state: str, reason: str = "", latency_ms: float | None = None) -> str:
    """`acknowledged in 12 ms`, `failed: <why>`, `no answer`, as under the form."""
    words = STATE_WORDS.get(state, state.replace("_", " "))
    if state == "acknowledged" and latency_ms is not None:
        return f"{words} in {latency_ms:.0f} ms"
    if state == "failed" and reason:
        return f"{words}: {reason}"
    return words


@dataclass
class HistoryEntry:
    """One request sent (now or in an earlier session)."""

    sent_at: float
    """When it was sent (epoch seconds; shown in local time)."""
    body: dict[str, Any]
    """The request body."""
    state: str = "sent"
    """Its verdict as last known (pending, acknowledged, failed, no_answer; sent: none)."""
    source: str = "session"
    """session or journal."""
    reason: str = ""
    """Why it failed, or what was (not) received."""
    latency_ms: float | None = None
    """POST to acknowledgement, when acknowledged."""
    profile: str = ""
    """The profile it was sent with ('' when the journal does not say)."""
    server: str = ""
    """The GWS it was sent to (base URL; '' when the journal does not say)."""

    @property
    def reference_id(self) -> str:
        return str(self.body.get("referenceId", ""))

    def words(self) -> str:
        """The verdict in the form's words."""
        return state_words(self.state, self.reason, self.latency_ms)

    def target(self) -> str:
        """`profile @ server`, or what is known of it."""
        return " @ ".join(part for part in (self.profile, self.server) if part) or "?"

    def text(self) -> str:
        """Everything a search looks in (the time aside: it is shown as the viewer's)."""
        b = self.body
        return " ".join(str(part) for part in (
            self.words(), b.get("campaignName", ""), b.get("callingList", ""),
            b.get("phoneNumber", ""), self.reference_id, self.target(), self.source))



def read_journal_requests(path: Path, limit: int = 200) -> list[HistoryEntry]:
    """The last `limit` requests of a journal file with their verdicts (bad lines skipped)."""
    if not path.is_file():
        return []
    requests: dict[str, HistoryEntry] = {}
    server = ""  # lines written before the target was on every line: the session's url
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            kind = entry.get("kind")
            if kind == "session" and isinstance(entry.get("url"), str):
                server = entry["url"]
            if kind == "request" and isinstance(entry.get("body"), dict):
                body = entry["body"]
                found_target = entry.get("target")
                target: dict[str, Any] = found_target if isinstance(found_target, dict) else {}
                ref = str(body.get("referenceId", ""))
                requests[ref] = HistoryEntry(
                    _epoch(entry.get("ts")), body, source="journal",
                    profile=str(target.get("profile") or ""),
                    server=str(target.get("url") or server))
            elif kind == "verdict" and entry.get("referenceId") in requests:
                found = requests[entry["referenceId"]]
                found.state = str(entry.get("state"))
                found.reason = str(entry.get("reason") or "")
                latency = entry.get("latencyMs")
                found.latency_ms = float(latency) if isinstance(latency, (int, float)) else None
    return list(requests.values())[-limit:]


def _epoch(ts: Any) -> float:
    """A journal line's `ts` (ISO 8601, UTC) as epoch seconds; 0 when unreadable."""
    try:
        return datetime.fromisoformat(str(ts)).timestamp()
    except ValueError:
        return 0.0
