"""The text dialog (a plan's problems, a replay's files, curl): long text scrolls with the
keys at 80x24, and its keys line stays on screen."""

from __future__ import annotations

from textual.app import App
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label

from console.tui.dialogs import ShowText

PROBLEMS = "\n".join(f"problem {n}: rows.csv line {n + 1}: phoneNumber 'x{n}' is not digits"
                     for n in range(1, 31))


class TextApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(ShowText("Replay: nothing sent, the plan has problems:", PROBLEMS))


def visible(widget: Label | VerticalScroll, app: App[None]) -> bool:
    """The widget is drawn whole inside its dialog and on the screen."""
    frame = app.screen.query_one(Vertical).region
    return widget.region.height >= 1 and frame.contains_region(widget.region) and \
        widget.region.bottom <= app.size.height


async def test_thirty_problems_scroll_and_the_close_key_stays_visible() -> None:
    app = TextApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        assert isinstance(app.screen, ShowText)
        keys = app.screen.query_one(".keys", Label)
        text = app.screen.query_one("#text", VerticalScroll)
        assert visible(keys, app) and "esc close" in str(keys.render())
        assert visible(app.screen.query_one(".title", Label), app)
        assert app.focused is text and text.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause(0.1)
        assert text.scroll_offset.y == text.max_scroll_y  # problem 30 on screen
        await pilot.press("home", "pagedown")
        await pilot.pause(0.1)
        assert 0 < text.scroll_offset.y
        await pilot.press("up")
        await pilot.pause(0.1)
        at = text.scroll_offset.y
        await pilot.press("down")
        await pilot.pause(0.1)
        assert text.scroll_offset.y == at + 1
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ShowText)


async def test_a_short_text_makes_a_short_dialog() -> None:
    app = App[None]()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ShowText("Replay 1", "two\nlines"))
        await pilot.pause(0.1)
        frame = app.screen.query_one(Vertical)
        assert frame.region.height <= 6
        assert visible(app.screen.query_one(".keys", Label), app)


async def test_a_long_event_detail_keeps_its_keys_line_on_screen() -> None:
    from console.domain.events import Event
    from console.tui.dialogs import EventDetail

    big = Event("/v2/me/outbound", {"messageType": "OutboundRecordMessage",
                                    "record": {f"field{n}": f"value {n}" for n in range(40)}},
                1795718400.0, 7)
    app = App[None]()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(EventDetail(big))
        await pilot.pause(0.2)
        keys = app.screen.query_one(".keys", Label)
        assert visible(keys, app) and "esc close" in str(keys.render())
        text = app.screen.query_one("#text", VerticalScroll)
        await pilot.press("end")
        await pilot.pause(0.1)
        assert text.max_scroll_y > 0 and text.scroll_offset.y == text.max_scroll_y
