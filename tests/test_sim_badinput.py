"""The simulator as a server under bad input, over raw HTTP: nothing reaches a traceback,
nothing invalid is echoed, and the counters that prove "nothing lost" stay exact."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from typing import Any

import httpx
import pytest

from console.sim import BayeuxSettings, Faults, Simulator
from tests.helpers import Gws, RawBayeux, events_of, eventually, sample_request

DEEP = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"":' * 50_000 + b"1" + b"}" * 50_000  # 250 kB: under the 256 KiB limit


@pytest.mark.parametrize("payload", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
async def test_deep_json_is_400_everywhere_and_changes_nothing(
        sim: Simulator, gws: Gws, bayeux: RawBayeux, payload: bytes) -> None:
    json_type = {"Content-Type": "application/json"}
    notifications = await bayeux.post(payload)
    assert notifications.status_code == 400
    assert notifications.json()[0]["error"] == "400::JSON nested too deep"
    record = await gws.http.post("/api/v2/me/outbound-records", content=payload,
                                 headers={**gws.csrf, **json_type})
    assert record.status_code == 400 and record.json()["statusCode"] == 10
    me = await gws.http.post("/api/v2/me", content=payload, headers={**gws.csrf, **json_type})
    assert me.status_code == 400 and me.json()["statusCode"] == 10
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        for path in ("/sim/faults", "/sim/settings"):
            reply = await admin.put(path, content=payload, headers=json_type)
            assert reply.status_code == 400 and "too deep" in reply.json()["error"]
        for path in ("/sim/restart", "/sim/flood"):
            assert (await admin.post(path, content=payload, headers=json_type)).status_code == 400
    assert sim.store.records == [] and sim.restarts == 0
    assert sim.faults == Faults() and sim.settings.as_dict() == sim.settings.__class__().as_dict()
    assert (await gws.add_record(sample_request())).json() == {"statusCode": 0}


async def test_script_ids_are_refused_and_never_echoed(sim: Simulator,
                                                       bayeux: RawBayeux) -> None:
    evil = "<script>alert(1)</script>"
    reply = await bayeux.post([{"channel": "/meta/handshake", "version": "1.0", "id": evil,
                                "supportedConnectionTypes": ["long-polling"]}])
    assert reply.status_code == 200 and "<script" not in reply.text
    [answer] = reply.json()
    assert answer == {"channel": "/meta/handshake", "successful": False,
                      "error": "405::id_invalid"}
    assert sim.bayeux.counters.handshakes == 0
    await bayeux.handshake()
    answers = await bayeux.send(
        {"channel": "/meta/connect", "clientId": bayeux.client_id, "id": evil},
        {"channel": "/meta/subscribe", "clientId": bayeux.client_id, "id": "ok-1",
         "subscription": "/foo<>"},
        {"channel": "/meta/subscribe", "clientId": bayeux.client_id, "id": "ok-2",
         "subscription": ["/v2/me/outbound", "/bar\"><img>"]},
        {"channel": "/v2/<b>", "clientId": bayeux.client_id, "id": "ok-3"},
    )
    text = json.dumps(answers)
    assert "<" not in text and ">" not in text
    assert [a["error"] for a in answers] == ["405::id_invalid", "405::channel_invalid",
                                             "405::channel_invalid", "405::channel_invalid"]
    assert [a.get("id") for a in answers] == [None, "ok-1", "ok-2", "ok-3"]
    assert sim.bayeux.describe()[0]["subscriptions"] == []  # nothing of the batch subscribed


async def test_empty_message_is_402_as_the_official_cometd_server_answers(
        sim: Simulator, bayeux: RawBayeux) -> None:
    reply = await bayeux.post(b"[{}]")
    assert reply.status_code == 200
    assert reply.json() == [{"successful": False, "error": "402::session_unknown"}]
    # With a live session, a message without a channel is 400::channel_missing.
    await bayeux.handshake()
    [answer] = await bayeux.send({"clientId": bayeux.client_id, "id": "7"})
    assert answer == {"successful": False, "error": "400::channel_missing", "id": "7"}


def raw_request(head: str, body: bytes = b"") -> bytes:
    return head.replace("\n", "\r\n").encode() + b"\r\n" + body


async def first_line(host: str, port: int, request: bytes, timeout: float = 5.0) -> str:
    """The status line of the reply to a raw request (AssertionError if none comes in time)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        return line.decode().strip()
    finally:
        writer.close()


@pytest.mark.parametrize("nodes", [1, 2])
@pytest.mark.parametrize("path", ["/api/v2/me/outbound-records", "/api/v2/notifications"])
async def test_a_lying_content_length_gets_413_at_once(path: str, nodes: int) -> None:
    async with Simulator(password="pw", nodes=nodes) as lying:
        head = (f"POST {path} HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
                "Content-Length: 10737418240\n")
        started = time.monotonic()
        line = await first_line(lying.host, lying.port, raw_request(head, b"{"))
        assert line.startswith("HTTP/1.1 413"), line
        assert time.monotonic() - started < 5.0
        assert lying.store.records == []
        client = Gws(lying.url, lying.user, "pw")
        await client.start()
        assert (await client.add_record(sample_request())).json() == {"statusCode": 0}
        await client.close()


def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a client killed mid-request does."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def test_a_client_that_resets_under_a_held_connect_is_noticed() -> None:
    settings = BayeuxSettings(timeout_ms=30_000, max_interval_ms=600, sweep_period_s=0.05)
    async with Simulator(password="pw", bayeux=settings) as sim:
        bayeux = RawBayeux(sim.url, sim.user, "pw")
        await bayeux.open("/v2/me/outbound")
        message = json.dumps([{"channel": "/meta/connect", "clientId": bayeux.client_id,
                               "connectionType": "long-polling", "id": "held"}]).encode()
        reader, writer = await asyncio.open_connection(sim.host, sim.port)
        auth = httpx.BasicAuth(sim.user, "pw")._auth_header
        writer.write(raw_request(
            f"POST /api/v2/notifications HTTP/1.1\nHost: x\nAuthorization: {auth}\n"
            f"Content-Type: application/json\nContent-Length: {len(message)}\n", message))
        await writer.drain()
        await eventually(lambda: sim.bayeux.counters.held_connects == 1)
        reset_connection(writer)
        await eventually(lambda: sim.bayeux.counters.connects_abandoned == 1)
        assert not sim.bayeux.describe()[0]["held"]
        # An ack published now waits in the queue: nobody received it, so it is not delivered.
        poster = Gws(sim.url, sim.user, "pw")
        await poster.start()
        await poster.add_record(sample_request(referenceId="into-the-void"))
        [record] = sim.store.records
        await eventually(lambda: record.notified_at is not None)
        assert sim.bayeux.counters.events_delivered == 0 and record.delivery == "pending"
        # The session is swept on schedule (interval + maxInterval after the connect ended)
        # and the ack is counted lost with it.
        await eventually(lambda: sim.bayeux.counters.sessions_swept == 1, timeout=3.0)
        assert record.delivery == "lost" and record.lost_reason == "swept"
        assert sim.store.counters["acks_lost_in_sweep"] == 1
        assert sim.state()["bayeux"]["counters"]["lost_by_reason"] == {"swept": 1}
        await poster.close()
        await bayeux.close()


async def collect(client: RawBayeux, into: list[dict[str, Any]],
                  stop: asyncio.Event | None = None) -> None:
    """Keep a long-poll open and collect events until the session or connection is gone, or
    `stop` is set (checked between connects, so no reply is abandoned half-read)."""
    while stop is None or not stop.is_set():
        try:
            messages = await client.connect()
        except httpx.TransportError:
            return
        into.extend(events_of(messages))
        if any(m.get("error") == "402::session_unknown" for m in messages):
            return


async def test_restart_counts_every_ack_exactly_once() -> None:
    faults = Faults(ack_delay_ms=300, ack_jitter_ms=1500, seed=5)
    async with Simulator(password="pw", faults=faults,
                         bayeux=BayeuxSettings(timeout_ms=500)) as sim:
        before = RawBayeux(sim.url, sim.user, "pw")
        await before.open("/v2/me/outbound")
        received: list[dict[str, Any]] = []
        stop = asyncio.Event()
        listening = asyncio.create_task(collect(before, received, stop))
        poster = Gws(sim.url, sim.user, "pw")
        await poster.start()
        await asyncio.gather(*(poster.add_record(sample_request(referenceId=f"r{n}"))
                               for n in range(30)))
        await eventually(lambda: len(received) >= 3, timeout=5.0)
        # The client stops polling: acks published from now on wait in its session's queue,
        # and the restart drops them with the session.
        stop.set()
        await asyncio.wait_for(listening, 5.0)
        await eventually(lambda: sim.bayeux.describe()[0]["queued"] >= 2, timeout=5.0)
        async with httpx.AsyncClient(base_url=sim.url) as admin:
            await admin.post("/sim/restart", json={"downtime": 0.3})

        async def back() -> bool:
            try:
                async with httpx.AsyncClient(base_url=sim.url) as probe:
                    return (await probe.get("/sim/state?records=0")).status_code == 200
            except httpx.TransportError:
                return False

        await asyncio.sleep(0.1)
        await eventually(back, timeout=5.0)
        # A new session after the restart gets what is published from now on.
        after = RawBayeux(sim.url, sim.user, "pw")
        await after.open("/v2/me/outbound")
        stop = asyncio.Event()
        listening = asyncio.create_task(collect(after, received, stop))
        await poster.start()
        for n in range(30, 35):
            await poster.add_record(sample_request(referenceId=f"r{n}"))
        records = sim.store.records
        await eventually(lambda: all(r.delivery != "pending" for r in records), timeout=5.0)
        stop.set()  # the listener reads its last reply (held 0.5 s at most) and stops
        await asyncio.wait_for(listening, 5.0)
        delivered = {r.reference_id for r in records if r.delivery == "delivered"}
        lost = [r for r in records if r.delivery == "lost"]
        assert {e["data"]["referenceId"] for e in received} == delivered
        assert len(received) == len(delivered)  # none twice
        assert all(r.lost_reason == "restart" and r.fate == "lost" for r in lost)
        counters = sim.store.counters
        assert counters["acks_lost_in_restart"] == len(lost) > 2
        assert counters["acks_delivered"] == len(delivered) > 5
        assert counters["acks_delivered"] + counters["acks_lost_in_restart"] == 35
        assert {f"r{n}" for n in range(30, 35)} <= delivered
        await poster.close()
        await before.close()
        await after.close()


@pytest.mark.interop
async def test_empty_message_gets_what_the_official_server_answers(sim: Simulator) -> None:
    from tests.node_tools import NodeProcess

    official = await NodeProcess.start("cometd_server.mjs", "0")
    try:
        [listening] = await official.wait_for(lambda line: line["event"] == "listening")
        async with httpx.AsyncClient() as http:
            theirs = await http.post(f"http://127.0.0.1:{listening['port']}/cometd",
                                     content=b"[{}]",
                                     headers={"Content-Type": "application/json"})
            ours = await http.post(f"{sim.url}/api/v2/notifications", content=b"[{}]",
                                   auth=(sim.user, sim.password),
                                   headers={"Content-Type": "application/json"})
        assert theirs.status_code == ours.status_code == 200
        assert theirs.json() == ours.json() == [
            {"successful": False, "error": "402::session_unknown"}]
    finally:
        await official.stop()


async def test_an_ack_published_just_after_a_restart_is_never_counted_delivered() -> None:
    """The old session's held connect is dropped by the restart; an ack published right after
    the restart's answer, before anyone subscribed again, was heard by nobody."""
    async with Simulator(password="pw", bayeux=BayeuxSettings(timeout_ms=5000)) as sim:
        old = RawBayeux(sim.url, sim.user, "pw")
        await old.open("/v2/me/outbound")
        held = asyncio.ensure_future(old.connect())
        await eventually(lambda: sim.bayeux.counters.held_connects == 1)
        async with httpx.AsyncClient(base_url=sim.url) as admin:
            assert (await admin.post("/sim/restart", json={})).status_code == 200
        poster = Gws(sim.url, sim.user, "pw")
        await poster.start()
        assert (await poster.add_record(sample_request(referenceId="after"))).json() == {
            "statusCode": 0}
        [record] = sim.store.records
        await eventually(lambda: record.delivery != "pending")
        assert record.delivery == "lost" and record.lost_reason == "unheard"
        counters = sim.store.counters
        assert counters["acks_delivered"] == 0 and counters["acks_unheard"] == 1
        try:  # the dropped connect: closed, or answered without the event
            assert events_of(await asyncio.wait_for(held, 10)) == []
        except httpx.TransportError:
            pass
        assert sim.bayeux.counters.events_delivered == 0
        await poster.close()
        await old.close()


async def test_the_sim_command_under_raw_bad_input(tmp_path: Any) -> None:
    """`outbound-console sim` itself (a subprocess), raw HTTP: deep JSON is 400 and changes
    nothing, `[{}]` is 402, `<script>` ids and `/foo<>` channels are refused unechoed, a lying
    Content-Length gets 413 at once."""
    from tests.test_sim_cluster import PASSWORD, run_sim

    proc = await run_sim(tmp_path)
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        url = first.split()[-1]
        host, port = url[len("http://"):].rsplit(":", 1)
        async with httpx.AsyncClient(base_url=url, auth=("demo", PASSWORD)) as admin:
            for path in ("/sim/faults", "/sim/settings"):
                reply = await admin.put(path, content=DEEP,
                                        headers={"Content-Type": "application/json"})
                assert reply.status_code == 400 and "too deep" in reply.json()["error"]
            notifications = await admin.post("/api/v2/notifications", content=DEEP)
            assert notifications.status_code == 400
            empty = await admin.post("/api/v2/notifications", content=b"[{}]")
            assert empty.json() == [{"successful": False, "error": "402::session_unknown"}]
            evil = await admin.post("/api/v2/notifications", json=[{
                "channel": "/meta/handshake", "version": "1.0", "id": "<script>",
                "supportedConnectionTypes": ["long-polling"]}])
            assert "<script" not in evil.text and evil.json()[0]["error"] == "405::id_invalid"
            state = (await admin.get("/sim/state")).json()
            assert state["faults"]["ack_drop"] == 0 and state["settings"]["csrf"] is True
        head = ("POST /api/v2/me/outbound-records HTTP/1.1\nHost: x\nContent-Type: "
                "application/json\nContent-Length: 10737418240\n")
        line = await first_line(host, int(port), raw_request(head, b"{"))
        assert line.startswith("HTTP/1.1 413"), line
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
