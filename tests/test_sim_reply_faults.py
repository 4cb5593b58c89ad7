"""Faults for "unknown is not refused": GWS accepts the AddRecord (stored, notified as usual)
but the HTTP reply is reset, never sent, or unreadable; and the opposite, a reset before
anything is stored."""

from __future__ import annotations

import json

import httpx
import pytest

from console.sim import Simulator
from tests.helpers import Gws, RawBayeux, events_of, eventually, sample_request


async def put_faults(sim: Simulator, **settings: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        return await http.put("/sim/faults", json=settings)


async def acked(sim: Simulator, bayeux: RawBayeux, reference: str) -> None:
    """The record is stored and its acknowledgement reaches the subscriber as usual."""
    [record] = sim.store.records
    assert record.reference_id == reference and record.fate == "ack"
    await eventually(lambda: record.notified_at is not None)
    [ack] = [e for e in events_of(await bayeux.connect()) if e["channel"] == "/v2/me/outbound"]
    assert ack["data"]["referenceId"] == reference
    assert ack["data"]["notificationType"] == "AddRecordAcknowledge"


async def test_accept_then_reset(sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    assert (await put_faults(sim, accept_then_reset=1.0)).status_code == 200
    await bayeux.open("/v2/me/outbound")
    with pytest.raises(httpx.TransportError):
        await gws.add_record(sample_request(referenceId="reset"))
    await acked(sim, bayeux, "reset")
    assert sim.store.records[0].reply_fault == "accept_then_reset"
    assert sim.store.counters["accept_then_reset"] == 1
    assert sim.store.status_codes == {0: 1}


async def test_accept_then_hang(sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    await put_faults(sim, accept_then_hang=1.0)
    await bayeux.open("/v2/me/outbound")
    with pytest.raises(httpx.ReadTimeout):
        await gws.http.post("/api/v2/me/outbound-records", json=sample_request(
            referenceId="hang"), headers=gws.csrf, timeout=0.5)
    await acked(sim, bayeux, "hang")
    assert sim.store.counters["accept_then_hang"] == 1


async def test_accept_then_garbage(sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    await put_faults(sim, accept_then_garbage=1.0)
    await bayeux.open("/v2/me/outbound")
    reply = await gws.add_record(sample_request(referenceId="garbage"))
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(reply.content)
    await acked(sim, bayeux, "garbage")


async def test_reset_before_accept_stores_nothing(sim: Simulator, gws: Gws,
                                                  bayeux: RawBayeux) -> None:
    await put_faults(sim, reset_before_accept=1.0)
    await bayeux.open("/v2/me/outbound")
    with pytest.raises(httpx.TransportError):
        await gws.add_record(sample_request(referenceId="never"))
    assert sim.store.records == [] and sim.store.counters["reset_before_accept"] == 1
    assert events_of(await bayeux.connect(timeout0=True)) == []


async def test_reply_faults_are_rates_and_reproducible(sim: Simulator, gws: Gws) -> None:
    await put_faults(sim, accept_then_garbage=0.5, seed=3)
    outcomes = []
    for n in range(40):
        reply = await gws.add_record(sample_request(referenceId=f"g{n}"))
        outcomes.append(reply.content == b'{"statusCode": 0}')
    assert len(sim.store.records) == 40  # every one accepted, whatever the reply
    garbled = outcomes.count(False)
    assert garbled == sim.store.counters["accept_then_garbage"] and 5 < garbled < 35


async def test_accept_then_reset_behind_the_balancer_is_a_502() -> None:
    async with Simulator(password="pw", nodes=2) as cluster:
        cluster.set_faults({"accept_then_reset": 1.0})
        client = Gws(cluster.url, cluster.user, "pw")
        await client.start()
        reply = await client.add_record(sample_request(referenceId="via-lb"))
        assert reply.status_code == 502 and "Bad Gateway" in reply.text
        [record] = cluster.store.records
        assert record.reference_id == "via-lb" and record.reply_fault == "accept_then_reset"
        assert cluster.state()["balancer"]["counters"]["bad_gateway"] == 1
        await client.close()


@pytest.mark.parametrize("name", ["accept_then_reset", "accept_then_hang",
                                  "accept_then_garbage", "reset_before_accept"])
async def test_reply_faults_validate_as_fractions(sim: Simulator, name: str) -> None:
    reply = await put_faults(sim, **{name: 2})
    assert reply.status_code == 400 and name in reply.json()["error"]
    assert getattr(sim.faults, name) == 0.0
