"""The CometD stream against the simulator and the official CometD NodeJS server."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import pytest

from console.gws.connection import Connection, Secret
from console.gws.stream import EventStream
from console.sim import Simulator
from tests.helpers import Collector, Gws, eventually, sample_request
from tests.node_tools import NodeProcess


def sim_connection(sim: Simulator, host: str = "127.0.0.1") -> Connection:
    return Connection(f"http://{host}:{sim.port}", sim.user, Secret(sim.password))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_receives_typed_events_from_the_simulator(sim: Simulator, gws: Gws,
                                                        host: str) -> None:
    c = Collector(EventStream(sim_connection(sim, host)))
    await eventually(lambda: c.statuses("connected"))
    await gws.add_record(sample_request(referenceId="s1"))
    await eventually(lambda: len(c.events) == 2)
    ack = next(e for e in c.events if e.channel == "/v2/me/outbound")
    assert ack.reference_id == "s1" and ack.notification_type == "AddRecordAcknowledge"
    assert ack.message_type == "OutboundRecordMessage"
    user_event = next(e for e in c.events if e.channel == "/me/internal")
    assert user_event.user_data["GSW_PHONE"] == "12345"
    assert [e.seq for e in c.events] == [1, 2]
    await c.close()
    assert c.statuses()[-1].kind == "closed"


async def test_restart_gives_reconnecting_gap_and_one_subscribe_per_channel(
        sim: Simulator, gws: Gws) -> None:
    c = Collector(EventStream(sim_connection(sim)))
    await eventually(lambda: c.statuses("connected"))
    await gws.add_record(sample_request(referenceId="before"))
    await eventually(lambda: len(c.events) == 2)
    subscribes_before = sim.bayeux.counters.subscribes
    await sim.restart()
    await eventually(lambda: c.statuses("gap"), timeout=10)
    await eventually(lambda: len(c.statuses("connected")) == 2, timeout=10)
    assert c.statuses("reconnecting")
    gap = c.statuses("gap")[0]
    assert gap.gap_from is not None and gap.gap_to is not None and gap.gap_from <= gap.gap_to
    # One subscribe message per channel after the re-handshake, none twice.
    await asyncio.sleep(0.2)
    [session] = sim.bayeux.describe()
    assert sorted(session["subscriptions"]) == ["/me/internal", "/v2/me/*"]
    assert sim.bayeux.counters.subscribes - subscribes_before <= 2
    assert c.stream.handshakes == 2
    await gws.start()
    await gws.add_record(sample_request(referenceId="after"))
    await eventually(lambda: len(c.events) == 4)
    refs = Counter(e.reference_id for e in c.events if e.reference_id)
    assert refs == {"before": 1, "after": 1}
    await c.close()


async def test_server_queue_drops_become_a_gap() -> None:
    from console.sim import BayeuxSettings

    async with Simulator(password="x", bayeux=BayeuxSettings(queue_max=2)) as small:
        c = Collector(EventStream(Connection(small.url, small.user, Secret("x"))))
        await eventually(lambda: c.statuses("connected"))
        await eventually(lambda: any(s.held for s in small.bayeux.sessions.values()))
        # Eight events in one turn of the server's loop: the held connect can take them only
        # after it, so the queue of 2 overflows whatever the client's pace. (Four records
        # posted one by one no longer overflow it: the stream connects again at once after a
        # small reply, and keeps up.)
        for n in range(8):
            small.bayeux.publish("/v2/me/outbound", {"referenceId": f"d{n}",
                                                     "messageType": "OutboundRecordMessage"})
        await eventually(lambda: c.statuses("gap"), timeout=5)
        await eventually(lambda: c.stream.server_dropped == small.bayeux.counters.events_dropped)
        assert small.bayeux.counters.events_dropped == 6
        assert c.statuses("gap")[0].extra["dropped"] == 6
        assert [e.data["referenceId"] for e in c.events] == ["d6", "d7"]  # the oldest went
        await c.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_official(port: int) -> NodeProcess:
    server = await NodeProcess.start("cometd_server.mjs", str(port))
    await server.wait_for(lambda l: l["event"] == "listening")
    return server


@pytest.mark.interop
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_official_server_stream(host: str) -> None:
    port = free_port()
    server = await start_official(port)
    try:
        conn = Connection(f"http://{host}:{port}", "any", Secret("unused"),
                          channels=("/v2/me/outbound",))
        c = Collector(EventStream(conn))
        await eventually(lambda: c.statuses("connected"), timeout=10)
        server.send("publish 50")
        await eventually(lambda: len(c.events) == 50, timeout=10)
        assert [e.data["seq"] for e in c.events] == list(range(1, 51))
        await c.close()
    finally:
        await server.stop()


@pytest.mark.interop
async def test_official_server_killed_and_restarted() -> None:
    port = free_port()
    server = await start_official(port)
    conn = Connection(f"http://127.0.0.1:{port}", "any", Secret("unused"),
                      channels=("/v2/me/outbound",))
    c = Collector(EventStream(conn, max_network_delay=3.0, max_backoff=2.0))
    try:
        await eventually(lambda: c.statuses("connected"), timeout=10)
        server.send("publish 20")
        await eventually(lambda: len(c.events) == 20, timeout=10)
        server.proc.kill()  # SIGKILL mid-stream
        await server.proc.wait()
        await eventually(lambda: c.statuses("reconnecting"), timeout=10)
        await asyncio.sleep(1.0)
        server = await start_official(port)
        await eventually(lambda: c.statuses("gap"), timeout=20)
        await eventually(lambda: len(c.statuses("connected")) >= 2, timeout=20)
        subs = await server.wait_for(lambda l: l["event"] == "subscribed", timeout=10)
        await asyncio.sleep(0.5)
        subs = [l for l in server.lines if l["event"] == "subscribed"]
        assert [s["channel"] for s in subs] == ["/v2/me/outbound"]  # exactly once
        server.send("publish 20")
        await eventually(lambda: len(c.events) == 40, timeout=10)
        seqs = [e.data["seq"] for e in c.events]
        assert seqs == list(range(1, 21)) * 2  # the new server counts from 1 again
        assert len({(e.seq) for e in c.events}) == 40  # no event delivered twice
        gap = c.statuses("gap")[0]
        assert gap.gap_from is not None and gap.gap_to is not None and gap.gap_to > gap.gap_from
    finally:
        await c.close()
        await server.stop()


@pytest.mark.interop
async def test_long_outage_reports_reconnecting_then_recovers() -> None:
    port = free_port()
    server = await start_official(port)
    conn = Connection(f"http://127.0.0.1:{port}", "any", Secret("unused"),
                      channels=("/v2/me/outbound",))
    c = Collector(EventStream(conn, max_network_delay=2.0, max_backoff=2.0))
    try:
        await eventually(lambda: c.statuses("connected"), timeout=10)
        await server.stop()
        await eventually(lambda: c.statuses("reconnecting"), timeout=10)
        await asyncio.sleep(6.0)  # several failed attempts with backoff
        assert c.stream.state == "reconnecting"
        server = await start_official(port)
        await eventually(lambda: c.stream.state == "connected", timeout=15)
        server.send("publish 3")
        await eventually(lambda: len(c.events) == 3, timeout=10)
    finally:
        await c.close()
        await server.stop()
