"""Conformance: the official CometD JavaScript client against the simulator."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from console.sim import Simulator
from tests.helpers import Gws, sample_request
from tests.node_tools import NodeProcess

pytestmark = pytest.mark.interop
CHANNELS = ("/v2/me/outbound", "/me/internal")


async def start_client(sim: Simulator) -> NodeProcess:
    return await NodeProcess.start("js_client.mjs", sim.url, sim.user, *CHANNELS,
                                   env={"GWS_PASSWORD": sim.password})


def is_(event: str):  # type: ignore[no-untyped-def]
    return lambda line: line["event"] == event


async def test_js_client_receives_the_ack_with_our_reference_id(sim: Simulator, gws: Gws) -> None:
    client = await start_client(sim)
    try:
        [hs] = await client.wait_for(is_("handshake"))
        assert hs["successful"] is True
        subs = await client.wait_for(lambda l: l["event"] == "subscribe" and l["successful"],
                                     count=2)
        assert sorted(s["subscription"] for s in subs) == sorted(CHANNELS)
        reply = await gws.add_record(sample_request(referenceId="js-ref-1"))
        assert reply.json() == {"statusCode": 0}
        messages = await client.wait_for(is_("message"), count=2)
        ack = next(m for m in messages if m["channel"] == "/v2/me/outbound")
        assert ack["data"]["referenceId"] == "js-ref-1"
        assert ack["data"]["notificationType"] == "AddRecordAcknowledge"
        event = next(m for m in messages if m["channel"] == "/me/internal")
        assert event["data"]["userData"]["GSW_PHONE"] == "12345"
        client.send("disconnect")
        await client.wait_for(is_("disconnect"))
        assert sim.bayeux.sessions == {}
    finally:
        await client.stop()


@pytest.mark.parametrize("downtime", [0.0, 1.0])
async def test_js_client_survives_a_restart_by_rehandshaking(sim: Simulator, gws: Gws,
                                                             downtime: float) -> None:
    client = await start_client(sim)
    try:
        await client.wait_for(lambda l: l["event"] == "subscribe" and l["successful"], count=2)
        first_id = client.lines[0]["clientId"]
        async with httpx.AsyncClient(base_url=sim.url) as http:
            await http.post("/sim/restart", json={"downtime": downtime})
        handshakes = await client.wait_for(lambda l: l["event"] == "handshake" and l["successful"],
                                           count=2, timeout=15.0)
        assert handshakes[1]["clientId"] != first_id
        subs = await client.wait_for(lambda l: l["event"] == "subscribe" and l["successful"],
                                     count=4, timeout=5.0)
        # Each channel subscribed exactly once per handshake.
        assert Counter(s["subscription"] for s in subs) == {c: 2 for c in CHANNELS}
        assert len(sim.bayeux.sessions) == 1
        await gws.start()  # the HTTP session died with the node: new cookie + CSRF pair
        await gws.add_record(sample_request(referenceId="after-restart"))
        messages = await client.wait_for(
            lambda l: l["event"] == "message" and l["data"].get("referenceId") == "after-restart")
        assert len(messages) == 1
    finally:
        await client.stop()
