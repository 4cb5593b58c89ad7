"""A hostile GWS on a real loopback socket: it passes everything through to a simulator, except
AddRecord POSTs, which it forwards (so the simulator really accepts the record) and then
answers badly — the cases in which a client cannot know what GWS did:

- `reset`: the connection is reset instead of the reply;
- `silent`: no reply ever (the client times out);
- `garbage`: HTTP 200 with a body that is not a GWS answer.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Literal

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

Mode = Literal["reset", "silent", "garbage"]
_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive",
        "content-encoding"}


class HostileGws:
    """`async with HostileGws(sim.url, "reset") as hostile:` then talk to `hostile.url`."""

    def __init__(self, upstream: str, mode: Mode) -> None:
        self.upstream = upstream
        self.mode = mode
        self.posts_forwarded = 0
        self._client: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> HostileGws:
        self._client = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                             auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = list(getattr(server, "sockets", []))[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with self._client.request(request.method, self.upstream + request.path_qs,
                                        headers=headers, data=await request.read(),
                                        timeout=aiohttp.ClientTimeout(total=60)) as reply:
            body = await reply.read()
            out: CIMultiDict[str] = CIMultiDict()
            for key, value in reply.headers.items():
                if key.lower() not in _HOP:
                    out.add(key, value)
            return web.Response(status=reply.status, body=body, headers=out)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        reply = await self._forward(request)
        if request.method != "POST" or request.path != "/api/v2/me/outbound-records":
            return reply
        self.posts_forwarded += 1
        if self.mode == "garbage":
            return web.Response(status=200, body=b"<html><body>\x00\x01 gateway says hi",
                                content_type="text/html")
        if self.mode == "silent":
            await asyncio.Event().wait()  # until the server stops
        transport = request.transport
        assert transport is not None
        sock = transport.get_extra_info("socket")
        if sock is not None:  # close with RST, not FIN: a reset after the request was sent
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return reply
