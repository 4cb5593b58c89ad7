"""History as every skin keeps it: the sends and replays of this session, after those read
from the journal; `on_change` tells the skin to redraw."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.history import HistoryEntry, ReplayEntry, read_journal_history

if TYPE_CHECKING:
    from console.app.replay import ReplayResult, ReplayRun
    from console.app.target import Target
    from console.domain.correlation import Tracked
    from console.domain.model import AddRecord

__all__ = ["History", "HistoryEntry", "ReplayEntry"]


class History:
    """Entries oldest first: single sends and whole replays."""

    def __init__(self, on_change: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.entries: list[HistoryEntry | ReplayEntry] = []
        self.on_change = on_change
        self.clock = clock

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def load_journal(self, path: Path, limit: int = 200) -> None:
        """Put the journal's entries before this session's."""
        self.entries[:0] = read_journal_history(path, limit)
        self._changed()

    def sending(self, record: AddRecord, target: Target | None = None) -> HistoryEntry:
        """A send about to start (state `sent` until `sent_done`)."""
        entry = HistoryEntry(self.clock(), record.body(),
                             profile=target.profile if target else "",
                             server=target.url if target else "")
        self.entries.append(entry)
        self._changed()
        return entry

    def sent_done(self, entry: HistoryEntry, tracked: Tracked) -> None:
        """Its verdict (acknowledged, failed, no_answer, unknown, or still pending)."""
        entry.state = tracked.state
        entry.reason = tracked.reason
        entry.latency_ms = tracked.latency_ms
        self._changed()

    def replay_started(self, run: ReplayRun) -> ReplayEntry:
        entry = ReplayEntry(self.clock(), run.run_id,
                            [str(t.path or t.name) for t in run.inputs.templates],
                            len(run.plan.jobs), profile=run.target.profile,
                            server=run.target.url)
        self.entries.append(entry)
        self._changed()
        return entry

    def replay_progress(self, entry: ReplayEntry, run: ReplayRun) -> None:
        entry.sent = run.progress.sent
        entry.counts = dict(run.progress.counts)
        self._changed()

    def replay_done(self, entry: ReplayEntry, result: ReplayResult) -> None:
        entry.state = "stopped" if result.stopped else "finished"
        entry.sent = result.progress.sent
        entry.counts = dict(result.summary.counts)
        entry.files = [str(p) for p in result.files]
        self._changed()
