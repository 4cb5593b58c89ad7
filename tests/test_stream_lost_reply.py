"""A connect that reached the server but whose reply was lost (reset mid-poll) may have carried
events: the stream retries on the same session and reports a gap from the last good connect,
although no new session was opened (killed mutant: stream.py's `_failed` gap rule)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.helpers import eventually
from tests.hostile import HostileServer, Reset, Seen
from tests.test_stream_hostile import assert_healthy, events_flow, open_stream, server  # noqa: F401


async def test_a_lost_connect_reply_opens_a_gap_on_the_same_session(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    lost_at: list[float] = []

    def script(seen: Seen) -> Reset | None:
        if seen.channel == "/meta/connect" and len(server.seen("/meta/connect")) == 3:
            lost_at.append(time.time())
            return Reset()  # the third connect (a held one, delivered) loses its reply
        return None

    server.script = script
    c = open_stream(server)
    await eventually(lambda: bool(lost_at), timeout=15)
    await events_flow(c, server, "after")
    [gap] = c.statuses("gap")
    assert gap.gap_from is not None and gap.gap_to is not None
    assert gap.gap_from < lost_at[0] <= gap.gap_to  # from the last good connect
    assert len(server.seen("/meta/handshake")) == 1  # same session: only the gap says so
    ids: set[Any] = {s.client_id for s in server.seen("/meta/connect")}
    assert len(ids) == 1
    assert_healthy(c, server, caplog)
    await c.close()
