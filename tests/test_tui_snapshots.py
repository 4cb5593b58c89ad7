"""Screens at 80x24 and 120x40, and at 80x24 with NO_COLOR, made deterministic: fixed clock,
referenceIds, the simulator's URL as shown, no cursor blink. Update after an intended change
with `pytest --snapshot-update` (and look at the pictures first)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.domain.events import StreamStatus
from console.tui.app import OutboundApp
from console.tui.header import StatusHeader
from tests.tui_helpers import GOOD, fill, make_app, wait_until
from tests.tui_helpers import ready as connected

SIZES = [(80, 24), (120, 40)]
SHOWN_URL = "http://127.0.0.1:18931"
"""What the header shows as the simulator's URL: it listens on a free port (never a fixed
one: tests run in parallel on one machine), which would change every picture."""


def app_for(tmp_path: Path) -> OutboundApp:
    return make_app(tmp_path, deterministic=True)


async def ready(pilot: Pilot[None]) -> None:
    await connected(pilot)
    app = pilot.app
    assert isinstance(app, OutboundApp)
    app.main(StatusHeader).server = SHOWN_URL
    assert app.opened is not None  # what the replay's verdict names
    app.opened.target = replace(app.opened.target, url=SHOWN_URL)


async def main_screen(pilot: Pilot[None]) -> None:
    await ready(pilot)


async def acknowledged(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, OutboundApp)
    await ready(pilot)
    fill(app, **GOOD)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: app.current is not None
                     and app.current.state == "acknowledged"
                     and app.current.user_event is not None)
    await pilot.pause(0.2)
    if app.size.width < 110:
        await pilot.press("f3")
    await pilot.pause(0.1)


async def template_tree(pilot: Pilot[None]) -> None:
    await ready(pilot)
    await pilot.press("f4", "down", "down")
    await pilot.pause(0.1)


async def replay_verdict(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, OutboundApp)
    await ready(pilot)
    # A rows file gives each record its referenceId: the events pane shows them.
    rows = Path(app.profiles_dir or ".") / "replay-rows.csv"
    rows.write_text("referenceId\nrep-0001\nrep-0002\n", encoding="utf-8")
    await pilot.press("f4", "down", "down", "down", "ctrl+r")
    await wait_until(pilot, lambda: len(app.screen_stack) > 1)
    app.screen.query_one("#r-rows", Input).value = str(rows)
    app.screen.query_one("#r-rows", Input).focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: "latency" in str(app.query_one("#replay-verdict").render()))
    await pilot.pause(0.1)


async def events_pane(pilot: Pilot[None]) -> None:
    """Two requests' events with a gap between them, a filter-free list following."""
    app = pilot.app
    assert isinstance(app, OutboundApp)
    await ready(pilot)
    for phone in ("5551234", "5559876"):
        fill(app, **{**GOOD, "phoneNumber": phone})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.current is not None
                         and app.current.state == "acknowledged"
                         and app.current.user_event is not None)
        if phone == "5551234":
            at = app.now()  # the fixed clock: the gap's times are always the same
            app._collect(StreamStatus("gap", "events published while disconnected may be "
                                      "missing", at, at - 40, at - 5))
    await pilot.press("f3")
    await pilot.pause(0.2)


async def history_pane(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, OutboundApp)
    await ready(pilot)
    fill(app, **GOOD)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: app.current is not None
                     and app.current.state == "acknowledged")
    for entry in app.history_entries:
        entry.server = SHOWN_URL
    app._history_changed()
    await pilot.press("f5")
    await pilot.pause(0.2)


async def invalid_form(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, OutboundApp)
    await ready(pilot)
    fill(app, **{**GOOD, "phoneNumber": "call me", "until": "25:00"})
    await pilot.press("ctrl+s")
    await pilot.pause(0.2)


SCENARIOS: dict[str, Callable[[Pilot[None]], Awaitable[None]]] = {
    "main": main_screen, "acknowledged": acknowledged, "templates": template_tree,
    "replay": replay_verdict, "error": invalid_form, "events": events_pane,
    "history": history_pane,
}


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_screen(snap_compare: Any, tmp_path: Path, scenario: str, size: tuple[int, int]) -> None:
    assert snap_compare(app_for(tmp_path), terminal_size=size, run_before=SCENARIOS[scenario])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_screen_without_colour(snap_compare: Any, tmp_path: Path, scenario: str,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR at 80x24: focus, cursor, placeholders, highlights and badges by attribute."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(tmp_path)
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24), run_before=SCENARIOS[scenario])


def test_every_image_the_readme_shows_exists_and_is_made_by_make_py() -> None:
    import re
    import sys

    root = Path(__file__).parent.parent
    shown = re.findall(r"\]\((screenshots/[^)]+\.svg)\)", (root / "README.md").read_text())
    assert "screenshots/main.svg" in shown  # the first image
    sys.path.insert(0, str(root / "screenshots"))
    try:
        from make import SHOTS  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(root / "screenshots"))
    for path in shown:
        assert (root / path).is_file(), path
        assert Path(path).name in SHOTS, f"{path} is not made by screenshots/make.py"
