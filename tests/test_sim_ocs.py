"""OCS's side of AddRecord: refusals that come later on CometD (the default) or at once, the
contact-centre session (Start/EndContactCenterSession) and AddRecord before it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from console.sim import SAMPLE_DEVICE_ID, Simulator
from console.sim.validation import (
    OCS_AGENT_NOT_LOGGED_IN,
    OCS_LIST_NOT_IN_CAMPAIGN,
    OCS_UNKNOWN_APPLICATION,
    OCS_UNKNOWN_CALLING_LIST,
    OCS_UNKNOWN_CAMPAIGN,
    OCS_UNKNOWN_TIME_ZONE,
)
from tests.helpers import Gws, RawBayeux, events_of, eventually, sample, sample_request

SAMPLE_PATH = f"/devices/{SAMPLE_DEVICE_ID}"


async def start_session(gws: Gws, **params: Any) -> httpx.Response:
    body = {"operationName": "StartContactCenterSession", "channels": ["voice"], **params}
    return await gws.http.post("/api/v2/me", json=body, headers=gws.csrf)


async def end_session(gws: Gws) -> httpx.Response:
    return await gws.http.post("/api/v2/me", json={"operationName": "EndContactCenterSession"},
                               headers=gws.csrf)


@pytest.mark.parametrize(("field", "value", "number", "words"), [
    ("campaignName", "NoSuchCampaign", OCS_UNKNOWN_CAMPAIGN, "Campaign 'NoSuchCampaign'"),
    ("callingList", "NoSuchList", OCS_UNKNOWN_CALLING_LIST, "Calling list 'NoSuchList'"),
    ("callingList", "CL_Retention_Main", OCS_LIST_NOT_IN_CAMPAIGN, "not part of campaign"),
    ("applicationId", 999, OCS_UNKNOWN_APPLICATION, "999"),
    ("timeZone", "Mars", OCS_UNKNOWN_TIME_ZONE, "Time zone 'Mars'"),
])
async def test_ocs_refuses_later_by_default(sim: Simulator, gws: Gws, bayeux: RawBayeux,
                                            field: str, value: Any, number: int,
                                            words: str) -> None:
    await bayeux.open("/v2/me/outbound", "/me/internal")
    reply = await gws.add_record(sample_request(**{field: value}, referenceId="bad-1"))
    # GWS passed it on to OCS: accepted, as the documented reply.
    assert reply.status_code == 200 and reply.json() == {"statusCode": 0}
    await eventually(lambda: sim.store.counters["errors_sent"] == 1)
    events = events_of(await bayeux.connect())
    assert [e["channel"] for e in events] == ["/v2/me/outbound", "/me/internal"]
    error, user_event = (e["data"] for e in events)
    assert error["messageType"] == "OutboundRecordMessage"
    assert error["notificationType"] == "Error" and error["referenceId"] == "bad-1"
    assert error["errorCode"] == number and words in error["errorMessage"]
    assert error["record"]["campaignName"] == sample_request(**{field: value})["campaignName"]
    assert user_event["messageType"] == "DeviceUserEventMessage"
    user_data = user_event["userData"]
    assert user_data["GSW_USER_EVENT"] == "Error"
    assert user_data["GSW_ERROR_NUMBER"] == number and words in user_data["GSW_ERROR"]
    assert user_data["GSW_CHAIN_ID"] == 2  # the request's chain, echoed
    assert "GSW_CHAIN_N" not in user_data  # OCS put the record in no chain
    [record] = sim.store.records
    assert record.fate == "refused" and record.ocs_error == (number, error["errorMessage"])
    assert sim.store.counters["ocs_refused"] == 1
    assert sim.store.status_codes == {0: 1}
    await eventually(lambda: record.delivery == "delivered")


async def test_a_refused_record_takes_no_chain_number(sim: Simulator, gws: Gws) -> None:
    await gws.add_record(sample_request(chainId=..., campaignName="Nope"))
    await gws.add_record(sample_request(chainId=...))
    refused, added = sim.store.records
    assert (refused.chain_id, refused.chain_n) == (None, None)
    assert (added.chain_id, added.chain_n) == (1000, 0)


async def test_unknown_device_is_refused_by_gws_at_once_in_both_modes(sim: Simulator,
                                                                      gws: Gws) -> None:
    for mode in ("async", "sync"):
        sim.set_settings({"ocs_refusals": mode})
        reply = await gws.add_record(sample_request(devicePath="/devices/nope"))
        assert reply.status_code == 404 and reply.json()["statusCode"] == 6
    assert sim.store.records == []


async def test_refusal_mode_switches_at_run_time_over_http(sim: Simulator, gws: Gws) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        reply = await admin.put("/sim/settings", json={"ocs_refusals": "sync"})
        assert reply.status_code == 200 and reply.json()["ocs_refusals"] == "sync"
        sync = await gws.add_record(sample_request(campaignName="Nope"))
        assert sync.status_code == 404 and "Campaign 'Nope' not found" in sync.text
        assert (await admin.delete("/sim/settings")).json()["ocs_refusals"] == "async"
    later = await gws.add_record(sample_request(campaignName="Nope"))
    assert later.json() == {"statusCode": 0}
    assert [r.fate for r in sim.store.records] == ["refused"]


async def test_documentation_sample_is_untouched_by_the_refusal_mode(sim: Simulator,
                                                                     gws: Gws) -> None:
    assert sim.settings.ocs_refusals == "async"
    assert (await gws.add_record(sample()["request"])).json() == sample()["response"]
    assert sim.store.records[0].fate == "ack"


# -- the contact-centre session -----------------------------------------------------------
async def test_start_session_logs_the_agent_in_and_tells_the_devices_channel(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/devices")
    before = (await gws.http.get("/api/v2/me/devices", params={"fields": "*"})).json()
    assert before["devices"][0]["userState"]["state"] == "LoggedOut"
    reply = await start_session(gws)
    assert reply.status_code == 200 and reply.json() == {"statusCode": 0}
    [change] = events_of(await bayeux.connect())
    assert change["channel"] == "/v2/me/devices"
    assert change["data"]["messageType"] == "DeviceStateChangeMessage"
    [device] = change["data"]["devices"]
    assert device["id"] == SAMPLE_DEVICE_ID and device["userState"]["state"] == "NotReady"
    after = (await gws.http.get("/api/v2/me/devices", params={"fields": "*"})).json()
    assert after["devices"][0]["userState"]["state"] == "NotReady"
    assert after["devices"][1]["userState"]["state"] == "LoggedOut"
    assert sim.state()["contactCentreSessions"] == {"demo": ["5001"]}
    # Starting again changes nothing (and says nothing).
    assert (await start_session(gws)).json() == {"statusCode": 0}
    assert events_of(await bayeux.connect(timeout0=True)) == []


@pytest.mark.parametrize(("params", "dn"), [
    ({"place": "Place_5002"}, "5002"),
    ({"devicePath": "/devices/9b2f61c0-5a7e-4c55-8d0f-2b6f0e4a1c02"}, "5002"),
    ({"place": "Place_5001", "loginCode": "agent7", "queue": "8001"}, "5001"),
])
async def test_place_or_device_chooses_the_dn(sim: Simulator, gws: Gws, params: dict[str, str],
                                              dn: str) -> None:
    assert (await start_session(gws, **params)).json() == {"statusCode": 0}
    assert sim.state()["contactCentreSessions"] == {"demo": [dn]}


@pytest.mark.parametrize(("body", "code", "words"), [
    ({"operationName": "StartContactCenterSession"}, 1, "'channels'"),
    ({"operationName": "StartContactCenterSession", "channels": "voice"}, 10, "'channels'"),
    ({"operationName": "StartContactCenterSession", "channels": []}, 10, "'channels'"),
    ({"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "Nowhere"},
     6, "Place 'Nowhere'"),
    ({"operationName": "StartContactCenterSession", "channels": ["voice"], "devicePath": "/x"},
     6, "Device '/x'"),
    ({"operationName": "StartContactCenterSession", "channels": ["voice"], "dn": "5001"},
     10, "'dn'"),
    ({"operationName": "StartContactCenterSession", "channels": ["chat"]}, 2, "'chat'"),
    ({"operationName": "Nope"}, 10, "StartContactCenterSession"),
])
async def test_bad_start_session_requests(sim: Simulator, gws: Gws, body: dict[str, Any],
                                          code: int, words: str) -> None:
    reply = await gws.http.post("/api/v2/me", json=body, headers=gws.csrf)
    assert reply.json()["statusCode"] == code and words in reply.json()["statusMessage"]
    assert sim.state()["contactCentreSessions"] == {}


async def test_voice_with_an_unavailable_channel_is_partial_success(sim: Simulator,
                                                                   gws: Gws) -> None:
    reply = await start_session(gws, channels=["voice", "chat"])
    body = reply.json()
    assert reply.status_code == 200 and body["statusCode"] == 7
    assert body["channels"]["voice"] == {"statusCode": 0}
    assert body["channels"]["chat"]["statusCode"] == 2
    assert sim.state()["contactCentreSessions"] == {"demo": ["5001"]}


async def test_start_session_needs_the_csrf_token(sim: Simulator, gws: Gws) -> None:
    reply = await gws.http.post("/api/v2/me", json={
        "operationName": "StartContactCenterSession", "channels": ["voice"]})
    assert reply.status_code == 403 and reply.json()["statusMessage"] == (
        "Missing or invalid Csrf token")
    assert sim.state()["contactCentreSessions"] == {}


async def test_end_session_logs_out_and_ends_the_http_session(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    await start_session(gws)
    await bayeux.open("/v2/me/devices")
    assert (await end_session(gws)).json() == {"statusCode": 0}
    [change] = events_of(await bayeux.connect())
    assert change["data"]["devices"][0]["userState"]["state"] == "LoggedOut"
    assert sim.state()["contactCentreSessions"] == {}
    assert (await gws.add_record(sample_request())).status_code == 403  # session invalidated


async def test_add_record_refused_at_once_until_the_dn_is_logged_in(sim: Simulator,
                                                                    gws: Gws) -> None:
    sim.set_settings({"session_required": "sync"})
    refused = await gws.add_record(sample_request())
    assert refused.status_code == 400
    body = refused.json()
    assert body["statusCode"] == 2
    assert "no agent logged in" in body["statusMessage"] and "5001" in body["statusMessage"]
    assert "StartContactCenterSession" in body["statusMessage"]
    assert sim.store.records == [] and sim.store.counters["no_session"] == 1
    await start_session(gws)
    assert (await gws.add_record(sample_request())).json() == {"statusCode": 0}
    # Logged in on 5001 only: the other device is still refused.
    other = await gws.add_record(sample_request(
        devicePath="/devices/9b2f61c0-5a7e-4c55-8d0f-2b6f0e4a1c02"))
    assert other.json()["statusCode"] == 2 and "5002" in other.json()["statusMessage"]
    await end_session(gws)
    await gws.start()  # the HTTP session ended with the contact-centre session
    assert (await gws.add_record(sample_request())).json()["statusCode"] == 2
    assert len(sim.store.records) == 1


async def test_add_record_refused_later_by_ocs_until_the_dn_is_logged_in(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    sim.set_settings({"session_required": "async"})
    await bayeux.open("/v2/me/outbound", "/me/internal")
    assert (await gws.add_record(sample_request(referenceId="early"))).json() == {
        "statusCode": 0}
    await eventually(lambda: sim.store.counters["errors_sent"] == 1)
    error, user_event = (e["data"] for e in events_of(await bayeux.connect()))
    assert error["notificationType"] == "Error" and error["referenceId"] == "early"
    assert error["errorCode"] == OCS_AGENT_NOT_LOGGED_IN
    assert error["errorMessage"] == "Agent not logged in on DN 5001"
    assert user_event["userData"]["GSW_ERROR"] == "Agent not logged in on DN 5001"
    await start_session(gws)
    await gws.add_record(sample_request(referenceId="late"))
    assert [r.fate for r in sim.store.records] == ["refused", "ack"]


async def test_user_event_channel_can_be_the_devices_topic(sim: Simulator, gws: Gws,
                                                           bayeux: RawBayeux) -> None:
    sim.set_settings({"user_event_channel": "/v2/me/devices"})
    await bayeux.open("/v2/me/*")
    await gws.add_record(sample_request(referenceId="dev"))
    events = events_of(await bayeux.connect())
    assert [(e["channel"], e["data"]["messageType"]) for e in events] == [
        ("/v2/me/outbound", "OutboundRecordMessage"),
        ("/v2/me/devices", "DeviceUserEventMessage")]
