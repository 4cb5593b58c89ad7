"""The stream against a hostile server (tests/hostile.py): CometD's client scenarios for
long-polling, each counting the requests the server saw and the time between them.

CometD timings are scaled down to keep the file fast: the server holds a connect 1 s
(advice.timeout 1000), the client's maxNetworkDelay is 0.5 s, its backoff grows by 0.25 s
per failure up to 2 s. Each test prints one `HOSTILE` line with what it measured (run with
`-s` to see them).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from console.gws.connection import Connection, Secret
from console.gws.stream import MAX_MESSAGE_BYTES, MAX_REPLY_BYTES, EventStream
from tests.helpers import Collector, eventually
from tests.hostile import Delay, Hang, HostileServer, Reply, Reset, Seen

CHANNELS = ("/v2/me/outbound", "/me/internal")
STEP = 0.25
NETWORK_DELAY = 0.5
#: Scheduling slack on a busy 2-core machine (timings are checked from below tightly, from
#: above generously).
SLACK = 1.0


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer(timeout_ms=1000, max_interval_ms=5000) as hostile:
        yield hostile


def open_stream(server: HostileServer, **options: Any) -> Collector:
    connection = Connection(server.url, "agent", Secret("pw"), channels=CHANNELS)
    settings: dict[str, Any] = {"max_network_delay": NETWORK_DELAY, "backoff_step": STEP,
                                "max_backoff": 2.0, **options}
    return Collector(EventStream(connection, **settings))


def report(scenario: str, **numbers: Any) -> None:
    text = " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in numbers.items())
    print(f"\nHOSTILE {scenario}: {text}")


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 2) for a, b in zip(times, times[1:])]


def connect_id(seen: Seen) -> Any:
    return seen.messages[0].get("id")


def assert_healthy(c: Collector, server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    """Alive, never subscribed a channel twice in one session, no traceback anywhere."""
    task = c.stream._task
    assert task is not None and not task.done(), "the stream's task ended"
    assert all(n == 1 for n in server.subscribes_per_session().values()), \
        server.subscribes_per_session()
    assert not c.stream.failed.is_set()
    assert "Traceback" not in caplog.text and not any(
        r.levelno >= logging.ERROR for r in caplog.records), caplog.text


async def connected_again(c: Collector, count: int, timeout: float = 15.0) -> None:
    await eventually(lambda: len(c.statuses("connected")) >= count, timeout=timeout)


async def events_flow(c: Collector, server: HostileServer, tag: str) -> None:
    """An event published once the stream says connected reaches it."""
    await eventually(lambda: c.stream.state == "connected", timeout=15)
    assert server.publish("/v2/me/outbound", {"tag": tag}) >= 1
    await eventually(lambda: any(e.data.get("tag") == tag for e in c.events), timeout=10)


# -- server restart ---------------------------------------------------------------------------
@pytest.mark.parametrize("down_s", [0.6, 2.5])
async def test_restart_rehandshakes_once_with_growing_backoff_and_a_gap_from_the_last_good_connect(
        down_s: float, caplog: pytest.LogCaptureFixture) -> None:
    async with HostileServer(timeout_ms=1000, max_interval_ms=1000) as server:
        c = open_stream(server)
        await connected_again(c, 1)
        await eventually(lambda: len(server.seen("/meta/connect")) >= 3)  # a held connect
        await events_flow(c, server, "before")
        await asyncio.sleep(0.5)  # the next connect is held (1 s): the kill comes mid-hold
        offset = time.time() - time.monotonic()
        last_good = max(s.answered_at for s in server.seen("/meta/connect") if s.answered_at)
        killed = time.monotonic()
        await server.restart(down_s=down_s, mode="reset")
        await connected_again(c, 2)
        await events_flow(c, server, "after")
        attempts = server.refused_at
        handshakes = server.seen("/meta/handshake")
        assert len(handshakes) == 2, "exactly one re-handshake"
        assert len(server.sessions) == 1
        # Each session: subscribes once per channel, first connect asks for an answer at once.
        assert sorted(server.subscribes_per_session().values()) == [1] * 4
        for handshake in handshakes:
            client = handshake.answered_at
            connects = [s for s in server.seen("/meta/connect") if client and s.at > client]
            assert connects[0].messages[0].get("advice") == {"timeout": 0}
        later = [s for s in server.seen("/meta/connect")
                 if s.messages[0].get("advice") is None]
        assert later, "later connects are held (no advice.timeout 0)"
        # Backoff: each attempt while down waits at least one step more than the one before.
        spacing = gaps([killed, *attempts])
        for n, gap in enumerate(spacing, 1):
            assert gap >= STEP * n - 0.05, spacing
        assert len(attempts) <= 2 + int(down_s / STEP), attempts
        [gap] = c.statuses("gap")
        assert gap.gap_from is not None and gap.gap_to is not None
        assert abs(gap.gap_from - (last_good + offset)) < 0.2, (gap.gap_from, last_good + offset)
        assert gap.gap_to > killed + offset + down_s - 0.1
        assert_healthy(c, server, caplog)
        report(f"restart down {down_s:g}s", handshakes=len(handshakes),
               attempts_while_down=len(attempts), spacing_s=spacing,
               recovered_after_s=gap.gap_to - (killed + offset),
               gap_from_minus_last_good_s=gap.gap_from - (last_good + offset))
        await c.close()


async def test_restart_with_the_port_closed_recovers(caplog: pytest.LogCaptureFixture,
                                                     server: HostileServer) -> None:
    c = open_stream(server)
    await connected_again(c, 1)
    await server.restart(down_s=1.5, mode="refuse")
    await connected_again(c, 2)
    await events_flow(c, server, "after")
    assert len(server.seen("/meta/handshake")) == 2
    assert_healthy(c, server, caplog)
    report("restart, port closed 1.5s", handshakes=2,
           requests=len(server.requests), gaps=len(c.statuses("gap")))
    await c.close()


async def test_first_connect_of_a_session_asks_for_an_answer_at_once(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    """A server may hold a first connect for its whole timeout unless told not to: here it
    holds it 5 s. With `advice: {timeout: 0}` the stream is connected at once."""
    sessions: set[Any] = set()

    def script(seen: Seen) -> Delay | None:
        if seen.channel == "/meta/connect" and seen.client_id not in sessions:
            sessions.add(seen.client_id)
            if seen.messages[0].get("advice") != {"timeout": 0}:
                return Delay(5.0)
        return None

    server.script = script
    started = time.monotonic()
    c = open_stream(server)
    await connected_again(c, 1, timeout=3.0)
    took = time.monotonic() - started
    [first, *later] = server.seen("/meta/connect")
    assert first.messages[0]["advice"] == {"timeout": 0}
    assert all("advice" not in s.messages[0] for s in later)
    assert_healthy(c, server, caplog)
    report("first connect advice timeout 0", connected_after_s=took)
    await c.close()


# -- blackhole and stuck poll -----------------------------------------------------------------
async def test_blackhole_shorter_than_max_interval_keeps_the_session_and_its_events(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    c = open_stream(server)
    await connected_again(c, 1)
    await events_flow(c, server, "before")
    client_id = server.seen("/meta/connect")[-1].client_id
    hole = asyncio.ensure_future(server.blackhole(3.0))
    await asyncio.sleep(0.2)
    for n in range(3):
        server.publish("/v2/me/outbound", {"tag": f"held-{n}"})
    started = time.monotonic()
    await hole
    await eventually(lambda: [e.data.get("tag") for e in c.events if "held" in
                              str(e.data.get("tag"))] == ["held-0", "held-1", "held-2"],
                     timeout=10)
    connects = server.seen("/meta/connect")
    during = [s for s in connects if started - 0.2 <= s.at <= started + 3.0]
    assert {s.client_id for s in connects} == {client_id}, "same clientId throughout"
    assert len(server.seen("/meta/handshake")) == 1
    # Unanswered connects are given up at timeout + maxNetworkDelay, not earlier.
    spacing = gaps([s.at for s in during])
    assert all(g >= 1.0 + NETWORK_DELAY - 0.05 for g in spacing), spacing
    assert_healthy(c, server, caplog)
    report("blackhole 3s < maxInterval 5s", handshakes=1, connects_during=len(during),
           spacing_s=spacing, events_kept=3)
    await c.close()


async def test_stuck_poll_is_aborted_at_timeout_plus_network_delay_on_the_same_client(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    stuck: list[Seen] = []

    def script(seen: Seen) -> Hang | None:
        if seen.channel == "/meta/connect" and len(server.seen("/meta/connect")) == 3:
            stuck.append(seen)
            return Hang()
        return None

    server.script = script
    c = open_stream(server)
    await eventually(lambda: stuck, timeout=10)
    await eventually(lambda: len(server.seen("/meta/connect")) >= 4, timeout=10)
    following = server.seen("/meta/connect")[3]
    waited = following.at - stuck[0].at
    assert 1.0 + NETWORK_DELAY - 0.05 <= waited <= 1.0 + NETWORK_DELAY + STEP + SLACK, waited
    assert following.client_id == stuck[0].client_id
    assert len(server.seen("/meta/handshake")) == 1
    await events_flow(c, server, "after")
    assert_healthy(c, server, caplog)
    report("stuck poll", abort_after_s=waited, expected_s=1.0 + NETWORK_DELAY + STEP,
           handshakes=1)
    await c.close()


async def test_normal_holds_are_not_mistaken_for_stuck_polls(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    c = open_stream(server)
    await connected_again(c, 1)
    await eventually(lambda: len(server.seen("/meta/connect")) >= 5, timeout=10)
    assert not c.statuses("reconnecting") and len(server.seen("/meta/handshake")) == 1
    assert_healthy(c, server, caplog)
    await c.close()


# -- 402 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("advice", [{"reconnect": "handshake", "interval": 0}, None],
                         ids=["with-advice", "without-advice"])
async def test_402_gives_one_handshake_and_a_gap(advice: dict[str, Any] | None,
                                                 server: HostileServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    refused: list[Seen] = []

    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/connect" and len(server.seen("/meta/connect")) == 3:
            refused.append(seen)
            answer = {"channel": "/meta/connect", "id": connect_id(seen), "successful": False,
                      "error": "402::session_unknown"}
            if advice is not None:
                answer["advice"] = advice
            return Reply([answer])
        return None

    server.script = script
    c = open_stream(server)
    await connected_again(c, 2)
    await asyncio.sleep(2.0)  # no loop: nothing more happens
    handshakes = server.seen("/meta/handshake")
    assert len(handshakes) == 2
    waited = handshakes[1].at - refused[0].at
    assert waited <= STEP + SLACK
    [gap] = c.statuses("gap")  # a new session alone means events may be missing
    assert gap.gap_from is not None and gap.gap_to is not None and gap.gap_from < gap.gap_to
    await events_flow(c, server, "after")
    assert_healthy(c, server, caplog)
    report(f"402 {'with' if advice else 'without'} advice", handshakes=len(handshakes),
           rehandshake_after_s=waited, requests_in_2s_after=len(
               [r for r in server.requests if r.at > handshakes[1].at]))
    await c.close()


async def test_402_storm_is_paced_by_a_growing_backoff(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    """Every connect but the first of a session refused with 402 and no advice (the case
    that made the library send ~424 connects/s)."""
    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/connect" and seen.messages[0].get("advice") is None:
            return Reply([{"channel": "/meta/connect", "id": connect_id(seen),
                           "successful": False, "error": "402::session_unknown"}])
        return None

    server.script = script
    c = open_stream(server)
    await asyncio.sleep(5.0)
    handshakes = [s.at for s in server.seen("/meta/handshake")]
    spacing = gaps(handshakes)
    # Backoff grows 0.25 s per failure (2 s at most): ~6 sessions in 5 s, not hundreds.
    assert 3 <= len(handshakes) <= 9, spacing
    assert all(b >= a - 0.05 for a, b in zip(spacing, spacing[1:])), spacing
    assert len(server.requests) <= 4 * len(handshakes) + 1
    assert_healthy(c, server, caplog)
    report("402 storm 5s", handshakes=len(handshakes), requests=len(server.requests),
           spacing_s=spacing)
    await c.close()


# -- reconnect none / handshake denied --------------------------------------------------------
async def test_reconnect_none_on_connect_stops_with_failed(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/connect" and len(server.seen("/meta/connect")) == 3:
            return Reply([{"channel": "/meta/connect", "id": connect_id(seen),
                           "successful": False, "error": "403::session_denied",
                           "advice": {"reconnect": "none"}}])
        return None

    server.script = script
    c = open_stream(server)
    await asyncio.wait_for(c.stream.failed.wait(), 10)
    stopped = time.monotonic()
    await asyncio.sleep(1.5)
    assert not [r for r in server.requests if r.at > stopped]
    [failed] = c.statuses("failed")
    assert "403::session_denied" in failed.detail and "not to reconnect" in failed.detail
    assert c.stream.failure is failed
    report("reconnect none on connect", requests_after_stop=0, status=failed.kind)
    await c.close()


def deny_handshakes(seen: Seen) -> Reply | None:
    if seen.channel == "/meta/handshake":
        return Reply([{"channel": "/meta/handshake", "id": connect_id(seen),
                       "successful": False, "error": "403::handshake_denied",
                       "advice": {"reconnect": "none"}}])
    return None


async def test_handshake_denied_stops_after_one_handshake(server: HostileServer) -> None:
    server.script = deny_handshakes
    c = open_stream(server)
    await asyncio.wait_for(c.stream.failed.wait(), 10)
    await asyncio.sleep(1.5)
    assert len(server.requests) == 1
    [failed] = c.statuses("failed")
    assert "403::handshake_denied" in failed.detail
    report("403::handshake_denied + reconnect none", handshakes=len(server.requests))
    await c.close()


async def test_watch_exits_non_zero_when_the_stream_fails_for_good(
        server: HostileServer, tmp_path: Any) -> None:
    server.script = deny_handshakes
    env = {**os.environ, "OUTBOUND_CONSOLE_PASSWORD": "pw"}
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console.cli", "watch", "--url", server.url, "--user", "agent",
        "--journal", str(tmp_path / "j.jsonl"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 6, (proc.returncode, out, err)
    assert b"handshake_denied" in err and b"Traceback" not in err
    report("watch with handshake denied", exit_code=proc.returncode,
           seconds=time.monotonic() - started, handshakes=len(server.seen("/meta/handshake")))


# -- 503 storm, duplicates ----------------------------------------------------------------------
async def test_503_handshake_storm_backs_off_then_recovers(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    storm_until = time.monotonic() + 4.0

    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/handshake" and time.monotonic() < storm_until:
            return Reply("<html><body>503 Service Unavailable</body></html>", 503, "text/html")
        return None

    server.script = script
    c = open_stream(server)
    await connected_again(c, 1, timeout=15)
    storm = [s.at for s in server.seen("/meta/handshake") if s.at < storm_until]
    spacing = gaps(storm)
    assert all(b >= a - 0.05 for a, b in zip(spacing, spacing[1:])), spacing
    assert spacing[0] >= STEP - 0.05 and max(spacing) <= 2.0 + SLACK
    assert len(storm) <= 8, spacing  # 0.25 + 0.5 + 0.75 + ... within 4 s
    assert any("HTTP 503" in s.detail for s in c.statuses("reconnecting"))
    await events_flow(c, server, "after")
    assert_healthy(c, server, caplog)
    report("503 handshake storm 4s", handshakes_in_storm=len(storm), spacing_s=spacing)
    await c.close()


async def test_reset_of_the_subscribe_opens_a_new_session_never_a_second_subscribe(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    def script(seen: Seen) -> Reset | None:
        if seen.channel == "/meta/subscribe" and len(server.seen("/meta/subscribe")) == 1:
            return Reset()
        return None

    server.script = script
    c = open_stream(server)
    await connected_again(c, 1)
    await events_flow(c, server, "after")
    assert len(server.seen("/meta/handshake")) == 2
    assert_healthy(c, server, caplog)
    report("reset of the subscribe", handshakes=2,
           subscribes=sum(server.subscribes_per_session().values()))
    await c.close()


async def test_reset_of_the_first_connect_retries_it_without_subscribing_again(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    def script(seen: Seen) -> Reset | None:
        if seen.channel == "/meta/connect" and len(server.seen("/meta/connect")) == 1:
            return Reset()
        return None

    server.script = script
    c = open_stream(server)
    await connected_again(c, 1)
    await events_flow(c, server, "after")
    connects = server.seen("/meta/connect")
    assert len(server.seen("/meta/handshake")) == 1
    assert len(server.seen("/meta/subscribe")) == 1
    assert connects[1].client_id == connects[0].client_id
    assert connects[1].messages[0].get("advice") == {"timeout": 0}  # still the first
    assert connects[1].at - connects[0].at >= STEP - 0.05
    assert_healthy(c, server, caplog)
    report("reset of the first connect", handshakes=1, subscribes=2,
           retry_after_s=connects[1].at - connects[0].at)
    await c.close()


# -- malformed replies ----------------------------------------------------------------------
def bad_reply(kind: str, channel: str, seen: Seen) -> Reply:
    mid = connect_id(seen)
    extra = {"clientId": "c1"} if channel == "/meta/handshake" else {}
    if kind == "truncated JSON":
        return Reply(f'[{{"channel": "{channel}", "successful": tr')
    if kind == "HTML 502":
        return Reply("<html><body><h1>502 Bad Gateway</h1></body></html>", 502, "text/html")
    if kind == "HTML 200":
        return Reply("<html><body>Please log in</body></html>", 200, "text/html")
    if kind == "object not array":
        return Reply({})
    if kind == "missing successful":
        return Reply([{"channel": channel, "id": mid, **extra}])
    if kind == "successful yes":
        return Reply([{"channel": channel, "id": mid, "successful": "yes", **extra}])
    if kind == "advice []":
        return Reply([{"channel": channel, "id": mid, "successful": True, "advice": [], **extra}])
    if kind == "advice string":
        return Reply([{"channel": channel, "id": mid, "successful": True, "advice": "retry",
                       **extra}])
    if kind == "interval string":
        return Reply([{"channel": channel, "id": mid, "successful": True,
                       "advice": {"interval": "2000"}, **extra}])
    if kind == "id {}":
        return Reply([{"channel": channel, "id": {}, "successful": True, **extra}])
    if kind == "over the size limit":
        pad = "x" * (MAX_REPLY_BYTES + 1024)
        return Reply([{"channel": "/v2/me/outbound", "data": {"pad": pad}},
                      {"channel": channel, "id": mid, "successful": True, **extra}])
    raise AssertionError(kind)


KINDS = ["truncated JSON", "HTML 502", "HTML 200", "object not array", "missing successful",
         "successful yes", "advice []", "advice string", "interval string", "id {}",
         "over the size limit"]


@pytest.mark.parametrize("channel", ["/meta/connect", "/meta/handshake"])
@pytest.mark.parametrize("kind", KINDS)
async def test_malformed_reply_backs_off_and_recovers(
        kind: str, channel: str, server: HostileServer,
        caplog: pytest.LogCaptureFixture) -> None:
    bad: list[Seen] = []
    nth = 3 if channel == "/meta/connect" else 1  # a connect once connected; the 1st handshake

    def script(seen: Seen) -> Reply | None:
        if seen.channel == channel and len(server.seen(channel)) == nth:
            bad.append(seen)
            return bad_reply(kind, channel, seen)
        return None

    server.script = script
    c = open_stream(server)
    await eventually(lambda: bad, timeout=10)
    await eventually(lambda: c.statuses("reconnecting"), timeout=10)
    await events_flow(c, server, "after")
    following = [s for s in server.requests if s.at > bad[0].at]
    waited = following[0].at - bad[0].at
    assert following[0].channel == channel, "the same step is tried again"
    assert waited >= STEP - 0.05, waited
    detail = c.statuses("reconnecting")[0].detail
    if kind == "over the size limit":
        assert f"longer than {MAX_REPLY_BYTES / 1048576:g} MiB was dropped unread" in detail
        assert not any(len(str(e.data)) > MAX_REPLY_BYTES for e in c.events)
    elif kind != "HTML 502":
        assert "malformed reply" in detail and len(detail) < 600, detail
    else:
        assert "HTTP 502" in detail and "Bad Gateway" in detail
    if channel == "/meta/connect":
        assert len(server.seen("/meta/handshake")) == 1, "the session is kept"
    assert_healthy(c, server, caplog)
    report(f"malformed {kind} on {channel}", retry_after_s=waited,
           handshakes=len(server.seen("/meta/handshake")), status=detail[:70])
    await c.close()


async def test_a_5_mb_event_is_left_out_and_the_rest_of_its_reply_kept(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/connect" and len(server.seen("/meta/connect")) == 3:
            return Reply([{"channel": "/v2/me/outbound", "data": {"tag": "small-1"}},
                          {"channel": "/v2/me/outbound", "data": {"pad": "x" * 5 * 1024 * 1024}},
                          {"channel": "/v2/me/outbound", "data": {"tag": "small-2"}},
                          {"channel": "/meta/connect", "id": connect_id(seen),
                           "successful": True}])
        return None

    server.script = script
    c = open_stream(server)
    await eventually(lambda: len(c.events) == 2, timeout=10)
    assert [e.data["tag"] for e in c.events] == ["small-1", "small-2"]
    [gap] = c.statuses("gap")
    assert "5.0 MiB on /v2/me/outbound" in gap.detail and gap.extra["dropped"] == 1
    assert f"{MAX_MESSAGE_BYTES / 1048576:g} MiB limit" in gap.detail
    assert not c.statuses("reconnecting") and len(server.seen("/meta/handshake")) == 1
    await events_flow(c, server, "after")
    assert_healthy(c, server, caplog)
    report("a 5 MB event in a connect reply", kept=2, left_out=1, reconnects=0)
    await c.close()


# -- advice, floods -------------------------------------------------------------------------
async def test_advice_interval_2000_and_multiple_clients_is_honoured(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/connect" and seen.messages[0].get("advice") is None:
            return Reply([{"channel": "/meta/connect", "id": connect_id(seen),
                           "successful": True, "advice": {
                               "reconnect": "retry", "interval": 2000, "timeout": 1000,
                               "multiple-clients": True}}])
        return None

    server.script = script
    c = open_stream(server)
    await connected_again(c, 1)
    await asyncio.sleep(7.0)
    held = [s.at for s in server.seen("/meta/connect") if s.messages[0].get("advice") is None]
    spacing = gaps(held)
    assert len(held) >= 3, "it keeps polling"
    assert all(2.0 - 0.05 <= g <= 2.0 + SLACK for g in spacing), spacing
    assert c.stream.state == "connected"
    assert_healthy(c, server, caplog)
    report("advice interval 2000 + multiple-clients", connects_in_7s=len(held),
           spacing_s=spacing)
    await c.close()


async def test_a_server_answering_at_once_cannot_make_it_poll_faster_than_once_a_second(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/connect":
            return Reply([{"channel": "/meta/connect", "id": connect_id(seen),
                           "successful": True, "advice": {"interval": 0}}])
        return None

    server.script = script
    c = open_stream(server)
    await connected_again(c, 1)
    await asyncio.sleep(4.0)
    connects = [s.at for s in server.seen("/meta/connect")]
    assert len(connects) <= 7, gaps(connects)
    assert_healthy(c, server, caplog)
    report("connects answered at once, empty", connects_in_4s=len(connects),
           spacing_s=gaps(connects))
    await c.close()


async def test_ten_thousand_events_in_one_reply(server: HostileServer,
                                                caplog: pytest.LogCaptureFixture) -> None:
    c = open_stream(server)
    await connected_again(c, 1)
    await eventually(lambda: any(s.answered_at is None for s in server.seen("/meta/connect")))
    [big] = [s for s in server.seen("/meta/connect") if s.answered_at is None]
    turns = 0
    lag = 0.0

    async def spinner() -> None:  # one turn each time the loop gets back to it
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    async def ticker() -> None:  # the longest the loop was away
        nonlocal lag
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            lag = max(lag, time.monotonic() - before - 0.005)

    session = next(iter(server.sessions.values()))
    event = {"messageType": "OutboundRecordMessage", "notificationType": "AddRecordAcknowledge",
             "referenceId": "r", "record": {"campaignName": "Campaign1"}}
    for n in range(10_000):
        session.queue.append({"channel": "/v2/me/outbound", "data": {**event, "n": n}})
    assert session.waiter is not None
    running = [asyncio.ensure_future(ticker())]
    await asyncio.sleep(0.05)
    session.waiter.set_result(None)
    await eventually(lambda: c.events, timeout=20, interval=0.001)
    running.append(asyncio.ensure_future(spinner()))
    await eventually(lambda: len(c.events) == 10_000, timeout=20, interval=0.001)
    for task in running:
        task.cancel()
    await eventually(lambda: server.seen("/meta/connect")[-1] is not big)
    following = server.seen("/meta/connect")[-1]
    assert big.answered_at is not None
    assert following.at - big.answered_at < 1.0 + SLACK, "next connect within the interval"
    assert [e.data["n"] for e in c.events] == list(range(10_000))
    assert turns >= 20, "the event loop kept turning during the burst"
    assert lag < 1.0, lag  # measured and reported; the 100 ms target is checked in bench
    assert_healthy(c, server, caplog)
    report("10,000 events in one reply", next_connect_after_s=following.at - big.answered_at,
           max_loop_lag_ms=lag * 1000, loop_turns=turns)
    await c.close()


# -- pace of connects after a reply with events -----------------------------------------------
async def test_after_a_small_reply_the_next_connect_goes_at_once_after_a_flood_it_breathes(
        server: HostileServer, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A record sent one at a time gets its acknowledgement in a reply of two events: the
    stream connects again after one turn of the loop (its consumers act first), without a
    pause (one there was paid on every record: bench/replay.py at concurrency 1 ran at x0.71
    of the bare loop with it, x0.85 without). A reply of 32 events or more (a flood, as the
    README says) is followed by the short pause that lets the server gather the next one."""
    import sys

    import console.gws.stream as stream_module

    breath = 0.0123  # a length nothing else sleeps, so the stream's pauses can be told apart
    monkeypatch.setattr(stream_module, "_COALESCE_S", breath)
    slept: list[float] = []  # what the stream itself slept
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        if sys._getframe(1).f_globals.get("__name__") == stream_module.__name__:
            slept.append(delay)
        return await real_sleep(delay, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    c = open_stream(server)
    await connected_again(c, 1)
    expected = 0

    async def reply_of(events: int) -> None:
        nonlocal expected
        before = len(server.seen("/meta/connect"))
        for n in range(events):
            server.publish("/v2/me/outbound", {"n": n})
        expected += events
        await eventually(lambda: len(c.events) == expected)
        await eventually(lambda: len(server.seen("/meta/connect")) > before)

    for _ in range(3):  # one record's ack and user event, then the next record's
        await reply_of(2)
    assert slept == [0, 0, 0]
    await reply_of(31)
    assert slept == [0, 0, 0, 0]
    await reply_of(32)
    assert slept == [0, 0, 0, 0, breath]
    assert_healthy(c, server, caplog)
    await c.close()


# -- credentials refused mid-run ----------------------------------------------------------------
def refuse_logins(server: HostileServer) -> list[Seen]:
    """From now on every CometD request is answered HTTP 401 (the password was changed); the
    requests so refused, as they come."""
    refused: list[Seen] = []

    def script(seen: Seen) -> Reply | None:
        if seen.path.endswith("/notifications"):
            refused.append(seen)
            return Reply({"error": "unauthorized"}, status=401)
        return None

    server.script = script
    return refused


async def test_a_password_refused_twice_stops_the_stream_instead_of_locking_the_account(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    """After a good start GWS answers 401 (the password was changed, the account disabled).
    Every retry is a failed login with the same password, and directories lock an account
    after a few: the stream tries once more (a 401 may be a passing fault), then stops, saying
    why and what to do. Before, it retried every backoff step (up to 60 s) for as long as it
    ran: ~60 failed logins an hour, in production."""
    c = open_stream(server)
    await connected_again(c, 1)
    refused = refuse_logins(server)
    await eventually(lambda: c.stream.failed.is_set(), timeout=10)
    assert len(refused) == 2
    [failed] = c.statuses("failed")
    assert "HTTP 401" in failed.detail and "lock" in failed.detail, failed.detail
    await asyncio.sleep(3 * STEP + NETWORK_DELAY)  # longer than any retry would wait
    assert len(refused) == 2, "no login attempt after the stream stopped"
    await c.close()


async def test_a_401_between_good_replies_is_a_passing_fault(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    """Two refusals in a row stop the stream, not two over its lifetime: a good reply
    between them starts the count again."""
    c = open_stream(server)
    await connected_again(c, 1)
    connects = 0

    def script(seen: Seen) -> Reply | None:
        nonlocal connects
        if seen.channel == "/meta/connect":
            connects += 1
            if connects in (2, 4):  # refused, good, refused, good...
                return Reply({"error": "unauthorized"}, status=401)
        return None

    server.script = script
    await eventually(lambda: connects >= 6, timeout=15)
    assert not c.stream.failed.is_set()
    await events_flow(c, server, "still here")
    assert_healthy(c, server, caplog)
    await c.close()


async def test_closing_after_a_refused_password_sends_no_disconnect_and_raises_nothing(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    """Ctrl-C right after a 401: the disconnect would be one more failed login (and, as the
    second 401 in a row, it escaped close() as the stream's private stop: the engine's close
    ended there, the journal and the embedded simulator left open)."""
    c = open_stream(server, backoff_step=30.0)  # no retry before the close
    await connected_again(c, 1)
    refused = refuse_logins(server)
    server.publish("/v2/me/outbound", {"wake": "the held connect"})
    await eventually(lambda: len(refused) == 1)
    await c.close()  # raises nothing
    assert [s.channel for s in refused] == ["/meta/connect"]
    assert not server.seen("/meta/disconnect")


# -- a subscription the server will never take ------------------------------------------------
def refuse_subscriptions(server: HostileServer, error: str,
                         advice: dict[str, Any] | None = None) -> list[Seen]:
    """Every /meta/subscribe is answered unsuccessful with `error` (and `advice`)."""
    seen_subscribes: list[Seen] = []

    def script(seen: Seen) -> Reply | None:
        if seen.channel != "/meta/subscribe":
            return None
        seen_subscribes.append(seen)
        return Reply([{"channel": "/meta/subscribe", "id": m.get("id"), "successful": False,
                       "subscription": m.get("subscription"), "error": error,
                       **({"advice": advice} if advice else {})} for m in seen.messages])

    server.script = script
    return seen_subscribes


async def test_a_channel_the_server_calls_invalid_stops_the_stream_saying_so(
        server: HostileServer) -> None:
    """`watch --channel nochan` was answered 405::channel_invalid and retried every backoff
    step, forever, saying "reconnecting"; the same request can only be refused again."""
    subscribes = refuse_subscriptions(server, "405::channel_invalid")
    c = open_stream(server)
    await eventually(lambda: c.stream.failed.is_set(), timeout=10)
    [failed] = c.statuses("failed")
    assert "405::channel_invalid" in failed.detail and "channel names" in failed.detail
    assert len(subscribes) == 1
    await asyncio.sleep(2 * STEP + NETWORK_DELAY)  # longer than a retry would wait
    assert len(subscribes) == 1
    await c.close()


async def test_a_refusal_the_server_advises_to_retry_is_retried(server: HostileServer) -> None:
    subscribes = refuse_subscriptions(server, "403::busy", {"reconnect": "retry",
                                                           "interval": 0})
    c = open_stream(server)
    await eventually(lambda: len(subscribes) >= 2, timeout=15)
    assert not c.stream.failed.is_set()
    await c.close()
