"""What was sent: single requests and replays, of this session and read back from a journal,
with their verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["HistoryEntry", "ReplayEntry", "read_journal_requests", "read_journal_history"]


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
    target: dict[str, Any] | None = None
    """Where it went (profile, url, user, simulator, environment), when known."""

    @property
    def reference_id(self) -> str:
        return str(self.body.get("referenceId", ""))

    def label(self) -> str:
        b = self.body
        return (f"{self.when} {b.get('campaignName', '?')}/{b.get('callingList', '?')} "
                f"{b.get('phoneNumber', '?')} {self.state} [{self.source}]")


@dataclass
class ReplayEntry:
    """One replay (now or in an earlier session), with its verdict counts."""

    when: str
    """Clock time it started."""
    run_id: str
    """Its id (in the journal and in its files' names)."""
    templates: list[str]
    """Template files (or names)."""
    planned: int
    """Records in its plan."""
    state: str = "running"
    """running, finished, stopped, or `no end` (the process ended before it could finish:
    rebuild its files with `replay --resume-from-journal`)."""
    sent: int = 0
    """POSTs started."""
    counts: dict[str, int] = field(default_factory=dict)
    """Verdicts by state (acknowledged, failed, no_answer, unknown...)."""
    files: list[str] = field(default_factory=list)
    """Its resume / unconfirmed files."""
    source: str = "session"
    """session or journal."""
    target: dict[str, Any] | None = None
    """Where it went."""

    def label(self) -> str:
        names = ", ".join(Path(t).stem for t in self.templates)[:40]
        done = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in self.counts.items()
                         if n) or "no verdict yet"
        return (f"{self.when} replay {self.planned} ({names}): {self.sent} sent; {done}; "
                f"{self.state} [{self.source}]")


def _entries(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry


def read_journal_requests(path: Path, limit: int = 200) -> list[HistoryEntry]:
    """The last `limit` requests of a journal file with their verdicts (bad lines skipped)."""
    if not path.is_file():
        return []
    requests: dict[str, HistoryEntry] = {}
    for entry in _entries(path):
        if entry.get("kind") == "request" and isinstance(entry.get("body"), dict):
            body = entry["body"]
            ref = str(body.get("referenceId", ""))
            requests[ref] = HistoryEntry(str(entry.get("ts", ""))[11:19], body,
                                         source="journal", target=entry.get("target"))
        elif entry.get("kind") == "verdict" and entry.get("referenceId") in requests:
            requests[entry["referenceId"]].state = str(entry.get("state"))
    return list(requests.values())[-limit:]


def read_journal_history(path: Path, limit: int = 200) -> list[HistoryEntry | ReplayEntry]:
    """The last `limit` entries of a journal file, oldest first: each replay as one entry
    (its records are not listed one by one) and each other request as one."""
    if not path.is_file():
        return []
    entries: dict[str, HistoryEntry | ReplayEntry] = {}  # request ref or "replay:" + run
    in_replay: dict[str, ReplayEntry] = {}  # referenceId -> its replay
    for entry in _entries(path):
        kind = entry.get("kind")
        if kind == "replay" and isinstance(entry.get("run"), str):
            _replay_line(entries, entry)
        elif kind == "planned":
            run = entries.get(f"replay:{entry.get('run')}")
            if isinstance(run, ReplayEntry):
                in_replay[str(entry.get("referenceId"))] = run
        elif kind == "request" and isinstance(entry.get("body"), dict):
            ref = str(entry["body"].get("referenceId", ""))
            replay = in_replay.get(ref)
            if replay is not None:
                replay.sent += 1
            else:
                entries[ref] = HistoryEntry(str(entry.get("ts", ""))[11:19], entry["body"],
                                            source="journal", target=entry.get("target"))
        elif kind == "verdict":
            ref = str(entry.get("referenceId"))
            replay = in_replay.get(ref)
            state = str(entry.get("state"))
            if replay is not None:
                if replay.state in ("running", "no end"):
                    replay.counts[state] = replay.counts.get(state, 0) + 1
            elif isinstance(found := entries.get(ref), HistoryEntry):
                found.state = state
    return list(entries.values())[-limit:]


def _replay_line(entries: dict[str, HistoryEntry | ReplayEntry], entry: dict[str, Any]) -> None:
    key = f"replay:{entry['run']}"
    if entry.get("event") == "start":
        templates = entry.get("templates")
        entries[key] = ReplayEntry(
            str(entry.get("ts", ""))[11:19], entry["run"],
            [str(t) for t in templates] if isinstance(templates, list) else [],
            int(entry.get("planned") or 0), state="no end", source="journal",
            target=entry.get("target"))
        return
    replay = entries.get(key)
    if not isinstance(replay, ReplayEntry) or entry.get("event") != "end":
        return
    replay.state = "stopped" if entry.get("stopped") else "finished"
    counts = entry.get("counts")
    if isinstance(counts, dict):
        replay.counts = {str(k): int(v) for k, v in counts.items() if isinstance(v, int)}
    if isinstance(entry.get("sent"), int):
        replay.sent = entry["sent"]
    replay.files = [str(f) for f in (entry.get("resumeFile"), entry.get("unconfirmedFile")) if f]
