"""The simulator's login check with passwords outside ASCII (compared as UTF-8 bytes)."""

from __future__ import annotations

import httpx

from console.sim import Simulator

PASSWORD = 'pa"ss\\wörd$x'


async def test_a_non_ascii_password_logs_in_and_a_wrong_one_is_refused() -> None:
    async with Simulator(password=PASSWORD) as sim:
        right = httpx.BasicAuth(sim.user.encode(), PASSWORD.encode("utf-8"))
        async with httpx.AsyncClient(base_url=sim.url, auth=right) as http:
            assert (await http.get("/api/v2/me")).status_code == 200
        for wrong in ('pa"ss\\wórd$x', "password", "wörd"):
            auth = httpx.BasicAuth(sim.user.encode(), wrong.encode("utf-8"))
            async with httpx.AsyncClient(base_url=sim.url, auth=auth) as http:
                reply = await http.get("/api/v2/me")
            # A login failure (401, statusCode 20), not "GWS failed internally" (500).
            assert reply.status_code == 401, (wrong, reply.status_code, reply.text)
            assert reply.json()["statusCode"] == 20
