"""The simulator as one object: start it in-process (`async with Simulator() as sim`) or from
the command line (`outbound-console sim`)."""

from __future__ import annotations

import asyncio
import secrets
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from console.sim.bayeux import BayeuxServer, BayeuxSettings
from console.sim.catalog import Catalog, User, demo_user
from console.sim.faults import FaultError, FaultInjector, Faults, apply_settings
from console.sim.gws import GwsApp
from console.sim.store import RecordStore
from console.yamlfile import YamlError, parse_yaml, read_utf8

__all__ = ["Simulator", "load_fault_file"]


def load_fault_file(path: Path) -> dict[str, Any]:
    """Fault settings from a YAML file (`safe_load`); errors name the file and line."""
    try:
        data, _ = parse_yaml(read_utf8(path), path)
    except YamlError as exc:
        raise FaultError(str(exc)) from None
    if data is None:
        return {}
    if isinstance(data, dict) and set(data) == {"faults"}:
        data = data["faults"]
    if not isinstance(data, dict):
        raise FaultError(f"{path}: expected a mapping of fault: value (e.g. ack_drop: 0.1)")
    return data


class Simulator:
    """A GWS node with OCS behind it, on loopback: REST + Bayeux + simulator-only endpoints."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str = "demo",
        password: str | None = None,
        users: list[User] | None = None,
        catalog: Catalog | None = None,
        faults: Faults | None = None,
        bayeux: BayeuxSettings | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.users: dict[str, User] = {u.user_name: u for u in (users or [])}
        if not self.users:
            self.users[user] = demo_user(self.password, user)
        self.user = next(iter(self.users))
        self.catalog = catalog or Catalog()
        self.injector = FaultInjector(faults)
        self.bayeux = BayeuxServer(bayeux)
        self.store = RecordStore()
        self.gws = GwsApp(self.users, self.catalog, self.injector, self.bayeux, self.store)
        self.gws.admin_routes = [
            web.get("/sim/state", self._state),
            web.put("/sim/faults", self._put_faults),
            web.delete("/sim/faults", self._delete_faults),
            web.post("/sim/restart", self._post_restart),
            web.post("/sim/reset", self._post_reset),
            web.post("/sim/flood", self._post_flood),
        ]
        self.restarts = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    async def start(self) -> Simulator:
        self.bayeux.hold_forever = self.faults.hold_forever
        self._runner = web.AppRunner(self.gws.build(), access_log=None, handle_signals=False,
                                     shutdown_timeout=0.5)
        await self._runner.setup()
        await self._listen()
        self.bayeux.start()
        return self

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        if self.port == 0 and server is not None:
            sockets: list[socket.socket] = list(getattr(server, "sockets", []) or [])
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        self.gws.cancel_pending()
        await self.bayeux.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Simulator:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    # -- run-time control ------------------------------------------------------------------
    def set_faults(self, settings: dict[str, Any]) -> Faults:
        """Apply fault settings on top of the current ones (FaultError when invalid)."""
        faults = apply_settings(self.faults, settings)
        self.injector.update(faults)
        self.bayeux.hold_forever = faults.hold_forever
        return faults

    def clear_faults(self) -> Faults:
        self.injector.update(Faults(seed=self.faults.seed))
        self.bayeux.hold_forever = False
        return self.faults

    async def restart(self, downtime_s: float = 0.0) -> None:
        """A GWS node restart: every Bayeux and HTTP session is lost, held connects drop, acks
        not yet sent are lost; with `downtime_s` the port refuses connections meanwhile."""
        if downtime_s > 0:
            await asyncio.sleep(0.05)  # let the admin reply that asked for it go out first
        self.restarts += 1
        lost = 0
        for record in self.store.records:
            if record.notified_at is None and record.fate in ("ack", "error"):
                record.fate = "lost"
                lost += 1
        self.store.counters["acks_lost_in_restart"] += lost
        self.gws.cancel_pending()
        self.bayeux.drop_all("restart")
        self.gws.http_sessions.clear()
        if downtime_s > 0 and self._runner is not None and self._site is not None:
            await self._site.stop()
            server = self._runner.server
            for handler in list(server.connections if server else []):
                handler.force_close()
                if handler.transport is not None:
                    handler.transport.abort()
            await asyncio.sleep(downtime_s)
            await self._listen()

    def state(self, records: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "url": self.url,
            "restarts": self.restarts,
            "faults": self.faults.as_dict(),
            "store": self.store.summary(),
            "bayeux": {"counters": vars(self.bayeux.counters).copy(),
                       "sessions": self.bayeux.describe()},
            "httpSessions": len(self.gws.http_sessions),
        }
        if records:
            body["records"] = [r.as_json() for r in self.store.records]
        return body

    # -- simulator-only endpoints ----------------------------------------------------------
    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state(records=request.query.get("records", "1") != "0"))

    async def _put_faults(self, request: web.Request) -> web.Response:
        try:
            settings = await request.json()
            faults = self.set_faults(settings)
        except ValueError as exc:  # FaultError and JSON errors alike
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(faults.as_dict())

    async def _delete_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.clear_faults().as_dict())

    async def _post_restart(self, request: web.Request) -> web.Response:
        downtime = 0.0
        if request.can_read_body:
            try:
                downtime = float((await request.json()).get("downtime", 0.0))
            except (ValueError, AttributeError, TypeError):
                return web.json_response({"error": "body must be {\"downtime\": seconds}"},
                                         status=400)
        if downtime <= 0:
            await self.restart()
            return web.json_response({"restarted": True, "downtime": 0.0})
        # Answer first, then restart: going down closes this very connection.
        task = asyncio.get_running_loop().create_task(self.restart(downtime))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return web.json_response({"restarting": True, "downtime": downtime})

    async def flood(self, count: int, channel: str = "/v2/me/outbound",
                    user: str | None = None, batch: int = 500, high_water: int = 5000) -> None:
        """Publish `count` acknowledgement-shaped events as fast as the subscribers take them
        (for benchmarks): a batch at a time, waiting while any queue is above `high_water`, so
        a slow subscriber measures its own speed instead of losing events."""
        target = user or self.user
        for start in range(0, count, batch):
            while any(len(s.queue) > high_water for s in self.bayeux.sessions.values()):
                await asyncio.sleep(0.002)
            for n in range(start, min(count, start + batch)):
                self.bayeux.publish(channel, {
                    "record": {"devicePath": "/devices/flood", "callingList": "CallingList1",
                               "applicationId": 134, "campaignName": "Campaign1"},
                    "notificationType": "AddRecordAcknowledge",
                    "messageType": "OutboundRecordMessage", "referenceId": f"flood-{n}"},
                    target)
            await asyncio.sleep(0)

    async def _post_flood(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            count = int(body["count"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "body must be {\"count\": N}"}, status=400)
        task = asyncio.get_running_loop().create_task(self.flood(count))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return web.json_response({"flooding": count})

    async def _post_reset(self, request: web.Request) -> web.Response:
        self.store.reset()
        return web.json_response({"reset": True})
