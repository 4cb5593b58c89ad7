"""The GWS REST session: start-up (`GET /api/v2/me?subresources=*`), CSRF, AddRecord POSTs,
and the contact-centre session a profile may ask for (`POST /api/v2/me`
StartContactCenterSession / EndContactCenterSession, voice).

Every statusCode and HTTP failure becomes a message in plain words that says what failed and
what to check. On a CSRF 403 the session fetches a new token pair (one refresh at a time,
shared by every request that needs it) and retries once. Replies are read up to 1 MiB.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from console.domain.model import AddRecord
from console.errors import (
    CsrfError,
    GwsError,
    GwsHttpError,
    GwsOutcomeUnknown,
    GwsStatusError,
)
from console.gws.connection import Connection
from console.gws.transport import (
    FAILURES,
    GwsHttp,
    Posted,
    ReplyTooLarge,
    transport_failure,
)

__all__ = ["GwsSession", "Me", "PostResult", "STATUS_MEANINGS", "explain_status"]

OUTBOUND_FEATURE = "api-voice-outbound"
CSRF_MESSAGE = "Missing or invalid Csrf token"
#: The longest REST reply read (GWS answers in a few KiB; a runaway body is cut here).
MAX_REPLY_BYTES = 1024 * 1024

#: GWS statusCode values in plain words (shared/reference/gws.md).
STATUS_MEANINGS: dict[int, str] = {
    0: "success",
    1: "a required parameter is missing",
    2: "the operation is not valid in the current state",
    3: "forbidden",
    4: "internal GWS error",
    5: "the user has no permission for this",
    6: "not found (campaign, calling list, application or device unknown to GWS/OCS)",
    7: "partial success",
    8: "the user must change the password",
    9: "processing incomplete",
    10: "input validation failed",
    11: "read-only property",
    12: "GWS could not retrieve the object",
    13: "GWS could not create the object",
    14: "GWS could not delete the object",
    15: "GWS could not update the object",
    16: "GWS could not assign",
    17: "GWS could not unassign",
    18: "already exists",
    19: "in use",
    20: "not authenticated (check user and password)",
}


def explain_status(code: int, message: str | None = None) -> str:
    meaning = STATUS_MEANINGS.get(code, "unknown statusCode")
    return f"statusCode {code} ({meaning})" + (f": {message}" if message else "")


@dataclass(frozen=True)
class Me:
    """What GWS said about the user at start-up."""

    user_name: str
    """The user's name as GWS knows it."""
    devices: tuple[str, ...]
    """Device paths (`/devices/<id>`) of the user."""
    features: tuple[str, ...]
    """Features enabled for the user."""
    warnings: tuple[str, ...] = ()
    """Things worth telling the user (e.g. a missing `api-voice-outbound`)."""


class PostResult:
    """The HTTP outcome of one AddRecord POST (statusCode 0). A plain class, read-only by
    convention: a dataclass costs ~1 ms of every start, and nothing compares or prints it."""

    __slots__ = ("http_status", "status_code", "elapsed_ms", "body")

    def __init__(self, http_status: int, status_code: int, elapsed_ms: float,
                 body: dict[str, Any]) -> None:
        self.http_status = http_status
        """HTTP status of the reply."""
        self.status_code = status_code
        """GWS statusCode (0 here: failures raise)."""
        self.elapsed_ms = elapsed_ms
        """Time from sending the request to reading the reply."""
        self.body = body
        """The reply body."""


class GwsSession:
    """One authenticated GWS HTTP session (cookie + CSRF pair) on the connection's one client."""

    def __init__(self, connection: Connection,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.connection = connection
        self.http = GwsHttp(connection, transport)
        """The HTTP client (cookies, auth, transport), shared with the CometD stream."""
        self._post_url = httpx.URL(connection.api + "/me/outbound-records")
        self._timeout = httpx.Timeout(connection.timeout_s).as_dict()
        self._csrf: dict[str, str] = {}
        self._post_headers: tuple[dict[str, str] | None, list[tuple[bytes, bytes]]] = (None, [])
        self._refreshing: asyncio.Future[Me] | None = None
        self.me: Me | None = None
        self.contact_center: str | None = None
        """The contact-centre session the console started (e.g. `voice on place Place_5001`),
        None when it started none (or ended it)."""

    async def __aenter__(self) -> GwsSession:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    # -- start-up --------------------------------------------------------------------------
    async def start(self) -> Me:
        """GET /api/v2/me?subresources=*: cookie, CSRF pair, devices, features."""
        reply = await self._request("GET", "/me", params={"subresources": "*"})
        body = self._check(reply, "GET /api/v2/me")
        self._take_csrf(reply)
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        assert isinstance(user, dict)
        devices = tuple(str(d.get("path") or f"/devices/{d.get('id')}")
                        for d in user.get("devices", []) if isinstance(d, dict))
        features = tuple(_feature_names(user.get("features", [])))
        warnings: list[str] = []
        if OUTBOUND_FEATURE not in features:
            warnings.append(f"GWS does not list the feature {OUTBOUND_FEATURE} for "
                            f"{self.connection.username}: AddRecord will likely be refused "
                            "(ask for the feature to be enabled on the user or tenant)")
        if not devices:
            warnings.append("GWS lists no device for this user: set devicePath in the profile")
        self.me = Me(str(user.get("userName", self.connection.username)), devices, features,
                     tuple(warnings))
        return self.me

    def _take_csrf(self, reply: _Reply) -> None:
        name = reply.headers.get("X-CSRF-HEADER")
        token = reply.headers.get("X-CSRF-TOKEN")
        if name and token:
            self._csrf = {name: token}  # a new object: requests compare it by identity

    async def _refresh_csrf(self, used: dict[str, str]) -> None:
        """A new cookie + token pair after a CSRF 403 on a request sent with `used`. One
        refresh at a time, shared by every request waiting for it: two refreshes in parallel
        would each open an HTTP session and leave the cookie of one with the token of the
        other. A request sent with an older pair than the current one just retries."""
        if used is not self._csrf:
            return
        if self._refreshing is None:
            refresh = asyncio.ensure_future(self.start())
            self._refreshing = refresh

            def forget(_: asyncio.Future[Me]) -> None:
                self._refreshing = None
            refresh.add_done_callback(forget)
        await asyncio.shield(self._refreshing)

    @property
    def device_path(self) -> str | None:
        """The profile's device, or the first GWS listed."""
        if self.connection.device_path:
            return self.connection.device_path
        return self.me.devices[0] if self.me and self.me.devices else None

    def cookie_header(self) -> str:
        """The session cookies as one `Cookie` header (e.g. for a curl line)."""
        return "; ".join(f"{c.name}={c.value}" for c in self.http.client.cookies.jar)

    # -- contact-centre session ------------------------------------------------------------
    async def start_contact_center(self) -> str | None:
        """StartContactCenterSession (voice) when the profile asks for it: logs the agent in on
        the profile's place or device (default [ours]: the device AddRecord uses, so both
        agree).
        What was started, in words; None when the profile asks for none. A refusal raises
        GwsStatusError / GwsHttpError naming the profile key to check."""
        wanted = self.connection.contact_center
        if wanted is None or not wanted.start:
            return None
        body: dict[str, Any] = {"operationName": "StartContactCenterSession",
                                "channels": ["voice"]}
        device = wanted.device_path or (None if wanted.place else self.device_path)
        if wanted.place:
            body["place"] = wanted.place
        if device:
            body["devicePath"] = device
        where = (f"device {device}" if device else f"place {wanted.place}" if wanted.place
                 else "the user's default place")
        try:
            reply = await self._post_csrf("/me", json.dumps(body).encode())
            self._check(reply, "StartContactCenterSession")
        except (GwsStatusError, GwsHttpError) as exc:
            exc.args = (f"{exc.args[0]} — the profile's contact_center_session asked for a "
                        f"voice session on {where}: check contact_center_session.place / "
                        "device_path (or remove start: true)", *exc.args[1:])
            raise
        self.contact_center = f"voice on {where}"
        return self.contact_center

    async def end_contact_center(self) -> str | None:
        """EndContactCenterSession when the console started a session and the profile does not
        say end_on_exit: false; what happened, in words (None: nothing to end). Never raises:
        the exit goes on, and the words say what to check."""
        wanted = self.connection.contact_center
        started = self.contact_center
        if started is None or (wanted is not None and not wanted.end_on_exit):
            return None
        self.contact_center = None
        body = json.dumps({"operationName": "EndContactCenterSession"}).encode()
        try:
            reply = await self._post_csrf("/me", body)  # a node restart may have ended it
            self._check(reply, "EndContactCenterSession")
        except GwsError as exc:
            return (f"the contact-centre session ({started}) could not be ended: {exc}; the "
                    "agent may still be logged in on that DN")
        return f"contact-centre session ended ({started}): the agent is logged out"

    # -- AddRecord -------------------------------------------------------------------------
    async def add_record(self, record: AddRecord) -> PostResult:
        """POST the record; raises GwsStatusError / GwsHttpError when GWS answered no,
        GwsUnreachable when nothing was delivered, GwsOutcomeUnknown when it may have been."""
        body = record.body_json().encode("utf-8")  # strict JSON: allow_nan=False
        started = time.perf_counter()
        reply = await self._post_csrf("/me/outbound-records", body)
        elapsed = (time.perf_counter() - started) * 1000.0
        answer = self._check(reply, "AddRecord", posted=True)
        return PostResult(reply.status, int(answer.get("statusCode", 0)), elapsed, answer)

    async def _post_csrf(self, path: str, body: bytes) -> _Reply:
        """POST with the CSRF pair; on a CSRF 403 one shared refresh and one retry. CsrfError
        when the new pair is refused too."""
        used = self._csrf
        reply = await self._post(path, body, used)
        if reply.status == 403 and _is_csrf(reply.text):
            # The token lives as long as the HTTP session; a GWS restart ends both.
            await self._refresh_csrf(used)
            reply = await self._post(path, body, self._csrf)
            if reply.status == 403 and _is_csrf(reply.text):
                raise CsrfError("GWS refused the CSRF token twice (HTTP 403 "
                                f"'{CSRF_MESSAGE}'): check that a proxy keeps the JSESSIONID "
                                "cookie and the X-CSRF-TOKEN header, and that a load balancer "
                                "keeps this client on one GWS node (sticky sessions on "
                                "JSESSIONID)", 403)
        return reply

    async def _post(self, path: str, body: bytes, csrf: dict[str, str]) -> _Reply:
        if self._post_headers[0] is not csrf:  # a new pair: encoded once, not per POST
            self._post_headers = (csrf, [(b"Content-Type", b"application/json"),
                                         *((k.encode(), v.encode()) for k, v in csrf.items())])
        headers = self._post_headers[1]
        url = self._post_url if path == "/me/outbound-records" else \
            httpx.URL(self.connection.api + path)
        return await self._exchange("POST", str(url), lambda: self.http.post(
            url, body, headers, self._timeout, MAX_REPLY_BYTES))

    # -- plumbing --------------------------------------------------------------------------
    async def _request(self, method: str, path: str, params: dict[str, str]) -> _Reply:
        return await self._exchange(method, self.connection.api + path,
                                    lambda: self.http.get(path, params, MAX_REPLY_BYTES))

    async def _exchange(self, method: str, url: str,
                        send: Callable[[], Awaitable[tuple[httpx.Response | Posted, bytes]]]
                        ) -> _Reply:
        """The reply, read up to MAX_REPLY_BYTES; failures sorted into GwsUnreachable (nothing
        delivered) and GwsOutcomeUnknown (a POST that may have reached GWS)."""
        try:
            response, raw = await send()
        except FAILURES as exc:
            raise transport_failure(exc, method, url, self.connection.timeout_s) from None
        except ReplyTooLarge as exc:
            message = (f"{method} {url}: HTTP {exc.status} with a reply longer than "
                       f"{MAX_REPLY_BYTES // 1024 // 1024} MiB (not read further)")
            if method == "POST":
                raise GwsOutcomeUnknown(message + "; GWS may have acted on it") from None
            raise GwsHttpError(message + "; is the URL a GWS node?", exc.status) from None
        return _Reply(response.status_code, response.reason_phrase,
                      raw.decode("utf-8", errors="replace"), response)

    def _check(self, reply: _Reply, what: str, posted: bool = False) -> dict[str, Any]:
        """The reply's JSON body when it is a success; a clear exception otherwise. With
        `posted`, a reply that says nothing readable about the outcome (a 2xx or 5xx that is not
        GWS JSON, a 2xx without a statusCode, a 5xx whose JSON carries no GWS statusCode other
        than 0) is GwsOutcomeUnknown: GWS may have acted on it."""
        try:
            body = json.loads(reply.text)
        except ValueError:
            body = None
        ok = 200 <= reply.status < 300
        if not isinstance(body, dict):
            snippet = reply.text[:120].replace("\n", " ")
            if posted and (ok or reply.status >= 500):
                # A gateway's or servlet container's page, not GWS saying no: a load balancer
                # answers 502 for a node that reset after taking the record (our simulator's
                # balancer does too), and a 500 page may follow work already done.
                raise GwsOutcomeUnknown(f"{what}: HTTP {reply.status} {reply.reason} and a reply "
                                        f"that is not a GWS answer ({snippet!r}): the outcome is "
                                        "unknown, GWS may have acted on it")
            if ok:
                raise GwsHttpError(f"{what}: HTTP {reply.status} but the body is not a "
                                   f"GWS JSON object ({snippet!r}); is the URL a GWS node?",
                                   reply.status)
            raise GwsHttpError(f"{what}: HTTP {reply.status} {reply.reason} "
                               f"({snippet!r}){_http_hint(reply.status)}", reply.status)
        code = body.get("statusCode")
        message = body.get("statusMessage")
        if reply.status == 403 and _is_csrf(reply.text):
            raise CsrfError(f"{what}: HTTP 403 {CSRF_MESSAGE}", 403)
        if reply.status >= 500:
            if posted and not _gws_refusal(code):
                # JSON, but not GWS's word: a gateway's (`{"error": "Gateway Timeout"}`,
                # Kong's `{"message": ...}`) or an empty `{}` says nothing about the record.
                raise GwsOutcomeUnknown(f"{what}: HTTP {reply.status} {reply.reason} and a reply "
                                        f"that is not a GWS answer ({body!r:.120}: no GWS "
                                        "statusCode saying no): the outcome is unknown, GWS "
                                        "may have acted on it")
            # GWS said no (a failed request changed nothing), whatever the status: retryable.
            extra = f"; {explain_status(code, message)}" if isinstance(code, int) else ""
            raise GwsHttpError(f"{what}: HTTP {reply.status} {reply.reason}{extra}"
                               f"{_http_hint(reply.status)}", reply.status,
                               code if isinstance(code, int) else None)
        if isinstance(code, int) and not isinstance(code, bool) and code != 0:
            raise GwsStatusError(f"{what}: GWS answered {explain_status(code, message)} "
                                 f"(HTTP {reply.status})", code, str(message or ""),
                                 reply.status)
        if not ok:
            raise GwsHttpError(f"{what}: HTTP {reply.status} {reply.reason}"
                               f"{_http_hint(reply.status)}", reply.status,
                               code if isinstance(code, int) else None)
        if not isinstance(code, int) or isinstance(code, bool):
            if posted:
                raise GwsOutcomeUnknown(f"{what}: HTTP {reply.status} without an integer "
                                        f"statusCode ({body!r:.120}): the outcome is unknown, "
                                        "GWS may have acted on it")
            raise GwsHttpError(f"{what}: the reply has no integer statusCode ({body!r:.120}); "
                               "is the URL a GWS node?", reply.status)
        return body


class _Reply:
    """An HTTP reply, read (within the size limit) and decoded (a plain class, as
    PostResult)."""

    __slots__ = ("status", "reason", "text", "source")

    def __init__(self, status: int, reason: str, text: str,
                 source: httpx.Response | Posted) -> None:
        self.status = status
        """HTTP status."""
        self.reason = reason
        """HTTP reason phrase."""
        self.text = text
        """The body as text (undecodable bytes replaced)."""
        self.source = source
        """The reply as the transport gave it."""

    @property
    def headers(self) -> httpx.Headers:
        """The reply's headers (built when asked: a bulk POST's reply never needs them)."""
        return self.source.headers


def _gws_refusal(code: Any) -> bool:
    """`code` is a statusCode GWS uses to say no (an integer of STATUS_MEANINGS other than 0):
    only then is a 5xx GWS's own answer, and its promise holds that nothing changed."""
    return isinstance(code, int) and not isinstance(code, bool) and code != 0 \
        and code in STATUS_MEANINGS


def _is_csrf(text: str) -> bool:
    return CSRF_MESSAGE.lower() in text.lower()


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _http_hint(status: int) -> str:
    if status == 401:
        return ": check the user and password"
    if status == 404:
        return ": check the URL, and that the feature api-voice-outbound is enabled"
    if status in (502, 503, 504):
        return ": GWS or a load balancer is unavailable; retry later"
    if status >= 500:
        return ": GWS failed internally; see its logs"
    return ""


def _feature_names(raw: Any) -> list[str]:
    names: list[str] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = item.get("id") or item.get("name")
            if isinstance(name, str):
                names.append(name)
    return names
