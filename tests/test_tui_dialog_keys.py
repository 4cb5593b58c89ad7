"""A dialog takes the keys: the main screen's keys (send, save, curl, the panes) do not act
behind it, and what is typed in the dialog still reaches it."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static

from console.tui.app import OutboundApp
from console.tui.dialogs import Confirm, TypeToConfirm
from console.tui.form import RecordForm
from console.tui.palette import PALETTE
from tests.tui_helpers import GOOD, burst, fill, keys_of, make_app, ready, wait_until


def sent(app: OutboundApp) -> int:
    assert app.engine is not None
    return len(app.engine.tracker)


async def filled(pilot: Pilot[None], app: OutboundApp, quit_question: bool = False) -> None:
    """Connected, the form filled with a good record (and the quit question open)."""
    await ready(pilot)
    fill(app, **GOOD)
    await pilot.pause(0.05)
    if quit_question:
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))


def notes(app: OutboundApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)  # noqa: SLF001


async def test_ctrl_s_in_the_quit_question_sends_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await filled(pilot, app, quit_question=True)
        await pilot.press("ctrl+s", "ctrl+o", "ctrl+y", "f4", "f3")
        await pilot.pause(0.2)
        assert sent(app) == 0
        assert isinstance(app.screen, Confirm) and len(app.screen_stack) == 2
        assert app.view == "form"
        assert "not while a dialog is open" in notes(app)
        assert str(app.main(RecordForm).query_one("#state", Static).render()) == ""
        await pilot.press("n")  # the dialog still takes its own keys
        await wait_until(pilot, lambda: not isinstance(app.screen, Confirm))
        assert app.is_running


async def test_ctrl_s_in_the_replace_question_sends_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await filled(pilot, app)
        await pilot.press("f4", "down", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert sent(app) == 0 and isinstance(app.screen, Confirm)


async def test_typed_confirmation_takes_its_keys_and_ctrl_s_sends_nothing(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    answers: list[bool | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await filled(pilot, app)
        app.push_screen(TypeToConfirm("Send 3 records to PRODUCTION?", "3",
                                      purpose="replay"), answers.append)
        await wait_until(pilot, lambda: isinstance(app.focused, Input)
                         and app.focused.id == "confirm-answer")
        # Typed ahead, all at once: ctrl+s in the middle does nothing, the rest lands.
        await burst(pilot, *keys_of("3", "ctrl+s"))
        assert sent(app) == 0 and isinstance(app.screen, TypeToConfirm)
        assert app.screen.query_one("#confirm-answer", Input).value == "3"
        await burst(pilot, "enter")
        await wait_until(pilot, lambda: answers == [True])
        assert sent(app) == 0
        # Back on the main screen, ctrl+s sends again.
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: sent(app) == 1)


async def test_palette_actions_do_not_act_behind_a_dialog(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await filled(pilot, app, quit_question=True)
        entry = next(e for e in PALETTE if e.action == "send")
        await app._run_palette_action(entry)  # noqa: SLF001
        await pilot.pause(0.2)
        assert sent(app) == 0 and isinstance(app.screen, Confirm)


async def test_a_field_focused_again_keeps_its_value_and_takes_keys_at_the_end(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await burst(pilot, *keys_of("134", "tab", "Camp", "tab", "5", "shift+tab", "X"))
        assert app.main("#f-campaignName", Input).value == "CampX"
        # A refused send focuses the bad field: backspace takes one character, not all.
        app.main("#f-applicationId", Input).value = "12a"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.focused is app.main("#f-applicationId"))
        await pilot.press("backspace")
        assert app.main("#f-applicationId", Input).value == "12"
        await pilot.press("tab", "tab", "tab", "ctrl+n")  # an otherFields row's boxes too
        await wait_until(pilot, lambda: isinstance(app.focused, Input)
                         and app.focused.has_class("of-key"))
        await pilot.press("k", "tab", "v", "shift+tab", "2")
        assert app.focused is not None and app.focused.has_class("of-key")
        assert app.main(".of-key", Input).value == "k2"
