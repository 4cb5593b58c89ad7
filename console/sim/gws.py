"""The simulated GWS REST API and its Bayeux endpoint on one node, as an aiohttp application.

Choices where the GWS documentation is silent (also in the README):
- HTTP status per statusCode: 0/7/9 -> 200, 1/2/10/11 -> 400, 3/5/8 -> 403, 6 -> 404,
  18/19 -> 409, 20 -> 401, the "unable to ..." codes and 4 -> 500.
- Basic auth is checked on every REST call; the Bayeux endpoint accepts either the JSESSIONID
  cookie of a live HTTP session or Basic auth.
- Any authenticated GET creates (or keeps) the HTTP session and, with CSRF protection on
  (documented: "CSRF protection"), returns the CSRF pair; POST, PUT and DELETE need both the
  cookie and the `X-CSRF-TOKEN` header (Bayeux POSTs are exempt). With it off, no CSRF header
  is sent or checked and a POST without a session opens one.
- `features` are listed as plain strings.
- Bad input never reaches a traceback: a body nested too deep to parse is HTTP 400 (statusCode
  10), a declared Content-Length over the limit is HTTP 413 before the body is read.
- An AddRecord whose body arrived is processed to the end even if the client goes away
  meanwhile (as a servlet is): the record may be accepted although nobody saw the reply.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, NoReturn

from aiohttp import web

from console.sim.backend import Backend
from console.sim.bayeux import BROWSER_COOKIE, BayeuxServer
from console.sim.catalog import Device, User
from console.sim.validation import validate_add_record

log = logging.getLogger("console.sim")

CSRF_HEADER = "X-CSRF-TOKEN"
CSRF_MESSAGE = "Missing or invalid Csrf token"
SESSION_COOKIE = "JSESSIONID"
MAX_BODY = 256 * 1024
OUTBOUND_FEATURE = "api-voice-outbound"
VOICE_FEATURE = "api-voice"
#: Body of the `accept_then_garbage` reply: truncated JSON, then bytes that are not UTF-8.
GARBAGE = b'{"statusCode":0,"statusMe\xff\xfe\x00<!-- reply cut by a proxy -->'

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


def parse_json(raw: bytes) -> Any:
    """JSON from a request body; ValueError (with a short reason) when it is not usable JSON,
    including JSON nested too deep for the parser."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


@dataclass
class HttpSession:
    """A GWS HTTP session: the JSESSIONID cookie and its CSRF token."""

    sid: str
    """The JSESSIONID value."""
    user: str
    """Who it belongs to."""
    csrf_token: str
    """Token the client must send in X-CSRF-TOKEN on POST/PUT/DELETE."""


@dataclass
class _Outcome:
    """What the AddRecord handler does once the record is processed."""

    response: web.Response | None = None
    """The reply to send, or None for a reply fault."""
    fault: str | None = None
    """accept_then_reset / accept_then_hang / accept_then_garbage / reset_before_accept."""


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class GwsApp:
    """One node's routes: authentication, HTTP sessions, CSRF, the contact-centre session,
    AddRecord and the Bayeux endpoint."""

    def __init__(self, name: str, backend: Backend, bayeux: BayeuxServer) -> None:
        self.name = name
        self.backend = backend
        self.bayeux = bayeux
        self.http_sessions: dict[str, HttpSession] = {}
        self.counters: Counter[str] = Counter()
        """Node-level HTTP counters (requests, sessions created, unknown session cookies...)."""
        self._auth_cache: dict[str, User] = {}
        self.in_flight = 0
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

    @property
    def csrf(self) -> bool:
        return self.backend.settings.csrf

    # -- plumbing --------------------------------------------------------------------------
    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.counters["requests"] += 1
        declared = request.content_length
        if declared is not None and declared > MAX_BODY:
            # Answer before reading: a lying Content-Length must not hold the connection.
            self.counters["too_large"] += 1
            response = web.json_response({"statusCode": 10, "statusMessage":
                                          f"Request body larger than {MAX_BODY} bytes"},
                                         status=413)
            response.force_close()
            return response
        sid = request.cookies.get(SESSION_COOKIE)
        if sid and sid not in self.http_sessions and request.path.startswith("/api/"):
            self.counters["unknown_session_cookie"] += 1
        slow = self.backend.injector.faults.slow_ms
        if slow > 0 and request.path != "/api/v2/me/outbound-records":
            await asyncio.sleep(slow / 1000.0)
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            self.counters["too_large"] += 1
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

    def forget_logins(self) -> None:
        """Check every Authorization header again (a password was changed)."""
        self._auth_cache.clear()

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
        user = self.backend.users.get(name)
        # Bytes: compare_digest refuses str with non-ASCII characters (a 500, not a 401).
        if not sep or user is None or not secrets.compare_digest(
                user.password.encode("utf-8"), password.encode("utf-8")):
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

    def _open_session(self, user: User) -> HttpSession:
        session = HttpSession(secrets.token_hex(16).upper(), user.user_name,
                              secrets.token_urlsafe(24))
        self.http_sessions[session.sid] = session
        self.counters["sessions_created"] += 1
        return session

    def _with_session(self, request: web.Request, user: User,
                      response: web.Response) -> web.Response:
        """Keep or open the HTTP session on `response`; the CSRF pair when protection is on."""
        session = self._session(request, user)
        if session is None:
            session = self._open_session(user)
            response.set_cookie(SESSION_COOKIE, session.sid, path="/", httponly=True)
        if self.csrf:
            response.headers["X-CSRF-HEADER"] = CSRF_HEADER
            response.headers["X-CSRF-TOKEN"] = session.csrf_token
        return response

    def _csrf_ok(self, request: web.Request, user: User) -> bool:
        if not self.csrf:
            return True
        session = self._session(request, user)
        token = request.headers.get(CSRF_HEADER)
        return session is not None and token is not None and secrets.compare_digest(
            session.csrf_token, token)

    def _csrf_rejected(self) -> web.Response:
        self.counters["csrf_rejected"] += 1
        return web.json_response({"statusCode": 3, "statusMessage": CSRF_MESSAGE}, status=403)

    # -- REST ------------------------------------------------------------------------------
    async def get_me(self, request: web.Request) -> web.Response:
        user = self.authenticate(request)
        if user is None:
            return self._unauthenticated()
        wanted = {s.strip() for s in request.query.get("subresources", "").split(",") if s.strip()}
        body = {"statusCode": 0,
                "user": user.as_json(wanted, self.backend.logged_in_ids(user))}
        return self._with_session(request, user, web.json_response(body))

    async def get_devices(self, request: web.Request) -> web.Response:
        user = self.authenticate(request)
        if user is None:
            return self._unauthenticated()
        full = request.query.get("fields", "") == "*"
        logged_in = self.backend.logged_in_ids(user)
        devices = [d.as_json(full=full, logged_in=d.id in logged_in) for d in user.devices]
        return self._with_session(request, user,
                                  web.json_response({"statusCode": 0, "devices": devices}))

    async def get_features(self, request: web.Request) -> web.Response:
        user = self.authenticate(request)
        if user is None:
            return self._unauthenticated()
        return self._with_session(request, user, web.json_response(
            {"statusCode": 0, "features": list(user.features)}))

    async def post_me(self, request: web.Request) -> web.Response:
        raw = await request.read()
        user = self.authenticate(request)
        if user is None:
            return self._unauthenticated()
        if not self._csrf_ok(request, user):
            return self._csrf_rejected()
        try:
            body = parse_json(raw)
        except ValueError as exc:
            return self._with_session(request, user, gws_reply(10, f"Request body is {exc}"))
        operation = body.get("operationName") if isinstance(body, dict) else None
        if operation == "EndContactCenterSession":
            return self._end_session(request, user)
        if operation == "StartContactCenterSession":
            assert isinstance(body, dict)
            return self._with_session(request, user, self._start_session(user, body))
        return self._with_session(request, user, gws_reply(
            10, "Unsupported operationName on /api/v2/me (the simulator knows "
            "StartContactCenterSession and EndContactCenterSession)"))

    def _start_session(self, user: User, body: dict[str, Any]) -> web.Response:
        """StartContactCenterSession: documented parameters channels (required), place,
        devicePath, loginCode, queue ("StartContactCenterSession" page; loginCode and queue on
        the 8.5.0 "Presence" page). Voice logs the agent in on the place's (or the given)
        device; the simulator has no multimedia, so other channels fail (statusCode 2) and a
        mix gives partial success (7), as documented."""
        if VOICE_FEATURE not in user.features:
            return gws_reply(6, f"Feature {VOICE_FEATURE} is not enabled for {user.user_name}")
        known = {"operationName", "channels", "place", "devicePath", "loginCode", "queue"}
        unknown = sorted(set(body) - known)
        if unknown:
            return gws_reply(10, f"Unknown parameter '{unknown[0]}'")
        channels = body.get("channels")
        if channels is None:
            return gws_reply(1, "Missing required parameter 'channels'")
        if (not isinstance(channels, list) or not channels
                or not all(isinstance(c, str) and c.strip() for c in channels)):
            return gws_reply(10, "Parameter 'channels' must be a non-empty array of channel "
                             "names (e.g. [\"voice\"])")
        for name in ("place", "devicePath", "loginCode", "queue"):
            if name in body and (not isinstance(body[name], str) or not body[name].strip()):
                return gws_reply(10, f"Parameter '{name}' must be a non-empty string")
        device = self._session_device(user, body)
        if isinstance(device, web.Response):
            return device
        results: dict[str, dict[str, Any]] = {}
        for channel in dict.fromkeys(channels):
            if channel == "voice":
                self.backend.log_in(user, device)
                results[channel] = {"statusCode": 0}
            else:
                results[channel] = {"statusCode": 2, "statusMessage":
                                    f"Channel '{channel}' is not available (the simulator has "
                                    "no multimedia server)"}
        failed = [c for c, r in results.items() if r["statusCode"] != 0]
        if not failed:
            return gws_reply(0)
        if len(failed) < len(results):
            return gws_reply(7, "Partial success", channels=results)
        first = results[failed[0]]
        return gws_reply(first["statusCode"], first["statusMessage"])

    def _session_device(self, user: User, body: dict[str, Any]) -> Device | web.Response:
        path = body.get("devicePath")
        if isinstance(path, str):
            device = user.device_at(path)
            return device or gws_reply(6, f"Device '{path}' not found for user {user.user_name}")
        places = user.all_places()
        name = body.get("place")
        place = next((p for p in places if p.name == name), None) if name else (
            places[0] if places else None)
        if place is None:
            return gws_reply(6, f"Place '{name}' not found" if name else
                             f"User {user.user_name} has no place")
        device = user.device(place.device_ids[0]) if place.device_ids else None
        return device or gws_reply(6, f"Place '{place.name}' has no device")

    def _end_session(self, request: web.Request, user: User) -> web.Response:
        """EndContactCenterSession: logs the agent out and invalidates the HTTP session
        (documented)."""
        self.backend.log_out(user)
        self.http_sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        return gws_reply(0)

    # -- AddRecord -------------------------------------------------------------------------
    async def post_outbound_record(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        # Once the body is in, the request is processed to the end even if the client goes
        # away: what the client does not see may still have been accepted.
        outcome = await asyncio.shield(self._process_add_record(request, raw))
        if outcome.response is not None:
            return outcome.response
        if outcome.fault == "accept_then_garbage":
            return web.Response(status=200, body=GARBAGE, content_type="application/json")
        if outcome.fault == "accept_then_hang":
            await asyncio.Event().wait()  # until the client gives up (or the node stops)
        _reset(request)

    async def _process_add_record(self, request: web.Request, raw: bytes) -> _Outcome:
        backend = self.backend
        store = backend.store
        # In flight, counted from the moment the middleware let it in.
        self.in_flight += 1
        store.counters["in_flight_max"] = max(store.counters["in_flight_max"], self.in_flight)
        try:
            slow = backend.injector.faults.slow_ms
            if slow > 0:
                await asyncio.sleep(slow / 1000.0)
            return self._add_record(request, raw)
        finally:
            self.in_flight -= 1

    def _add_record(self, request: web.Request, raw: bytes) -> _Outcome:
        started = time.perf_counter_ns()
        backend = self.backend
        store = backend.store
        faults = backend.injector
        store.counters["posts"] += 1
        user = self.authenticate(request)
        if user is None:
            store.counters["unauthenticated"] += 1
            return _Outcome(self._unauthenticated())
        if not self._csrf_ok(request, user):
            store.counters["csrf_rejected"] += 1
            return _Outcome(self._csrf_rejected())

        def reply(response: web.Response) -> _Outcome:
            return _Outcome(self._with_session(request, user, response))

        if OUTBOUND_FEATURE not in user.features:
            store.counters["feature_missing"] += 1
            return reply(web.json_response({"statusCode": 6, "statusMessage":
                                            f"Feature {OUTBOUND_FEATURE} is not enabled for "
                                            f"{user.user_name}"}, status=404))
        if faults.reset_before_accept():
            store.counters["reset_before_accept"] += 1
            return _Outcome(fault="reset_before_accept")
        status = faults.http_error()
        if status is not None:
            store.counters["http_fault"] += 1
            return reply(web.json_response({"statusCode": 4, "statusMessage":
                                            f"Simulated HTTP {status} (fault http_error)"},
                                           status=status))
        try:
            body = parse_json(raw)
        except ValueError as exc:
            store.status_codes[10] += 1
            return reply(gws_reply(10, f"Request body is {exc}"))
        settings = backend.settings
        rejection = validate_add_record(body, user, backend.catalog,
                                        ocs_sync=settings.ocs_refusals == "sync")
        if rejection is not None:
            store.status_codes[rejection.status_code] += 1
            return reply(gws_reply(rejection.status_code, rejection.message))
        if settings.session_required == "sync":
            device = user.device_at(body["devicePath"])
            if device is not None and not backend.is_logged_in(user, device):
                store.status_codes[2] += 1
                store.counters["no_session"] += 1
                return reply(gws_reply(
                    2, f"Device '{device.path}' (DN {device.phone_number}) has no agent "
                    "logged in: start a contact-centre session first (POST /api/v2/me "
                    "StartContactCenterSession)"))
        forced = faults.status_code()
        if forced is not None:
            store.status_codes[forced] += 1
            store.counters["status_fault"] += 1
            return reply(gws_reply(forced, f"{STATUS_MESSAGES.get(forced, 'Error')} "
                                   "(simulated by fault status_code)"))
        store.status_codes[0] += 1
        record = backend.add_record(user, body, self.name, started)
        fault = faults.reply_fault()
        if fault is not None:
            record.reply_fault = fault
            store.counters[fault] += 1
            return _Outcome(fault=fault)
        return reply(gws_reply(0))

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
            payload = parse_json(raw)
        except ValueError as exc:
            self.bayeux.counters.protocol_errors += 1
            return web.json_response(
                [{"successful": False, "error": f"400::{exc}"}], status=400)
        if isinstance(payload, dict):
            payload = [payload]
        if not isinstance(payload, list) or not payload:
            self.bayeux.counters.protocol_errors += 1
            return web.json_response(
                [{"successful": False, "error": "400::body must be a message or an array of "
                  "messages"}], status=400)
        reply = await self.bayeux.handle(payload, user.user_name,
                                         request.cookies.get(BROWSER_COOKIE))
        if reply.abort:
            # A simulated node crash: the connection drops with no answer.
            _reset(request)
        body = reply.body().encode("utf-8")
        response = web.StreamResponse(status=200)
        response.content_type = "application/json"
        response.content_length = len(body)
        if reply.browser_cookie is not None:
            response.set_cookie(BROWSER_COOKIE, reply.browser_cookie, path="/", httponly=True)
        try:
            await response.prepare(request)
            await response.write(body)
            await response.write_eof()
        except (ConnectionError, OSError):
            self.bayeux.settle(reply, written=False)
            return response
        except BaseException:
            self.bayeux.settle(reply, written=False)
            raise
        self.bayeux.settle(reply, written=True)
        return response

    def _bayeux_user(self, request: web.Request) -> User | None:
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            session = self.http_sessions.get(sid)
            if session is not None:
                return self.backend.users.get(session.user)
        return self.authenticate(request)


def _reset(request: web.Request) -> NoReturn:
    """Drop the client's connection without a reply, with a TCP reset (SO_LINGER 0), ending
    the handler."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass  # the socket is already gone: the client sees the connection end anyway
        transport.abort()
    raise asyncio.CancelledError()
