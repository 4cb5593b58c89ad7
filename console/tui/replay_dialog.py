"""The replay dialog: which server (badge), how many records or which rows file, rate and
concurrency, and one field per placeholder of the templates. Enter checks it and answers a
`ReplayRequest`; a value that is not a number is said, never dropped. The records then go
through `console.app.replay.ReplayRun` (the CLI's replay), not through anything here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from console.app.replay_engine import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE,
    MAX_CONCURRENCY,
    MAX_RATE,
)
from console.tui.plain import PlainLabel

if TYPE_CHECKING:
    from console.app.target import Target
    from console.domain.templates import Template

__all__ = ["ReplayDialog", "ReplayRequest"]


@dataclass(frozen=True)
class ReplayRequest:
    """What the dialog was given."""

    count: int
    """Records per template (when there is no rows file)."""
    rows: Path | None
    """A rows file, or a `.resume.csv` of an earlier replay (one record per row)."""
    rate: float
    """Records per second at most."""
    concurrency: int
    """POSTs in flight at most."""
    sets: dict[str, str] = field(default_factory=dict)
    """Placeholder values filled in (empty ones left to the rows file)."""


class ReplayDialog(ModalScreen["ReplayRequest | None"]):
    """Confirms the target and asks for everything a replay needs."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#r-count"
    DEFAULT_CSS = """
    ReplayDialog { align: center middle; }
    ReplayDialog > Vertical { width: 90%; max-width: 100; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    ReplayDialog .title { text-style: bold; }
    ReplayDialog .keys { color: $text-muted; }
    ReplayDialog #replay-target { text-style: bold; }
    ReplayDialog #replay-error { color: $error; text-style: bold; }
    ReplayDialog VerticalScroll { height: auto; max-height: 12; }
    ReplayDialog Horizontal { height: 1; }
    ReplayDialog Horizontal > Label { width: 22; }
    ReplayDialog Input { border: none; height: 1; padding: 0; width: 1fr; }
    ReplayDialog Input:focus { border: none; text-style: underline; }
    """

    def __init__(self, templates: list[Template], target: Target) -> None:
        super().__init__()
        self.templates = templates
        self.target = target
        self.placeholders = sorted({n for t in templates for n in t.placeholders()})
        """The placeholder names without a value of their own (one field each)."""

    def compose(self) -> ComposeResult:
        t = self.target
        which = self.templates[0].name if len(self.templates) == 1 else \
            f"{len(self.templates)} templates ({', '.join(x.name for x in self.templates)})"
        badge = f"{t.marker} " if t.marker else ""
        with Vertical():
            yield PlainLabel(f"Replay {which}"[:200], classes="title")
            yield PlainLabel(f"to {badge}{t.profile} {t.url} user {t.user}", id="replay-target")
            with VerticalScroll(can_focus=False):
                yield from self._row("records" + (" each" if len(self.templates) > 1 else ""),
                                     "1", "r-count")
                yield from self._row("or rows file", "", "r-rows",
                                     "CSV/YAML, or a .resume.csv")
                yield from self._row("rate (records/s)", f"{DEFAULT_RATE:g}", "r-rate")
                yield from self._row("concurrency", str(DEFAULT_CONCURRENCY),
                                     "r-concurrency")
                for name in self.placeholders:
                    yield from self._row(f"${{{name}}}", "", f"ph-{name}",
                                         "value for every record (or a rows column)")
            yield PlainLabel("", id="replay-error")
            yield PlainLabel("enter check and go on   tab next field   esc cancel", classes="keys")

    @staticmethod
    def _row(label: str, value: str, id: str, placeholder: str = "") -> ComposeResult:
        with Horizontal():
            yield PlainLabel(label)
            yield Input(value, placeholder=placeholder, id=id)

    def _value(self, id: str) -> str:
        return self.query_one(f"#{id}", Input).value.strip()

    def request(self) -> ReplayRequest | str:
        """The request, or what is wrong with what was typed (the field named)."""
        count_text, rows_text = self._value("r-count"), self._value("r-rows")
        rows = Path(rows_text).expanduser() if rows_text else None
        count = 1
        if rows is None:
            if not count_text.isdigit() or int(count_text) < 1:
                return f"records: {count_text!r} is not a whole number of at least 1"
            count = int(count_text)
        elif not rows.is_file():
            return f"rows file: {rows} is not a file"
        try:
            rate = float(self._value("r-rate"))
        except ValueError:
            return f"rate: {self._value('r-rate')!r} is not a number (records per second)"
        if not 0 < rate <= MAX_RATE:
            return f"rate: must be above 0 and at most {MAX_RATE:g} records per second"
        concurrency_text = self._value("r-concurrency")
        if not concurrency_text.isdigit() or not 1 <= int(concurrency_text) <= MAX_CONCURRENCY:
            return f"concurrency: {concurrency_text!r} is not a whole number 1..{MAX_CONCURRENCY}"
        sets = {name: self._value(f"ph-{name}") for name in self.placeholders
                if self._value(f"ph-{name}")}
        return ReplayRequest(count, rows, rate, int(concurrency_text), sets)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        answer = self.request()
        if isinstance(answer, str):
            self.query_one("#replay-error", Label).update(answer)
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
