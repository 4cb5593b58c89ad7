"""The requests sent: of this session and read back from a journal, with their verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["HistoryEntry", "read_journal_requests"]


@dataclass
class HistoryEntry:
    """One request sent (now or in an earlier session)."""

    when: str
    """Clock time it was sent."""
    body: dict[str, Any]
    """The request body."""
    state: str = "sent"
    """Its verdict as last known."""
    source: str = "session"
    """session or journal."""

    def label(self) -> str:
        b = self.body
        return (f"{self.when} {b.get('campaignName', '?')}/{b.get('callingList', '?')} "
                f"{b.get('phoneNumber', '?')} {self.state} [{self.source}]")


def read_journal_requests(path: Path, limit: int = 200) -> list[HistoryEntry]:
    """The last `limit` requests of a journal file with their verdicts (bad lines skipped)."""
    if not path.is_file():
        return []
    requests: dict[str, HistoryEntry] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            if entry.get("kind") == "request" and isinstance(entry.get("body"), dict):
                body = entry["body"]
                ref = str(body.get("referenceId", ""))
                requests[ref] = HistoryEntry(str(entry.get("ts", ""))[11:19], body,
                                             source="journal")
            elif entry.get("kind") == "verdict" and entry.get("referenceId") in requests:
                requests[entry["referenceId"]].state = str(entry.get("state"))
    return list(requests.values())[-limit:]
