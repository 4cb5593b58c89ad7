"""Behaviour settings: CSRF protection switched off (GWS `enableCsrfProtection: false`), and the
settings endpoint itself."""

from __future__ import annotations

import httpx
import pytest

from console.sim import GwsSettings, SettingError, Simulator
from console.sim.settings import apply_gws_settings, parse_setting_assignments
from tests.helpers import Gws, sample_request


async def test_without_csrf_no_header_is_sent_or_checked() -> None:
    async with Simulator(password="pw", settings=GwsSettings(csrf=False)) as sim:
        async with httpx.AsyncClient(base_url=sim.url, auth=(sim.user, "pw")) as http:
            me = await http.get("/api/v2/me")
            assert me.status_code == 200 and "JSESSIONID" in me.cookies
            assert "X-CSRF-HEADER" not in me.headers and "X-CSRF-TOKEN" not in me.headers
            # No token needed, with the session cookie...
            posted = await http.post("/api/v2/me/outbound-records", json=sample_request())
            assert posted.json() == {"statusCode": 0}
        # ...or without any cookie: the POST opens a session of its own.
        async with httpx.AsyncClient(base_url=sim.url, auth=(sim.user, "pw")) as fresh:
            posted = await fresh.post("/api/v2/me/outbound-records", json=sample_request())
            assert posted.json() == {"statusCode": 0} and "JSESSIONID" in posted.cookies
            assert "X-CSRF-TOKEN" not in posted.headers
        assert len(sim.store.records) == 2
        assert sim.nodes[0].gws.counters["csrf_rejected"] == 0


async def test_csrf_switches_at_run_time(sim: Simulator, gws: Gws) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        assert (await admin.put("/sim/settings", json={"csrf": False})).json()["csrf"] is False
        without = await gws.http.post("/api/v2/me/outbound-records", json=sample_request())
        assert without.json() == {"statusCode": 0}
        assert (await admin.put("/sim/settings", json={"csrf": "on"})).json()["csrf"] is True
    refused = await gws.http.post("/api/v2/me/outbound-records", json=sample_request())
    assert refused.status_code == 403
    assert sim.gws.counters["csrf_rejected"] == 1


async def test_bad_settings_are_400_naming_the_key_and_change_nothing(sim: Simulator) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin:
        for body, word in [({"ocs_refusals": "later"}, "ocs_refusals"),
                           ({"nonsense": 1}, "unknown setting 'nonsense'"),
                           ({"csrf": "maybe"}, "true or false"),
                           ({"noise_per_s": -1}, "noise_per_s"),
                           ({"user_event_channel": "/x"}, "/v2/me/devices"),
                           ([1, 2], "mapping")]:
            reply = await admin.put("/sim/settings", json=body)
            assert reply.status_code == 400 and word in reply.json()["error"], body
        assert (await admin.get("/sim/settings")).json() == GwsSettings().as_dict()
    assert sim.settings == GwsSettings()


def test_setting_assignments_from_the_command_line() -> None:
    parsed = parse_setting_assignments(["csrf=false", "ocs_refusals = sync"])
    settings = apply_gws_settings(GwsSettings(), parsed)
    assert settings.csrf is False and settings.ocs_refusals == "sync"
    with pytest.raises(SettingError, match="--setting takes name=value"):
        parse_setting_assignments(["csrf"])
    with pytest.raises(SettingError, match="session_required"):
        apply_gws_settings(GwsSettings(), {"session_required": "yes"})
