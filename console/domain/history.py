"""What was sent: single requests and replays, of this session and read back from a journal,
with their verdicts in the words the form uses."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["HistoryEntry", "ReplayEntry", "STATE_WORDS", "read_journal_history",
           "read_journal_requests", "state_words"]

#: A verdict's state in the words the form uses under the request.
STATE_WORDS = {"acknowledged": "acknowledged", "failed": "failed", "no_answer": "no answer",
               "unknown": "unknown (may have been accepted)", "not_delivered": "not delivered",
               "pending": "pending", "sent": "sent, no verdict"}


def state_words(state: str, reason: str = "", latency_ms: float | None = None) -> str:
    """`acknowledged in 12 ms`, `failed: <why>`, `no answer`, as under the form."""
    words = STATE_WORDS.get(state, state.replace("_", " "))
    if state == "acknowledged" and latency_ms is not None:
        return f"{words} in {latency_ms:.0f} ms"
    if state in ("failed", "unknown", "not_delivered") and reason:
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
    """Its verdict as last known (pending, acknowledged, failed, no_answer, unknown,
    not_delivered; sent: none)."""
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
        return _target(self.profile, self.server)

    def text(self) -> str:
        """Everything a search looks in (the time aside: it is shown as the viewer's)."""
        b = self.body
        return " ".join(str(part) for part in (
            self.words(), b.get("campaignName", ""), b.get("callingList", ""),
            b.get("phoneNumber", ""), self.reference_id, self.target(), self.source))


@dataclass
class ReplayEntry:
    """One replay (now or in an earlier session), with its verdict counts."""

    started_at: float
    """When it started (epoch seconds; shown in local time)."""
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
    profile: str = ""
    """The profile it ran with ('' when the journal does not say)."""
    server: str = ""
    """The GWS it sent to (base URL; '' when the journal does not say)."""

    def words(self) -> str:
        """What became of it: `12 sent; 10 acknowledged, 2 no answer; finished`."""
        done = ", ".join(f"{n} {STATE_WORDS.get(state, state.replace('_', ' '))}"
                         for state, n in self.counts.items() if n) or "no verdict yet"
        return f"{self.sent} sent; {done}; {self.state}"

    def target(self) -> str:
        """`profile @ server`, or what is known of it."""
        return _target(self.profile, self.server)

    def label(self) -> str:
        names = ", ".join(Path(t).stem for t in self.templates)[:40]
        clock = time.strftime("%H:%M:%S", time.localtime(self.started_at))
        return f"{clock} replay {self.planned} ({names}): {self.words()} [{self.source}]"

    def text(self) -> str:
        """Everything a search looks in."""
        return " ".join((self.label(), self.run_id, self.target(), *self.files))


def _target(profile: str, server: str) -> str:
    return " @ ".join(part for part in (profile, server) if part) or "?"


def _entries(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry


def _epoch(ts: Any) -> float:
    """A journal line's `ts` (ISO 8601, UTC) as epoch seconds; 0 when unreadable."""
    try:
        return datetime.fromisoformat(str(ts)).timestamp()
    except ValueError:
        return 0.0


def _where(entry: dict[str, Any], server: str) -> tuple[str, str]:
    """(profile, server) of a journal line; `server` for lines older than the target field."""
    found = entry.get("target")
    target: dict[str, Any] = found if isinstance(found, dict) else {}
    return str(target.get("profile") or ""), str(target.get("url") or server)


def read_journal_history(path: Path, limit: int = 200) -> list[HistoryEntry | ReplayEntry]:
    """The last `limit` entries of a journal file, oldest first: each replay as one entry
    (its records are not listed one by one) and each other request as one (bad lines
    skipped)."""
    if not path.is_file():
        return []
    entries: dict[str, HistoryEntry | ReplayEntry] = {}  # request ref or "replay:" + run
    in_replay: dict[str, ReplayEntry] = {}  # referenceId -> its replay
    server = ""  # lines written before the target was on every line: the session's url
    for entry in _entries(path):
        kind = entry.get("kind")
        if kind == "session" and isinstance(entry.get("url"), str):
            server = entry["url"]
        elif kind == "replay" and isinstance(entry.get("run"), str):
            _replay_line(entries, entry, server)
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
                profile, where = _where(entry, server)
                entries[ref] = HistoryEntry(_epoch(entry.get("ts")), entry["body"],
                                            source="journal", profile=profile, server=where)
        elif kind == "verdict":
            ref = str(entry.get("referenceId"))
            replay = in_replay.get(ref)
            state = str(entry.get("state"))
            if replay is not None:
                if replay.state in ("running", "no end"):
                    replay.counts[state] = replay.counts.get(state, 0) + 1
            elif isinstance(found := entries.get(ref), HistoryEntry):
                found.state = state
                found.reason = str(entry.get("reason") or "")
                latency = entry.get("latencyMs")
                found.latency_ms = float(latency) if isinstance(latency, (int, float)) else None
    return list(entries.values())[-limit:]


def read_journal_requests(path: Path, limit: int = 200) -> list[HistoryEntry]:
    """The single requests of `read_journal_history` (replays left out)."""
    return [e for e in read_journal_history(path, limit) if isinstance(e, HistoryEntry)]


def _replay_line(entries: dict[str, HistoryEntry | ReplayEntry], entry: dict[str, Any],
                 server: str) -> None:
    key = f"replay:{entry['run']}"
    if entry.get("event") == "start":
        templates = entry.get("templates")
        profile, where = _where(entry, server)
        entries[key] = ReplayEntry(
            _epoch(entry.get("ts")), entry["run"],
            [str(t) for t in templates] if isinstance(templates, list) else [],
            int(entry.get("planned") or 0), state="no end", source="journal",
            profile=profile, server=where)
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
