"""A small HTTP load balancer in front of the simulator's GWS nodes.

GWS documents that a cluster needs a balancer with session affinity on JSESSIONID ("Load
Balancing" deployment page). This one is sticky the way a stick-table balancer is (our choice
of mechanism): it learns which node set each JSESSIONID and sends requests carrying it there;
requests without a known cookie go round-robin. With `sticky=False` every request goes
round-robin, the misconfiguration a client must survive: a REST call on the other node finds
no HTTP session (CSRF 403, or a new session and cookie on a GET), a long-poll finds no Bayeux
session (402::session_unknown).

Like nginx or HAProxy (our choice), a node that resets the connection or cannot be reached
gives the client HTTP 502, and a body larger than the balancer's limit an early 413. Behind the
balancer, an AddRecord the node accepted but whose reply was reset therefore reads as a 502:
the record may be in the calling list.
"""

from __future__ import annotations

import itertools
import socket
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from console.sim.node import Node, url_of

__all__ = ["Balancer"]

MAX_BODY = 1024 * 1024
SESSION_COOKIE = "JSESSIONID"
#: Headers that concern one connection, not the request (RFC 9110 section 7.6.1), and those
#: the proxy sets itself.
_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                  "transfer-encoding", "upgrade", "host", "content-length", "expect"})
_HOP_REPLY = _HOP | {"date", "server"}
BAD_GATEWAY = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
               "Gateway</h1></center></body></html>\n")


class Balancer:
    """Forwards every request to one node; sticky on JSESSIONID or round-robin."""

    def __init__(self, nodes: list[Node], sticky: bool, host: str, port: int,
                 admin_routes: list[web.RouteDef] | None = None) -> None:
        self.nodes = nodes
        self.sticky = sticky
        self.host = host
        self.port = port
        self.admin_routes = admin_routes or []
        self.counters: Counter[str] = Counter()
        """requests, sticky / round_robin picks, per-node forwards, bad_gateway, too_large."""
        self._stick: dict[str, Node] = {}
        self._turn = itertools.cycle(range(len(nodes)))
        self._client: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return url_of(self.host, self.port)

    async def start(self) -> None:
        self._client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._limit])
        app.add_routes([*self.admin_routes, web.route("*", "/{tail:.*}", self.forward)])
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            sockets: list[socket.socket] = list(getattr(server, "sockets", []) or [])
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._client is not None:
            await self._client.close()
            self._client = None

    @web.middleware
    async def _limit(self, request: web.Request, handler: Any) -> web.StreamResponse:
        declared = request.content_length
        if declared is not None and declared > MAX_BODY:
            self.counters["too_large"] += 1
            response = web.Response(status=413, text="413 Request Entity Too Large\n")
            response.force_close()
            return response
        try:
            result: web.StreamResponse = await handler(request)
            return result
        except web.HTTPRequestEntityTooLarge:
            self.counters["too_large"] += 1
            return web.Response(status=413, text="413 Request Entity Too Large\n")

    def pick(self, request: web.Request) -> Node:
        """The node for this request: the one that set its JSESSIONID (sticky), else the next
        in turn."""
        if self.sticky:
            sid = request.cookies.get(SESSION_COOKIE)
            node = self._stick.get(sid) if sid else None
            if node is not None:
                self.counters["sticky"] += 1
                return node
        self.counters["round_robin"] += 1
        return self.nodes[next(self._turn)]

    async def forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        self.counters["requests"] += 1
        node = self.pick(request)
        self.counters[f"to_{node.name}"] += 1
        body = await request.read()
        headers = CIMultiDict((k, v) for k, v in request.headers.items()
                              if k.lower() not in _HOP)
        headers["X-Forwarded-For"] = request.remote or ""
        try:
            async with self._client.request(request.method, node.url + request.path_qs,
                                            headers=headers, data=body,
                                            allow_redirects=False,
                                            skip_auto_headers=("Accept-Encoding",
                                                               "User-Agent")) as reply:
                payload = await reply.read()
                out = CIMultiDict((k, v) for k, v in reply.headers.items()
                                  if k.lower() not in _HOP_REPLY)
                status = reply.status
                sid = reply.cookies.get(SESSION_COOKIE)
        except (aiohttp.ClientError, OSError):
            self.counters["bad_gateway"] += 1
            return web.Response(status=502, text=BAD_GATEWAY, content_type="text/html")
        if self.sticky and sid is not None and sid.value:
            self._stick[sid.value] = node
        return web.Response(status=status, body=payload, headers=out)

    def state(self) -> dict[str, Any]:
        return {"url": self.url, "sticky": self.sticky, "counters": dict(self.counters),
                "stickySessions": len(self._stick)}
