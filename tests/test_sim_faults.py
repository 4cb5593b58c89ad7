"""Fault injection: chosen at start, switched at run time, reproducible with a seed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from console.sim import FaultError, Faults, Simulator, load_fault_file
from console.sim.faults import apply_settings, parse_assignments
from tests.helpers import Gws, RawBayeux, events_of, eventually, sample_request


async def put_faults(sim: Simulator, **settings: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        return await http.put("/sim/faults", json=settings)


async def test_ack_drop_sends_no_notification_and_counts_it(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    assert (await put_faults(sim, ack_drop=1.0)).status_code == 200
    await bayeux.open("/**")
    reply = await gws.add_record(sample_request(referenceId="lost"))
    assert reply.json() == {"statusCode": 0}
    assert events_of(await bayeux.connect(timeout0=True)) == []
    assert sim.store.records[0].fate == "drop"
    assert sim.store.counters["acks_dropped"] == 1


async def test_ack_error_sends_an_error_notification(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    await put_faults(sim, ack_error=1.0)
    await bayeux.open("/**")
    await gws.add_record(sample_request(referenceId="bad"))
    await eventually(lambda: sim.store.counters["errors_sent"] == 1)
    events = events_of(await bayeux.connect(timeout0=True))
    error = next(e["data"] for e in events if e["channel"] == "/v2/me/outbound")
    assert error["notificationType"] == "Error"
    assert error["referenceId"] == "bad"
    assert error["errorCode"] == 13 and error["errorMessage"]
    user_event = next(e["data"] for e in events if e["channel"] == "/me/internal")
    assert user_event["userData"]["GSW_USER_EVENT"] == "Error"


async def test_ack_delay_holds_the_ack_back(sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    await put_faults(sim, ack_delay_ms=300)
    await bayeux.open("/v2/me/outbound")
    await gws.add_record(sample_request(referenceId="slow"))
    assert events_of(await bayeux.connect(timeout0=True)) == []
    await eventually(lambda: sim.store.records[0].notified_at)
    [ack] = events_of(await bayeux.connect(timeout0=True))
    assert ack["data"]["referenceId"] == "slow"


async def test_http_error_bursts(sim: Simulator, gws: Gws) -> None:
    await put_faults(sim, http_error=503, http_error_rate=1.0, http_error_burst=3)
    statuses = [(await gws.add_record(sample_request())).status_code for _ in range(3)]
    assert statuses == [503, 503, 503]
    await put_faults(sim, http_error_rate=0.0)
    assert (await gws.add_record(sample_request())).status_code == 200
    assert sim.store.counters["http_fault"] == 3
    assert len(sim.store.records) == 1


async def test_chosen_status_code(sim: Simulator, gws: Gws) -> None:
    await put_faults(sim, status_code=13, status_rate=1.0)
    reply = await gws.add_record(sample_request())
    assert reply.status_code == 500
    assert reply.json()["statusCode"] == 13
    assert sim.store.records == []


async def test_hold_forever_never_answers_a_connect(sim: Simulator, bayeux: RawBayeux) -> None:
    await put_faults(sim, hold_forever=True)
    await bayeux.handshake()
    pending = asyncio.create_task(bayeux.connect())
    await asyncio.sleep(2.5)  # past the 2 s hold of these tests
    assert not pending.done()
    pending.cancel()


async def test_slow_replies(sim: Simulator, gws: Gws) -> None:
    await put_faults(sim, slow_ms=200)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await gws.add_record(sample_request())
    assert loop.time() - start >= 0.2


async def test_restart_drops_every_session_and_pending_acks(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/outbound")
    held = asyncio.create_task(bayeux.connect())
    await eventually(lambda: sim.bayeux.counters.held_connects == 1)
    await put_faults(sim, ack_delay_ms=10_000)
    await gws.add_record(sample_request(referenceId="in-flight"))
    async with httpx.AsyncClient(base_url=sim.url) as http:
        reply = await http.post("/sim/restart")
    assert reply.json()["restarted"] is True
    with pytest.raises(httpx.TransportError):
        await held  # the held long-poll drops with the node
    [answer] = await bayeux.connect()
    assert answer["error"] == "402::session_unknown"
    assert sim.store.records[0].fate == "lost"
    assert sim.store.counters["acks_lost_in_restart"] == 1
    assert (await gws.add_record(sample_request())).status_code == 403  # HTTP session gone too


async def test_restart_with_downtime_refuses_connections_then_serves(sim: Simulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        await http.post("/sim/restart", json={"downtime": 0.6})
    async def refused() -> bool:
        try:
            async with httpx.AsyncClient(base_url=sim.url) as http:
                await http.get("/sim/state")
        # While the node shuts down, a connection already accepted is closed unanswered.
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            return True
        return False
    await eventually(refused, timeout=2.0)
    async def back() -> bool:
        return not await refused()
    await eventually(back, timeout=3.0)
    assert sim.restarts == 1


def test_same_seed_same_faults() -> None:
    from console.sim.faults import FaultInjector

    def run(seed: int) -> list[str]:
        injector = FaultInjector(apply_settings(Faults(), {"ack_drop": 0.3, "ack_error": 0.3,
                                                           "seed": seed}))
        return [injector.ack_fate() for _ in range(200)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    fates = run(7)
    assert {"ack", "drop", "error"} == set(fates)


@pytest.mark.parametrize(("settings", "message"), [
    ({"ack_drop": 1.5}, "ack_drop"), ({"ack_drop": "lots"}, "ack_drop"),
    ({"nonsense": 1}, "unknown fault 'nonsense'"), ({"hold_forever": "maybe"}, "true or false"),
    ({"ack_delay_ms": -1}, "ack_delay_ms"), ({"http_error": 200}, "http_error"),
    ({"http_error_burst": 0}, "http_error_burst"), ({"seed": True}, "seed"),
])
def test_bad_fault_settings_name_the_key(settings: dict[str, object], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        apply_settings(Faults(), settings)


async def test_bad_faults_over_http_are_400_and_change_nothing(sim: Simulator) -> None:
    reply = await put_faults(sim, ack_drop=3)
    assert reply.status_code == 400 and "ack_drop" in reply.json()["error"]
    assert sim.faults == Faults()
    async with httpx.AsyncClient(base_url=sim.url) as http:
        bad_json = await http.put("/sim/faults", content=b"{")
        assert bad_json.status_code == 400
        await put_faults(sim, ack_drop=0.5)
        cleared = await http.delete("/sim/faults")
    assert cleared.json()["ack_drop"] == 0.0


def test_parse_assignments() -> None:
    assert parse_assignments(["ack_drop=0.1", " seed = 3 "]) == {"ack_drop": "0.1", "seed": "3"}
    with pytest.raises(FaultError, match="name=value"):
        parse_assignments(["ack_drop"])


def test_fault_file(tmp_path: Path) -> None:
    good = tmp_path / "faults.yaml"
    good.write_text("faults:\n  ack_drop: 0.25\n  seed: 4\n")
    assert apply_settings(Faults(), load_fault_file(good)).ack_drop == 0.25
    bad = tmp_path / "bad.yaml"
    bad.write_text("ack_drop: 0.1\n  seed: [\n")
    with pytest.raises(FaultError, match=r"bad\.yaml:2:"):
        load_fault_file(bad)
    evil = tmp_path / "evil.yaml"
    evil.write_text("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(FaultError, match="evil.yaml"):
        load_fault_file(evil)
    listy = tmp_path / "list.yaml"
    listy.write_text("- ack_drop\n")
    with pytest.raises(FaultError, match="mapping"):
        load_fault_file(listy)
