"""History: the requests of this session and of today's journal, each re-sendable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

__all__ = ["HistoryPane", "HistoryEntry", "read_journal_requests"]


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


class HistoryPane(Vertical):
    DEFAULT_CSS = """
    HistoryPane OptionList { height: 1fr; }
    HistoryPane #history-help { height: 1; color: $text-muted; }
    """

    class Load(Message):
        def __init__(self, entry: HistoryEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, entries: list[HistoryEntry], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries = entries  # the app's list: the pane only shows it

    def compose(self) -> ComposeResult:
        yield Static("enter: load into the form (then ^s sends it again, new referenceId)",
                     id="history-help")
        yield OptionList(id="history-list")

    def on_mount(self) -> None:
        self.show_entries()

    def show_entries(self) -> None:
        """Redraw the list from the entries, newest first."""
        found = self.query(OptionList)
        if not found:
            return  # not composed yet: on_mount shows them
        options = found.first()
        options.clear_options()
        options.add_options([Option(e.label()) for e in reversed(self.entries)])
        if self.entries:
            options.highlighted = 0  # enter works at once on the newest

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        index = len(self.entries) - 1 - event.option_index
        if 0 <= index < len(self.entries):
            self.post_message(self.Load(self.entries[index]))
