"""Notifications can be closed at once (ctrl+g, `notes.clear`): they cover the panes at 80x24
for up to 30 s. The key is in the footer while there are some, and in the palette."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from console.tui.dialogs import Confirm
from console.tui.footer import KeyFooter
from console.tui.palette import PALETTE
from tests.tui_helpers import make_app, ready, wait_until


async def test_ctrl_g_clears_the_notifications_from_a_field_and_a_dialog(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.clear_notifications()
        await wait_until(pilot, lambda: not any(k == "^g" for k, _, _ in
                                                app.main(KeyFooter).keys()))
        app.notify("written: /tmp/replay-1.resume.csv", timeout=30)
        await wait_until(pilot, lambda: ("^g", "Clear notes") in
                         [(k, d) for k, d, _ in app.main(KeyFooter).keys()])
        await pilot.press("1", "ctrl+g", "2")  # in the first field: nothing typed is lost
        assert not app._notifications
        assert app.main("#f-applicationId", Input).value == "12"
        await wait_until(pilot, lambda: not any(k == "^g" for k, _, _ in
                                                app.main(KeyFooter).keys()))
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        app.notify("an error", severity="error", timeout=30)
        await pilot.press("ctrl+g")
        assert not app._notifications and isinstance(app.screen, Confirm)
        assert any(p.binding_id == "notes.clear" for p in PALETTE)
