"""A consumer of the engine's items that fails (a printer that cannot encode an event, a UI
callback with a bug) must not stop the engine's pump: the tracker, the journal and the other
consumers go on receiving, and the stream never goes deaf while saying "connected"."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.domain.events import Event, StreamItem
from console.sim import Simulator
from tests.helpers import eventually, sample_request
from tests.test_engine import engine_for


async def test_a_failing_callback_does_not_stop_the_pump(
        sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[StreamItem] = []

    def broken(item: StreamItem) -> None:
        if isinstance(item, Event):
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    async with engine_for(sim, tmp_path) as engine:
        engine.on_item(broken)
        engine.on_item(seen.append)
        for n in range(3):
            tracked = await engine.send(sample_request(referenceId=f"cb-{n}"))
            await engine.wait(tracked)
            assert tracked.state == "acknowledged", tracked.describe()
        await eventually(lambda: sum(isinstance(i, Event) for i in seen) >= 6)
    assert "UnicodeEncodeError" in caplog.text  # said, not swallowed
