"""The CometD stream: aiocometd-noloop behind a small interface of our own.

`async for item in EventStream(connection)` yields `Event`s and `StreamStatus` changes
(connecting, connected, reconnecting, gap from–to, failed). What we add around the library,
each a trap measured against a real server:

- aiohttp's default cookie jar ignores cookies of hosts given as an IP address, so the
  handshake works but every connect gets 402 from a server that ties sessions to a cookie
  (CometD's BAYEUX_BROWSER). We give the library a jar that accepts them, and send the GWS
  session cookie and Basic auth ourselves on every request.
- The first connect after each handshake carries `advice: {timeout: 0}`, or a server may hold
  it for the full 30 s.
- `close()` can hang while messages are pending: it is bounded.
- The library logs CancelledError noise on close: its logger is kept off the terminal.
- The library re-handshakes by itself on `402`; we watch the replies (an extension) to report
  it as a gap, since the new session has not seen what was published meanwhile. When the
  library gives up (no connection within `connection_timeout`), we start a new client with
  CometD's backoff (+1 s per failure, at most 60 s) and report the gap too. Re-subscription
  happens once per channel per handshake (the library batches them with the first connect).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiocometd_noloop import Client, ConnectionType
from aiocometd_noloop.exceptions import AiocometdException, ServerError
from aiocometd_noloop.extensions import Extension

from console.connection import Connection
from console.events import Event, StreamItem, StreamStatus
from console.tasks import cancel_and_wait

__all__ = ["EventStream"]

#: Messages handled in a row before giving the event loop a turn (a reply to a connect can
#: carry thousands; handling them all at once would freeze a UI for ~0.1 s).
_BURST = 256

log = logging.getLogger("console.stream")
_library_log = logging.getLogger("aiocometd_noloop")
_library_log.propagate = False
_library_log.addHandler(logging.NullHandler())


class _QuietCancelled(logging.Filter):
    """Drop asyncio's reports of the library's cancelled tasks on close."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        text = record.getMessage()
        return not (isinstance(exc, asyncio.CancelledError) or "aiocometd" in text)


logging.getLogger("asyncio").addFilter(_QuietCancelled())


class _Watch(Extension):  # type: ignore[misc]
    """Adds our headers and the first-connect advice; tells the stream what the server says."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.after_handshake = False
        self.connect_outstanding = False

    async def outgoing(self, payload: list[dict[str, Any]], headers: dict[str, str]) -> None:
        headers.update(self.stream._headers())
        for message in payload:
            channel = message.get("channel")
            if channel == "/meta/connect":
                if self.connect_outstanding:
                    # The previous connect never got a reply: the request failed.
                    self.stream._lost("the connection to GWS failed; retrying")
                self.connect_outstanding = True
                if self.after_handshake:
                    message["advice"] = {"timeout": 0}
                    self.after_handshake = False
            elif channel == "/meta/handshake":
                self.connect_outstanding = False

    async def incoming(self, payload: list[dict[str, Any]],
                       headers: dict[str, str] | None = None) -> None:
        for message in payload:
            channel = message.get("channel")
            if channel == "/meta/handshake":
                if message.get("successful"):
                    self.after_handshake = True
                    self.stream._handshaken()
                else:
                    self.stream._lost(f"handshake refused: {message.get('error', 'no reason')}")
            elif channel == "/meta/connect":
                self.connect_outstanding = False
                if message.get("successful"):
                    dropped = (message.get("ext") or {}).get("sim", {}).get("dropped")
                    self.stream._connected(dropped)
                else:
                    self.stream._lost(f"connect refused: {message.get('error', 'no reason')}")


class _Client(Client):  # type: ignore[misc]
    """aiocometd's client with a cookie jar that keeps cookies of IP-address hosts, and the
    profile's proxy choice (aiohttp ignores HTTPS_PROXY unless told to trust the environment)."""

    def __init__(self, *args: Any, trust_env: bool = True,
                 on_connect_failed: Callable[[BaseException], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trust_env = trust_env
        self._on_connect_failed = on_connect_failed

    async def _negotiate_transport(self) -> Any:
        transport = await super()._negotiate_transport()
        report = self._on_connect_failed
        if report is not None:
            # The library retries a failed connect a second later without telling anyone;
            # we want to know at once (a replay pauses while the stream is deaf).
            original = transport._connect_done

            def connect_done(future: asyncio.Future[Any]) -> None:
                if not future.cancelled() and future.exception() is not None:
                    report(future.exception())  # type: ignore[arg-type]
                original(future)

            transport._connect_done = connect_done
        return transport

    async def _get_http_session(self) -> aiohttp.ClientSession:
        session: aiohttp.ClientSession | None = self.__dict__.get("_http_session")
        if session is None:
            session = aiohttp.ClientSession(json_serialize=self._json_dumps,
                                            cookie_jar=aiohttp.CookieJar(unsafe=True),
                                            trust_env=self._trust_env)
            self._http_session = session
        return session


class EventStream:
    """Events and status changes from GWS notifications, reconnecting by itself."""

    def __init__(self, connection: Connection, *, cookie_header: Callable[[], str] | None = None,
                 channels: tuple[str, ...] | None = None, connection_timeout: float = 10.0,
                 max_backoff: float = 60.0, queue_size: int = 0) -> None:
        self.connection = connection
        self.channels = channels or connection.channels
        self._cookie_header = cookie_header
        self._connection_timeout = connection_timeout
        self._max_backoff = max_backoff
        self._queue: asyncio.Queue[StreamItem | None] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self._seq = 0
        self._state = "connecting"
        self._last_ok: float | None = None
        self._lost_at: float | None = None
        self._handshakes = 0
        self._closed = False
        self._subscribed = False
        self.handshakes = 0
        """How many successful handshakes this stream made (1 + re-handshakes)."""
        self.server_dropped = 0
        """Events the server reported dropping from our queue (simulator `ext.sim.dropped`)."""

    # -- public ----------------------------------------------------------------------------
    async def start(self) -> EventStream:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aenter__(self) -> EventStream:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamItem]:
        await self.start()
        queue = self._queue
        while True:
            item = await queue.get()
            burst = 0
            while True:  # what is already queued goes out without a trip round the loop...
                if item is None:
                    return
                yield item
                if queue.empty():
                    break
                burst += 1
                if burst % _BURST == 0:
                    await asyncio.sleep(0)  # ...but a long burst lets key presses through
                item = queue.get_nowait()

    async def close(self) -> None:
        self._closed = True
        await cancel_and_wait(self._task)
        self._task = None
        self._put(StreamStatus("closed", "stream closed", time.time()))
        if not self._queue.full():
            self._queue.put_nowait(None)  # ends every iterator

    @property
    def state(self) -> str:
        return self._state

    # -- the supervisor --------------------------------------------------------------------
    async def _run(self) -> None:
        failures = 0
        self._status("connecting", f"opening {self.connection.notifications_url}")
        while not self._closed:
            client = _Client(self.connection.notifications_url,
                             connection_types=[ConnectionType.LONG_POLLING],
                             connection_timeout=self._connection_timeout,
                             ssl=self.connection.ssl_context(),
                             extensions=[_Watch(self)], trust_env=self.connection.trust_env,
                             on_connect_failed=lambda exc: self._lost(
                                 f"the connection to GWS failed ({_describe(exc)}); retrying"))
            self._subscribed = False
            try:
                await asyncio.wait_for(client.open(), self._connection_timeout + 5)
                for channel in self.channels:
                    await asyncio.wait_for(client.subscribe(channel), self._connection_timeout)
                # Connected means subscribed: only now can nothing sent from here be missed.
                self._subscribed = True
                self._connected(None, force=True)
                failures = 0
                await self._receive(client)
                reason = "the server closed the stream"
            except ServerError as exc:
                if _advice(client).get("reconnect") == "none":
                    # The server said not to come back (bayeux: reconnect none): stop and say so.
                    await self._close_client(client)
                    self._status("failed", f"the server ended the session and advised not to "
                                 f"reconnect ({exc}); restart to try again")
                    return
                reason = _describe(exc)
            except asyncio.CancelledError:
                await self._close_client(client)
                raise
            except (AiocometdException, aiohttp.ClientError, OSError,
                    asyncio.TimeoutError, ValueError) as exc:
                reason = _describe(exc)
            await self._close_client(client)
            if self._closed:
                return
            failures += 1
            delay = min(float(failures), self._max_backoff)
            self._lost(f"{reason}; new attempt in {delay:g} s")
            await asyncio.sleep(delay)

    async def _receive(self, client: Client) -> None:
        """Receive until the client fails. `Client.receive()` starts three tasks per message;
        under a flood we drain what has already arrived straight from its queue (each message
        still goes through the library's own check), which is what keeps up with a flood."""
        while True:
            self._event(await client.receive())
            queue = getattr(client, "_incoming_queue", None)
            burst = 0
            while queue is not None and not queue.empty():
                message = queue.get_nowait()
                client._verify_response(message)
                self._event(message)
                burst += 1
                if burst % _BURST == 0:
                    await asyncio.sleep(0)

    @staticmethod
    async def _close_client(client: Client) -> None:
        try:
            await asyncio.wait_for(client.close(), 2.0)
        except (asyncio.TimeoutError, AiocometdException, aiohttp.ClientError, OSError):
            pass

    # -- reports from the supervisor and the extension -------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": self.connection.basic_auth_header()}
        cookie = self._cookie_header() if self._cookie_header else ""
        if cookie:
            headers["Cookie"] = cookie
        return headers

    def _event(self, message: dict[str, Any]) -> None:
        data = message.get("data")
        channel = message.get("channel")
        if not isinstance(channel, str) or not isinstance(data, dict):
            self._put(StreamStatus("reconnecting" if self._state != "connected" else "connected",
                                   f"ignored a malformed message on {channel!r}: data is not an "
                                   "object", time.time()))
            return
        self._seq += 1
        self._put(Event(channel, data, time.time(), self._seq))

    def _handshaken(self) -> None:
        self.handshakes += 1
        if self.handshakes > 1 and self._lost_at is None:
            # A re-handshake means a new session: what was published meanwhile is gone.
            self._lost_at = self._last_ok or time.time()

    def _connected(self, dropped: int | None, force: bool = False) -> None:
        now = time.time()
        if dropped:
            self.server_dropped += int(dropped)
            self._put(StreamStatus("gap", f"the server dropped {dropped} events from this "
                                   "session's queue", now, now, now, {"dropped": dropped}))
        if not self._subscribed:
            return
        if self._state != "connected" or force and self._lost_at is not None:
            if self._lost_at is not None:
                self._put(StreamStatus("gap", "events published while disconnected may be "
                                       "missing", now, self._lost_at, now))
                self._lost_at = None
            if self._state != "connected":
                self._status("connected", f"subscribed to {', '.join(self.channels)}")
        self._last_ok = now

    def _lost(self, reason: str) -> None:
        if self._lost_at is None:
            self._lost_at = self._last_ok or time.time()
        if self._state != "reconnecting":
            self._status("reconnecting", reason)

    def _status(self, kind: str, detail: str) -> None:
        self._state = kind
        self._put(StreamStatus(kind, detail, time.time()))  # type: ignore[arg-type]

    def _put(self, item: StreamItem) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            pass


def _advice(client: Client) -> dict[str, Any]:
    transport = getattr(client, "_transport", None)
    advice = getattr(transport, "reconnect_advice", None)
    return advice if isinstance(advice, dict) else {}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer from the CometD endpoint"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
