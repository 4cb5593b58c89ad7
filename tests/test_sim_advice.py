"""CometD advice on demand, switched at run time with PUT /sim/faults: interval, timeout,
reconnect, multiple-clients (two sessions sharing the BAYEUX_BROWSER cookie) and a hold longer
than the advised timeout (what a client's maxNetworkDelay is for)."""

from __future__ import annotations

import asyncio
import time

import httpx

from console.sim import Simulator
from tests.helpers import RawBayeux, eventually, meta_of


async def put_faults(sim: Simulator, **settings: object) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        reply = await http.put("/sim/faults", json=settings)
        assert reply.status_code == 200, reply.text


async def timed_connect(client: RawBayeux) -> tuple[float, dict[str, object]]:
    started = time.monotonic()
    messages = await client.connect()
    return time.monotonic() - started, meta_of(messages, "/meta/connect")


async def test_interval_is_advised_and_early_connects_are_counted(
        sim: Simulator, bayeux: RawBayeux) -> None:
    await put_faults(sim, advice_interval_ms=300)
    handshake = await bayeux.handshake()
    assert handshake["advice"]["interval"] == 300
    [first] = await bayeux.connect()
    assert first["advice"] == {"reconnect": "retry", "interval": 300, "timeout": 2000}
    await bayeux.connect(timeout0=True)  # at once: sooner than the advised interval
    assert sim.bayeux.counters.early_connects == 1
    await asyncio.sleep(0.35)
    await bayeux.connect(timeout0=True)  # after waiting the interval: fine
    assert sim.bayeux.counters.early_connects == 1


async def test_timeout_is_advised_and_applied(sim: Simulator, bayeux: RawBayeux) -> None:
    await put_faults(sim, advice_timeout_ms=400)
    await bayeux.handshake()
    await bayeux.connect()
    held_for, answer = await timed_connect(bayeux)
    assert answer["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 400}
    assert 0.35 <= held_for < 1.9  # the fixture's own timeout is 2 s


async def test_hold_beyond_the_advised_timeout(sim: Simulator, bayeux: RawBayeux) -> None:
    await put_faults(sim, advice_timeout_ms=300, hold_extra_ms=500)
    await bayeux.handshake()
    await bayeux.connect()
    held_for, answer = await timed_connect(bayeux)
    assert answer["advice"]["timeout"] == 300  # says 300 ms...
    assert held_for >= 0.75  # ...holds 800: a client must allow timeout + maxNetworkDelay


async def test_reconnect_none_and_handshake(sim: Simulator, bayeux: RawBayeux) -> None:
    await bayeux.handshake()
    await bayeux.connect()
    for value in ("none", "handshake"):
        await put_faults(sim, advice_reconnect=value)
        [answer] = await bayeux.connect(timeout0=True)
        assert answer["advice"]["reconnect"] == value
    async with httpx.AsyncClient(base_url=sim.url) as http:
        await http.delete("/sim/faults")
    [answer] = await bayeux.connect(timeout0=True)
    assert answer["advice"]["reconnect"] == "retry"


async def test_multiple_clients_sharing_a_browser_cookie(sim: Simulator) -> None:
    first = RawBayeux(sim.url, sim.user, sim.password)
    second = RawBayeux(sim.url, sim.user, sim.password)
    await second.http.aclose()
    second.http = first.http  # one browser: one cookie jar
    await first.handshake()
    assert "BAYEUX_BROWSER" in first.http.cookies
    await first.connect()
    await second.handshake()
    await second.connect()
    assert second.client_id != first.client_id
    # Without the fault, both sessions may hold a connect.
    held = asyncio.create_task(first.connect())
    await eventually(lambda: sim.bayeux.counters.held_connects == 1)
    await put_faults(sim, multiple_clients=True)
    started = time.monotonic()
    [answer] = await second.connect()
    assert time.monotonic() - started < 1.5  # answered at once, not held
    assert answer["successful"] is True
    assert answer["advice"] == {"reconnect": "retry", "interval": 2000, "timeout": 2000,
                                "multiple-clients": True}
    assert sim.bayeux.counters.multiple_clients == 1
    await held
    # Another browser (its own cookie) is not affected.
    other = RawBayeux(sim.url, sim.user, sim.password)
    await other.handshake()
    await other.connect()
    elsewhere = asyncio.create_task(other.connect())
    held = asyncio.create_task(first.connect())
    await eventually(lambda: sim.bayeux.counters.held_connects >= 3)
    assert sim.bayeux.counters.multiple_clients == 1
    await asyncio.gather(elsewhere, held)
    await first.close()
    await other.close()
