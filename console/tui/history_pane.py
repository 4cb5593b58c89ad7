"""History: the requests of this session and of today's journal, each re-sendable.

Each entry is two lines: when, the verdict in the form's words, campaign/list and phone; then
the referenceId, the target (profile @ server) and, for a failure, why. Typing searches (every
word of the entry, the server and the referenceId included); backspace and esc undo it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.domain.history import STATE_WORDS, HistoryEntry, ReplayEntry
from console.tui.plain import Plain
from console.tui.times import human_time

__all__ = ["HistoryPane", "HistoryList"]

HELP = "enter load into the form (^s sends it again, new referenceId)   type to search"


class HistoryList(OptionList):
    """The entries; printable keys search, backspace/esc undo the search."""

    BINDINGS = [Binding("backspace", "search_back", "Back", show=False),
                Binding("escape", "search_clear", "Clear search", show=False)]

    class Search(Message):
        """The search text changed."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)  # entries quote GWS and rows (tui/plain.py)
        self.search = ""

    def on_key(self, event: events.Key) -> None:
        if event.character and event.is_printable:
            event.stop()
            event.prevent_default()
            self._set(self.search + event.character)

    def action_search_back(self) -> None:
        self._set(self.search[:-1])

    def action_search_clear(self) -> None:
        self._set("")

    def _set(self, text: str) -> None:
        self.search = text
        self.post_message(self.Search(text))


class HistoryPane(Vertical):
    DEFAULT_CSS = """
    HistoryPane OptionList { height: 1fr; border: none; padding: 0; }
    HistoryPane OptionList:focus { border: none; }
    HistoryPane #history-help { height: 1; color: $text-muted; }
    HistoryPane #history-search { height: 1; text-style: bold; display: none; }
    HistoryPane #history-search.shown { display: block; }
    """

    class Load(Message):
        def __init__(self, entry: HistoryEntry | ReplayEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, entries: list[HistoryEntry | ReplayEntry], *, id: str | None = None,
                 now: Callable[[], float] | None = None) -> None:
        super().__init__(id=id)
        self.entries = entries  # the app's list: the pane only shows it
        self.shown: list[HistoryEntry | ReplayEntry] = []
        """The entries listed, newest first (the search applied)."""
        self._now = now or time.time

    def compose(self) -> ComposeResult:
        yield Plain(HELP, id="history-help")
        yield Plain("", id="history-search")
        yield HistoryList(id="history-list")

    def on_mount(self) -> None:
        self.show_entries()

    def entry_text(self, entry: HistoryEntry | ReplayEntry) -> Text:
        """The two lines of an entry (a replay: its counts, then run, target and files)."""
        if isinstance(entry, ReplayEntry):
            return self._replay_text(entry)
        b = entry.body
        short = STATE_WORDS.get(entry.state, entry.state) if entry.state in ("failed",
                                                                              "no_answer") \
            else entry.words()
        width = max(20, self.size.width or 80)

        def cut(line: str) -> str:
            return line if len(line) <= width else line[: width - 1] + "…"

        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(cut(f"{human_time(entry.sent_at, self._now()):<8} {short:<20} "
                        f"{b.get('campaignName', '?')}/{b.get('callingList', '?')} "
                        f"{b.get('phoneNumber', '?')}"),
                    style="bold" if entry.state != "acknowledged" else "")
        lines = [f"         ref {entry.reference_id or '-'}  [{entry.source}]",
                 f"         to {entry.target()}"]
        if entry.state in ("failed", "no_answer") and entry.reason:
            lines.append(f"         why: {entry.reason}")
        text.append("".join("\n" + cut(line) for line in lines), style="dim")
        return text

    def _replay_text(self, entry: ReplayEntry) -> Text:
        width = max(20, self.size.width or 80)

        def cut(line: str) -> str:
            return line if len(line) <= width else line[: width - 1] + "…"

        names = ", ".join(Path(t).stem for t in entry.templates)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(cut(f"{human_time(entry.started_at, self._now()):<8} replay "
                        f"{entry.planned} ({names}): {entry.words()}"),
                    style="bold" if entry.state != "finished" else "")
        lines = [f"         run {entry.run_id}  [{entry.source}]",
                 f"         to {entry.target()}"]
        lines += [f"         file {f}" for f in entry.files]
        text.append("".join("\n" + cut(line) for line in lines), style="dim")
        return text

    def show_entries(self) -> None:
        """Redraw the list from the entries, newest first, the search applied."""
        found = self.query(HistoryList)
        if not found:
            return  # not composed yet: on_mount shows them
        options = found.first(HistoryList)
        wanted = options.search.strip().lower()
        self.shown = [e for e in reversed(self.entries)
                      if not wanted or wanted in e.text().lower()
                      or wanted in human_time(_when(e), self._now())]
        search = self.query_one("#history-search", Static)
        search.update(f"search: {options.search}  ({len(self.shown)} of {len(self.entries)}; "
                      "esc clears)")
        search.set_class(bool(options.search), "shown")
        options.clear_options()
        options.add_options([Option(self.entry_text(e)) for e in self.shown])
        if self.shown:
            options.highlighted = 0  # enter works at once on the newest

    @on(HistoryList.Search)
    def _search(self) -> None:
        self.show_entries()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.shown):
            self.post_message(self.Load(self.shown[event.option_index]))


def _when(entry: HistoryEntry | ReplayEntry) -> float:
    return entry.started_at if isinstance(entry, ReplayEntry) else entry.sent_at
