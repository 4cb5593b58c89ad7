"""One GWS node of the simulator: its HTTP sessions, Bayeux sessions and listening socket.

Nodes share the `Backend` (OCS, T-Server, configuration); each has its own HTTP and Bayeux
sessions, so a request that lands on another node finds no session there.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp import web

from console.sim.backend import Backend
from console.sim.bayeux import BayeuxServer, BayeuxSettings
from console.sim.gws import GwsApp

__all__ = ["Node", "url_of"]

#: How long a restart with downtime waits before closing the port, so the admin reply that
#: asked for it goes out first.
REPLY_GRACE_S = 0.05


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Node:
    """A GWS node on loopback: REST + Bayeux (+ the simulator's admin routes when it is the
    only node)."""

    def __init__(self, name: str, backend: Backend, bayeux: BayeuxSettings, host: str,
                 port: int, admin_routes: list[web.RouteDef] | None = None) -> None:
        self.name = name
        self.backend = backend
        self.host = host
        self.port = port
        self.bayeux = BayeuxServer(bayeux)
        self.bayeux.tuning = backend.injector.faults.bayeux_tuning()
        self.gws = GwsApp(name, backend, self.bayeux)
        self.gws.admin_routes = admin_routes or []
        backend.servers[name] = self.bayeux
        self.restarts = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    @property
    def url(self) -> str:
        return url_of(self.host, self.port)

    async def start(self) -> None:
        # Handlers are cancelled when their client goes away: a held connect notices a client
        # that reset its connection (AddRecord shields its processing from that).
        self._runner = web.AppRunner(self.gws.build(), access_log=None, handle_signals=False,
                                     shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        await self._listen()
        self.bayeux.start()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        if self.port == 0 and server is not None:
            sockets: list[socket.socket] = list(getattr(server, "sockets", []) or [])
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.bayeux.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def go_down(self) -> int:
        """The node's process dies: its Bayeux and HTTP sessions are gone (held connects drop),
        and the notifications it was waiting for are lost. Returns how many were pending."""
        lost = self.backend.node_restarted(self.name)
        self.bayeux.drop_all("restart")
        self.gws.http_sessions.clear()
        return lost

    def crash(self) -> None:
        """A restart, counted: the state is lost at once (the port stays open)."""
        self.restarts += 1
        self.go_down()

    async def restart(self, downtime_s: float = 0.0) -> None:
        """A restart: state lost at once; with `downtime_s` the port refuses connections for
        that long."""
        self.crash()
        if downtime_s > 0:
            await self.outage(downtime_s)

    async def outage(self, downtime_s: float) -> None:
        """Close the port (and every open connection) for `downtime_s`, then listen again."""
        await asyncio.sleep(REPLY_GRACE_S)
        self.go_down()  # whatever opened during the grace period dies with the process too
        if self._runner is None or self._site is None:
            return
        await self._site.stop()
        server = self._runner.server
        for handler in list(server.connections if server else []):
            handler.force_close()
            if handler.transport is not None:
                handler.transport.abort()
        await asyncio.sleep(downtime_s)
        await self._listen()

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "restarts": self.restarts,
                "httpSessions": len(self.gws.http_sessions),
                "http": dict(self.gws.counters),
                "bayeux": self.bayeux.counters.as_json()}
