"""HTTP/1.1 over asyncio's own streams, with h11 reading and writing the messages: an httpx
transport for the session's few requests (start-up, CometD, a single `send`) that does not
import httpcore and anyio (~35-45 ms of a `send` on our machines, bench/send.py).

`GwsTransport` (console/gws/transport.py) builds it for its light path (everything until a
session posts in bulk). Through a proxy (HTTP(S)_PROXY), the requests go to httpx's own
transport, which knows proxies and CONNECT tunnels.

Failures are httpx's exceptions, sorted as `transport_failure` needs them: a connection never
made (refused, DNS, TLS handshake, connect timeout) is ConnectError / ConnectTimeout, nothing
sent; anything once the request may have been written is WriteError, ReadError, ReadTimeout
or RemoteProtocolError: the outcome is unknown. httpx's `read` timeout bounds the whole exchange
once connected (writing the request, and the reply to its last byte), not each read: a reply
that trickles in a byte at a time is a ReadTimeout at the deadline, as on the aiohttp path
(`AiohttpTransport._timeout`). A connection goes back to the pool only when
its exchange ended cleanly (the whole reply read); one the server has closed meanwhile is
never reused.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import h11
import httpx

from console.gws.connection import Connection

__all__ = ["Http11Transport"]

#: Bytes read from a socket at a time.
_CHUNK = 65536


_Origin = tuple[str, str, int]  # scheme, host, port


class _Conn:
    """One TCP (or TLS) connection and its h11 state."""

    __slots__ = ("origin", "reader", "writer", "h11")

    def __init__(self, origin: _Origin, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    @property
    def stale(self) -> bool:
        """The server has closed it since its last reply."""
        return self.writer.is_closing() or self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class Http11Transport(httpx.AsyncBaseTransport):
    """httpx's transport contract over asyncio streams (see the module docstring)."""

    def __init__(self, connection: Connection, max_keepalive: int = 32) -> None:
        self._ssl = connection.ssl_context()
        proxy = connection.proxy()
        self._proxied: httpx.AsyncBaseTransport | None = None
        if proxy is not None:
            self._proxied = httpx.AsyncHTTPTransport(
                verify=self._ssl, proxy=proxy, trust_env=False,
                limits=httpx.Limits(max_connections=None,
                                    max_keepalive_connections=max_keepalive))
        self._max_keepalive = max_keepalive
        self._idle: dict[_Origin, list[_Conn]] = {}
        self._open: set[_Conn] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._proxied is not None:
            return await self._proxied.handle_async_request(request)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        try:  # h11 checks the request (a header it cannot send): nothing has left yet
            head = h11.Request(method=request.method, target=request.url.raw_path,
                               headers=list(request.headers.raw))
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from exc
        conn = await self._connection(request, timeouts.get("connect"))
        read = timeouts.get("read")
        # One deadline for the exchange (None: none), not one per read.
        deadline = None if read is None else asyncio.get_running_loop().time() + read
        done = False
        try:
            try:
                data = conn.h11.send(head) or b""
                if body:
                    data += conn.h11.send(h11.Data(data=body)) or b""
                data += conn.h11.send(h11.EndOfMessage()) or b""
            except h11.LocalProtocolError as exc:  # still nothing written
                raise httpx.LocalProtocolError(str(exc), request=request) from exc
            try:
                conn.writer.write(data)
                async with asyncio.timeout(timeouts.get("write")):
                    await conn.writer.drain()
            except TimeoutError:
                raise httpx.WriteTimeout("write timed out", request=request) from None
            except OSError as exc:
                raise httpx.WriteError(_reason(exc), request=request) from exc
            while True:
                event = await _next_event(conn, request, deadline)
                if isinstance(event, h11.Response):
                    break
                # An InformationalResponse (1xx) precedes the real one.
            response = httpx.Response(
                event.status_code, headers=event.headers.raw_items(),
                stream=_Body(self, conn, request, deadline),
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": event.reason})
            done = True
            return response
        finally:
            if not done:  # failed or cancelled half-way: the connection is in no known state
                self._drop(conn)

    async def _connection(self, request: httpx.Request, timeout: float | None) -> _Conn:
        """An idle connection to the request's origin that the server has not closed, or a new
        one (ConnectError / ConnectTimeout when none can be made: nothing was sent)."""
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        origin = (url.scheme, url.host, port)
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if not conn.stale:
                return conn
            self._drop(conn)
        tls = self._ssl if url.scheme == "https" else None
        if url.scheme == "https" and tls is False:  # verify: false
            tls = ssl.create_default_context()
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    url.host, port, ssl=tls or None, limit=_CHUNK,
                    server_hostname=url.host if tls else None)
        except TimeoutError:
            raise httpx.ConnectTimeout("connect timed out", request=request) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(_reason(exc), request=request) from exc
        conn = _Conn(origin, reader, writer)
        self._open.add(conn)
        return conn

    def _finished(self, conn: _Conn) -> None:
        """The reply was read to its end: the connection is kept when both sides may go on."""
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
            conn.h11.start_next_cycle()
            idle = self._idle.setdefault(conn.origin, [])
            if len(idle) < self._max_keepalive:
                idle.append(conn)
                return
        self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        self._open.discard(conn)
        conn.close()

    async def aclose(self) -> None:
        for conn in list(self._open):
            self._drop(conn)
        self._idle.clear()
        if self._proxied is not None:
            await self._proxied.aclose()


class _Body(httpx.AsyncByteStream):
    """A reply's body as it arrives; the connection goes back to the pool once it is read to
    its end, and is closed when the reader stops before."""

    def __init__(self, owner: Http11Transport, conn: _Conn, request: httpx.Request,
                 deadline: float | None) -> None:
        self._owner = owner
        self._conn = conn
        self._request = request
        self._deadline = deadline
        self._settled = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                event = await _next_event(self._conn, self._request, self._deadline)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self._settled = True
                    self._owner._finished(self._conn)
                    return
        finally:
            if not self._settled:
                self._settled = True
                self._owner._drop(self._conn)

    async def aclose(self) -> None:
        if not self._settled:
            self._settled = True
            self._owner._drop(self._conn)


async def _next_event(conn: _Conn, request: httpx.Request, deadline: float | None) -> h11.Event:
    """The next part of the reply, reading as needed until `deadline` (the event loop's clock;
    None: no limit), httpx's read exceptions on failure."""
    while True:
        try:
            event = conn.h11.next_event()
        except h11.RemoteProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        if event is h11.NEED_DATA:
            try:
                async with asyncio.timeout_at(deadline):
                    data = await conn.reader.read(_CHUNK)
            except TimeoutError:
                raise httpx.ReadTimeout("no complete reply within the timeout",
                                        request=request) from None
            except OSError as exc:
                raise httpx.ReadError(_reason(exc), request=request) from exc
            try:
                conn.h11.receive_data(data)  # b"": the server closed the connection
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from exc
            continue
        if isinstance(event, h11.ConnectionClosed):
            raise httpx.RemoteProtocolError("the server closed the connection without a reply",
                                            request=request)
        assert isinstance(event, h11.Event)
        return event


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
