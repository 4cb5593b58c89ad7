"""The header at 80 columns: the badge, the profile and the status are never cut; the gap's
times and the server, user and device give way. The events' status line counts events, not
gap rows."""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App, ComposeResult

from console.domain.events import StreamStatus
from console.tui.event_list import EventStatus
from console.tui.header import StatusHeader
from tests.test_tui_panes import an_event
from tests.tui_helpers import make_app, ready, wait_until

LONG_PROFILE = "prod-eu-west-callcentre-primary"


class HeaderOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")


def shown(header: StatusHeader) -> str:
    return "".join(s.text for s in header.render_line(0)).rstrip()


async def test_a_long_profile_with_a_gap_keeps_badge_profile_and_status_whole() -> None:
    app = HeaderOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.query_one(StatusHeader)
        header.production = True
        header.profile = LONG_PROFILE
        header.server = "https://gws-eu-west.callcentre.example.com:8443"
        header.user = "oncall.engineer"
        header.device = "/api/v2/devices/d1-abcdef"
        header.status = "connected"
        header.gap = "gap 16:59:10-16:59:20"
        await pilot.pause()
        line = shown(header)
        assert "PRODUCTION" in line and LONG_PROFILE in line and "● connected" in line, line
        assert "gap" in line, line  # shortened, still there
        assert len(line) <= 80
        # Reconnecting: since when is part of the status, never cut.
        header.status, header.since = "reconnecting", "16:59:10"
        await pilot.pause()
        line = shown(header)
        assert LONG_PROFILE in line and "● reconnecting since 16:59:10" in line, line
        # With room, everything is whole.
        await pilot.resize_terminal(200, 24)
        header.status = "connected"
        await pilot.pause()
        line = shown(header)
        assert "gap 16:59:10-16:59:20" in line and "oncall.engineer" in line and \
            "https://gws-eu-west.callcentre.example.com:8443" in line, line


async def test_a_detail_gives_way_before_the_profile() -> None:
    app = HeaderOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.query_one(StatusHeader)
        header.environment = "staging"
        header.profile = LONG_PROFILE
        header.server = "https://gws.example.com:8443"
        header.user = "oncall"
        header.status = "failed"
        header.detail = "no password given; ^t tries again"
        await pilot.pause()
        line = shown(header)
        assert "STAGING" in line and LONG_PROFILE in line and "● failed no pass" in line, line
        assert len(line) <= 80


async def test_the_events_status_counts_events_not_gap_rows(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        now = time.time()
        app._collect(an_event(1, at=now - 10))
        app._collect(StreamStatus("gap", "events may be missing", now - 2, now - 9, now - 2))
        app._collect(an_event(2, at=now - 1))
        events = app._events()
        await wait_until(pilot, lambda: len(events.rows) == 3)
        status = app.main("#event-status", EventStatus)
        await wait_until(pilot, lambda: status.text.startswith("2 events"))
        assert status.text.startswith("2 events | 2 shown | 1 gap"), status.text
