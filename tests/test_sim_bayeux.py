"""The simulator's Bayeux server rules (shared/reference/bayeux.md), over real sockets."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from console.sim import BayeuxSettings, Simulator
from tests.helpers import Gws, RawBayeux, events_of, eventually, sample_request


async def test_handshake_reply(bayeux: RawBayeux) -> None:
    answer = await bayeux.handshake()
    assert answer["channel"] == "/meta/handshake"
    assert answer["version"] == "1.0"
    assert answer["supportedConnectionTypes"] == ["long-polling"]
    assert answer["id"] == "1"
    assert answer["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 2000}
    assert len(answer["clientId"]) >= 16


async def test_first_connect_answers_at_once_then_connects_are_held(
        sim: Simulator, bayeux: RawBayeux) -> None:
    await bayeux.handshake()
    [first] = await bayeux.connect()
    assert first["successful"] is True and first["advice"]["reconnect"] == "retry"
    held = asyncio.create_task(bayeux.connect())
    await eventually(lambda: sim.bayeux.counters.held_connects == 1)
    assert not held.done()
    [answer] = await held  # released by the hold timeout (2 s in these tests)
    assert answer["successful"] is True


async def test_connect_with_timeout_zero_is_answered_at_once(
        sim: Simulator, bayeux: RawBayeux) -> None:
    await bayeux.handshake()
    await bayeux.connect()
    [answer] = await asyncio.wait_for(bayeux.connect(timeout0=True), 0.5)
    assert answer["successful"] is True
    assert sim.bayeux.counters.held_connects == 0


async def test_held_connect_is_answered_by_an_event(sim: Simulator, gws: Gws,
                                                    bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/outbound")
    held = asyncio.create_task(bayeux.connect())
    await eventually(lambda: sim.bayeux.counters.held_connects == 1)
    await gws.add_record(sample_request(referenceId="held-1"))
    messages = await asyncio.wait_for(held, 1.5)
    [ack] = events_of(messages)
    assert ack["data"]["referenceId"] == "held-1"
    assert messages[-1]["channel"] == "/meta/connect"


async def test_unknown_client_id_is_402_with_handshake_advice(bayeux: RawBayeux) -> None:
    for channel in ("/meta/connect", "/meta/subscribe", "/meta/unsubscribe", "/meta/disconnect"):
        [answer] = await bayeux.send({"channel": channel, "clientId": "nope", "id": "9",
                                      "subscription": "/v2/me/outbound",
                                      "connectionType": "long-polling"})
        assert answer["successful"] is False
        assert answer["error"] == "402::session_unknown"
        assert answer["advice"] == {"reconnect": "handshake", "interval": 0}
        assert answer["id"] == "9"


async def test_missing_client_id_is_402(bayeux: RawBayeux) -> None:
    [answer] = await bayeux.send({"channel": "/meta/connect", "id": "3"})
    assert answer["error"] == "402::session_unknown"


async def test_silent_session_is_swept_after_interval_plus_max_interval(
        sim: Simulator, bayeux: RawBayeux) -> None:
    await bayeux.handshake()
    await bayeux.connect()
    client_id = bayeux.client_id
    assert client_id in sim.bayeux.sessions
    start = time.monotonic()
    await eventually(lambda: client_id not in sim.bayeux.sessions, timeout=3.0)
    # maxInterval is 1 s in these tests: not swept before it.
    assert time.monotonic() - start >= 0.9
    [answer] = await bayeux.connect()
    assert answer["error"] == "402::session_unknown"
    assert sim.bayeux.counters.sessions_swept == 1


async def test_session_with_held_connect_is_not_swept(sim: Simulator) -> None:
    settings = BayeuxSettings(timeout_ms=1500, max_interval_ms=200, sweep_period_s=0.05)
    async with Simulator(password="x", bayeux=settings) as quick:
        client = RawBayeux(quick.url, quick.user, "x")
        await client.handshake()
        await client.connect()
        [answer] = await client.connect()  # held 1.5 s, far beyond maxInterval
        assert answer["successful"] is True
        assert quick.bayeux.counters.sessions_swept == 0
        await client.close()


async def test_second_connect_answers_the_held_one(sim: Simulator, gws: Gws,
                                                   bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/outbound")
    first = asyncio.create_task(bayeux.connect())
    await eventually(lambda: sim.bayeux.counters.held_connects == 1)
    second = asyncio.create_task(bayeux.connect())
    [answer] = await asyncio.wait_for(first, 1.0)
    assert answer["successful"] is True and answer["channel"] == "/meta/connect"
    assert sim.bayeux.counters.duplicate_connects == 1
    await gws.add_record(sample_request(referenceId="dup"))
    messages = await asyncio.wait_for(second, 1.0)
    assert [e["data"]["referenceId"] for e in events_of(messages)] == ["dup"]


async def test_bounded_queue_counts_drops_and_reports_them(gws: Gws) -> None:
    settings = BayeuxSettings(queue_max=3)
    async with Simulator(password="x", bayeux=settings) as small:
        client = RawBayeux(small.url, small.user, "x")
        poster = Gws(small.url, small.user, "x")
        await poster.start()
        await client.open("/v2/me/outbound")
        for n in range(5):
            await poster.add_record(sample_request(referenceId=f"q{n}"))
        await eventually(lambda: small.bayeux.counters.events_dropped == 2)
        messages = await client.connect()
        refs = [e["data"]["referenceId"] for e in events_of(messages)]
        assert refs == ["q2", "q3", "q4"]  # oldest dropped first
        assert messages[-1]["ext"] == {"sim": {"dropped": 2}}
        assert small.state()["bayeux"]["sessions"][0]["dropped"] == 2
        await client.close()
        await poster.close()


@pytest.mark.parametrize("content", [b"{not json", b"\xff", b"42", b'"x"', b"[]", b"null"])
async def test_malformed_bodies_are_http_400_and_server_keeps_serving(
        bayeux: RawBayeux, content: bytes) -> None:
    reply = await bayeux.post(content)
    assert reply.status_code == 400
    assert reply.json()[0]["successful"] is False
    await bayeux.handshake()


async def test_get_is_400(sim: Simulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url, auth=(sim.user, sim.password)) as http:
        reply = await http.get("/api/v2/notifications")
    assert reply.status_code == 400


async def test_message_errors(bayeux: RawBayeux) -> None:
    await bayeux.handshake()
    cid = bayeux.client_id
    answers = await bayeux.send(
        {"id": "1", "clientId": cid},
        {"channel": "no-slash", "id": "2", "clientId": cid},
        {"channel": "/meta/subscribe", "id": {"x": 1}, "clientId": cid, "subscription": "/a"},
        {"channel": "/meta/subscribe", "id": "4", "clientId": cid, "subscription": "/a/*b"},
        {"channel": "/meta/subscribe", "id": "5", "clientId": cid, "subscription": "/meta/x"},
        {"channel": "/v2/me/outbound", "id": "6", "clientId": cid, "data": {}},
        {"channel": "/meta/nonsense", "id": "7", "clientId": cid},
        "not an object",
    )
    errors = [a["error"] for a in answers]
    assert errors == ["400::channel_missing", "405::channel_invalid", "405::id_invalid",
                      "405::channel_invalid", "403::subscription_denied",
                      "403::publish denied", "404::unknown meta channel",
                      "400::message is not a JSON object"]
    assert answers[0]["id"] == "1"
    [ok] = await bayeux.connect()
    assert ok["successful"] is True


async def test_handshake_batched_with_others_processes_only_the_handshake(
        sim: Simulator, bayeux: RawBayeux) -> None:
    answers = await bayeux.send(
        {"channel": "/meta/handshake", "version": "1.0", "id": "1",
         "supportedConnectionTypes": ["long-polling"]},
        {"channel": "/meta/subscribe", "clientId": "whatever", "subscription": "/a", "id": "2"},
        {"channel": "/meta/connect", "clientId": "whatever", "id": "3"},
    )
    assert [a["channel"] for a in answers] == ["/meta/handshake"]
    assert sim.bayeux.counters.subscribes == 0 and sim.bayeux.counters.connects == 0


async def test_handshake_without_long_polling_is_refused(bayeux: RawBayeux) -> None:
    [answer] = await bayeux.send({"channel": "/meta/handshake", "version": "1.0", "id": "1",
                                  "supportedConnectionTypes": ["websocket"]})
    assert answer["successful"] is False and answer["error"].startswith("301:")
    assert answer["advice"]["reconnect"] == "none"


async def test_oversize_body_is_413(bayeux: RawBayeux) -> None:
    reply = await bayeux.post(b"[" + b'"x",' * 100_000 + b'"x"]')
    assert reply.status_code == 413
    await bayeux.handshake()


@pytest.mark.parametrize("pattern", ["/v2/me/*", "/**", "/v2/**", "/v2/me/outbound"])
async def test_wildcard_subscriptions(gws: Gws, bayeux: RawBayeux, pattern: str) -> None:
    await bayeux.open(pattern)
    await gws.add_record(sample_request(referenceId="w"))
    events = events_of(await bayeux.connect())
    channels = sorted(e["channel"] for e in events)
    expected = ["/me/internal", "/v2/me/outbound"] if pattern == "/**" else ["/v2/me/outbound"]
    assert channels == expected


async def test_overlapping_subscriptions_deliver_once(gws: Gws, bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/*", "/v2/me/outbound", "/**")
    await gws.add_record(sample_request(referenceId="once"))
    events = events_of(await bayeux.connect())
    assert sorted(e["channel"] for e in events) == ["/me/internal", "/v2/me/outbound"]


async def test_unsubscribe_stops_delivery(gws: Gws, bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/outbound", "/me/internal")
    [answer] = await bayeux.send({"channel": "/meta/unsubscribe", "clientId": bayeux.client_id,
                                  "subscription": "/me/internal", "id": "u"})
    assert answer["successful"] is True
    await gws.add_record(sample_request(referenceId="u1"))
    events = events_of(await bayeux.connect())
    assert [e["channel"] for e in events] == ["/v2/me/outbound"]


async def test_disconnect_ends_the_session(sim: Simulator, bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/outbound")
    [answer] = await bayeux.send({"channel": "/meta/disconnect", "clientId": bayeux.client_id,
                                  "id": "d"})
    assert answer["successful"] is True
    assert sim.bayeux.sessions == {}
    [after] = await bayeux.connect()
    assert after["error"] == "402::session_unknown"


async def test_events_go_only_to_the_posting_users_sessions() -> None:
    from console.sim.catalog import demo_user

    users = [demo_user("a", "alice"), demo_user("b", "bob")]
    async with Simulator(users=users) as two:
        alice, bob = RawBayeux(two.url, "alice", "a"), RawBayeux(two.url, "bob", "b")
        await alice.open("/**")
        await bob.open("/**")
        poster = Gws(two.url, "alice", "a")
        await poster.start()
        await poster.add_record(sample_request(referenceId="mine"))
        assert len(events_of(await alice.connect())) == 2
        assert events_of(await bob.connect(timeout0=True)) == []
        for c in (alice, bob, poster):
            await c.close()


async def test_bayeux_needs_cookie_or_basic_auth(sim: Simulator, gws: Gws) -> None:
    handshake = [{"channel": "/meta/handshake", "version": "1.0", "id": "1",
                  "supportedConnectionTypes": ["long-polling"]}]
    async with httpx.AsyncClient(base_url=sim.url) as anonymous:
        reply = await anonymous.post("/api/v2/notifications", json=handshake)
        assert reply.status_code == 401 and reply.json()["statusCode"] == 20
    cookie = gws.http.cookies["JSESSIONID"]
    async with httpx.AsyncClient(base_url=sim.url, cookies={"JSESSIONID": cookie}) as with_cookie:
        reply = await with_cookie.post("/api/v2/notifications", json=handshake)
        assert reply.status_code == 200 and reply.json()[0]["successful"] is True


async def test_single_message_object_body_is_accepted(bayeux: RawBayeux) -> None:
    reply = await bayeux.post({"channel": "/meta/handshake", "version": "1.0", "id": "1",
                               "supportedConnectionTypes": ["long-polling"]})
    assert reply.status_code == 200 and reply.json()[0]["successful"] is True


async def test_meta_replies_repeat_integer_ids(bayeux: RawBayeux) -> None:
    [answer] = await bayeux.send({"channel": "/meta/handshake", "version": "1.0", "id": 7})
    assert answer["id"] == 7


def test_delivery_counts_each_copy_once() -> None:
    from console.sim.bayeux import BayeuxServer, Delivery, Reply, Session

    server = BayeuxServer()
    one, two = Session("c1", "demo", "b1"), Session("c2", "demo", "b2")
    for session in (one, two):
        server.sessions[session.client_id] = session
        session.subscriptions.add("/v2/me/outbound")
        server._subscribers.setdefault("/v2/me/outbound", set()).add(session)
    seen: list[bool] = []
    delivery = Delivery(lambda d, delivered: seen.append(delivered))
    assert server.publish("/v2/me/outbound", {"n": 1}, "demo", delivery) == 2
    assert delivery.pending == 2
    written = Reply(events=list(one.queue), session=one)
    one.queue.clear()
    server.settle(written, written=True)
    failed = Reply(events=list(two.queue), session=two)
    two.queue.clear()
    server.settle(failed, written=False)
    assert seen == [True, False] and delivery.pending == 0
    assert (delivery.delivered, delivery.lost, delivery.last_loss) == (1, 1, "write_failed")
    counters = server.counters
    assert (counters.events_queued, counters.events_delivered, counters.events_lost) == (2, 1, 1)
    assert counters.lost_by_reason == {"write_failed": 1}
    assert one.reply_sent_at is not None and two.reply_sent_at is None
    # A session that goes with events still queued loses them, with the reason.
    server.publish("/v2/me/outbound", {"n": 2}, "demo")
    server.drop_all("restart")
    assert counters.lost_by_reason == {"write_failed": 1, "restart": 2}
