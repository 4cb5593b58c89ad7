"""The GWS REST session against the simulator over sockets (and MockTransport for odd replies)."""

from __future__ import annotations

import socket

import httpx
import pytest

from console.domain.model import AddRecord
from console.errors import CsrfError, GwsHttpError, GwsStatusError, GwsUnreachable
from console.gws.connection import Connection, Secret
from console.gws.session import STATUS_MEANINGS, GwsSession, explain_status
from console.sim import SAMPLE_DEVICE_ID, Simulator
from console.sim.catalog import Device, User
from tests.helpers import sample_request


def connection(sim: Simulator, password: str | None = None, **kw: object) -> Connection:
    return Connection(sim.url, sim.user, Secret(password or sim.password), **kw)  # type: ignore[arg-type]


async def test_start_reads_devices_features_and_csrf(sim: Simulator) -> None:
    async with GwsSession(connection(sim)) as session:
        me = session.me
        assert me is not None and me.user_name == "demo"
        assert f"/devices/{SAMPLE_DEVICE_ID}" == me.devices[0] == session.device_path
        assert "api-voice-outbound" in me.features and me.warnings == ()
        assert "JSESSIONID=" in session.cookie_header()


async def test_sample_post_succeeds(sim: Simulator) -> None:
    async with GwsSession(connection(sim)) as session:
        result = await session.add_record(AddRecord.parse(sample_request()))
    assert result.http_status == 200 and result.status_code == 0
    assert len(sim.store.records) == 1


async def test_status_code_6_explained(sim: Simulator) -> None:
    sim.set_settings({"ocs_refusals": "sync"})  # GWS refuses an unknown campaign at once
    async with GwsSession(connection(sim)) as session:
        with pytest.raises(GwsStatusError) as info:
            await session.add_record(AddRecord.parse(sample_request(campaignName="Nope")))
    assert info.value.status_code == 6 and info.value.http_status == 404
    assert "not found" in str(info.value) and "Nope" in str(info.value)


@pytest.mark.parametrize("code", [2, 5, 18, 19])
async def test_forced_status_codes_explained(sim: Simulator, code: int) -> None:
    sim.set_faults({"status_code": code, "status_rate": 1.0})
    async with GwsSession(connection(sim)) as session:
        with pytest.raises(GwsStatusError) as info:
            await session.add_record(AddRecord.parse(sample_request()))
    assert info.value.status_code == code
    assert STATUS_MEANINGS[code] in str(info.value)


async def test_wrong_password_is_statuscode_20(sim: Simulator) -> None:
    with pytest.raises(GwsStatusError) as info:
        async with GwsSession(connection(sim, password="wrong")):
            pass
    assert info.value.status_code == 20
    assert "check user and password" in str(info.value)
    assert "wrong" not in str(info.value)


async def test_http_503_burst_is_an_http_error(sim: Simulator) -> None:
    sim.set_faults({"http_error": 503, "http_error_rate": 1.0})
    async with GwsSession(connection(sim)) as session:
        with pytest.raises(GwsHttpError) as info:
            await session.add_record(AddRecord.parse(sample_request()))
    assert info.value.status == 503
    assert "HTTP 503" in str(info.value) and "retry later" in str(info.value)


async def test_csrf_refreshed_once_after_gws_restart(sim: Simulator) -> None:
    async with GwsSession(connection(sim)) as session:
        await session.add_record(AddRecord.parse(sample_request()))
        await sim.restart()  # the HTTP session and its CSRF token are gone
        result = await session.add_record(AddRecord.parse(sample_request(referenceId="again")))
    assert result.status_code == 0
    assert sim.store.counters["csrf_rejected"] == 1
    assert len(sim.store.records) == 2


def test_csrf_refused_twice_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"statusCode": 0, "user": {"userName": "u"}},
                                  headers={"X-CSRF-HEADER": "X-CSRF-TOKEN", "X-CSRF-TOKEN": "t"})
        return httpx.Response(403, json={"statusMessage": "Missing or invalid Csrf token"})

    async def run() -> None:
        conn = Connection("http://gws.test", "u", Secret("p"), device_path="/devices/d")
        async with GwsSession(conn, transport=httpx.MockTransport(handler)) as session:
            with pytest.raises(CsrfError, match="twice"):
                await session.add_record(AddRecord.parse(sample_request()))

    import asyncio
    asyncio.run(run())


@pytest.mark.parametrize(("status", "body", "words"), [
    (200, b"<html>login</html>", "not a GWS JSON object"),
    (502, b"Bad gateway", "HTTP 502"),
    (200, b'{"no": "statusCode"}', "no integer statusCode"),
    (200, b"[1,2]", "not a GWS JSON object"),
])
async def test_odd_replies_become_clear_errors(status: int, body: bytes, words: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    conn = Connection("http://gws.test", "u", Secret("p"))
    session = GwsSession(conn, transport=httpx.MockTransport(handler))
    with pytest.raises(GwsHttpError, match=words):
        await session.start()
    await session.close()


async def test_request_building_sends_auth_csrf_and_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"statusCode": 0, "user": {"userName": "u"}},
                                  headers={"X-CSRF-HEADER": "X-CSRF-TOKEN", "X-CSRF-TOKEN": "tok",
                                           "Set-Cookie": "JSESSIONID=abc; Path=/"})
        return httpx.Response(200, json={"statusCode": 0})

    conn = Connection("http://gws.test", "u", Secret("p"))
    async with GwsSession(conn, transport=httpx.MockTransport(handler)) as session:
        await session.add_record(AddRecord.parse(sample_request()))
    get, post = seen
    assert get.url.path == "/api/v2/me" and get.url.params["subresources"] == "*"
    assert post.url.path == "/api/v2/me/outbound-records"
    assert post.headers["X-CSRF-TOKEN"] == "tok"
    assert post.headers["Authorization"].startswith("Basic ")
    assert "JSESSIONID=abc" in post.headers["Cookie"]
    import json
    assert json.loads(post.content) == sample_request()


async def test_unreachable_says_what_to_check() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = Connection(f"http://127.0.0.1:{port}", "u", Secret("p"), timeout_s=2)
    with pytest.raises(GwsUnreachable, match="cannot connect.*check the profile's url"):
        async with GwsSession(conn):
            pass


async def test_missing_outbound_feature_warns() -> None:
    user = User("agent", "pw", (Device(SAMPLE_DEVICE_ID, "5001"),), features=("api-voice",))
    async with Simulator(users=[user]) as other:
        conn = Connection(other.url, "agent", Secret("pw"))
        async with GwsSession(conn) as session:
            assert session.me is not None
            assert any("api-voice-outbound" in w for w in session.me.warnings)


def test_every_status_code_has_words() -> None:
    assert set(STATUS_MEANINGS) == set(range(21))
    assert explain_status(6, "Campaign 'X' not found") == (
        "statusCode 6 (not found (campaign, calling list, application or device unknown to "
        "GWS/OCS)): Campaign 'X' not found")


def test_secret_never_prints() -> None:
    conn = Connection("http://x", "u", Secret("hunter2"))
    assert "hunter2" not in repr(conn) and "hunter2" not in str(conn.password)


@pytest.mark.parametrize("code", [4, 13])
async def test_server_side_status_codes_are_http_errors_with_the_code(sim: Simulator,
                                                                      code: int) -> None:
    sim.set_faults({"status_code": code, "status_rate": 1.0})
    async with GwsSession(connection(sim)) as session:
        with pytest.raises(GwsHttpError) as info:
            await session.add_record(AddRecord.parse(sample_request()))
    assert info.value.status == 500 and info.value.status_code == code
    assert STATUS_MEANINGS[code] in str(info.value)


async def test_300_concurrent_records_through_a_gws_restart_share_one_csrf_refresh(
        sim: Simulator) -> None:
    """The token pair and the cookie must come from the same refresh: concurrent refreshes
    interleave them and GWS refuses the token twice."""
    import asyncio

    async with GwsSession(connection(sim)) as session:
        await session.add_record(AddRecord.parse(sample_request(referenceId="warm")))

        async def post(n: int) -> object:
            try:
                return await session.add_record(AddRecord.parse(sample_request(
                    referenceId=f"r{n}")))
            except Exception as exc:  # noqa: BLE001 (collected and asserted on below)
                return exc

        posts = [asyncio.ensure_future(post(n)) for n in range(300)]
        while sum(p.done() for p in posts) < 30:
            await asyncio.sleep(0.001)
        await sim.restart()  # every HTTP session and its token gone, mid-flight
        outcomes = await asyncio.gather(*posts)
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert failures == []
    assert sim.store.counters["csrf_rejected"] > 1  # many were refused, all got through
    assert len(sim.gws.http_sessions) == 1  # by one refresh
