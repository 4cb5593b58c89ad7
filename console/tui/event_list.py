"""The event list: a virtual list (Textual's line API) of events, one row each.

Built for floods: rows are appended in batches, only the visible lines are rendered, the number
kept is bounded (the journal keeps everything), and following pauses when the user scrolls up.
Rows are taken in at once; the stream's repaints go through a RepaintLimiter (at most N a second
over a slow link), while keys repaint at once, with every row taken in so far.
Columns fit the pane's width (the least useful ones go first on a narrow pane; a cut value ends
with an ellipsis), so there is never a horizontal scrollbar. A gap in the stream is a row of its
own, where events may be missing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.domain.events import Event
from console.tui.plain import Plain
from console.tui.repaint import RepaintLimiter, rate_label
from console.tui.times import human_time, same_day

__all__ = ["EventList", "EventStatus", "GapRow", "Row", "columns_for"]


@dataclass(frozen=True)
class GapRow:
    """Where the stream had a gap: events published between the two times may be missing."""

    gap_from: float
    """Last moment events surely arrived (epoch seconds)."""
    gap_to: float
    """When they flowed again (epoch seconds)."""
    detail: str = ""
    """Why, in words."""


Row = Event | GapRow

#: (column, width) by pane width, widest first; width 0 is the rest of the line. `event` is
#: the notificationType, or the messageType when there is none (a DeviceUserEventMessage).
_LAYOUTS: tuple[tuple[int, tuple[tuple[str, int], ...]], ...] = (
    (110, (("time", 8), ("channel", 16), ("event", 20), ("referenceId", 37), ("summary", 0))),
    (72, (("time", 8), ("channel", 15), ("event", 20), ("referenceId", 9), ("summary", 0))),
    (0, (("time", 8), ("event", 20), ("referenceId", 9), ("summary", 0))),
)
HEADINGS = {"referenceId": "reference"}
"""Shorter headings for narrow columns."""
DATED_TIME = 14  # `11-25 14:03:07`: the time column when a row is not from today


def columns_for(width: int, dated: bool = False) -> tuple[tuple[str, int], ...]:
    """The columns shown in a pane `width` wide (the time column is wider when `dated`)."""
    layout = next(columns for least, columns in _LAYOUTS if width >= least)
    return tuple((name, DATED_TIME if name == "time" and dated else size)
                 for name, size in layout)


def _cell(text: str, width: int) -> str:
    """`text` cut to `width` with an ellipsis (0: not measured yet, nothing to cut to)."""
    return text if len(text) <= width or width <= 0 else text[: max(0, width - 1)] + "…"


class EventStatus(Plain):
    """The events pane's status line: counts, paused, filter, and `limited N/s` while the
    stream's repaints are being held back. One line: its text changes without a layout, and
    the same text is not drawn again."""

    def __init__(self, limiter: RepaintLimiter, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.limiter = limiter
        self.text = ""
        """What the line shows."""

    def show(self, parts: list[str]) -> None:
        """Show `parts` (counts first), with the rate-limit indicator after the counts."""
        if self.limiter.limited:
            parts = [*parts[:2], f"limited {rate_label(self.limiter.rate)}", *parts[2:]]
        text = " | ".join(parts)
        if text != self.text:
            self.text = text
            self.update(text, layout=False)


class EventList(ScrollView, can_focus=True):
    """Events, newest at the bottom; a cursor row; highlight for the current request."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "follow", "Follow", id="events.follow"),
        Binding("enter", "open", "Open", id="events.open"),
        # The app's filter key, listed in the footer where it is of use.
        Binding("ctrl+f", "app.filter", "Filter", id="events.filter"),
    ]

    DEFAULT_CSS = """
    EventList { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    /* Over a thin link the scrollbar is not drawn: it costs as many bytes as the rows it
       frames, repainted up to three times per update of the stream. */
    EventList.-thin-link { scrollbar-size-vertical: 0; }
    """

    class Opened(Message):
        """The user asked for the full JSON of an event."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class FollowChanged(Message):
        """Following paused or resumed (and how many arrived meanwhile)."""

    class ColumnsChanged(Message):
        """The columns changed (the pane's width, or a row from another day): new headings."""

        def __init__(self, headings: str) -> None:
            super().__init__()
            self.headings = headings

    cursor = reactive(-1)
    following = reactive(True)

    def __init__(self, *, max_rows: int = 5000, now: Callable[[], float] | None = None,
                 shown_time: Callable[[float], float] | None = None,
                 limiter: RepaintLimiter | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.limiter = limiter or RepaintLimiter()
        """Paces the repaints the stream causes (keys repaint at once)."""
        self._behind = False  # rows taken in that the view (size, scroll) does not show yet
        self.rows: deque[Row] = deque(maxlen=max_rows)
        self.left_view = 0
        """Rows pushed out of the bounded view (still in the journal)."""
        self.unseen = 0
        """Rows that arrived while following was paused."""
        self.highlight: set[str] = set()
        """referenceIds of the current request (and its user event's seq)."""
        self.highlight_seqs: set[int] = set()
        self.tied: dict[int, str] = {}
        """User event seq -> referenceId of the request the GSW rule tied it to."""
        self.filter_text = ""
        self._visible: list[Row] | None = None  # filtered view, or None for all rows
        self._now = now or time.time
        # Tests fix the times events are shown with (they arrive at the real time).
        self._shown_time = shown_time or (lambda at: at)
        self._columns: tuple[tuple[str, int], ...] = ()
        self._headings_width = 0
        self._dated_rows = False  # a row in view is from another day (updated with the rows)
        self._styles = {
            "row": Style(), "match": Style(bold=True, color="black", bgcolor="green"),
            "error": Style(bold=True, color="white", bgcolor="red"),
            "gap": Style(bold=True, color="yellow"),
            "cursor": Style(reverse=True),
        }

    # -- data ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.set_class(self.limiter.rate > 0, "-thin-link")
        if self.app.no_color:
            # Without colour the current request's rows and the gaps must still stand out.
            self._styles["match"] = Style(bold=True, underline=True)
            self._styles["error"] = Style(bold=True, underline=True, italic=True)
            self._styles["gap"] = Style(bold=True, italic=True)

    def add_events(self, rows: Iterable[Row]) -> None:
        """Append events (and gap rows), in arrival order."""
        batch = list(rows)
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
            # The app's status line shows how many: it is drawn with the rows.
            self.limiter.request("events-unseen", lambda: self.post_message(self.FollowChanged()))
        self._behind = True
        self.limiter.request("events", self.catch_up)

    def catch_up(self) -> None:
        """Show the rows taken in: size, columns, the newest in view when following."""
        self._behind = False
        self._resize()
        self._layout()
        if self.following:
            self._to_end()
        self.refresh()

    def _keyed(self) -> None:
        """A key is acting on the list: what the stream left waiting is painted first."""
        self.limiter.flush()
        if self._behind:
            self.catch_up()

    def add_gap(self, gap_from: float, gap_to: float, detail: str = "") -> None:
        self.add_events([GapRow(gap_from, gap_to, detail)])

    def tie(self, seq: int, reference_id: str) -> None:
        """The user event `seq` belongs to the request `reference_id` (by the GSW rule): it
        shows that referenceId and a filter on it keeps the event."""
        self.tied[seq] = reference_id
        if self.filter_text and self.filter_text in reference_id.lower():
            self.set_filter(self.filter_text)
        else:
            self.limiter.request("events-tied", self.refresh)

    @property
    def view(self) -> list[Row] | deque[Row]:
        return self._visible if self._visible is not None else self.rows

    def shown_counts(self) -> tuple[int, int]:
        """(events, gap rows) in the view: a gap row is no event."""
        gaps = sum(isinstance(row, GapRow) for row in self.view)
        return len(self.view) - gaps, gaps

    def set_filter(self, text: str) -> None:
        """Filter by text in the row (channel, types, referenceId, summary); '' shows all.
        Gap rows always stay: they say where events may be missing."""
        self.limiter.flush()
        self._behind = False  # redrawn below with every row taken in
        self.filter_text = text.strip().lower()
        self._visible = None if not self.filter_text else [e for e in self.rows
                                                           if self._matches(e)]
        self.following = True
        self._resize()
        self._layout()
        self._to_end()
        self.refresh()

    def _matches(self, row: Row) -> bool:
        if isinstance(row, GapRow):
            return True
        tied = self.tied.get(row.seq, "")
        return self.filter_text in self._search_text(row).lower() or \
            bool(tied) and self.filter_text in tied.lower()

    def set_highlight(self, references: set[str], seqs: set[int]) -> None:
        if (references, seqs) == (self.highlight, self.highlight_seqs):
            return  # the app sets it again on every stream tick: nothing to repaint
        self.highlight = references
        self.highlight_seqs = seqs
        self.limiter.request("events-highlight", self.refresh)

    def _resize(self) -> None:
        self.virtual_size = Size(self._width(), len(self.view))

    def _width(self) -> int:
        return self.scrollable_content_region.width

    # -- rendering -------------------------------------------------------------------------
    @staticmethod
    def _search_text(event: Event) -> str:
        return " ".join((event.channel, event.message_type or "", event.notification_type or "",
                         event.reference_id or "", event.summary()))

    def _dated(self) -> bool:
        """A row in view is not from today (the time column then shows the date): rows come
        in arrival order, so the first and the last tell."""
        view = self.view
        return bool(view) and not all(
            same_day(row.gap_from if isinstance(row, GapRow)
                     else self._shown_time(row.received_at), self._now())
            for row in (view[0], view[-1]))

    def _layout(self) -> tuple[tuple[str, int], ...]:
        """The columns for the current width and rows; new headings when they change (not
        called while rendering: a message posted then is not delivered)."""
        width = self._width()
        self._dated_rows = self._dated()
        columns = columns_for(width, self._dated_rows)
        changed = (columns, width) != (self._columns, self._headings_width)
        self._columns, self._headings_width = columns, width
        if changed and width:
            self.post_message(self.ColumnsChanged(self.headings()))
        return columns

    def headings(self) -> str:
        """The column headings line, aligned with the rows."""
        columns = self._columns or columns_for(self._width())
        return self._join([(HEADINGS.get(name, name) if size and len(name) > size else name,
                            size) for name, size in columns], self._width())

    @staticmethod
    def _join(cells: list[tuple[str, int]], width: int) -> str:
        parts = [_cell(text, size).ljust(size) if size else text for text, size in cells]
        return _cell(" ".join(parts), width)

    def row_text(self, row: Row) -> str:
        """The row as shown (for tests and the filter's status)."""
        width = self._width()
        if isinstance(row, GapRow):
            now = self._now()
            text = (f"-- gap {human_time(row.gap_from, now)} - {human_time(row.gap_to, now)}: "
                    f"events may be missing (the journal has what arrived) --")
            return _cell(text, width)
        values = {
            "time": human_time(self._shown_time(row.received_at), self._now(),
                               short_date=True),
            "channel": row.channel,
            "event": row.notification_type or (row.message_type or "-").removesuffix("Message"),
            "referenceId": row.reference_id or (f"~{self.tied[row.seq]}"
                                                if row.seq in self.tied else "-"),
            "summary": row.summary(),
        }
        # The columns for the width now (a pane just shown renders before its resize).
        return self._join([(values[name], size) for name, size in
                           columns_for(width, self._dated_rows)], width)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        view = self.view
        width = self._width()
        if index >= len(view):
            return Strip.blank(width)
        row = view[index]
        style = self._styles["row"]
        if isinstance(row, GapRow):
            style = self._styles["gap"]
        elif row.reference_id in self.highlight or row.seq in self.highlight_seqs:
            style = self._styles["error"] if row.notification_type == "Error" else \
                self._styles["match"]
        if index == self.cursor and self.has_focus:
            style = style + self._styles["cursor"]
        return Strip([Segment(self.row_text(row).ljust(width), style)], width)

    # -- following and the cursor ----------------------------------------------------------
    def _to_end(self) -> None:
        """Cursor on the newest row and the view at the bottom."""
        self.cursor = len(self.view) - 1
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        if self.scroll_offset.y < self.max_scroll_y:
            # The rows just outgrew the pane: it scrolls once the layout gives it a scrollbar.
            self.call_after_refresh(self._end_if_following)

    def _end_if_following(self) -> None:
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def watch_following(self, following: bool) -> None:
        if following:
            self.unseen = 0
            self._to_end()
        self.post_message(self.FollowChanged())

    def action_cursor(self, delta: int) -> None:
        self._keyed()
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

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 1))

    def scroll_to_region_of(self, index: int) -> None:
        top = self.scroll_offset.y
        height = max(1, self.scrollable_content_region.height)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def action_first(self) -> None:
        self.action_cursor(-len(self.view))

    def action_follow(self) -> None:
        """End: jump to the newest and follow again (also when already following)."""
        self._keyed()
        if self.following:
            self._to_end()
        else:
            self.following = True
        self.refresh()

    def action_open(self) -> None:
        self._keyed()
        if not 0 <= self.cursor < len(self.view):
            return
        self.scroll_to_region_of(self.cursor)  # what opens is what the cursor shows
        row = self.view[self.cursor]
        if isinstance(row, GapRow):
            self.notify(row.detail or "events may be missing here", title="stream gap")
            return
        self.post_message(self.Opened(row))

    def on_mouse_scroll_up(self) -> None:
        if self.following:
            self.following = False

    def on_resize(self) -> None:
        # Shown again (F3) or resized: the newest rows, or the cursor, stay in sight.
        self.limiter.flush()
        self._behind = False
        self._resize()
        if self.following:
            self._to_end()
        elif self.cursor >= 0:
            self.scroll_to_region_of(self.cursor)
        self._layout()

    def on_show(self) -> None:
        self.on_resize()
