"""Small modal screens: confirm, ask for text, show an event's JSON, show text to copy."""

from __future__ import annotations

import json
import time
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from console.domain.events import Event
from console.tui.plain import Plain, PlainLabel

__all__ = ["Confirm", "Ask", "EventDetail", "ShowText", "TypeToConfirm"]

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90%; max-width: 100; height: auto; max-height: 90%;
    border: round $accent; background: $surface; padding: 0 1; }}
{name} .title {{ text-style: bold; }}
{name} .keys {{ color: $text-muted; }}
"""


def fit_scroll(screen: ModalScreen[Any], title: str, size: Size) -> None:
    """Give a dialog's scrolling text (`#text`) what the screen has left once the frame, the
    title and the keys line are in: a max-height on the frame alone pushed the keys line
    off the screen at 80x24."""
    width = max(10, min(100, size.width * 9 // 10) - 4)  # the frame's text width
    title_lines = max(1, -(-len(title) // width))
    screen.query_one("#text", VerticalScroll).styles.max_height = \
        max(3, size.height - 6 - title_lines)


class Confirm(ModalScreen[bool]):
    """Yes or no."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]
    DEFAULT_CSS = _CSS.format(name="Confirm")

    def __init__(self, question: str, *, purpose: str = "", keys: str = "y yes   n/esc no"
                 ) -> None:
        super().__init__()
        self.question = question
        self.purpose = purpose
        """What is being confirmed (e.g. `quit`), so the same question is not asked twice."""
        self.keys = keys
        """The keys line: what y and n do here."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Plain(self.question, classes="title")
            yield PlainLabel(self.keys, classes="keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class Ask(ModalScreen[str | None]):
    """One line of text (enter) or nothing (escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = _CSS.format(name="Ask")

    def __init__(self, question: str, value: str = "", placeholder: str = "", *,
                 password: bool = False, purpose: str = "") -> None:
        super().__init__()
        self.question, self.value, self.placeholder = question, value, placeholder
        self.password = password
        """Typed characters are not shown (a password)."""
        self.purpose = purpose
        """What is asked (e.g. `password`), so the same question is not asked twice."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Plain(self.question, classes="title")
            yield Input(self.value, placeholder=self.placeholder, id="answer",
                        password=self.password)
            yield PlainLabel("enter ok   esc cancel", classes="keys")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class EventDetail(ModalScreen[None]):
    """An event's full JSON, highlighted; `c` copies it (OSC 52, works over SSH)."""

    BINDINGS = [Binding("escape,q", "close", "Close"),
                Binding("c", "copy", "Copy JSON", id="detail.copy")]
    DEFAULT_CSS = _CSS.format(name="EventDetail") + \
        "EventDetail VerticalScroll { height: auto; }"

    def __init__(self, event: Event) -> None:
        from console.tui.times import iso_local

        super().__init__()
        self.event = event
        # receivedAt as a local ISO 8601 time: readable, and still a time a tool can parse.
        self.text = json.dumps({**event.as_json(), "receivedAt": iso_local(event.received_at)},
                               indent=2, ensure_ascii=False)

    def compose(self) -> ComposeResult:
        from rich.syntax import Syntax  # pygments: only when a detail is opened

        with Vertical():
            yield PlainLabel(self._title(), classes="title")
            with VerticalScroll(id="text"):
                yield Plain(Syntax(self.text, "json", theme="ansi_dark", word_wrap=True))
            yield PlainLabel("c copy   esc close", classes="keys")

    def _title(self) -> str:
        return f"event #{self.event.seq} on {self.event.channel}, received {self._received()}"

    def on_mount(self) -> None:
        fit_scroll(self, self._title(), self.app.size)

    def on_resize(self, event: events.Resize) -> None:
        fit_scroll(self, self._title(), event.size)

    def _received(self) -> str:
        from console.tui.times import human_time

        return human_time(self.event.received_at, time.time())

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("event JSON copied (OSC 52)")

    def action_close(self) -> None:
        self.dismiss(None)


class ShowText(ModalScreen[None]):
    """Text the user may want to copy (it is copied already). Long text scrolls with
    up/down/pgup/pgdn/home/end; the title and the keys line always stay on screen."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close")]
    DEFAULT_CSS = _CSS.format(name="ShowText") + \
        "ShowText VerticalScroll { height: auto; }"

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield PlainLabel(self.title_text, classes="title")
            with VerticalScroll(id="text"):
                yield Plain(self.text)
            yield PlainLabel("up/down/pgup/pgdn/home/end scroll   esc close", classes="keys")

    def on_mount(self) -> None:
        fit_scroll(self, self.title_text, self.app.size)

    def on_resize(self, event: events.Resize) -> None:
        fit_scroll(self, self.title_text, event.size)

    def action_close(self) -> None:
        self.dismiss(None)


class TypeToConfirm(ModalScreen[bool]):
    """A confirmation that a stray key cannot give: the user types `expected` (e.g. the
    number of records about to go to production) and enter; esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = _CSS.format(name="TypeToConfirm") + \
        "TypeToConfirm #confirm-error { color: $error; text-style: bold; }"

    def __init__(self, question: str, expected: str, *, purpose: str = "") -> None:
        super().__init__()
        self.question, self.expected, self.purpose = question, expected, purpose

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Plain(self.question, classes="title")
            yield PlainLabel(f"type {self.expected} and enter to send   esc cancel", classes="keys")
            yield Input(id="confirm-answer")
            yield PlainLabel("", id="confirm-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if typed == self.expected:
            self.dismiss(True)
            return
        # Not a refusal either: say what was typed, and keep asking.
        self.query_one("#confirm-error", Label).update(
            f"typed {typed!r}, not {self.expected}: nothing sent yet (esc cancels)")
        event.input.value = ""

    def action_cancel(self) -> None:
        self.dismiss(False)
