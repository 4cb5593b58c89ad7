"""The simulated GWS REST API and its Bayeux endpoint, as an aiohttp application.

Choices where the GWS documentation is silent (also in the README):
- HTTP status per statusCode: 0/7/9 -> 200, 1/2/10/11 -> 400, 3/5/8 -> 403, 6 -> 404,
  18/19 -> 409, 20 -> 401, the "unable to ..." codes and 4 -> 500.
- Basic auth is checked on every REST call; the Bayeux endpoint accepts either the JSESSIONID
  cookie of a live HTTP session or Basic auth.
- Any authenticated GET creates (or keeps) the HTTP session and returns the CSRF pair; POST, PUT
  and DELETE need both the cookie and the `X-CSRF-TOKEN` header (Bayeux POSTs are exempt).
- `features` are listed as plain strings.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiohttp import web

from console.sim.bayeux import BayeuxServer
from console.sim.catalog import Catalog, User
from console.sim.faults import FaultInjector
from console.sim.notifications import (
    INTERNAL_CHANNEL, OUTBOUND_CHANNEL, acknowledgement, error_notification, user_event,
)
from console.sim.store import AcceptedRecord, RecordStore
from console.sim.validation import validate_add_record

log = logging.getLogger("console.sim")

CSRF_HEADER = "X-CSRF-TOKEN"
SESSION_COOKIE = "JSESSIONID"
MAX_BODY = 256 * 1024
OUTBOUND_FEATURE = "api-voice-outbound"

STATUS_MESSAGES: dict[int, str] = {
    0: "Success", 1: "Missing parameter", 2: "Invalid for the current state", 3: "Forbidden",
    4: "Internal error", 5: "No permission", 6: "Not found", 7: "Partial success",
    8: "Change password demanded", 9: "Processing incomplete", 10: "Input validation error",
    11: "Read-only property", 12: "Unable to retrieve", 13: "Unable to create",
    14: "Unable to delete", 15: "Unable to update", 16: "Unable to assign",
    17: "Unable to unassign", 18: "Already exists", 19: "In use", 20: "Not authenticated",
}


def http_status_for(code: int) -> int:
    """The HTTP status the simulator sends with a GWS statusCode."""
    if code in (0, 7, 9):
        return 200
    if code in (1, 2, 10, 11):
        return 400
    if code in (3, 5, 8):
        return 403
    if code == 6:
        return 404
    if code in (18, 19):
        return 409
    if code == 20:
        return 401
    return 500


def gws_reply(code: int, message: str | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"statusCode": code}
    if code != 0:
        body["statusMessage"] = message or STATUS_MESSAGES.get(code, "Error")
    body.update(extra)
    return web.json_response(body, status=http_status_for(code))


@dataclass
class HttpSession:
    """A GWS HTTP session: the JSESSIONID cookie and its CSRF token."""

    sid: str
    """The JSESSIONID value."""
    user: str
    """Who it belongs to."""
    csrf_token: str
    """Token the client must send in X-CSRF-TOKEN on POST/PUT/DELETE."""


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class GwsApp:
    """Routes, authentication, CSRF and the AddRecord operation."""

    def __init__(self, users: dict[str, User], catalog: Catalog, faults: FaultInjector,
                 bayeux: BayeuxServer, store: RecordStore) -> None:
        self.users = users
        self.catalog = catalog
        self.faults = faults
        self.bayeux = bayeux
        self.store = store
        self.http_sessions: dict[str, HttpSession] = {}
        self._auth_cache: dict[str, User] = {}
        self.in_flight = 0
        self._pending: dict[int, asyncio.Handle] = {}
        self.admin_routes: list[web.RouteDef] = []

    def build(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors])
        app.add_routes([
            web.get("/api/v2/me", self.get_me),
            web.post("/api/v2/me", self.post_me),
            web.get("/api/v2/me/devices", self.get_devices),
            web.get("/api/v2/features", self.get_features),
            web.post("/api/v2/me/outbound-records", self.post_outbound_record),
            # CometD clients append `/`, `/handshake`, `/connect`... to the URL by default.
            web.post(r"/api/v2/notifications{kind:(/[a-z]*)?}", self.post_notifications),
            web.get(r"/api/v2/notifications{kind:(/[a-z]*)?}", self.get_notifications),
            *self.admin_routes,
        ])
        return app

    # -- plumbing --------------------------------------------------------------------------
    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        slow = self.faults.faults.slow_ms
        if slow > 0 and request.path != "/api/v2/me/outbound-records":
            await asyncio.sleep(slow / 1000.0)
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"statusCode": 10, "statusMessage":
                                      f"Request body larger than {MAX_BODY} bytes"}, status=413)
        except web.HTTPNotFound:
            if request.path.startswith("/api/"):
                return web.json_response({"statusCode": 6, "statusMessage":
                                          f"No such resource: {request.path}"}, status=404)
            raise
        except web.HTTPMethodNotAllowed:
            return web.json_response({"statusCode": 10, "statusMessage":
                                      f"Method {request.method} not allowed on {request.path}"},
                                     status=405)

    def authenticate(self, request: web.Request) -> User | None:
        header = request.headers.get("Authorization")
        if not header:
            return None
        cached = self._auth_cache.get(header)
        if cached is not None:
            return cached
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, password = decoded.partition(":")
        user = self.users.get(name)
        if not sep or user is None or not secrets.compare_digest(user.password, password):
            return None
        self._auth_cache[header] = user
        return user

    @staticmethod
    def _unauthenticated() -> web.Response:
        response = gws_reply(20, "Not authenticated: send HTTP Basic credentials")
        response.headers["WWW-Authenticate"] = 'Basic realm="GWS simulator"'
        return response

    def _session(self, request: web.Request, user: User) -> HttpSession | None:
        sid = request.cookies.get(SESSION_COOKIE)
        session = self.http_sessions.get(sid) if sid else None
        if session is not None and session.user == user.user_name:
            return session
        return None

    def _get_reply(self, request: web.Request, user: User, body: dict[str, Any]) -> web.Response:
        """A GET answer: keeps or opens the HTTP session and returns the CSRF pair."""
        session = self._session(request, user)
        response = web.json_response(body)
        if session is None:
            session = HttpSession(secrets.token_hex(16).upper(), user.user_name,
                                  secrets.token_urlsafe(24))
            self.http_sessions[session.sid] = session
            response.set_cookie(SESSION_COOKIE, session.sid, path="/", httponly=True)
        response.headers["X-CSRF-HEADER"] = CSRF_HEADER
        response.headers["X-CSRF-TOKEN"] = session.csrf_token
        return response

    def _csrf_ok(self, request: web.Request, user: User) -> bool:
        session = self._session(request, user)
        token = request.headers.get(CSRF_HEADER)
        return session is not None and token is not None and secrets.compare_digest(
            session.csrf_token, token)

    @staticmethod
    def _csrf_rejected() -> web.Response:
        return web.json_response(
            {"statusCode": 3, "statusMessage": "Missing or invalid Csrf token"}, status=403)

    @staticmethod
    async def _json(request: web.Request) -> tuple[Any, web.Response | None]:
        raw = await request.read()
        try:
            return json.loads(raw), None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, gws_reply(10, f"Request body is not valid JSON: {exc}")

    # -- REST ------------------------------------------------------------------------------
    async def get_me(self, request: web.Request) -> web.Response:
        user = self.authenticate(request)
        if user is None:
            return self._unauthenticated()
        wanted = {s.strip() for s in request.query.get("subresources", "").split(",") if s.strip()}
        return self._get_reply(request, user, {"statusCode": 0, "user": user.as_json(wanted)})

    async def get_devices(self, request: web.Request) -> web.Response:
        user = self.authenticate(request)
        if user is None:
            return self._unauthenticated()
        full = request.query.get("fields", "") == "*"
        devices = [d.as_json(full=full) for d in user.devices]
        return self._get_reply(request, user, {"statusCode": 0, "devices": devices})

    async def get_features(self, request: web.Request) -> web.Response:
        user = self.authenticate(request)
        if user is None:
            return self._unauthenticated()
        return self._get_reply(request, user, {"statusCode": 0, "features": list(user.features)})

    async def post_me(self, request: web.Request) -> web.Response:
        user = self.authenticate(request)
        if user is None:
            return self._unauthenticated()
        if not self._csrf_ok(request, user):
            return self._csrf_rejected()
        body, error = await self._json(request)
        if error is not None:
            return error
        if not isinstance(body, dict) or body.get("operationName") != "EndContactCenterSession":
            return gws_reply(10, "Unsupported operationName on /api/v2/me (the simulator knows "
                             "EndContactCenterSession)")
        self.http_sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        return gws_reply(0)

    async def post_outbound_record(self, request: web.Request) -> web.Response:
        # In flight, counted from the moment the middleware let it in (after slow_ms).
        self.in_flight += 1
        self.store.counters["in_flight_max"] = max(self.store.counters["in_flight_max"],
                                                   self.in_flight)
        try:
            if self.faults.faults.slow_ms > 0:
                await asyncio.sleep(self.faults.faults.slow_ms / 1000.0)
            return await self._add_record(request)
        finally:
            self.in_flight -= 1

    async def _add_record(self, request: web.Request) -> web.Response:
        started = time.perf_counter_ns()
        store = self.store
        store.counters["posts"] += 1
        user = self.authenticate(request)
        if user is None:
            store.counters["unauthenticated"] += 1
            return self._unauthenticated()
        if not self._csrf_ok(request, user):
            store.counters["csrf_rejected"] += 1
            return self._csrf_rejected()
        if OUTBOUND_FEATURE not in user.features:
            store.counters["feature_missing"] += 1
            return web.json_response({"statusCode": 6, "statusMessage":
                                      f"Feature {OUTBOUND_FEATURE} is not enabled for "
                                      f"{user.user_name}"}, status=404)
        status = self.faults.http_error()
        if status is not None:
            store.counters["http_fault"] += 1
            return web.json_response({"statusCode": 4, "statusMessage":
                                      f"Simulated HTTP {status} (fault http_error)"},
                                     status=status)
        body, error = await self._json(request)
        if error is not None:
            store.status_codes[10] += 1
            return error
        rejection = validate_add_record(body, user, self.catalog)
        if rejection is not None:
            store.status_codes[rejection.status_code] += 1
            return gws_reply(rejection.status_code, rejection.message)
        forced = self.faults.status_code()
        if forced is not None:
            store.status_codes[forced] += 1
            store.counters["status_fault"] += 1
            return gws_reply(forced, f"{STATUS_MESSAGES.get(forced, 'Error')} "
                             "(simulated by fault status_code)")
        store.status_codes[0] += 1
        record = store.accept(user.user_name, body, self.faults.ack_fate())
        self._schedule_notifications(record, started)
        return gws_reply(0)

    def _schedule_notifications(self, record: AcceptedRecord, started_ns: int) -> None:
        if record.fate == "drop":
            self.store.counters["acks_dropped"] += 1
            return
        loop = asyncio.get_running_loop()
        delay = self.faults.ack_delay_s()
        handle: asyncio.TimerHandle | asyncio.Handle
        if delay > 0:
            handle = loop.call_later(delay, self._notify, record, started_ns)
        else:
            handle = loop.call_soon(self._notify, record, started_ns)
        self._pending[record.record_handle] = handle

    def _notify(self, record: AcceptedRecord, started_ns: int) -> None:
        self._pending.pop(record.record_handle, None)
        user = record.user
        if record.fate == "error":
            self.store.counters["errors_sent"] += 1
            message = "OCS refused the record (simulated fault ack_error)"
            self.bayeux.publish(OUTBOUND_CHANNEL, error_notification(record, 13, message), user)
            self.bayeux.publish(INTERNAL_CHANNEL, user_event(
                record, "Error", started_ns, {"GSW_ERROR": message, "GSW_ERROR_NUMBER": 13}),
                user)
        else:
            self.store.counters["acks_sent"] += 1
            self.bayeux.publish(OUTBOUND_CHANNEL, acknowledgement(record), user)
            self.bayeux.publish(INTERNAL_CHANNEL,
                                user_event(record, "AddRecordAcknowledge", started_ns), user)
        record.notified_at = time.time()

    def cancel_pending(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()

    # -- Bayeux ----------------------------------------------------------------------------
    async def get_notifications(self, request: web.Request) -> web.Response:
        return web.json_response(
            [{"successful": False, "error": "400::use POST (long-polling)"}], status=400)

    async def post_notifications(self, request: web.Request) -> web.StreamResponse:
        user = self._bayeux_user(request)
        if user is None:
            return self._unauthenticated()
        raw = await request.read()
        try:
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.bayeux.counters.protocol_errors += 1
            return web.json_response(
                [{"successful": False, "error": "400::malformed JSON"}], status=400)
        if isinstance(payload, dict):
            payload = [payload]
        if not isinstance(payload, list) or not payload:
            self.bayeux.counters.protocol_errors += 1
            return web.json_response(
                [{"successful": False, "error": "400::body must be a message or an array of "
                  "messages"}], status=400)
        reply = await self.bayeux.handle(payload, user.user_name)
        if reply.abort:
            # A simulated node crash: the connection drops with no answer.
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        return web.Response(text=reply.body(), content_type="application/json")

    def _bayeux_user(self, request: web.Request) -> User | None:
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            session = self.http_sessions.get(sid)
            if session is not None:
                return self.users.get(session.user)
        return self.authenticate(request)
