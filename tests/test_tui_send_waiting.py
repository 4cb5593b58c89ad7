"""A ctrl+s typed ahead of the connection: kept and sent once connected, shown under the form
while it waits, cancelled (and said) when GWS turns out unreachable or the form changes."""

from __future__ import annotations

import socket
from pathlib import Path

from textual.widgets import Input, Static

from console.domain.history import HistoryEntry
from console.profiles import Profile
from console.sim import Simulator
from console.tui.app import OutboundApp
from console.tui.form import RecordForm
from console.tui.header import StatusHeader
from tests.tui_helpers import GOOD, fill, make_app, ready, wait_until

PASSWORD = "s3cret-pw"


def state_text(app: OutboundApp) -> str:
    return str(app.main(RecordForm).query_one("#state", Static).render())


def sent_phones(app: OutboundApp) -> list[str]:
    return [str(e.body.get("phoneNumber")) for e in app.history_entries
            if isinstance(e, HistoryEntry) and e.source == "session"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_waiting_send_is_shown_and_cancelled_when_the_form_changes(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        app.ready = False  # as before the start is done: a send must wait
        await pilot.press("ctrl+s")
        assert "waiting to send" in state_text(app)
        await pilot.press("ctrl+s")  # a second one says it is waiting, nothing more
        assert any("already waiting" in str(n.message) for n in app._notifications)
        app.main("#f-phoneNumber", Input).focus()
        await pilot.press("9")  # typed after the key: the waiting send is cancelled
        await wait_until(pilot, lambda: "not sent" in state_text(app))
        assert "form changed" in state_text(app)
        app.ready = True
        await pilot.pause(0.3)
        assert sent_phones(app) == []
        # Unchanged, it goes once ready, with what the form held at the key.
        app.ready = False
        await pilot.press("ctrl+s")
        assert "waiting to send" in state_text(app)
        app.ready = True
        await wait_until(pilot, lambda: "acknowledged in" in state_text(app))
        assert sent_phones(app) == ["55512349"]


async def test_a_send_typed_while_gws_is_unreachable_never_goes_later(tmp_path: Path) -> None:
    port = free_port()
    profile = Profile(name="late", url=f"http://127.0.0.1:{port}", username="demo",
                      environment="production")
    app = make_app(tmp_path, profile, password=PASSWORD)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.main_screen.query(  # the Selects composed
            "#f-devicePath SelectCurrent #label"))
        fill(app, **GOOD)
        await pilot.press("ctrl+s")  # ahead of the connection
        header = app.main(StatusHeader)
        await wait_until(pilot, lambda: header.status == "unreachable", timeout=15)
        await wait_until(pilot, lambda: "not sent" in state_text(app))
        assert "unreachable" in state_text(app)
        await pilot.press("ctrl+s")  # while unreachable: refused at once, said
        assert "not sent" in state_text(app)
        async with Simulator(password=PASSWORD, port=port):
            await pilot.press("ctrl+t")
            await ready(pilot)
            await pilot.pause(0.5)
            assert sent_phones(app) == []
            await pilot.press("ctrl+q", "y")
