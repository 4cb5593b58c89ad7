"""History: the requests of this session and of today's journal, each re-sendable."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.history import HistoryEntry

__all__ = ["HistoryPane"]


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
