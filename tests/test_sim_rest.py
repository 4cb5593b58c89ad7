"""GWS REST behaviour of the simulator: auth, session, CSRF, AddRecord validation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from console.sim import SAMPLE_DEVICE_ID, Simulator
from console.sim.validation import PHONE_TYPES, REQUIRED
from tests.helpers import Gws, RawBayeux, events_of, eventually, sample_request


async def test_me_opens_session_with_csrf_pair_devices_and_features(sim: Simulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url, auth=(sim.user, sim.password)) as http:
        reply = await http.get("/api/v2/me", params={"subresources": "*"})
        assert reply.status_code == 200
        assert "JSESSIONID" in reply.cookies
        assert reply.headers["X-CSRF-HEADER"] == "X-CSRF-TOKEN"
        token = reply.headers["X-CSRF-TOKEN"]
        assert len(token) >= 20
        user = reply.json()["user"]
        assert reply.json()["statusCode"] == 0
        assert user["userName"] == sim.user
        assert "api-voice-outbound" in user["features"]
        assert f"/devices/{SAMPLE_DEVICE_ID}" in [d["path"] for d in user["devices"]]
        # Same session, same token on a later GET.
        again = await http.get("/api/v2/me")
        assert again.headers["X-CSRF-TOKEN"] == token
        assert "devices" not in again.json()["user"]


async def test_devices_and_features(sim: Simulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url, auth=(sim.user, sim.password)) as http:
        short = (await http.get("/api/v2/me/devices")).json()["devices"]
        assert short[0] == {"id": SAMPLE_DEVICE_ID, "path": f"/devices/{SAMPLE_DEVICE_ID}"}
        full = (await http.get("/api/v2/me/devices", params={"fields": "*"})).json()["devices"]
        assert {"id", "deviceState", "phoneNumber"} <= set(full[0])
        features = (await http.get("/api/v2/features")).json()
        assert features["statusCode"] == 0 and "api-voice-outbound" in features["features"]


@pytest.mark.parametrize("path", ["/api/v2/me", "/api/v2/me/devices", "/api/v2/features"])
@pytest.mark.parametrize("auth", [None, ("demo", "wrong"), ("nobody", "x")])
async def test_every_call_needs_basic_auth(sim: Simulator, path: str,
                                           auth: tuple[str, str] | None) -> None:
    async with httpx.AsyncClient(base_url=sim.url, auth=auth) as http:
        reply = await http.get(path)
    assert reply.status_code == 401
    assert reply.json()["statusCode"] == 20
    assert "statusMessage" in reply.json()


async def test_post_without_auth_is_statuscode_20(sim: Simulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        reply = await http.post("/api/v2/me/outbound-records", json=sample_request())
    assert reply.json()["statusCode"] == 20
    assert sim.store.records == []


async def test_post_without_csrf_header_or_cookie_is_403(sim: Simulator, gws: Gws) -> None:
    no_header = await gws.http.post("/api/v2/me/outbound-records", json=sample_request())
    assert no_header.status_code == 403
    assert no_header.json()["statusMessage"] == "Missing or invalid Csrf token"
    wrong = await gws.http.post("/api/v2/me/outbound-records", json=sample_request(),
                                headers={"X-CSRF-TOKEN": "nope"})
    assert wrong.status_code == 403
    # Right token but no cookie (a fresh client with the header only).
    async with httpx.AsyncClient(base_url=sim.url, auth=(sim.user, sim.password)) as other:
        no_cookie = await other.post("/api/v2/me/outbound-records", json=sample_request(),
                                     headers=gws.csrf)
    assert no_cookie.status_code == 403
    assert sim.store.records == []
    ok = await gws.add_record(sample_request())
    assert ok.json() == {"statusCode": 0}


async def test_end_session_invalidates_csrf(sim: Simulator, gws: Gws) -> None:
    reply = await gws.http.post("/api/v2/me", json={"operationName": "EndContactCenterSession"},
                                headers=gws.csrf)
    assert reply.json() == {"statusCode": 0}
    after = await gws.add_record(sample_request())
    assert after.status_code == 403


@pytest.mark.parametrize("missing", REQUIRED + ("operationName",))
async def test_missing_required_field_is_1_naming_it(gws: Gws, missing: str) -> None:
    reply = await gws.add_record(sample_request(**{missing: ...}))
    assert reply.status_code == 400
    body = reply.json()
    assert body["statusCode"] == 1
    assert f"'{missing}'" in body["statusMessage"]


async def test_several_missing_fields_are_all_named(gws: Gws) -> None:
    body = (await gws.add_record(sample_request(timeZone=..., until=...))).json()
    assert body["statusCode"] == 1
    assert "'timeZone'" in body["statusMessage"] and "'until'" in body["statusMessage"]


@pytest.mark.parametrize(("field", "value"), [
    ("applicationId", "134"), ("applicationId", True), ("applicationId", 13.4),
    ("applicationId", -1), ("chainId", "2"), ("chainId", -5), ("from", "00:00"),
    ("until", 86400), ("from", -1), ("until", 1e9), ("phoneType", "Cell"),
    ("phoneType", "mobile"), ("phoneNumber", 12345), ("phoneNumber", "  "),
    ("campaignName", ["Campaign1"]), ("timeZone", {"name": "GMT"}), ("referenceId", 123),
    ("referenceId", ""), ("otherFields", ["a"]), ("otherFields", {"nested": {"x": 1}}),
    ("operationName", "UpdateRecord"), ("devicePath", 7), ("unexpected", 1),
])
async def test_wrong_types_and_values_are_10(gws: Gws, field: str, value: Any) -> None:
    reply = await gws.add_record(sample_request(**{field: value}))
    body = reply.json()
    assert body["statusCode"] == 10, body
    assert field in body["statusMessage"]


@pytest.mark.parametrize("phone_type", PHONE_TYPES)
async def test_each_documented_phone_type_is_accepted(gws: Gws, phone_type: str) -> None:
    reply = await gws.add_record(sample_request(phoneType=phone_type))
    assert reply.json() == {"statusCode": 0}


@pytest.mark.parametrize(("field", "value", "word"), [
    ("campaignName", "NoSuchCampaign", "NoSuchCampaign"),
    ("callingList", "NoSuchList", "NoSuchList"),
    ("callingList", "CL_Retention_Main", "not part of campaign"),
    ("applicationId", 999, "999"),
    ("timeZone", "Mars/Olympus", "Mars/Olympus"),
    ("devicePath", "/devices/00000000-0000-0000-0000-000000000000", "00000000"),
])
async def test_unknown_configuration_is_6_in_sync_mode(sim: Simulator, gws: Gws, field: str,
                                                       value: Any, word: str) -> None:
    sim.set_settings({"ocs_refusals": "sync"})
    reply = await gws.add_record(sample_request(**{field: value}))
    assert reply.status_code == 404
    body = reply.json()
    assert body["statusCode"] == 6 and word in body["statusMessage"]
    assert sim.store.records == []


async def test_malformed_json_and_non_object_bodies(sim: Simulator, gws: Gws) -> None:
    for content in (b"{not json", b"\xff\xfe", b"[1, 2]", b'"AddRecord"', b""):
        reply = await gws.http.post("/api/v2/me/outbound-records", content=content,
                                    headers={**gws.csrf, "Content-Type": "application/json"})
        assert reply.status_code == 400
        assert reply.json()["statusCode"] == 10
    assert (await gws.add_record(sample_request())).json() == {"statusCode": 0}


async def test_oversize_body_is_refused_and_server_keeps_serving(sim: Simulator, gws: Gws) -> None:
    huge = sample_request(otherFields={"blob": "x" * 400_000})
    reply = await gws.add_record(huge)
    assert reply.status_code == 413
    assert reply.json()["statusCode"] == 10
    assert (await gws.add_record(sample_request())).json() == {"statusCode": 0}


async def test_until_before_from_is_accepted_as_a_window_past_midnight(gws: Gws) -> None:
    reply = await gws.add_record(sample_request(**{"from": 79200, "until": 21600}))
    assert reply.json() == {"statusCode": 0}


async def test_new_chain_when_chain_id_absent_and_chain_n_counts(
        sim: Simulator, gws: Gws, bayeux: RawBayeux) -> None:
    await bayeux.open("/me/internal")
    await gws.add_record(sample_request(chainId=..., referenceId="a"))
    await gws.add_record(sample_request(chainId=..., referenceId="b"))
    await gws.add_record(sample_request(chainId=77, referenceId="c"))
    await gws.add_record(sample_request(chainId=77, referenceId="d"))
    chains = [(r.chain_id, r.chain_n) for r in sim.store.records]
    assert chains[0][0] != chains[1][0]
    assert chains[0][1] == chains[1][1] == 0
    assert chains[2:] == [(77, 0), (77, 1)]
    events = events_of(await bayeux.connect())
    user_data = [e["data"]["userData"] for e in events]
    assert [(u["GSW_CHAIN_ID"], u["GSW_CHAIN_N"]) for u in user_data] == chains


async def test_other_fields_are_kept(sim: Simulator, gws: Gws) -> None:
    reply = await gws.add_record(sample_request(otherFields={"CustomerId": "C-1", "Balance": 12.5,
                                                              "Note": "Grüße"}))
    assert reply.json() == {"statusCode": 0}
    assert sim.store.records[0].body["otherFields"]["Note"] == "Grüße"


async def test_feature_missing_gives_404(sim: Simulator) -> None:
    from console.sim.catalog import Device, User

    user = User("nofeature", "pw", (Device(SAMPLE_DEVICE_ID, "5001"),), features=("api-voice",))
    async with Simulator(users=[user]) as other:
        client = Gws(other.url, "nofeature", "pw")
        await client.start()
        reply = await client.add_record(sample_request())
        await client.close()
    assert reply.status_code == 404
    assert "api-voice-outbound" in reply.json()["statusMessage"]


async def test_unknown_api_path_is_json_404(sim: Simulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url, auth=(sim.user, sim.password)) as http:
        reply = await http.get("/api/v2/me/nothing-here")
    assert reply.status_code == 404
    assert reply.json()["statusCode"] == 6


async def test_state_endpoint_counts_outcomes(sim: Simulator, gws: Gws) -> None:
    sim.set_settings({"ocs_refusals": "sync"})
    await gws.add_record(sample_request())
    await gws.add_record(sample_request(phoneType="Nope"))
    await gws.add_record(sample_request(campaignName="Nope"))
    async with httpx.AsyncClient(base_url=sim.url) as http:
        state = (await http.get("/sim/state")).json()
    assert state["store"]["statusCodes"] == {"0": 1, "6": 1, "10": 1}
    assert state["store"]["accepted"] == 1
    assert len(state["records"]) == 1
    assert json.dumps(state).count(sim.password) == 0


async def test_ack_without_reference_id_has_no_reference_id(
        gws: Gws, bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/outbound")
    await gws.add_record(sample_request(referenceId=...))
    [ack] = events_of(await bayeux.connect())
    assert ack["data"]["notificationType"] == "AddRecordAcknowledge"
    assert "referenceId" not in ack["data"]


async def test_notifications_follow_the_http_reply(sim: Simulator, gws: Gws,
                                                   bayeux: RawBayeux) -> None:
    await bayeux.open("/v2/me/outbound")
    await gws.add_record(sample_request(referenceId="r1"))
    await eventually(lambda: sim.store.records and sim.store.records[0].notified_at)
    [ack] = events_of(await bayeux.connect())
    assert ack["data"]["referenceId"] == "r1"
