"""The one HTTP client of a GWS session: httpx, shared by the REST calls and the CometD stream.

The transport is the only seam (tests inject one). The default, `GwsTransport`, starts on
`Http11Transport` (console/gws/http11.py: h11 over asyncio's streams; httpx's own transport
when a proxy is set), so start-up and a single `send` import neither aiohttp (~175 ms) nor
httpcore and anyio (~40 ms), and moves to an aiohttp-backed transport (`AiohttpTransport`,
about 3x the POSTs per second on loopback) once the session posts in bulk: from the
`BULK_AFTER`-th POST, or when `BULK_AFTER` POSTs are in flight at once. Both take TLS and the proxy from the `Connection`, so the choice
changes speed, never behaviour.

Failures are sorted here, in one place, into what a person and the engine need to know:
`GwsUnreachable` when nothing was delivered (connection refused, DNS, TLS handshake, proxy
refused the tunnel) and `GwsOutcomeUnknown` when the request may have reached GWS (reset,
timeout after sending, a reply that could not be read, e.g. `Content-Encoding: gzip` over a
body that is not gzip). `FAILURES` is what a caller catches to get them sorted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

import httpx

from console.errors import GwsError, GwsOutcomeUnknown, GwsUnreachable
from console.gws.connection import Connection

if TYPE_CHECKING:
    import aiohttp
    import yarl

__all__ = ["AiohttpTransport", "FAILURES", "GwsHttp", "GwsTransport", "Posted", "ReplyTooLarge", "BULK_AFTER", "gws_client",
           "read_bounded", "transport_failure"]

#: POSTs (outside the CometD endpoint) after which, or in flight at once, the session moves to
#: the aiohttp transport.
BULK_AFTER = 8

#: Failures in which the request cannot have reached GWS.
_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError,
                 httpx.UnsupportedProtocol, httpx.LocalProtocolError)


#: What `transport_failure` sorts: the transport's failures, and a reply whose body could not
#: be decoded (httpx's DecodingError is not a TransportError, but the request was sent all
#: the same).
FAILURES = (httpx.TransportError, httpx.DecodingError)


class ReplyTooLarge(Exception):
    """A reply longer than the limit the caller set (nothing past the limit was read)."""

    def __init__(self, limit: int, status: int) -> None:
        super().__init__(f"the reply (HTTP {status}) is longer than {limit:,} bytes")
        self.limit = limit
        self.status = status


class Posted:
    """The reply to a bulk POST made straight over aiohttp: what callers read of an
    `httpx.Response` (status, reason, headers), without building one."""

    __slots__ = ("status_code", "reason_phrase", "raw_headers", "_headers")

    def __init__(self, status: int, reason: str, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status
        """HTTP status."""
        self.reason_phrase = reason
        """HTTP reason phrase."""
        self.raw_headers = raw_headers
        """The reply's headers as sent."""
        self._headers: httpx.Headers | None = None

    @property
    def headers(self) -> httpx.Headers:
        if self._headers is None:
            self._headers = httpx.Headers(self.raw_headers)
        return self._headers

    @property
    def sets_cookie(self) -> bool:
        return any(name.lower() == b"set-cookie" for name, _ in self.raw_headers)

    def as_response(self, url: httpx.URL) -> httpx.Response:
        """An httpx.Response with these headers (for the cookie jar)."""
        return httpx.Response(self.status_code, headers=self.raw_headers,
                              request=httpx.Request("POST", url))


class GwsHttp:
    """The one HTTP client of a GWS session: httpx's client (cookies, Basic auth, default
    headers; every GET) over the session's transport, and `post`, a lean POST for the hot
    paths (AddRecord, CometD connects): the same transport, headers, auth and cookies, without
    the client's per-request machinery (URL parsing, auth flow, a cookie-jar walk: ~0.5 ms,
    most of what a record costs in a replay)."""

    def __init__(self, connection: Connection,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.transport = transport if transport is not None else GwsTransport(connection)
        """The only test seam."""
        self.client = gws_client(connection, self.transport)
        """httpx's client: the cookie jar is the one truth."""
        self._headers = [*self.client.headers.raw,
                         (b"Authorization", connection.basic_auth_header().encode())]
        self._cookies: dict[str, bytes] = {}  # the jar's Cookie header per URL, until it changes
        self._ready: dict[tuple[str, tuple[tuple[bytes, bytes], ...], bytes],
                          list[tuple[str, str]]] = {}
        self._texts: dict[int, tuple[httpx.URL, str]] = {}  # a URL object's text, kept with it

    async def post(self, url: httpx.URL, body: bytes, headers: list[tuple[bytes, bytes]],
                   timeout: dict[str, float | None], limit: int
                   ) -> tuple[httpx.Response | Posted, bytes]:
        """POST `body`; the reply and its body, read up to `limit` bytes (ReplyTooLarge past
        it). Transport failures raise httpx.TransportError. Once the session posts in bulk over
        aiohttp, the bytes go to aiohttp directly (`AiohttpTransport.post_bytes`): no httpx
        request or response is built (~200 us a POST)."""
        known = self._texts.get(id(url))  # the hot callers post to the same URL object
        if known is None or known[0] is not url:
            if len(self._texts) >= 64:
                self._texts.clear()
            known = self._texts[id(url)] = (url, str(url))
        key = known[1]
        cookie = self._cookies.get(key)
        if cookie is None:
            probe = self.client.build_request("POST", url)
            cookie = self._cookies[key] = probe.headers.get("Cookie", "").encode("latin-1")
        bulk = self.transport if isinstance(self.transport, AiohttpTransport) else \
            self.transport.bulk if isinstance(self.transport, GwsTransport) else None
        if bulk is not None:
            prepared = self._prepared(key, headers, cookie)
            posted, raw = await bulk.post_bytes(url, key, prepared, body, timeout, limit)
            if posted.sets_cookie:
                self.keep_cookies(posted.as_response(url))
            return posted, raw
        sent = [(b"Host", url.netloc), *self._headers, *headers,
                (b"Content-Length", str(len(body)).encode())]
        if cookie:
            sent.append((b"Cookie", cookie))
        request = httpx.Request("POST", url, headers=sent, stream=httpx.ByteStream(body),
                                extensions={"timeout": timeout})  # headers complete as given
        request.read()  # in memory already: `content` without an async read
        response = await self.transport.handle_async_request(request)
        response.request = request
        return response, await self._read(response, limit)

    def _prepared(self, url: str, headers: list[tuple[bytes, bytes]], cookie: bytes
                  ) -> list[tuple[str, str]]:
        """The headers of a bulk POST as aiohttp takes them (the session's, the caller's, the
        cookie), built once per URL, header set and cookie: a replay posts the same ones."""
        key = (url, tuple(headers), cookie)
        prepared = self._ready.get(key)
        if prepared is None:
            if len(self._ready) > 64:
                self._ready.clear()
            prepared = self._ready[key] = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in (*self._headers, *headers, *([(b"Cookie", cookie)] if cookie
                                                          else []))]
        return prepared

    async def get(self, path: str, params: dict[str, str], limit: int
                  ) -> tuple[httpx.Response, bytes]:
        """GET through the client (auth flow, cookies), the body read up to `limit`."""
        response = await self.client.send(self.client.build_request("GET", path, params=params),
                                          stream=True)
        return response, await self._read(response, limit)

    async def _read(self, response: httpx.Response, limit: int) -> bytes:
        """The body up to `limit`, the response closed, its cookies kept."""
        try:
            raw = await read_bounded(response, limit)
        finally:
            await response.aclose()
        self.keep_cookies(response)
        return raw

    def keep_cookies(self, response: httpx.Response) -> None:
        if any(name.lower() == b"set-cookie" for name, _ in response.headers.raw):
            self.client.cookies.extract_cookies(response)  # a no-op if the client did it
            self._cookies.clear()
            self._ready.clear()

    async def aclose(self) -> None:
        await self.client.aclose()


def gws_client(connection: Connection,
               transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The httpx client for one GWS: Basic auth, JSON, the profile's timeout; TLS and proxy
    live in the transport (ours by default, or the one a test injects)."""
    return httpx.AsyncClient(
        base_url=connection.api, auth=(connection.username, connection.password.reveal()),
        timeout=connection.timeout_s, trust_env=False,
        transport=transport if transport is not None else GwsTransport(connection),
        headers={"Accept": "application/json"})


def _length_and_encoding(raw_headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes, bool]:
    """A reply's declared Content-Length (b"" when none) and whether its body is encoded
    (a Content-Encoding other than identity): one pass over the raw headers, no decoding
    (the hot path)."""
    declared = b""
    encoded = False
    for name, value in raw_headers:
        lower = name.lower()
        if lower == b"content-length":
            declared = value
        elif lower == b"content-encoding":
            encoded = value.strip().lower() != b"identity"
    return declared, encoded


async def read_bounded(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed reply, reading at most `limit` bytes (decoded)."""
    declared, encoded = _length_and_encoding(response.headers.raw)
    if declared.isdigit() and int(declared) > limit:
        raise ReplyTooLarge(limit, response.status_code)
    chunks: list[bytes] = []
    size = 0
    # Nothing encoded: the transport's bytes as they are, without httpx's decoder chain.
    body = response.aiter_bytes() if encoded else response.stream
    async for chunk in body:  # type: ignore[union-attr]
        size += len(chunk)
        if size > limit:
            raise ReplyTooLarge(limit, response.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


def transport_failure(exc: httpx.TransportError | httpx.DecodingError, method: str, url: str,
                      timeout_s: float) -> GwsError:
    """`GwsUnreachable` when the request never left, `GwsOutcomeUnknown` otherwise, each
    saying what failed and what to check."""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.DecodingError):
        then = "GWS may have acted on it" if method == "POST" else \
            "is a proxy or gateway in between rewriting replies?"
        return GwsOutcomeUnknown(f"{method} {url}: sent, but the reply could not be read (its "
                                 f"Content-Encoding does not match its body: {reason:.120}); "
                                 + then)
    if isinstance(exc, _NOTHING_SENT):
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return GwsUnreachable(f"{method} {url}: no connection within {timeout_s:g} s (check "
                                  "the URL, the GWS node and any proxy)")
        if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate verify failed" in reason:
            return GwsUnreachable(f"{method} {url}: the server's TLS certificate is not trusted "
                                  f"({reason}); give the CA in the profile's tls.ca_bundle")
        if isinstance(exc, httpx.ProxyError):
            return GwsUnreachable(f"{method} {url}: the proxy refused ({reason}); check "
                                  "HTTPS_PROXY/NO_PROXY or the profile's proxy_from_env")
        return GwsUnreachable(f"{method} {url}: cannot connect ({reason}); check the "
                              "profile's url and that GWS is running")
    if isinstance(exc, httpx.TimeoutException):
        return GwsOutcomeUnknown(f"{method} {url}: sent, but no answer within {timeout_s:g} s; "
                                 "GWS may have acted on it (raise the profile's timeout if GWS "
                                 "is just slow)")
    return GwsOutcomeUnknown(f"{method} {url}: sent, but the connection failed before the "
                             f"answer ({reason}); GWS may have acted on it")


class GwsTransport(httpx.AsyncBaseTransport):
    """httpx's own transport until the session posts in bulk, then aiohttp's (see above)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # h11 over asyncio streams: no httpcore/anyio to import (~40 ms of a `send`).
        from console.gws.http11 import Http11Transport

        self.light: httpx.AsyncBaseTransport = Http11Transport(connection)
        self.bulk: AiohttpTransport | None = None
        self._posts = 0
        self._in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.bulk is not None:
            return await self.bulk.handle_async_request(request)
        counted = request.method == "POST" and not request.url.path.endswith("/notifications")
        if counted:
            self._posts += 1
            if self._posts > BULK_AFTER or self._in_flight >= BULK_AFTER:
                self.bulk = AiohttpTransport(self.connection)
                return await self.bulk.handle_async_request(request)
            self._in_flight += 1
        try:
            return await self.light.handle_async_request(request)
        finally:
            if counted:
                self._in_flight -= 1

    async def aclose(self) -> None:
        await self.light.aclose()
        if self.bulk is not None:
            await self.bulk.aclose()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one aiohttp client session (imported when first built). httpx
    keeps the cookies, auth and headers; this only moves bytes, with the connection's TLS and
    proxy, honouring httpx's connect/read timeouts, and raising httpx's exceptions."""

    def __init__(self, connection: Connection) -> None:
        import aiohttp
        import yarl

        self._aiohttp = aiohttp
        self._url = yarl.URL
        self._ssl = connection.ssl_context()
        self._proxy = connection.proxy()
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, yarl.URL] = {}  # parsed once: a session posts to a few URLs
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            aiohttp = self._aiohttp
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl, limit=0),
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx's jar is the one truth
                auto_decompress=False,  # httpx decodes (and counts what it decodes)
                timeout=aiohttp.ClientTimeout(total=None))  # httpx's headers are complete
        return self._session

    def _parsed(self, text: str) -> yarl.URL:
        url = self._urls.get(text)
        if url is None:
            if len(self._urls) >= 64:
                self._urls.clear()
            url = self._urls[text] = self._url(text, encoded=True)
        return url

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        limits: dict[str, float | None] = request.extensions.get("timeout", {})
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            reply = await self._client().request(
                request.method, self._parsed(str(request.url)), data=body or None,
                headers=headers, proxy=self._proxy, allow_redirects=False,
                timeout=self._timeout(limits.get("connect"), limits.get("read")))
        except Exception as exc:
            raise self._translate(exc, request) from exc
        return httpx.Response(
            reply.status, headers=list(reply.raw_headers), stream=_AiohttpBody(self, reply, request),
            extensions={"http_version": b"HTTP/1.1",
                        "reason_phrase": (reply.reason or "").encode("latin-1", "replace")})

    async def post_bytes(self, url: httpx.URL, text: str, headers: list[tuple[str, str]],
                         body: bytes, timeout: dict[str, float | None], limit: int
                         ) -> tuple[Posted, bytes]:
        """POST `body` to `url` (`text`: its text) with exactly `headers` (aiohttp adds Host and
        Content-Length); the reply
        and its body read up to `limit` (ReplyTooLarge past it). Failures raise the same httpx
        exceptions as `handle_async_request`: a connection never made is ConnectError or
        ConnectTimeout (nothing sent), anything after it ReadError or ReadTimeout (the
        outcome is unknown)."""
        try:
            reply = await self._client().request(
                "POST", self._parsed(text), data=body, headers=headers, proxy=self._proxy,
                allow_redirects=False,
                timeout=self._timeout(timeout.get("connect"), timeout.get("read")))
        except Exception as exc:
            raise self._translate(exc, httpx.Request("POST", url)) from exc
        read = False
        try:
            posted = Posted(reply.status, reply.reason or "", list(reply.raw_headers))
            raw = await self._body(reply, posted, url, limit)
            read = True
        finally:
            if read and reply.content.at_eof():
                reply.release()  # the connection goes back to the pool
            else:
                reply.close()  # failed, cancelled or over the limit: drop the connection
        return posted, raw

    async def _body(self, reply: aiohttp.ClientResponse, posted: Posted, url: httpx.URL,
                    limit: int) -> bytes:
        """The reply's body up to `limit`, decoded as httpx would when it is encoded."""
        declared, encoded = _length_and_encoding(posted.raw_headers)
        if declared.isdigit() and int(declared) > limit:
            raise ReplyTooLarge(limit, posted.status_code)
        try:
            if declared.isdigit():
                raw = await reply.read()
            else:
                chunks: list[bytes] = []
                size = 0
                async for chunk in reply.content.iter_any():
                    size += len(chunk)
                    if size > limit:
                        raise ReplyTooLarge(limit, posted.status_code)
                    chunks.append(chunk)
                raw = b"".join(chunks)
        except ReplyTooLarge:
            raise
        except Exception as exc:
            raise self._translate(exc, httpx.Request("POST", url)) from exc
        if not encoded:
            return raw
        # Compressed (rare for GWS): httpx's decoders, the limit counted on what they give.
        response = httpx.Response(posted.status_code, headers=posted.raw_headers,
                                  stream=_Bytes(raw))
        return await read_bounded(response, limit)

    def _timeout(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        """httpx's connect/read limits for aiohttp: the connection within `connect` (a
        failure there is ConnectionTimeoutError: nothing sent), then the whole exchange within
        connect + read (one timer, not one reset per chunk received)."""
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            total = None if read is None else read + (connect or 0.0)
            timeout = self._timeouts[key] = self._aiohttp.ClientTimeout(
                total=total, sock_connect=connect)
        return timeout

    def _translate(self, exc: Exception, request: httpx.Request) -> Exception:
        """aiohttp's failure as the httpx exception that means the same."""
        aiohttp = self._aiohttp
        text = str(exc) or type(exc).__name__
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return httpx.ConnectTimeout(text, request=request)
        if isinstance(exc, aiohttp.ClientHttpProxyError):
            return httpx.ProxyError(text, request=request)
        if isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS, proxy down
            return httpx.ConnectError(text, request=request)
        if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
            return httpx.ReadTimeout(text or "read timeout", request=request)
        if isinstance(exc, (aiohttp.ClientError, OSError)):
            return httpx.ReadError(text, request=request)
        return exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _AiohttpBody(httpx.AsyncByteStream):
    """An aiohttp reply's body as httpx reads it: chunk by chunk, released when closed."""

    def __init__(self, owner: AiohttpTransport, reply: aiohttp.ClientResponse,
                 request: httpx.Request) -> None:
        self._owner = owner
        self._reply = reply
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._reply.content.iter_any():
                yield chunk
        except Exception as exc:
            raise self._owner._translate(exc, self._request) from exc

    async def aclose(self) -> None:
        if self._reply.content.at_eof():
            self._reply.release()  # the connection goes back to the pool
        else:
            self._reply.close()  # a body left unread (e.g. over a size limit): drop it


class _Bytes(httpx.AsyncByteStream):
    """Bytes already read, as an httpx stream (to decode them)."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._raw
