"""Replies a misbehaving server or gateway sends, on real loopback sockets (tests/hostile.py):
a compressed reply whose body is not compressed, a 5xx whose JSON is not GWS's, connects
answered at once with messages the stream ignores, CometD 2.x/3.x wordings of a forgotten
session, a reply that trickles in past the timeout, Retry-After. Each is sorted (unknown,
refused, a failed exchange with a backoff), never a traceback, a dead stream or a hammering.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from console.domain.model import AddRecord
from console.errors import GwsError, GwsHttpError, GwsOutcomeUnknown
from console.gws.connection import Connection, Secret
from console.gws.session import GwsSession
from console.gws.stream import EventStream
from console.gws.transport import AiohttpTransport
from tests.cli_helpers import CALLBACK, isolated_env, journal_lines, run_bin
from tests.helpers import Collector, eventually, sample_request
from tests.hostile import HostileServer, Reply, Seen
from tests.test_cli_engine import FIELDS

CHANNELS = ("/v2/me/outbound", "/me/internal")
ADD = "/api/v2/me/outbound-records"
NOT_GZIP = Reply(b"this is not gzip", headers=["Content-Encoding: gzip"])


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer(timeout_ms=1000, max_interval_ms=5000) as hostile:
        yield hostile


def connection(server: HostileServer, **options: Any) -> Connection:
    return Connection(server.url, "agent", Secret("pw"), channels=CHANNELS, **options)


def open_stream(server: HostileServer, **options: Any) -> Collector:
    settings: dict[str, Any] = {"max_network_delay": 0.5, "backoff_step": 0.25,
                                "max_backoff": 2.0, **options}
    return Collector(EventStream(connection(server), **settings))


def on_post(reply: Reply) -> Any:
    return lambda seen: reply if seen.method == "POST" and seen.path == ADD else None


def record() -> AddRecord:
    return AddRecord.parse(sample_request())


def cli(server: HostileServer, tmp_path: Path, command: str, *args: str) -> Any:
    return run_bin(command, "--url", server.url, "--user", "agent", "--journal",
                   str(tmp_path / "j.jsonl"), *args, env=isolated_env(tmp_path, "pw"),
                   cwd=tmp_path / "run")


# -- 1. a compressed reply that is not -------------------------------------------------------
@pytest.mark.parametrize("bulk", [False, True], ids=["h11", "aiohttp"])
async def test_a_post_answered_with_broken_gzip_is_unknown(server: HostileServer,
                                                           bulk: bool) -> None:
    server.script = on_post(NOT_GZIP)
    conn = connection(server)
    async with GwsSession(conn, AiohttpTransport(conn) if bulk else None) as session:
        with pytest.raises(GwsOutcomeUnknown, match="the reply could not be read"):
            await session.add_record(record())
    assert len(server.seen_path(ADD)) == 1


async def test_start_up_answered_with_broken_gzip_is_a_clear_error(
        server: HostileServer, tmp_path: Path) -> None:
    server.script = lambda seen: NOT_GZIP if seen.path == "/api/v2/me" else None
    with pytest.raises(GwsError, match="GET .*the reply could not be read"):
        async with GwsSession(connection(server)):
            pass
    code, out, err = await cli(server, tmp_path, "send", *FIELDS, "--timeout", "1")
    assert code == 6, out + err
    assert "Traceback" not in err and "the reply could not be read" in err


async def test_send_with_broken_gzip_says_unknown_and_exits_7(server: HostileServer,
                                                              tmp_path: Path) -> None:
    server.script = on_post(NOT_GZIP)
    code, out, err = await cli(server, tmp_path, "send", *FIELDS, "--timeout", "1")
    assert code == 7, out + err
    assert "Traceback" not in err and ": unknown: " in out.splitlines()[-1]
    [verdict] = [e for e in journal_lines(tmp_path / "j.jsonl") if e["kind"] == "verdict"]
    assert verdict["state"] == "unknown"


@pytest.mark.parametrize("channel", ["/meta/handshake", "/meta/connect"])
async def test_broken_gzip_on_the_stream_is_a_failed_exchange_never_a_dead_stream(
        server: HostileServer, channel: str) -> None:
    bad = {"left": 2}

    def script(seen: Seen) -> Reply | None:
        # The handshake's, or a held connect's (after the first), reply is broken twice.
        if seen.channel == channel and bad["left"] and (
                channel == "/meta/handshake" or seen.messages[0].get("advice") is None):
            bad["left"] -= 1
            return NOT_GZIP
        return None

    server.script = script
    c = open_stream(server)
    try:
        await eventually(lambda: len([s for s in c.statuses("reconnecting")
                                      if "could not be read" in s.detail]) >= 2, timeout=15)
        await eventually(lambda: c.stream.state == "connected", timeout=15)
        assert server.publish("/v2/me/outbound", {"tag": "after"}) >= 1
        await eventually(lambda: any(e.data.get("tag") == "after" for e in c.events),
                         timeout=10)
        assert c.stream._task is not None and not c.stream._task.done()
        assert not c.stream.failed.is_set()
    finally:
        await c.close()


async def test_an_unexpected_error_ends_the_stream_with_failed_saying_why(
        server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.gws import bayeux

    real = bayeux.meta_reply
    planted = {"on": False}

    def broken(messages: list[dict[str, Any]], channel: str, *args: Any, **kw: Any) -> Any:
        if planted["on"] and channel == "/meta/connect":
            raise KeyError("planted")
        return real(messages, channel, *args, **kw)

    monkeypatch.setattr(bayeux, "meta_reply", broken)
    c = open_stream(server)
    try:
        await eventually(lambda: c.stream.state == "connected", timeout=15)
        planted["on"] = True
        await asyncio.wait_for(c.stream.failed.wait(), 15)
        assert c.stream.state == "failed"
        [failed] = c.statuses("failed")
        assert "unexpected error" in failed.detail and "KeyError" in failed.detail
    finally:
        await c.close()


# -- 2. a 5xx whose JSON is not GWS's ---------------------------------------------------------
GATEWAY_JSON = {
    "504 gateway": Reply({"error": "Gateway Timeout"}, status=504),
    "502 kong": Reply({"message": "An invalid response was received from the upstream server"},
                      status=502),
    "500 empty": Reply({}, status=500),
    "500 statusCode 0": Reply({"statusCode": 0}, status=500),
    "503 statusCode not GWS's": Reply({"statusCode": 503, "statusMessage": "busy"}, status=503),
}


@pytest.mark.parametrize("name", list(GATEWAY_JSON))
async def test_a_5xx_whose_json_is_not_a_gws_answer_is_unknown(server: HostileServer,
                                                               name: str) -> None:
    server.script = on_post(GATEWAY_JSON[name])
    async with GwsSession(connection(server)) as session:
        with pytest.raises(GwsOutcomeUnknown, match="not a GWS answer"):
            await session.add_record(record())


async def test_a_5xx_with_a_gws_status_code_is_still_refused(server: HostileServer) -> None:
    server.script = on_post(Reply({"statusCode": 4, "statusMessage": "internal"}, status=500))
    async with GwsSession(connection(server)) as session:
        with pytest.raises(GwsHttpError, match="statusCode 4") as refused:
            await session.add_record(record())
    assert not isinstance(refused.value, GwsOutcomeUnknown)


async def test_send_and_replay_never_call_a_gateway_5xx_refused_nor_safe_to_resend(
        server: HostileServer, tmp_path: Path) -> None:
    server.script = on_post(GATEWAY_JSON["504 gateway"])
    code, out, err = await cli(server, tmp_path, "send", *FIELDS, "--timeout", "1")
    assert code == 7, out + err
    assert ": unknown: " in out.splitlines()[-1] and "retry later" not in out
    code, out, err = await cli(server, tmp_path, "replay", str(CALLBACK), "--count", "3",
                               "--set", "phone=5551234", "--timeout", "1")
    assert code == 7, out + err
    assert not list((tmp_path / "run").glob("replay-*.resume.csv"))
    assert len(list((tmp_path / "run").glob("replay-*.unconfirmed.csv"))) == 1


# -- 3. connects answered at once with messages that are ignored -----------------------------
def answered_at_once_with(extra: dict[str, Any]) -> Any:
    """Every connect answered at once, successfully, with `extra` beside the answer."""
    def script(seen: Seen) -> Reply | None:
        if seen.channel != "/meta/connect":
            return None
        message = seen.messages[0]
        return Reply([extra, {"channel": "/meta/connect", "id": message.get("id"),
                              "successful": True,
                              "advice": {"reconnect": "retry", "interval": 0, "timeout": 1000}}])
    return script


@pytest.mark.parametrize("extra", [{"data": {"x": 1}}, {"channel": "/v2/me/x", "data": "s"}],
                         ids=["no channel", "data a string"])
async def test_ignored_messages_do_not_make_the_stream_poll_at_once_nor_flood_statuses(
        server: HostileServer, extra: dict[str, Any]) -> None:
    server.script = answered_at_once_with(extra)
    c = open_stream(server)
    try:
        await eventually(lambda: c.stream.state == "connected", timeout=15)
        start = time.monotonic()
        first = len(server.seen("/meta/connect"))
        await asyncio.sleep(3.0)
        connects = len(server.seen("/meta/connect")) - first
        spent = time.monotonic() - start
        ignored = [s for s in c.statuses() if "malformed message" in s.detail]
        # At least 1 s after each connect answered empty at once (ignored messages are not
        # events): about 3 connects, never hundreds; statuses at most one a second.
        assert connects <= spent + 2, connects
        assert len(ignored) <= spent + 2, len(ignored)
        assert not c.events
    finally:
        await c.close()
    ignored = [s for s in c.statuses() if "malformed message" in s.detail]
    answered = len([r for r in server.seen("/meta/connect") if r.answered_at])
    # Every one counted (but the last reply, which the close may have cut off unread).
    assert answered - 1 <= sum(s.extra["ignored"] for s in ignored) <= answered
    assert "without a channel" in ignored[-1].detail or "data is not an object" in \
        ignored[-1].detail


async def test_many_ignored_messages_in_a_burst_are_one_status_with_their_count(
        server: HostileServer) -> None:
    sent = {"done": False}

    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/connect" and seen.messages[0].get("advice") is None \
                and not sent["done"]:
            sent["done"] = True
            message = seen.messages[0]
            return Reply([*({"channel": "/v2/me/x", "data": n} for n in range(500)),
                          {"channel": "/meta/connect", "id": message.get("id"),
                           "successful": True}])
        return None

    server.script = script
    c = open_stream(server)
    try:
        await eventually(lambda: sent["done"], timeout=15)
        await eventually(lambda: sum(s.extra.get("ignored", 0) for s in c.statuses()) == 500,
                         timeout=10)
        ignored = [s for s in c.statuses() if "malformed message" in s.detail]
        assert len(ignored) <= 2 and "499 malformed messages" in ignored[-1].detail
    finally:
        await c.close()


# -- 4. a forgotten session, in other servers' words ------------------------------------------
def refuse(channel: str, error: str, advice: dict[str, Any] | None) -> Any:
    """Every `channel` message refused with `error` (and `advice`, when given)."""
    def script(seen: Seen) -> Reply | None:
        if seen.channel != channel:
            return None
        answers = []
        for message in seen.messages:
            answer = {"channel": channel, "id": message.get("id"), "successful": False,
                      "error": error}
            if channel == "/meta/subscribe":
                answer["subscription"] = message.get("subscription")
            if advice is not None:
                answer["advice"] = advice
            answers.append(answer)
        return Reply(answers)
    return script


HANDSHAKE = {"reconnect": "handshake", "interval": 0}


@pytest.mark.parametrize(("channel", "error", "advice"), [
    ("/meta/subscribe", "402::Unknown client", HANDSHAKE),
    ("/meta/connect", "402::Unknown client", HANDSHAKE),
    ("/meta/subscribe", "403::Unknown client", HANDSHAKE),
    ("/meta/connect", "402::Unknown client", None),
], ids=["subscribe 402 advice", "connect 402 advice", "subscribe 403 advice",
        "connect bare 402"])
async def test_sessions_forgotten_in_any_wording_stop_the_stream_after_three(
        server: HostileServer, channel: str, error: str, advice: dict[str, Any] | None) -> None:
    server.script = refuse(channel, error, advice)
    c = open_stream(server)
    try:
        await asyncio.wait_for(c.stream.failed.wait(), 30)
        [failed] = c.statuses("failed")
        assert "3 in a row" in failed.detail and error in failed.detail
        assert "sticky" in failed.detail
        assert len(server.seen("/meta/handshake")) == 3
    finally:
        await c.close()


# -- 5. the timeout is a deadline for the whole reply -----------------------------------------
@pytest.mark.parametrize("bulk", [False, True], ids=["h11", "aiohttp"])
async def test_a_reply_trickling_in_past_the_timeout_is_unknown(server: HostileServer,
                                                                bulk: bool) -> None:
    # 17 bytes, one every 0.4 s: each read is well within the 1 s timeout, the reply is not.
    server.script = on_post(Reply(b'{"statusCode": 0}', trickle_s=0.4))
    conn = connection(server, timeout_s=1.0)
    async with GwsSession(conn, AiohttpTransport(conn) if bulk else None) as session:
        started = time.monotonic()
        with pytest.raises(GwsOutcomeUnknown, match="no answer within 1 s"):
            await session.add_record(record())
    report = time.monotonic() - started
    print(f"\nHOSTILE trickle ({'aiohttp' if bulk else 'h11'}): gave up after {report:.2f} s")


# -- 6. Retry-After ---------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "asked", "cap", "expected"), [
    (429, "2", 3.0, 2.0),  # honoured (the backoff alone would wait 0.25 s)
    (503, "3600", 1.5, 1.5),  # capped at max_backoff
], ids=["429 honoured", "503 capped"])
async def test_retry_after_on_a_connect_is_waited_capped_at_the_max_backoff(
        server: HostileServer, status: int, asked: str, cap: float, expected: float) -> None:
    told = {"at": 0.0}

    def script(seen: Seen) -> Reply | None:
        if seen.channel == "/meta/connect" and seen.messages[0].get("advice") is None \
                and not told["at"]:
            told["at"] = time.monotonic()
            return Reply({"error": "slow down"}, status=status, headers=[f"Retry-After: {asked}"])
        return None

    server.script = script
    c = open_stream(server, max_backoff=cap)
    try:
        await eventually(lambda: told["at"], timeout=15)
        await eventually(lambda: [r for r in server.requests if r.at > told["at"]],
                         timeout=expected + 10)
        after = min(r.at for r in server.requests if r.at > told["at"]) - told["at"]
        assert after >= expected - 0.05, after
        [waiting] = [s for s in c.statuses("reconnecting") if "Retry-After" in s.detail]
        assert f"next attempt in {expected:g} s" in waiting.detail
        assert ("capped" in waiting.detail) == (float(asked) > cap)
        await eventually(lambda: c.stream.state == "connected", timeout=15)
    finally:
        await c.close()
