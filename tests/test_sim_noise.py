"""Unrelated traffic on the other GWS channels (/v2/me/devices, /v2/me/calls), off by
default, so a client's filtering and highlighting meet what a real node sends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from console.sim import Simulator
from tests.helpers import Gws, RawBayeux, events_of, eventually, sample_request


async def test_noise_is_off_by_default(sim: Simulator, bayeux: RawBayeux) -> None:
    assert sim.settings.noise_per_s == 0
    await bayeux.open("/**")
    await asyncio.sleep(0.3)
    assert events_of(await bayeux.connect(timeout0=True)) == []
    assert sim.noise.published == 0


async def test_noise_on_the_other_channels_leaves_outbound_alone(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    outbound_only = RawBayeux(sim.url, sim.user, sim.password)
    await outbound_only.open("/v2/me/outbound")
    await bayeux.open("/v2/me/*")
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        assert (await admin.put("/sim/settings", json={"noise_per_s": 40})).status_code == 200
    seen: list[dict[str, Any]] = []

    async def both_kinds() -> bool:
        seen.extend(events_of(await bayeux.connect(timeout0=True)))
        return {("/v2/me/devices", "DeviceStateChangeMessage"),
                ("/v2/me/calls", "CallStateChangeMessage")} <= {
            (e["channel"], e["data"]["messageType"]) for e in seen}

    await eventually(both_kinds, timeout=5.0)
    await gws.add_record(sample_request(referenceId="amid-noise"))
    [ack] = events_of(await outbound_only.connect())
    assert ack["channel"] == "/v2/me/outbound" and ack["data"]["referenceId"] == "amid-noise"
    call = next(e["data"] for e in seen if e["channel"] == "/v2/me/calls")
    assert call["notificationType"] == "StatusChange"
    assert call["call"]["state"] in ("Ringing", "Established", "Released")
    device = next(e["data"] for e in seen if e["channel"] == "/v2/me/devices")
    assert device["devices"][0]["phoneNumber"] == "5002"  # never the agent's first device
    assert sim.state()["noise"]["published"] == sim.noise.published > 0
    await outbound_only.close()

