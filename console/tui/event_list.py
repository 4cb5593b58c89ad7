"""The event list: a virtual list (Textual's line API) of events, one row each.

Built for floods: rows are appended in batches, only the visible lines are rendered, the number
kept is bounded (the journal keeps everything), and following pauses when the user scrolls up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.events import Event

__all__ = ["EventList"]


class EventList(ScrollView, can_focus=True):
    """Events, newest at the bottom; a cursor row; highlight for the current request."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "follow", "Follow", id="events.follow"),
        Binding("enter", "open", "Details", id="events.open"),
    ]

    DEFAULT_CSS = """
    EventList { height: 1fr; }
    """

    class Opened(Message):
        """The user asked for the full JSON of an event."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class FollowChanged(Message):
        """Following paused or resumed (and how many arrived meanwhile)."""

    cursor = reactive(-1)
    following = reactive(True)

    def __init__(self, *, max_rows: int = 5000, time_of: Callable[[Event], str] | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: deque[Event] = deque(maxlen=max_rows)
        self.left_view = 0
        """Rows pushed out of the bounded view (still in the journal)."""
        self.unseen = 0
        """Rows that arrived while following was paused."""
        self.highlight: set[str] = set()
        """referenceIds of the current request (and its user event's seq)."""
        self.highlight_seqs: set[int] = set()
        self.filter_text = ""
        self._visible: list[Event] | None = None  # filtered view, or None for all rows
        self._time_of = time_of or (lambda e: "")
        self._styles = {
            "row": Style(), "match": Style(bold=True, color="black", bgcolor="green"),
            "error": Style(bold=True, color="white", bgcolor="red"),
            "cursor": Style(reverse=True),
        }

    # -- data ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.app.no_color:
            # Without colour the current request's rows must still stand out.
            self._styles["match"] = Style(bold=True, underline=True)
            self._styles["error"] = Style(bold=True, underline=True, italic=True)

    def add_events(self, events: Iterable[Event]) -> None:
        batch = list(events)
        if not batch:
            return
        overflow = max(0, len(self.rows) + len(batch) - (self.rows.maxlen or 0))
        self.left_view += overflow
        self.rows.extend(batch)
        if self._visible is not None:
            self._visible.extend(e for e in batch if self._matches(e))
            if len(self._visible) > len(self.rows):
                del self._visible[: len(self._visible) - len(self.rows)]
        if overflow and self.cursor >= 0 and not self.following:
            self.cursor = max(0, self.cursor - overflow)
        if not self.following:
            self.unseen += len(batch)
            self.post_message(self.FollowChanged())
        self._resize()
        if self.following:
            self.cursor = len(self.view) - 1
            self.scroll_end(animate=False, immediate=True)
        self.refresh()

    @property
    def view(self) -> list[Event] | deque[Event]:
        return self._visible if self._visible is not None else self.rows

    def set_filter(self, text: str) -> None:
        """Filter by text in the row (channel, types, referenceId, summary); '' shows all."""
        self.filter_text = text.strip().lower()
        self._visible = None if not self.filter_text else [e for e in self.rows
                                                           if self._matches(e)]
        self.cursor = len(self.view) - 1
        self._resize()
        self.scroll_end(animate=False, immediate=True)
        self.refresh()

    def _matches(self, event: Event) -> bool:
        return self.filter_text in self._text(event).lower()

    def set_highlight(self, references: set[str], seqs: set[int]) -> None:
        self.highlight = references
        self.highlight_seqs = seqs
        self.refresh()

    def _resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.view))

    # -- rendering -------------------------------------------------------------------------
    def _text(self, event: Event) -> str:
        message = (event.message_type or "-").removesuffix("Message")
        reference = event.reference_id or "-"
        if self.size.width and self.size.width < 100:
            # 80 columns: shorter columns, the referenceId cut to its first 8 characters.
            return (f"{self._time_of(event)} {event.channel:<15} {message:<15} "
                    f"{event.notification_type or '-':<20} {reference[:8]:<8} "
                    f"{event.summary()}")
        return (f"{self._time_of(event)} {event.channel:<16} {message:<16} "
                f"{event.notification_type or '-':<20} {reference:<32} {event.summary()}")

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        view = self.view
        width = self.size.width
        if index >= len(view):
            return Strip.blank(width)
        event = view[index]
        style = self._styles["row"]
        if event.reference_id in self.highlight or event.seq in self.highlight_seqs:
            style = self._styles["error"] if event.notification_type == "Error" else \
                self._styles["match"]
        if index == self.cursor and self.has_focus:
            style = style + self._styles["cursor"]
        text = self._text(event)[self.scroll_offset.x:self.scroll_offset.x + width]
        return Strip([Segment(text.ljust(width), style)], width)

    # -- following and the cursor ----------------------------------------------------------
    def watch_following(self, following: bool) -> None:
        if following:
            self.unseen = 0
            self.cursor = len(self.view) - 1
            self.scroll_end(animate=False, immediate=True)
        self.post_message(self.FollowChanged())

    def action_cursor(self, delta: int) -> None:
        if not self.view:
            return
        target = max(0, min(len(self.view) - 1, (self.cursor if self.cursor >= 0 else
                                                  len(self.view) - 1) + delta))
        self.cursor = target
        at_bottom = target == len(self.view) - 1
        if self.following != at_bottom:
            self.following = at_bottom
        self.scroll_to_region_of(target)
        self.refresh()

    def scroll_to_region_of(self, index: int) -> None:
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def action_first(self) -> None:
        self.action_cursor(-len(self.view))

    def action_follow(self) -> None:
        self.following = True
        self.refresh()

    def action_open(self) -> None:
        if 0 <= self.cursor < len(self.view):
            self.post_message(self.Opened(self.view[self.cursor]))

    def on_mouse_scroll_up(self) -> None:
        if self.following:
            self.following = False

    def on_resize(self) -> None:
        self._resize()
