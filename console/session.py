"""The GWS REST session: start-up (`GET /api/v2/me?subresources=*`), CSRF, AddRecord POSTs.

Every statusCode and HTTP failure becomes a message in plain words that says what failed and
what to check. On a CSRF 403 the session fetches a new token pair once and retries once.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

from console.connection import Connection
from console.errors import (
    CsrfError, GwsHttpError, GwsOutcomeUnknown, GwsStatusError, GwsUnreachable,
)
from console.model import AddRecord

__all__ = ["GwsSession", "Me", "PostResult", "STATUS_MEANINGS", "explain_status"]

OUTBOUND_FEATURE = "api-voice-outbound"
CSRF_MESSAGE = "Missing or invalid Csrf token"

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


@dataclass(frozen=True)
class PostResult:
    """The HTTP outcome of one AddRecord POST (statusCode 0)."""

    http_status: int
    """HTTP status of the reply."""
    status_code: int
    """GWS statusCode (0 here: failures raise)."""
    elapsed_ms: float
    """Time from sending the request to reading the reply."""
    body: dict[str, Any] = field(default_factory=dict)
    """The reply body."""


class GwsSession:
    """One authenticated GWS HTTP session (cookie + CSRF pair)."""

    def __init__(self, connection: Connection,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.connection = connection
        self._http = httpx.AsyncClient(
            base_url=connection.api, auth=(connection.username, connection.password.reveal()),
            verify=connection.ssl_context(), timeout=connection.timeout_s,
            trust_env=connection.trust_env, transport=transport,
            headers={"Accept": "application/json"},
        )
        self._csrf: dict[str, str] = {}
        self.me: Me | None = None
        # AddRecord POSTs go over aiohttp (about 3x the requests per second of httpx on
        # loopback; replay needs it). With an injected httpx transport (unit tests of request
        # building) they go through httpx like everything else.
        self._fast = transport is None
        self._aio: aiohttp.ClientSession | None = None
        self._proxy = connection.proxy()

    async def __aenter__(self) -> GwsSession:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()
        if self._aio is not None:
            await self._aio.close()
            self._aio = None

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

    def _take_csrf(self, reply: httpx.Response) -> None:
        name = reply.headers.get("X-CSRF-HEADER")
        token = reply.headers.get("X-CSRF-TOKEN")
        if name and token:
            self._csrf = {name: token}

    @property
    def device_path(self) -> str | None:
        """The profile's device, or the first GWS listed."""
        if self.connection.device_path:
            return self.connection.device_path
        return self.me.devices[0] if self.me and self.me.devices else None

    def cookie_header(self) -> str:
        """The session cookies as one `Cookie` header, for the CometD stream."""
        return "; ".join(f"{c.name}={c.value}" for c in self._http.cookies.jar)

    # -- AddRecord -------------------------------------------------------------------------
    async def add_record(self, record: AddRecord) -> PostResult:
        """POST the record; raises GwsStatusError / GwsHttpError (GWS said no), GwsUnreachable
        (nothing was delivered) or GwsOutcomeUnknown (sent, but no readable answer)."""
        body = record.body_json().encode("utf-8")  # strict JSON: allow_nan=False
        started = time.perf_counter()
        reply = await self._post("/me/outbound-records", body)
        if reply.status == 403 and _is_csrf(reply.text):
            # The token lives as long as the HTTP session; a GWS restart ends both.
            await self.start()
            reply = await self._post("/me/outbound-records", body)
            if reply.status == 403 and _is_csrf(reply.text):
                raise CsrfError("GWS refused the CSRF token twice (HTTP 403 "
                                f"'{CSRF_MESSAGE}'): check that a proxy keeps the JSESSIONID "
                                "cookie and the X-CSRF-TOKEN header", 403)
        elapsed = (time.perf_counter() - started) * 1000.0
        answer = self._check(reply, "AddRecord", sent=True)
        return PostResult(reply.status, int(answer.get("statusCode", 0)), elapsed, answer)

    async def _post(self, path: str, body: bytes) -> _Reply:
        headers = {"Content-Type": "application/json", **self._csrf}
        if not self._fast:
            slow = await self._request("POST", path, content=body, headers=headers)
            return _Reply(slow.status_code, slow.reason_phrase, slow.text)
        url = self.connection.api + path
        headers["Authorization"] = self.connection.basic_auth_header()
        headers["Accept"] = "application/json"
        cookie = self.cookie_header()
        if cookie:
            headers["Cookie"] = cookie
        try:
            async with self._aio_session().post(url, data=body, headers=headers,
                                                proxy=self._proxy) as fast:
                text = await fast.text(errors="replace")
                return _Reply(fast.status, fast.reason or "", text)
        except aiohttp.ClientConnectorError as exc:
            raise self._unreachable("POST", url, "connect", exc) from None
        except aiohttp.ConnectionTimeoutError:
            raise self._unreachable("POST", url, "timeout") from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            # The request may have been written: GWS may have acted on it.
            raise _unknown(url, exc, self.connection.timeout_s) from None

    def _aio_session(self) -> aiohttp.ClientSession:
        if self._aio is None:
            connection = self.connection
            self._aio = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=connection.ssl_context(), limit=0),
                cookie_jar=aiohttp.DummyCookieJar(),  # the httpx jar is the one truth
                timeout=aiohttp.ClientTimeout(total=connection.timeout_s))
        return self._aio

    # -- plumbing --------------------------------------------------------------------------
    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.connection.api + path
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise self._unreachable(method, url, "connect", exc) from None
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise self._unreachable(method, url, "timeout") from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if method == "POST":  # it may have been written: GWS may have acted on it
                raise _unknown(url, exc, self.connection.timeout_s) from None
            if isinstance(exc, httpx.TimeoutException):
                raise self._unreachable(method, url, "timeout") from None
            raise self._unreachable(method, url, "other", exc) from None

    def _unreachable(self, method: str, url: str, kind: str,
                     exc: Exception | None = None) -> GwsUnreachable:
        """What failed and what to check, for httpx and aiohttp failures alike."""
        if kind == "timeout":
            return GwsUnreachable(f"{method} {url}: no answer within "
                                  f"{self.connection.timeout_s:g} s (check the URL, the GWS node "
                                  "and any proxy; raise the profile's timeout if GWS is just slow)")
        reason = _reason(exc) if exc is not None else "failed"
        if kind == "connect":
            return GwsUnreachable(f"{method} {url}: cannot connect ({reason}); check the "
                                  "profile's url and that GWS is running")
        return GwsUnreachable(f"{method} {url}: {reason}")

    def _check(self, reply: httpx.Response | _Reply, what: str,
               sent: bool = False) -> dict[str, Any]:
        """The reply's JSON body when it is a success; a clear exception otherwise. For a
        request GWS may have acted on (`sent`), a reply that is not GWS saying no — a 2xx or 5xx
        whose body is not a GWS answer — is GwsOutcomeUnknown: GWS may have done it."""
        if isinstance(reply, httpx.Response):
            reply = _Reply(reply.status_code, reply.reason_phrase, reply.text)
        try:
            body = json.loads(reply.text)
        except ValueError:
            body = None
        ok = 200 <= reply.status < 300
        if not isinstance(body, dict):
            snippet = reply.text[:120].replace("\n", " ")
            if sent and (ok or reply.status >= 500):
                raise GwsOutcomeUnknown(
                    f"{what}: HTTP {reply.status} with a reply that is not a GWS answer "
                    f"({snippet!r}): the outcome is unknown, GWS may have accepted it; check "
                    "before re-sending")
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
            # A server or load-balancer failure, whatever statusCode rides along: retryable.
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
            if sent:
                raise GwsOutcomeUnknown(f"{what}: HTTP {reply.status} without an integer "
                                        f"statusCode ({body!r:.120}): the outcome is unknown, "
                                        "GWS may have accepted it; check before re-sending")
            raise GwsHttpError(f"{what}: the reply has no integer statusCode ({body!r:.120}); "
                               "is the URL a GWS node?", reply.status)
        return body


@dataclass(frozen=True)
class _Reply:
    """An HTTP reply reduced to what the checks need, from httpx or aiohttp alike."""

    status: int
    reason: str
    text: str


def _unknown(url: str, exc: Exception, timeout_s: float) -> GwsOutcomeUnknown:
    """A POST that may have been written but got no readable answer (reset, timeout)."""
    if isinstance(exc, (asyncio.TimeoutError, httpx.TimeoutException)):
        what = f"no answer within {timeout_s:g} s"
    else:
        what = f"the connection failed after sending ({_reason(exc)})"
    return GwsOutcomeUnknown(f"POST {url}: {what}: the outcome is unknown, GWS may have "
                             "accepted it; check before re-sending")


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
