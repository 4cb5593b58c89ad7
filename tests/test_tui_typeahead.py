"""Type-ahead: every flow sent as one burst of keys leaves the state slow typing leaves.

Pilot.press waits for the app to go idle after each key (slow typing); `burst` posts all the
keys at once, as a laggy SSH link or a paste delivers them. The end-to-end proof, with the
installed binary in tmux, is in test_tui_tmux.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.tui.app import OutboundApp
from console.tui.event_list import EventList
from console.tui.form import RecordForm
from tests.tui_helpers import burst, keys_of, make_app, ready, settle, wait_until

FLOWS: dict[str, list[str]] = {
    # The issue's reproduction: 134 Tab Campaign1 Tab CallingList1 gave application 13411.
    "fill-with-tabs": keys_of("134", "tab", "Campaign1", "tab", "CallingList1", "tab",
                              "5551234", "shift+tab", "shift+tab", "x"),
    # Enter on a template loads it and shows the form; Ctrl+S right after sends what it loaded.
    "template-then-send": keys_of("f4", "down", "down", "down", "enter", "ctrl+s"),
    # F-keys switch panes and move the focus; what is typed next goes to the new pane.
    "f-keys-then-typing": keys_of("f4", "f2", "135", "tab", "Camp"),
    # A dialog opens and takes what is typed next.
    "save-dialog": keys_of("f4", "down", "down", "down", "enter", "ctrl+o", "mine", "enter"),
    # The filter box opens, takes the text, and enter goes back to the list.
    "filter": keys_of("f3", "ctrl+f", "Ack", "enter", "up"),
    # A dirty form: quit asks, n keeps the console, typing goes on in the form.
    "quit-asks": keys_of("13", "ctrl+q", "n", "4"),
    # The command palette opens, searches what is typed, and enter runs the best match.
    "palette": keys_of("ctrl+p", "show the history", "enter", "enter"),
    # The history: a send, then F5 Enter loads it again (no question: it was sent).
    "history-resend": keys_of("f4", "down", "down", "down", "enter", "ctrl+s", "f5", "enter",
                              "tab", "X"),
}


#: What each flow must have done (typed slowly, it does): the burst is compared with it too.
EXPECT: dict[str, dict[str, Any]] = {
    "fill-with-tabs": {"focused": "f-campaignName"},
    "template-then-send": {"sent": ["12345"], "view": "form"},
    "f-keys-then-typing": {"focused": "f-campaignName", "view": "form"},
    "save-dialog": {"screen": "MainScreen"},
    "filter": {"filter": "ack", "focused": "events", "view": "events"},
    "palette": {"view": "history", "screen": "MainScreen"},
    "quit-asks": {"running": True, "screen": "MainScreen"},
    "history-resend": {"sent": ["12345"], "view": "form", "focused": "f-campaignName"},
}


def state(app: OutboundApp, tmp_path: Path) -> dict[str, Any]:
    form = app.main(RecordForm)
    focused = app.focused
    events = app.main_screen.query(EventList)
    saved = sorted(p.name for p in (tmp_path / "profiles" / "templates").rglob("*.yaml"))
    return {
        "screen": type(app.screen).__name__, "view": app.view,
        "focused": (focused.id or ".".join(sorted(focused.classes))) if focused else None,
        "form": {k: v for k, v in form.values().items() if k != "referenceId"},
        "sent": [e.body.get("phoneNumber") for e in app.history_entries],
        "filter": events.first().filter_text if events else "",
        "saved": saved, "running": app.is_running,
    }


async def run_flow(tmp_path: Path, keys: list[str], together: bool) -> dict[str, Any]:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        if together:
            await burst(pilot, *keys)
        else:
            for key in keys:
                await pilot.press(key)
            await settle(pilot)
        await wait_sent(pilot)
        return state(app, tmp_path)


async def wait_sent(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, OutboundApp)
    await wait_until(pilot, lambda: all(e.state != "sent" for e in app.history_entries))


@pytest.mark.parametrize("flow", list(FLOWS))
async def test_a_burst_lands_where_slow_typing_lands(tmp_path: Path, flow: str) -> None:
    slow = await run_flow(tmp_path / "slow", FLOWS[flow], together=False)
    for key, value in EXPECT[flow].items():
        assert slow[key] == value, (key, slow)
    fast = await run_flow(tmp_path / "fast", FLOWS[flow], together=True)
    assert fast == slow


async def test_the_issue_burst_fills_each_field(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await burst(pilot, *keys_of("134", "tab", "Campaign1", "tab", "CallingList1", "tab",
                                    "5551234"))
        values = app.main(RecordForm).values()
        assert values["applicationId"] == 134
        assert values["campaignName"] == "Campaign1"
        assert values["callingList"] == "CallingList1"
        assert values["phoneNumber"] == "5551234"
        assert app.focused is app.query_one("#f-phoneNumber", Input)


async def test_a_template_loaded_and_sent_in_one_burst_is_acknowledged(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await burst(pilot, "f4", "down", "down", "down", "enter", "ctrl+s")
        await wait_until(pilot, lambda: app.current is not None
                         and app.current.state == "acknowledged")
        assert app.current is not None
        assert app.current.record.body()["phoneNumber"] == "12345"  # doc-sample's
