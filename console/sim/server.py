"""The simulator as one object: start it in-process (`async with Simulator() as sim`) or from
the command line (`outbound-console sim`). One GWS node by default; `nodes=2` runs a cluster
behind a small load balancer (sticky on JSESSIONID, or `sticky=False`)."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from console.domain.yamlfile import YamlError, parse_yaml, read_utf8
from console.sim.backend import Backend
from console.sim.balancer import Balancer
from console.sim.bayeux import BayeuxServer, BayeuxSettings
from console.sim.catalog import Catalog, User, demo_user
from console.sim.faults import FaultError, FaultInjector, Faults, apply_settings
from console.sim.gws import GwsApp, parse_json
from console.sim.node import Node
from console.sim.noise import Noise
from console.sim.settings import GwsSettings, apply_gws_settings
from console.sim.store import RecordStore

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
    """GWS node(s) with OCS behind, on loopback: REST + Bayeux + simulator-only endpoints."""

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
        settings: GwsSettings | None = None,
        nodes: int = 1,
        sticky: bool = True,
    ) -> None:
        if nodes < 1:
            raise ValueError("a simulator has at least one node")
        self.host = host
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.users: dict[str, User] = {u.user_name: u for u in (users or [])}
        if not self.users:
            self.users[user] = demo_user(self.password, user)
        self.user = next(iter(self.users))
        self.catalog = catalog or Catalog()
        self.injector = FaultInjector(faults)
        self.backend = Backend(self.users, self.catalog, self.injector,
                               settings or GwsSettings())
        admin = self._admin_routes()
        shared = bayeux or BayeuxSettings()
        self.nodes = [Node(f"node{n + 1}", self.backend, shared, host,
                           port if nodes == 1 else 0, admin if nodes == 1 else None)
                      for n in range(nodes)]
        self.balancer = Balancer(self.nodes, sticky, host, port, admin) if nodes > 1 else None
        self.noise = Noise(self.backend, self.faults.seed)
        self._background: set[asyncio.Task[Any]] = set()

    # -- what tests reach for --------------------------------------------------------------
    @property
    def url(self) -> str:
        """Where clients connect: the balancer of a cluster, else the node."""
        return self.balancer.url if self.balancer is not None else self.nodes[0].url

    @property
    def port(self) -> int:
        return self.balancer.port if self.balancer is not None else self.nodes[0].port

    @property
    def store(self) -> RecordStore:
        return self.backend.store

    @property
    def bayeux(self) -> BayeuxServer:
        """The first node's Bayeux server (the only one unless `nodes` > 1)."""
        return self.nodes[0].bayeux

    @property
    def gws(self) -> GwsApp:
        """The first node's REST application."""
        return self.nodes[0].gws

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    @property
    def settings(self) -> GwsSettings:
        return self.backend.settings

    @property
    def restarts(self) -> int:
        return sum(node.restarts for node in self.nodes)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> Simulator:
        for node in self.nodes:
            await node.start()
        if self.balancer is not None:
            await self.balancer.start()
        self.noise.start()
        return self

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.noise.stop()
        self.backend.cancel_pending()
        if self.balancer is not None:
            await self.balancer.stop()
        for node in self.nodes:
            await node.stop()

    async def __aenter__(self) -> Simulator:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    # -- run-time control ------------------------------------------------------------------
    def change_password(self, password: str, user: str | None = None) -> None:
        """An administrator changed `user`'s password (default: the first user): from now on
        every REST request with the old one is refused (HTTP 401), on every node. A CometD
        request that brings its HTTP session's cookie is still served by that session."""
        name = user or self.user
        changed = dataclasses.replace(self.users[name], password=password)
        self.users[name] = changed  # the backend reads the same dict
        if name == self.user:
            self.password = password
        for node in self.nodes:
            node.gws.forget_logins()

    def set_faults(self, settings: Any) -> Faults:
        """Apply fault settings on top of the current ones (FaultError when invalid)."""
        return self._use_faults(apply_settings(self.faults, settings))

    def clear_faults(self) -> Faults:
        return self._use_faults(Faults(seed=self.faults.seed))

    def _use_faults(self, faults: Faults) -> Faults:
        self.injector.update(faults)
        tuning = faults.bayeux_tuning()
        for node in self.nodes:
            node.bayeux.tuning = tuning
        return faults

    def set_settings(self, changes: Any) -> GwsSettings:
        """Apply behaviour settings on top of the current ones (SettingError when invalid)."""
        self.backend.settings = apply_gws_settings(self.settings, changes)
        return self.settings

    def reset_settings(self) -> GwsSettings:
        self.backend.settings = GwsSettings()
        return self.settings

    async def restart(self, downtime_s: float = 0.0, node: int | None = None) -> None:
        """A GWS node restart (`node` = index; None: every node): its Bayeux and HTTP sessions
        are lost, held connects drop, notifications it had not sent are lost; with
        `downtime_s` its port refuses connections meanwhile."""
        targets = self.nodes if node is None else [self.nodes[node]]
        await asyncio.gather(*(target.restart(downtime_s) for target in targets))

    def state(self, records: bool = True) -> dict[str, Any]:
        totals: Counter[str] = Counter()
        lost: Counter[str] = Counter()
        sessions: list[dict[str, Any]] = []
        for node in self.nodes:
            counters = node.bayeux.counters.as_json()
            lost.update(counters.pop("lost_by_reason"))
            totals.update(counters)
            sessions.extend({**s, "node": node.name} for s in node.bayeux.describe())
        body: dict[str, Any] = {
            "url": self.url,
            "restarts": self.restarts,
            "faults": self.faults.as_dict(),
            "settings": self.settings.as_dict(),
            "store": self.store.summary(),
            "bayeux": {"counters": {**totals, "lost_by_reason": dict(lost)},
                       "sessions": sessions},
            "httpSessions": sum(len(node.gws.http_sessions) for node in self.nodes),
            "contactCentreSessions": {
                name: sorted(d.phone_number for d in self.users[name].devices if d.id in ids)
                for name, ids in self.backend.logged_in.items() if ids},
            "noise": {"published": self.noise.published},
            "nodes": [node.state() for node in self.nodes],
            "balancer": self.balancer.state() if self.balancer is not None else None,
        }
        if records:
            body["records"] = [r.as_json() for r in self.store.records]
        return body

    # -- simulator-only endpoints ----------------------------------------------------------
    def _admin_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/sim/state", self._state),
            web.put("/sim/faults", self._put_faults),
            web.delete("/sim/faults", self._delete_faults),
            web.get("/sim/settings", self._get_settings),
            web.put("/sim/settings", self._put_settings),
            web.delete("/sim/settings", self._delete_settings),
            web.post("/sim/restart", self._post_restart),
            web.post("/sim/reset", self._post_reset),
            web.post("/sim/flood", self._post_flood),
        ]

    @staticmethod
    async def _body(request: web.Request) -> Any:
        """The admin request's JSON body (ValueError with the reason when it is not JSON)."""
        return parse_json(await request.read())

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state(records=request.query.get("records", "1") != "0"))

    async def _put_faults(self, request: web.Request) -> web.Response:
        try:
            faults = self.set_faults(await self._body(request))
        except ValueError as exc:  # FaultError and JSON errors alike; nothing changed
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(faults.as_dict())

    async def _delete_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.clear_faults().as_dict())

    async def _get_settings(self, request: web.Request) -> web.Response:
        return web.json_response(self.settings.as_dict())

    async def _put_settings(self, request: web.Request) -> web.Response:
        try:
            settings = self.set_settings(await self._body(request))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(settings.as_dict())

    async def _delete_settings(self, request: web.Request) -> web.Response:
        return web.json_response(self.reset_settings().as_dict())

    async def _post_restart(self, request: web.Request) -> web.Response:
        usage = {"error": "body must be {\"downtime\": seconds, \"node\": index} (both "
                 f"optional; nodes 0..{len(self.nodes) - 1})"}
        downtime, index = 0.0, None
        if request.can_read_body:
            try:
                body = await self._body(request)
                downtime = float(body.get("downtime", 0.0))
                index = body.get("node")
                if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                          or not 0 <= index < len(self.nodes)):
                    raise ValueError("node")
                if not 0 <= downtime <= 3600:
                    raise ValueError("downtime")
            except (ValueError, AttributeError, TypeError):
                return web.json_response(usage, status=400)
        targets = self.nodes if index is None else [self.nodes[index]]
        for node in targets:
            # The restart happens now: nothing published from here on reaches the old
            # sessions. Going down with downtime closes this very connection, so it is last.
            node.crash()
            if downtime > 0:
                self._spawn(node.outage(downtime))
        if downtime <= 0:
            return web.json_response({"restarted": True, "downtime": 0.0})
        return web.json_response({"restarting": True, "downtime": downtime})

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def flood(self, count: int, channel: str = "/v2/me/outbound",
                    user: str | None = None, batch: int = 500, high_water: int = 5000) -> None:
        """Publish `count` acknowledgement-shaped events as fast as the subscribers take them
        (for benchmarks): a batch at a time, waiting while any queue is above `high_water`, so
        a slow subscriber measures its own speed instead of losing events."""
        target = user or self.user
        servers = [node.bayeux for node in self.nodes]
        for start in range(0, count, batch):
            while any(len(s.queue) > high_water
                      for server in servers for s in server.sessions.values()):
                await asyncio.sleep(0.002)
            for n in range(start, min(count, start + batch)):
                self.backend.publish(channel, {
                    "record": {"devicePath": "/devices/flood", "callingList": "CallingList1",
                               "applicationId": 134, "campaignName": "Campaign1"},
                    "notificationType": "AddRecordAcknowledge",
                    "messageType": "OutboundRecordMessage", "referenceId": f"flood-{n}"},
                    target)
            await asyncio.sleep(0)

    async def _post_flood(self, request: web.Request) -> web.Response:
        try:
            count = int((await self._body(request))["count"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "body must be {\"count\": N}"}, status=400)
        self._spawn(self.flood(count))
        return web.json_response({"flooding": count})

    async def _post_reset(self, request: web.Request) -> web.Response:
        self.store.reset()
        return web.json_response({"reset": True})
