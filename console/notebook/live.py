"""The live event table: the stream's events as they arrive, newest first, the events of the
request just sent highlighted, the stream's status and gaps shown, bounded like the TUI's
pane (the journal keeps everything).

    table = EventTable(console)
    table                       # displays and updates itself
    form.on_sent.append(table.highlight)
    to_frame(table.events)      # what it holds, as a DataFrame
"""

from __future__ import annotations

import asyncio
import html
import time
from collections import deque
from dataclasses import dataclass

import ipywidgets as w

from console.api import Console
from console.domain.correlation import Tracked
from console.domain.events import Event, StreamItem, StreamStatus
from console.notebook.reprs import badge, event_kind, status_html

__all__ = ["EventTable", "Gap", "Snapshot"]


@dataclass(frozen=True)
class Gap:
    """A gap in the stream: events published between the two times may be missing."""

    gap_from: float
    """Last moment events surely arrived (epoch seconds)."""
    gap_to: float
    """When they flowed again (epoch seconds)."""
    detail: str = ""
    """Why, in words."""


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


class EventTable(w.VBox):  # type: ignore[misc]
    """Follows a console's stream. Keeps at most `max_rows` rows (events and gaps), shows the
    newest `shown`, redraws at most every `redraw_s` (a flood costs one redraw per period,
    not one per event)."""

    def __init__(self, console: Console, *, max_rows: int = 5000, shown: int = 50,
                 redraw_s: float = 0.2) -> None:
        self.console = console
        self.rows: deque[Event | Gap] = deque(maxlen=max_rows)
        self.left_view = 0
        """Rows pushed out of the bounded table (still in the journal)."""
        self.shown = shown
        self.redraw_s = redraw_s
        self.highlighted: set[str] = set()
        """referenceIds of the request(s) highlighted (the one just sent)."""
        self._tracked: list[Tracked] = []
        self.status: StreamStatus | None = console.status
        self.gaps = 0
        self.header = w.HTML()
        self.body = w.HTML()
        super().__init__([self.header, self.body])
        self._redraw_pending = False
        self._task: asyncio.Task[None] | None = \
            asyncio.get_event_loop().create_task(self._follow())
        self.redraw()

    @property
    def events(self) -> list[Event]:
        """The events held, oldest first."""
        return [row for row in self.rows if isinstance(row, Event)]

    async def _follow(self) -> None:
        # The status may have changed since __init__ read it (pumped before this task ran):
        # read it again as the feed starts; nothing runs in between, so no change is lost.
        if self.status is not self.console.status:
            self.status = self.console.status
            self._schedule()
        async for item in self.console.items():
            self.add(item)

    def stop(self) -> None:
        """Stop following (the table keeps what it shows)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # -- rows --------------------------------------------------------------------------------
    def add(self, item: StreamItem) -> None:
        if isinstance(item, Event):
            self._append(item)
        else:
            self.status = item
            if item.kind == "gap" and item.gap_from is not None and item.gap_to is not None:
                self.gaps += 1
                self._append(Gap(item.gap_from, item.gap_to, item.detail))
        self._schedule()

    def _append(self, row: Event | Gap) -> None:
        if len(self.rows) == self.rows.maxlen:
            self.left_view += 1
        self.rows.append(row)

    def highlight(self, tracked: Tracked) -> None:
        """Highlight the events of `tracked` (its ack, and its user event once tied to it);
        the previous request's are no longer highlighted."""
        self._tracked = [tracked]
        self.highlighted = {tracked.reference_id}
        self._schedule()

    def is_highlighted(self, event: Event) -> bool:
        if event.reference_id in self.highlighted:
            return True
        return any(t.user_event is event for t in self._tracked)

    # -- drawing -----------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._redraw_pending:
            return
        self._redraw_pending = True
        asyncio.get_event_loop().call_later(self.redraw_s, self.redraw)

    def redraw(self) -> None:
        self._redraw_pending = False
        self.header.value = self.header_html()
        self.body.value = self.table_html()

    def header_html(self) -> str:
        target = self.console.target
        mark = badge(target.marker) + " " if target.marker else ""
        status = status_html(self.status) if self.status else "stream not started"
        counts = f"{len(self.events)} events"
        if self.left_view:
            counts += f" ({self.left_view} older left the table: see the journal)"
        gaps = f', <span style="color:#bc4c00">{self.gaps} gap{"s" if self.gaps != 1 else ""}' \
               "</span>" if self.gaps else ""
        return (f"<div>{mark}<code>{html.escape(target.tag())}</code> {status}; "
                f"{counts}{gaps}</div>")

    def table_html(self) -> str:
        newest = list(self.rows)[-self.shown:][::-1]
        lines = ["<table style='font-family:monospace;font-size:90%'><tr><th>time</th>"
                 "<th>channel</th><th>event</th><th>referenceId</th><th>summary</th></tr>"]
        for row in newest:
            if isinstance(row, Gap):
                lines.append(f"<tr style='background:#fff1e5'><td colspan=5>gap "
                             f"{_clock(row.gap_from)}-{_clock(row.gap_to)}: events may be "
                             f"missing {html.escape(row.detail)}</td></tr>")
                continue
            style = " style='background:#fff8c5;font-weight:bold'" \
                if self.is_highlighted(row) else ""
            mark = "&#9654; " if style else ""  # not by colour alone
            lines.append(f"<tr{style}><td>{mark}{_clock(row.received_at)}</td>"
                         f"<td>{html.escape(row.channel)}</td>"
                         f"<td>{html.escape(event_kind(row))}</td>"
                         f"<td>{html.escape(row.reference_id or '')}</td>"
                         f"<td>{html.escape(row.summary())}</td></tr>")
        lines.append("</table>")
        return "".join(lines)

    def snapshot(self) -> Snapshot:
        """A still copy of the table as it is now (HTML), for exports and reports that do
        not run widgets."""
        return Snapshot(self.header_html() + self.table_html(),
                        f"{len(self.events)} events, {self.gaps} gaps, stream "
                        f"{self.status.kind if self.status else 'not started'}")


@dataclass(frozen=True)
class Snapshot:
    """The live table's HTML at one moment."""

    html: str
    """The header and the table."""
    text: str
    """One line for a plain-text display."""

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text
