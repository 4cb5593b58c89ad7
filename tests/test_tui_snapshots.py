"""Screens at 80x24 and 120x40, made deterministic: fixed clock, referenceIds, the simulator's
URL as shown (it listens on a free port), no cursor blink. Update after an intended change
with `pytest --snapshot-update`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.tui.app import OutboundApp
from console.tui.header import StatusHeader
from tests.tui_helpers import GOOD, fill, make_app, ready, wait_until

SIZES = [(80, 24), (120, 40)]
#: The simulator's URL as the header shows it in the snapshots; it really listens on a free port.
SHOWN_URL = "http://127.0.0.1:18931"


def app_for(tmp_path: Path) -> OutboundApp:
    return make_app(tmp_path, deterministic=True)


def with_fixed_url(scene: Callable[[Pilot[None]], Awaitable[None]]
                   ) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run(pilot: Pilot[None]) -> None:
        await ready(pilot)
        header = pilot.app.query_one(StatusHeader)
        assert header.server.startswith("http://127.0.0.1:")
        header.server = SHOWN_URL
        await scene(pilot)
    return run


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
    await ready(pilot)
    await pilot.press("f4", "down", "down", "down", "r")
    await wait_until(pilot, lambda: len(app.screen_stack) > 1)
    app.screen.query_one(Input).value = "2"
    await pilot.press("enter")
    await wait_until(pilot, lambda: "latency" in str(app.query_one("#replay-verdict").render()))
    await pilot.pause(0.1)


async def invalid_form(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, OutboundApp)
    await ready(pilot)
    fill(app, **{**GOOD, "phoneNumber": "call me", "until": "25:00"})
    await pilot.press("ctrl+s")
    await pilot.pause(0.2)


SCENARIOS: dict[str, Callable[[Pilot[None]], Awaitable[None]]] = {
    "main": main_screen, "acknowledged": acknowledged, "templates": template_tree,
    "replay": replay_verdict, "error": invalid_form,
}


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_screen(snap_compare: Any, tmp_path: Path, scenario: str, size: tuple[int, int]) -> None:
    assert snap_compare(app_for(tmp_path), terminal_size=size,
                        run_before=with_fixed_url(SCENARIOS[scenario]))
