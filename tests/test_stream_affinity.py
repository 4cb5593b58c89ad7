"""The stream against a server that forgets each new session right after its handshake (what
a load balancer without session affinity looks like from the client): it stops after three in
a row, saying why; fewer, and it carries on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.helpers import eventually
from tests.hostile import HostileServer, Reply, Seen
from tests.test_stream_hostile import events_flow, open_stream


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as hostile:
        yield hostile


def forgetting(times: int, where: str) -> Any:
    forgotten: list[Seen] = []

    def script(seen: Seen) -> Reply | None:
        first_connect = (seen.channel == "/meta/connect"
                         and seen.messages[0].get("advice") is not None)
        hit = seen.channel == "/meta/subscribe" if where == "subscribe" else first_connect
        if hit and len(forgotten) < times:
            forgotten.append(seen)
            return Reply([{"channel": m.get("channel"), "id": m.get("id"), "successful": False,
                           "error": "402::session_unknown", **(
                               {"subscription": m["subscription"]} if "subscription" in m
                               else {}),
                           "advice": {"reconnect": "handshake", "interval": 0}}
                          for m in seen.messages])
        return None
    return script


@pytest.mark.parametrize("where", ["subscribe", "first-connect"])
async def test_three_sessions_forgotten_at_once_stop_the_stream(server: HostileServer,
                                                                where: str) -> None:
    server.script = forgetting(99, where)
    c = open_stream(server)
    await eventually(lambda: c.stream.failed.is_set(), timeout=15)
    assert c.stream.failure is not None
    assert "sticky sessions on JSESSIONID" in c.stream.failure.detail
    assert len(server.seen("/meta/handshake")) == 3  # bounded: no fourth session
    await c.close()


async def test_two_forgotten_sessions_then_a_good_one_carry_on(server: HostileServer) -> None:
    server.script = forgetting(2, "subscribe")
    c = open_stream(server)
    await events_flow(c, server, "after-two")
    assert not c.stream.failed.is_set()
    await c.close()
