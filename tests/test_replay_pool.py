"""The replay loop as a pool of workers (no task per record): verdicts as they come, a stop
honoured while only acknowledgements are awaited, a failure of ours never taken for a
refusal; and the bulk POST path (straight over aiohttp) sorting failures and keeping cookies
as the httpx path does."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from console.app.replay_engine import Outcome, Replay, plan, resume_rows
from console.domain.model import AddRecord
from console.domain.templates import load_template
from console.errors import GwsOutcomeUnknown
from console.gws.connection import Connection, Secret
from console.gws.session import MAX_REPLY_BYTES, GwsSession
from console.gws.transport import BULK_AFTER, GwsTransport
from console.sim import Simulator
from tests.helpers import eventually, sample_request
from tests.hostile import Hang, HostileServer, Reply, Reset, Seen
from tests.test_replay import CALLBACK, engine_for


async def test_a_stop_while_only_acknowledgements_are_awaited_gives_a_partial_verdict(
        sim: Simulator) -> None:
    # Every record is sent; their acknowledgements are late. A stop then must not wait for
    # them (up to the 10 s timeout): the grace period, then `unconfirmed` (may be at GWS).
    sim.set_faults({"ack_delay_ms": 4000})
    async with engine_for(sim, timeout=10.0) as engine:
        jobs = plan([load_template(CALLBACK)], None, 5, {"phone": "5551234"},
                    engine.session.device_path)
        replay = Replay(engine, jobs, rate=1000, concurrency=2, timeout_s=10.0)
        task = asyncio.create_task(replay.run(grace_s=0.2))
        await eventually(lambda: replay.sent == 5 and len(sim.store.records) == 5, timeout=10)
        await asyncio.sleep(0.1)  # the last reply read: only acknowledgements are awaited
        replay.stop()
        outcomes = await asyncio.wait_for(task, 3.0)
    assert [o.state for o in outcomes] == ["unconfirmed"] * 5
    assert all(o.accepted and not o.safe_to_resend for o in outcomes)
    safe, unsure = resume_rows(outcomes, "demo | demo | SIMULATOR")
    assert not safe and len(unsure) == 5


async def test_a_verdict_is_given_when_it_comes_not_after_older_records(sim: Simulator) -> None:
    # Some acknowledgements are dropped (no_answer after the timeout): the records sent after
    # them are reported as their acknowledgements arrive, not held behind the older ones.
    sim.set_faults({"ack_drop": 0.3, "seed": 5})
    reported: list[Outcome] = []
    async with engine_for(sim, timeout=1.5) as engine:
        jobs = plan([load_template(CALLBACK)], None, 20, {"phone": "5551234"},
                    engine.session.device_path)
        outcomes = await Replay(engine, jobs, rate=1000, concurrency=4, timeout_s=1.5,
                                on_outcome=reported.append).run()
    states = Counter(o.state for o in outcomes)
    assert states["no_answer"] > 0 and states["acknowledged"] > 0
    assert sorted(o.job.seq for o in reported) == list(range(1, 21))  # each reported once
    first_silent = next(i for i, o in enumerate(reported) if o.state == "no_answer")
    silent_seq = reported[first_silent].job.seq
    assert any(o.job.seq > silent_seq and o.state == "acknowledged"
               for o in reported[:first_silent])


async def test_a_failure_of_ours_while_sending_is_unknown_never_safe(sim: Simulator) -> None:
    # An exception the engine does not sort (a bug) must not leave the record as "not sent"
    # (the resume file would send it again): its POST may have left.
    async with engine_for(sim, timeout=2.0) as engine:
        real = engine.send
        calls = 0

        async def flaky(record: AddRecord | dict[str, Any]) -> Any:
            nonlocal calls
            calls += 1
            if calls == 2:
                await real(record)
                raise RuntimeError("boom after the POST")
            return await real(record)

        engine.send = flaky  # type: ignore[method-assign]
        jobs = plan([load_template(CALLBACK)], None, 4, {"phone": "5551234"},
                    engine.session.device_path)
        outcomes = await Replay(engine, jobs, rate=1000, concurrency=1, timeout_s=2.0).run()
    assert [o.state for o in outcomes] == ["acknowledged", "unknown", "acknowledged",
                                           "acknowledged"]
    assert outcomes[1].accepted and not outcomes[1].safe_to_resend
    assert "boom after the POST" in outcomes[1].reason
    safe, unsure = resume_rows(outcomes, "demo | demo | SIMULATOR")
    assert not safe and len(unsure) == 1


def test_a_renewed_record_posts_its_new_reference() -> None:
    # The body is encoded once per record; a copy with a new referenceId must not reuse it.
    record = AddRecord.parse(sample_request(referenceId="first", devicePath="/devices/d1"))
    assert '"referenceId": "first"' in record.body_json()
    record.body()["referenceId"] = "changed by a caller"  # a copy: the record is unchanged
    renewed = record.renewed()
    assert renewed.reference_id != "first"
    assert renewed.body()["referenceId"] == renewed.reference_id
    assert f'"referenceId": "{renewed.reference_id}"' in renewed.body_json()
    assert record.body()["referenceId"] == "first"


# -- the bulk POST path -------------------------------------------------------------------------
@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as plain:
        yield plain


def record(n: int) -> AddRecord:
    return AddRecord.parse(sample_request(referenceId=f"r{n}", devicePath="/devices/d1"))


async def bulk_session(server: HostileServer) -> GwsSession:
    """A session on the default transport that has moved to aiohttp (BULK_AFTER POSTs made)."""
    conn = Connection(server.url, "agent", Secret("pw"), timeout_s=0.5)
    session = GwsSession(conn)
    await session.start()
    for n in range(BULK_AFTER + 1):
        await session.add_record(record(n))
    assert isinstance(session.http.transport, GwsTransport)
    assert session.http.transport.bulk is not None
    return session


@pytest.mark.parametrize(("action", "words"), [
    (Reset(), "connection failed before the answer"),
    (Hang(), "no answer within 0.5 s"),
    (Reply(b"[" + b" " * (MAX_REPLY_BYTES + 10) + b"]"), "longer than 1 MiB"),
    (Reply("<html>502 Bad Gateway</html>", 502, "text/html"), "HTTP 502"),
], ids=["reset", "timeout", "2MB", "html-502"])
async def test_a_bulk_post_whose_answer_is_not_seen_is_outcome_unknown(
        action: Any, words: str, server: HostileServer) -> None:
    session = await bulk_session(server)
    try:
        server.script = lambda seen: action if seen.method == "POST" else None
        with pytest.raises(GwsOutcomeUnknown, match=words) as info:
            await session.add_record(record(99))
        assert "GWS may have acted on it" in str(info.value)
        server.script = None
        await session.add_record(record(100))  # the session goes on after a bad reply
    finally:
        await session.close()


async def test_a_cookie_set_on_a_bulk_post_is_sent_with_the_next(server: HostileServer) -> None:
    session = await bulk_session(server)
    try:
        def node_cookie(seen: Seen) -> Reply | None:
            if seen.method == "POST" and seen.body and b'"r50"' in seen.body:
                return Reply({"statusCode": 0}, headers=["Set-Cookie: NODE=n2; Path=/"])
            return None
        server.script = node_cookie
        await session.add_record(record(50))
        await session.add_record(record(51))
        [last] = [s for s in server.seen_path("/api/v2/me/outbound-records")
                  if b'"r51"' in s.body]
        cookie = last.headers.get("cookie", "")
        assert "NODE=n2" in cookie and "JSESSIONID=S1" in cookie, cookie
    finally:
        await session.close()
